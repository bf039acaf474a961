import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { ChildProcess, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { ActivityRecordLine } from '../../src/activities/activity-record';
import { Image } from '../../src/image/image';
import { startDepot, Depot } from '../../src/repository';
import { buildDemoHost, DemoHost } from '../../src/dev/demo-host';
import { DevServer } from '../../src/dev/dev-server';
import { updateLinkedImages } from '../../src/workflows';
import type { UpdateResult } from '../../src/contract/run-types';
import { CuttingProxy } from '../helpers/cutting-proxy';
import { tempDir } from '../helpers/tree';

const ROOT = path.join(__dirname, '..', '..');
const WORKER = path.join(__dirname, '..', 'helpers', 'crash-worker.ts');

let bundlePath: Promise<string> | null = null;

/** The workflow bundle written once to a file, so each worker process starts without webpack. */
export function bundleFile(): Promise<string> {
  return (bundlePath ??= (async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const file = path.join(await tempDir('bundle'), 'workflows.js');
    await fs.writeFile(file, code);
    return file;
  })());
}

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | string | null>;
  output: () => string;
}

/** The host name of the crash tests' workers on workflow queue `taskQueue` (their activities: linked-images@<host>). */
export const hostFor = (taskQueue: string) => `host-${taskQueue}`;

export function spawnWorker(opts: {
  address: string;
  taskQueue: string;
  cacheDir: string;
  recordFile: string;
  bundle: string;
  stageDelayMs?: Record<string, number>;
  copyDelayMs?: number;
  /** This worker's host name (its activities' queue linked-images@<host>). @default hostFor(taskQueue) */
  host?: string;
}): WorkerProcess {
  const child = spawn(process.execPath, ['--require', 'ts-node/register', WORKER], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: opts.address,
      TASK_QUEUE: opts.taskQueue,
      HOST: opts.host ?? hostFor(opts.taskQueue),
      CACHE_DIR: opts.cacheDir,
      RECORD_FILE: opts.recordFile,
      WORKFLOW_BUNDLE: opts.bundle,
      STAGE_DELAY_MS: JSON.stringify(opts.stageDelayMs ?? {}),
      COPY_DELAY_MS: String(opts.copyDelayMs ?? 0),
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => out.includes('ready\n') && resolve();
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${out}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  return { child, ready, exited, output: () => out };
}

export async function readRecord(file: string): Promise<ActivityRecordLine[]> {
  try {
    return (await fs.readFile(file, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 90_000,
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Host extends DemoHost {
  dir: string;
  depot: Depot;
  proxy: CuttingProxy;
  record: string;
  close(): Promise<void>;
}

/**
 * A demo host of 4 zones whose images reach the repository over HTTP through a proxy (which can
 * slow the link down), with a zone-only package whose 1.1 carries a large file.
 */
export async function crashHost(tag: string): Promise<Host> {
  const dir = await tempDir(`crash-${tag}`);
  const host = await buildDemoHost(dir, 4, () => undefined, { bigFileBytes: 3_000_000 });
  const depot = await startDepot(host.repo);
  const proxy = await new CuttingProxy(depot.port).start();
  for (const root of [host.parent, ...host.children.map((c) => c.path)]) {
    const img = await Image.open(root);
    await img.setPublishers(img.publishers().map((p) => ({ ...p, origins: [proxy.url] })));
  }
  return {
    ...host,
    dir,
    depot,
    proxy,
    record: path.join(dir, 'record.jsonl'),
    async close() {
      await proxy.close();
      await depot.close();
    },
  };
}

export async function connect(server: DevServer): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: server.address });
  return { client: new Client({ connection, namespace: server.namespace }), close: () => connection.close() };
}

export function startUpdate(
  client: Client,
  host: Host,
  taskQueue: string,
  workflowId: string,
  input: Record<string, unknown> = {},
): Promise<WorkflowHandle<typeof updateLinkedImages>> {
  return client.workflow.start(updateLinkedImages, {
    taskQueue,
    workflowId,
    args: [{ image: host.parent, host: hostFor(taskQueue), concurrency: 2, recursive: true, ...input }],
  });
}

/** What must be the same after a crash as in an uninterrupted run (executions and plan digests may differ: the images are others). */
export function comparable(r: UpdateResult) {
  const { planDigest: _digest, ...parent } = r.parent;
  return {
    status: r.status,
    exitCode: r.exitCode,
    parent,
    counts: r.counts,
    failures: r.failures,
    children: r.children,
  };
}

/** Compressed bytes the depot served for content (file and filelist requests). */
export function contentBytes(depot: Depot): number {
  return depot.stats.log.filter((l) => /\/(file|filelist)\/0\//.test(l.path)).reduce((n, l) => n + l.bytes, 0);
}
