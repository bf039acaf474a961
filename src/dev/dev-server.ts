import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract/search-attributes';
import { freePort } from './free-port';
import { DevServerError, findTemporalCli } from './temporal-cli';

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** The temporal CLI's name (`--search-attribute Name=Keyword`) of each SDK search attribute type. */
const CLI_TYPE_NAME: Record<SearchAttributeType, SearchAttributeTypeName> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/**
 * The search attributes every server for this project registers (tests, demo, `npm run server`),
 * name -> CLI type name, e.g. `{ LinkedImageParent: 'Keyword', ... }`: made from the contract's
 * keys (src/contract/search-attributes.ts), so a new key is registered everywhere.
 */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeTypeName>> = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, CLI_TYPE_NAME[k.type]]),
);

export interface DevServerOptions {
  /** SQLite file that keeps history across restarts (its directory is created). @default in-memory */
  dbFile?: string;
  /** gRPC port on 127.0.0.1. @default a free port */
  port?: number;
  /** Web UI port; `null` or absent runs `--headless`. @default null */
  uiPort?: number | null;
  /** @default 'default' */
  namespace?: string;
  /** Registered (or checked) in `namespace` on every start, also on an existing db. */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Receives every line the server prints. */
  log?: (line: string) => void;
  /** Appended to the `temporal server start-dev` command line. */
  extraArgs?: string[];
  /** The CLI binary. @default findTemporalCli() */
  cliPath?: string;
  /** How long to wait for the server to answer gRPC. @default 60_000 */
  startTimeoutMs?: number;
}

export interface DevServer {
  /** `127.0.0.1:port` */
  address: string;
  namespace: string;
  uiUrl: string | null;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has ended, for whatever reason. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Dynamic config every dev server of this project starts with (`--dynamic-config-value`, before
 * any `extraArgs`, which may override them). The history service reads its transfer queue (the
 * tasks that hand workflow and activity tasks to matching) at most 20 times a second by default:
 * with one shard, as a dev server has, every workflow task and every activity task on another
 * queue than its workflow's then waits up to 50 ms before any worker can get it. Measured: a
 * sequential no-op activity on the host's queue took 91 ms a round trip at the default, 11 ms
 * at 1,000 (README "Where orchestration time goes").
 */
export const DEV_SERVER_DYNAMIC_CONFIG = ['history.transferProcessorMaxPollRPS=1000'];

// Wire values of temporal.api.enums.v1.IndexedValueType; fixed by the protobuf contract.
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};
const STOP_GRACE_MS = 10_000;
const RING_LINES = 200;

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const cli = opts.cliPath ?? (await findTemporalCli({ log: opts.log }));
  if (opts.dbFile) await fsp.mkdir(path.dirname(path.resolve(opts.dbFile)), { recursive: true });
  // A free port found by binding port 0 can be taken by someone else before the server binds it;
  // only then (ports we chose, bind failed) is a retry with fresh ports the right answer.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(cli, opts);
    } catch (e) {
      const ours = opts.port === undefined && (opts.uiPort === undefined || opts.uiPort === null);
      if (!(e instanceof DevServerError && e.code === 'PORT_IN_USE' && ours && attempt < 3)) throw e;
    }
  }
}

async function startOnce(cli: string, opts: DevServerOptions): Promise<DevServer> {
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort ?? null;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFile) args.push('--db-filename', path.resolve(opts.dbFile));
  args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {}))
    args.push('--search-attribute', `${name}=${type}`);
  args.push(
    '--log-level',
    'warn',
    ...DEV_SERVER_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
    ...(opts.extraArgs ?? []),
  );

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ring = new LineRing(RING_LINES, opts.log);
  child.stdout!.on('data', (b: Buffer) => ring.push(b));
  child.stderr!.on('data', (b: Buffer) => ring.push(b));
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (e) => resolve(`spawn error: ${e.message}`));
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  track(child, exited);
  // An unref'd server never keeps a test file alive; the 'exit' hook below then kills it.
  child.unref();
  for (const s of [child.stdout, child.stderr]) (s as net.Socket | null)?.unref();
  const address = `127.0.0.1:${port}`;
  const server: DevServer = {
    address,
    namespace,
    uiUrl: uiPort === null ? null : `http://127.0.0.1:${uiPort}`,
    pid: child.pid ?? -1,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    stop: () => stopChild(child, exited),
  };
  const what = `temporal server start-dev on ${address}${opts.dbFile ? ` (db ${opts.dbFile})` : ''}`;
  try {
    await waitUntilReady(server, closed, opts.startTimeoutMs ?? 60_000, what, ring);
    if (opts.searchAttributes) await ensureSearchAttributes(address, namespace, opts.searchAttributes, opts.dbFile);
    return server;
  } catch (e) {
    await server.stop();
    throw e;
  }
}

