/**
 * `npm run demo`: a demo host (a repository, a parent image, 8 zones with 1.0 installed and 1.1
 * published) in `.demo/`, a Temporal dev server with its history in `.demo/temporal.db`, a
 * worker in this process, and one `updateLinkedImages` run with its progress as it happens.
 * The history file is kept from run to run, so every demo run stays auditable afterwards.
 */
import { execFile } from 'node:child_process';
import { Command } from 'commander';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import * as os from 'node:os';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { buildDemoHost } from './demo-host';
import { freePort, portInUse } from './free-port';
import { SEARCH_ATTRIBUTES, startDevServer, type DevServer } from './dev-server';
import { oneLineLogger } from '../worker/log-format';
import { DEFAULT_PORT } from '../client/connection-settings';
import { watchRun } from '../client/watch/watch-run';
import { LineRenderer } from '../client/watch/line-renderer';
import { canRedraw, TtyRenderer } from '../client/watch/tty-renderer';
import { onShutdownSignals } from '../worker/shutdown-signals';
import { findTemporalCli, projectRoot } from './temporal-cli';
import { createHostWorkers, type HostWorkers } from '../worker/host-workers';
import { LinkedImagesPlugin } from '../plugin/linked-images-plugin';
import { DEFAULT_TASK_QUEUE, UPDATE_LINKED_IMAGES, type UpdateLinkedImagesWorkflow } from '../contract/workflows';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../contract/search-attributes';

const ZONES = 8;
const CONCURRENCY = 3;
const DEFAULT_UI_PORT = 8233;
const INTERRUPTED = 130;

const t0 = Date.now();
const say = (s = '') => process.stdout.write(s + '\n');
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s`;

/** What has to be stopped on the way out, in this order. */
const running: {
  worker?: HostWorkers;
  workerDone?: Promise<void>;
  connections: { close(): Promise<void> }[];
  server?: DevServer;
} = { connections: [] };
let handle: WorkflowHandle<UpdateLinkedImagesWorkflow> | undefined;
let finished = false;

async function main(): Promise<number> {
  const root = projectRoot();
  const demoDir = path.join(root, '.demo');
  const dbFile = path.join(demoDir, 'temporal.db');
  const rel = (p: string) => path.relative(process.cwd(), p) || '.';

  const holder = await serverUsingDb(dbFile);
  if (holder) {
    process.stderr.write(
      `A Temporal server is already running on ${rel(dbFile)} (pid ${holder}, probably "npm run server"). Two servers must not share one history file: stop it (Ctrl-C in its terminal) and run the demo again; the demo starts its own server on that file.\n`,
    );
    return 1;
  }

  say(`1. A fresh demo host in ${rel(path.join(demoDir, 'host'))} (history of earlier runs in ${rel(dbFile)} is kept)`);
  await wipeExcept(demoDir, (name) => name === 'temporal.db' || name.startsWith('temporal.db-'));
  const host = await buildDemoHost(path.join(demoDir, 'host'), ZONES, (l) => say(`   ${l}`));

  say('2. A Temporal dev server with its history on disk');
  const cliPath = await findTemporalCli({ log: (l) => say(`   ${l}`) });
  const port = await pickPort(DEFAULT_PORT, '--port');
  const uiPort = await pickPort(DEFAULT_UI_PORT, '--ui-port', [port]);
  const server = await startDevServer({ cliPath, dbFile, port, uiPort, searchAttributes: SEARCH_ATTRIBUTES });
  running.server = server;
  say(`   temporal server start-dev on ${server.address}, Web UI ${server.uiUrl}, history in ${rel(dbFile)}`);

  const hostName = os.hostname();
  say(
    `3. This host's worker in this process: workflows from task queue '${DEFAULT_TASK_QUEUE}', host '${hostName}' activities from its own queue (content cache ${rel(host.cacheDir)})`,
  );
  // After Ctrl-C the worker retries a server that is gone; those warnings would only be noise.
  const logger = oneLineLogger('WARN', (l) => interrupted || process.stdout.write(l + '\n'));
  Runtime.install({
    logger,
    shutdownSignals: [],
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  running.connections.push(nativeConnection);
  const connection = await Connection.connect({ address: server.address });
  running.connections.push(connection);
  const client = new Client({ connection, namespace: server.namespace });
  // Before our worker polls: a run left open by an interrupted demo would otherwise resume on
  // the images this demo just rebuilt at the same paths.
  await terminateLeftovers(client);
  // No prebuilt bundle: the workflow Worker bundles the plugin's workflows as it is created.
  const worker = await createHostWorkers({
    connection: nativeConnection,
    namespace: server.namespace,
    plugin: new LinkedImagesPlugin({ taskQueue: DEFAULT_TASK_QUEUE, host: hostName, cacheDir: host.cacheDir }),
    shutdownGraceTime: '10 seconds',
  });
  running.worker = worker;
  running.workerDone = worker.run();

  const workflowId = `demo-update-${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
  // recursive: the full update in every zone (pkg update -r); without it each zone would only be synced.
  const input = { image: host.parent, host: hostName, concurrency: CONCURRENCY, recursive: true };
  say(`4. updateLinkedImages ${JSON.stringify(input)}, workflow ID ${workflowId}`);
  handle = await client.workflow.start<UpdateLinkedImagesWorkflow>(UPDATE_LINKED_IMAGES, {
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowId,
    args: [input],
    // As `npm run update` starts runs: an ID is never reused, the Web UI gets a one-line summary,
    // and `temporal workflow list --query "LinkedImageParent='...'"` finds the run from its start.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `update ${host.parent}: ${host.children.length} children, -C ${CONCURRENCY}`,
    typedSearchAttributes: [
      { key: LINKED_IMAGE_PARENT, value: host.parent },
      { key: LINKED_IMAGE_STATUS, value: 'starting' },
    ],
  });
  // The live view of `npm run watch` (a bar per working zone on a terminal, lines otherwise), with
  // its backed-off polling: the first demo polled every 300 ms, enough to fill the server's query buffer.
  const code = await watchRun({
    workflowId,
    connect: async () => ({ client, connection: { close: async () => undefined } }),
    renderer: canRedraw(process.stdout) ? new TtyRenderer() : new LineRenderer((l) => say(`   ${elapsed()}  ${l}`)),
    out: (t) => process.stdout.write(t.replace(/^(?=.)/gm, '   ')),
  });
  finished = true; // watchRun printed the table, the status and exit code (or the failure)

  await stopAll();
  say(`   Demo took ${((Date.now() - t0) / 1000).toFixed(1)}s; worker and server stopped.`);
  say();
  printAuditCommands(workflowId, server.namespace, port, uiPort);
  return code;
}

/** The pid of a `temporal server start-dev` already running on `dbFile`, if `ps` can tell. */
async function serverUsingDb(dbFile: string): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)('ps', ['-eo', 'pid=,args='], { maxBuffer: 16 << 20 });
    for (const line of stdout.split('\n')) {
      const m = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (m && m[2].includes('start-dev') && m[2].includes(`--db-filename ${dbFile}`)) return Number(m[1]);
    }
  } catch {
    // no ps (or it failed): nothing to go by
  }
  return null;
}

async function wipeExcept(dir: string, keep: (name: string) => boolean): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const name of await fsp.readdir(dir))
    if (!keep(name)) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
}

/** `preferred` when it is free on 127.0.0.1, else a free port (and say so). */
async function pickPort(preferred: number, flag: string, taken: number[] = []): Promise<number> {
  if (!taken.includes(preferred) && !(await portInUse(preferred))) return preferred;
  let p: number;
  do p = await freePort();
  while (taken.includes(p));
  say(`   port ${preferred} is in use (another Temporal server?); using ${p} instead (${flag} ${p})`);
  return p;
}

async function terminateLeftovers(client: Client): Promise<void> {
  const query = `WorkflowType = 'updateLinkedImages' AND ExecutionStatus = 'Running' AND TaskQueue = '${DEFAULT_TASK_QUEUE}'`;
  for await (const w of client.workflow.list({ query })) {
    if (!w.workflowId.startsWith('demo-update-')) continue;
    say(`   terminating ${w.workflowId}, left running by an interrupted demo (its images were just rebuilt)`);
    await client.workflow
      .getHandle(w.workflowId, w.runId)
      .terminate('an interrupted demo run; the next demo rebuilt its images');
  }
}

function printAuditCommands(workflowId: string, namespace: string, port: number, uiPort: number): void {
  const custom = port !== DEFAULT_PORT || uiPort !== DEFAULT_UI_PORT;
  const server = custom ? `npm run server -- --port ${port} --ui-port ${uiPort}` : 'npm run server';
  const addr = port !== DEFAULT_PORT ? ` --address 127.0.0.1:${port}` : '';
  const t = (args: string) => `npm run temporal -- ${args}${addr}`;
  const rows: [string, string][] = [
    [server, 'in a second terminal: the dev server again, on the same history file (Ctrl-C stops it)'],
    [t(`workflow show -w ${workflowId}`), 'the audit trail: every event of the run'],
    [t(`workflow describe -w ${workflowId}`), 'status, times, pending activities with their heartbeat details'],
    [
      `${port !== DEFAULT_PORT ? `TEMPORAL_ADDRESS=127.0.0.1:${port} ` : ''}npm run worker`,
      'in a third terminal, for the query: a worker answers it by replaying the history',
    ],
    [t(`workflow query -w ${workflowId} --name progress`), "the progress query's answer"],
    [
      t(`workflow query -w ${workflowId} --name children --input '{"offset":0,"limit":3}'`),
      'every child in detail, a page at a time (plan digest, changes, error)',
    ],
    [t(`workflow result -w ${workflowId}`), 'the result: status, counts, failures, a line per child'],
    [
      `npm run report -- ${workflowId}`,
      'the audit report: every stage of every image, the package changes, the errors',
    ],
    [t('workflow list'), 'every run in the history file, from every demo'],
  ];
  say(`5. The run is kept in .demo/temporal.db. To audit it now that the demo has ended:`);
  for (const [cmd, why] of rows) say(`   # ${why}\n   ${cmd}`);
  say(`   Web UI: http://127.0.0.1:${uiPort}/namespaces/${namespace}/workflows/${workflowId}`);
}

async function stopAll(): Promise<void> {
  const { worker, workerDone, connections, server } = running;
  running.worker = undefined;
  running.server = undefined;
  running.connections = [];
  worker?.shutdown();
  await workerDone?.catch(() => undefined);
  for (const c of connections) await c.close().catch(() => undefined);
  await server?.stop();
}

// Ctrl-C in a terminal reaches the dev server too (it is in our process group), so there is no
// server left to record a cancellation: stop quickly instead. The run stays open in the history;
// the next demo terminates it before its worker starts.
const STOP_WAIT_MS = 5000;
let interrupted = false;
const removeSignalHandlers = onShutdownSignals({
  first(signal) {
    interrupted = true;
    say(
      `   ${signal}: stopping the worker and the server${handle && !finished ? `; ${handle.workflowId} stays open in the history and the next demo terminates it` : ''}`,
    );
    const wait = new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref());
    void Promise.race([stopAll(), wait]).finally(() => process.exit(INTERRUPTED));
  },
  second() {
    process.exit(INTERRUPTED);
  },
});

/** The demo takes no options; `-h` says what it does, anything else is refused (exit 2). */
function demoCommandLine(argv: string[]): number | null {
  const cmd = new Command('npm run demo')
    .description(
      'Builds a demo host in .demo/host, starts a Temporal dev server (history in .demo/temporal.db) and this ' +
        "host's worker, runs one updateLinkedImages with its progress, and prints how to audit it afterwards.",
    )
    .helpOption('-h, --help', 'this text');
  try {
    const parsed = parseCommandLine(cmd, argv);
    if (parsed.help === null) return null;
    process.stdout.write(parsed.help);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run demo -- --help".\n`);
    return USAGE_EXIT_CODE;
  }
}

const early = demoCommandLine(process.argv.slice(2));
if (early !== null) process.exit(early);

main().then(
  (code) => {
    removeSignalHandlers();
    process.exit(code);
  },
  async (e: unknown) => {
    if (interrupted) return; // the signal handler is already on its way out
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    await stopAll().catch(() => undefined);
    process.exit(1);
  },
);