async function waitUntilReady(
  server: DevServer,
  closed: Promise<void>,
  timeoutMs: number,
  what: string,
  ring: LineRing,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  let lastError: unknown;
  void server.exited.then((c) => (exitedWith = c));
  while (Date.now() < deadline && exitedWith === undefined) {
    // gRPC's reconnect backoff (1 s) would dominate a ~200 ms start-up; probe plain TCP first.
    if (!(await tcpAccepts(server.address))) {
      await Promise.race([server.exited, sleep(50)]);
      continue;
    }
    const conn = lazyConnection(server.address, Math.min(2_000, Math.max(deadline - Date.now(), 1)));
    try {
      const ready = (async () => {
        await conn.ensureConnected();
        await conn.workflowService.describeNamespace({ namespace: server.namespace });
        return true;
      })();
      ready.catch(() => undefined);
      // Racing the exit keeps a child that died at once (port taken, bad flag) from costing a connect timeout.
      if (await Promise.race([ready, server.exited.then(() => false)])) return;
    } catch (e) {
      lastError = e;
    } finally {
      await conn.close().catch(() => undefined);
    }
    await Promise.race([server.exited, sleep(100)]);
  }
  if (exitedWith !== undefined) {
    await Promise.race([closed, sleep(1_000)]); // its last words arrive on stderr after 'exit'
    const inUse = ring.lines().some((l) => l.includes('address already in use'));
    throw new DevServerError(
      inUse ? 'PORT_IN_USE' : 'SERVER_EXITED',
      `${what} exited with ${exitedWith} before accepting connections${inUse ? ' (a port is already in use; is another Temporal server running?)' : ''}. Its last output:\n${ring.tail(20)}`,
    );
  }
  throw new DevServerError(
    'SERVER_TIMEOUT',
    `${what} did not answer gRPC within ${timeoutMs} ms (last error: ${(lastError as Error)?.message}). Its last output:\n${ring.tail(20)}`,
  );
}

/** lazy + ensureConnected, not connect(): a connect() that fails leaks its channel, which keeps redialling. */
function lazyConnection(address: string, connectTimeoutMs = 10_000): Connection {
  return Connection.lazy({ address, connectTimeout: connectTimeoutMs });
}

function tcpAccepts(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const sock = net.connect({ host, port: Number(port) });
    sock.setTimeout(1_000);
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
    sock.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * `--search-attribute` only takes effect when the db is created: on an existing db, new names are
 * silently skipped and a different type for an existing name is silently ignored. So we check
 * what is registered and add what is missing through the operator API (idempotent on restarts).
 */
async function ensureSearchAttributes(
  address: string,
  namespace: string,
  wanted: Record<string, SearchAttributeTypeName>,
  dbFile?: string,
): Promise<void> {
  const conn = lazyConnection(address);
  try {
    const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(wanted)) {
      const have = customAttributes?.[name];
      if (have === undefined || have === null) missing[name] = INDEXED_VALUE_TYPE[type];
      else if (Number(have) !== INDEXED_VALUE_TYPE[type]) {
        const haveName =
          Object.keys(INDEXED_VALUE_TYPE).find(
            (k) => INDEXED_VALUE_TYPE[k as SearchAttributeTypeName] === Number(have),
          ) ?? String(have);
        throw new DevServerError(
          'SEARCH_ATTRIBUTE_CONFLICT',
          `Search attribute ${name} is registered as ${haveName} in namespace ${namespace}${dbFile ? ` (db ${dbFile})` : ''}; expected ${type}. Delete the db file or use another attribute name.`,
        );
      }
    }
    if (Object.keys(missing).length > 0)
      await conn.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } finally {
    await conn.close().catch(() => undefined);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref(); // keep the event loop alive until we have seen the exit
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((r) => (timer = setTimeout(r, STOP_GRACE_MS, 'timeout')));
  if ((await Promise.race([exited, graceOver])) === 'timeout') child.kill('SIGKILL');
  clearTimeout(timer);
  await exited;
}

/** Children still running; killed synchronously if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let hooked = false;

function track(child: ChildProcess, exited: Promise<unknown>): void {
  live.add(child);
  void exited.then(() => live.delete(child));
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
  // SIGINT/SIGTERM without a handler end Node without running 'exit' hooks. When nobody else
  // handles the signal, clean up and re-raise it so the process still dies the default way.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(sig) > 1) return;
      for (const c of live) c.kill('SIGKILL');
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/** Bounded memory of the server's output, for error messages. */
class LineRing {
  private readonly buf: string[] = [];
  private partial = '';
  constructor(
    private readonly max: number,
    private readonly log?: (line: string) => void,
  ) {}
  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop()!.slice(-4096);
    for (const line of parts) this.add(line);
  }
  lines(): string[] {
    return this.partial ? [...this.buf, this.partial] : [...this.buf];
  }
  tail(n: number): string {
    return this.lines().slice(-n).join('\n') || '(no output)';
  }
  private add(line: string): void {
    const l = line.length > 2000 ? `${line.slice(0, 2000)}…` : line;
    this.log?.(l);
    this.buf.push(l);
    if (this.buf.length > this.max) this.buf.shift();
  }
}
