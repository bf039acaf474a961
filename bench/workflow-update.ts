import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DemoHost } from '../src/dev/demo-host';
import { updateLinkedImages } from '../src/workflows';
import type { UpdateResult } from '../src/contract/run-types';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

/** The Temporal server a bench runs its workflows on, and a client of it. */
export interface BenchServer {
  /** `host:port` */
  address: string;
  client: Client;
}

/** A run in progress, handed to WorkflowUpdateOptions.during. */
export interface RunningUpdate {
  handle: WorkflowHandle<typeof updateLinkedImages>;
  /** The worker serving the run right now. */
  worker: WorkerProcess;
  /** Resolves once the run has ended, however it ended (never rejects). */
  ended: Promise<void>;
  /** Starts another worker for the same host (same task queues, cache, record and stage delay) and resolves once it polls. */
  startAnotherWorker(): Promise<WorkerProcess>;
}

export interface WorkflowUpdateOptions {
  /** The run's concurrency: children at once in each stage. */
  concurrency: number;
  /** Milliseconds of simulated work before every stage of every image (the worker's beforeStage). @default 0 */
  stageDelayMs?: number;
  /** The worker's activity record (`--record FILE`): one JSON line per activity start and end. */
  recordFile?: string;
  /** Called once the run has started; may kill the worker and start others (they are all stopped at the end). */
  during?: (run: RunningUpdate) => Promise<void>;
}

export interface WorkflowUpdate {
  /** From the client's start call to the result, in seconds (the worker's start before it is not counted). */
  seconds: number;
  result: UpdateResult;
  workflowId: string;
}

/** Workers still running, killed if the bench exits without stopping them (Ctrl-C, a crash). */
const live = new Set<WorkerProcess>();
let hooked = false;
let runs = 0;

/**
 * One `updateLinkedImages` run of `host`, as an operator runs it: the project's worker in its
 * own process (bench/worker-process.ts: `npm run worker`, or the stage-delay worker when
 * `stageDelayMs` > 0) with its own host name, task queues and `--cache host.cacheDir`, started,
 * polling and warmed up (warmUp) before the clock starts; the run started with the client; the clock stops at its
 * result. Every worker is stopped (SIGTERM) before this resolves. Throws when the run's status
 * is not `ok` (its time would mean nothing), with the failures and the worker's last output.
 */
export async function runWorkflowUpdate(
  server: BenchServer,
  host: DemoHost,
  opts: WorkflowUpdateOptions,
): Promise<WorkflowUpdate> {
  const n = ++runs;
  const names = { taskQueue: `bench-update-${process.pid}-${n}`, host: `bench-${process.pid}-${n}` };
  const workflowId = `bench-update-${process.pid}-${n}`;
  const workers: WorkerProcess[] = [];
  const start = async () => {
    const w = startWorkerProcess({
      address: server.address,
      ...names,
      cacheDir: host.cacheDir,
      stageDelayMs: opts.stageDelayMs ?? 0,
      recordFile: opts.recordFile,
    });
    workers.push(w);
    track(w);
    await w.ready;
    return w;
  };
  try {
    let worker = await start();
    await warmUp(server, names);
    const t0 = performance.now();
    const handle = await server.client.workflow.start(updateLinkedImages, {
      taskQueue: names.taskQueue,
      workflowId,
      args: [{ image: host.parent, host: names.host, concurrency: opts.concurrency, recursive: true }],
    });
    const outcome = handle.result();
    outcome.catch(() => undefined);
    if (opts.during) {
      const ended = outcome.then(
        () => undefined,
        () => undefined,
      );
      await opts.during({ handle, worker, ended, startAnotherWorker: async () => (worker = await start()) });
    }
    const result = await outcome;
    const seconds = (performance.now() - t0) / 1000;
    if (result.status !== 'ok') {
      const why = result.failures.map((f) => `${f.name} ${f.stage} ${f.code}: ${f.message}`).join('\n  ');
      throw new Error(
        `Run ${workflowId} ended ${result.status}, not ok:\n  ${why}\nWorker output:\n${worker.output().slice(-2000)}`,
      );
    }
    return { seconds, result, workflowId };
  } catch (e) {
    await server.client.workflow
      .getHandle(workflowId)
      .terminate('bench failed')
      .catch(() => undefined);
    throw e;
  } finally {
    for (const w of workers) await w.stop();
    for (const w of workers) live.delete(w);
  }
}

/**
 * One workflow task and one activity on the fresh worker before the clock starts, as a
 * long-running worker has had them: a run of an image that does not exist, refused as
 * InvalidInput by its describe activity. It touches no host. Without it the measured run pays
 * the worker's cold start (its first workflow task took ~80 ms more: the bundle's modules, the
 * source map its stack traces read), which the direct side, in the bench's warm process, does not.
 */
async function warmUp(server: BenchServer, names: { taskQueue: string; host: string }): Promise<void> {
  const handle = await server.client.workflow.start(updateLinkedImages, {
    taskQueue: names.taskQueue,
    workflowId: `${names.taskQueue}-warm-up`,
    args: [{ image: '/nonexistent/linked-images-bench-warm-up', host: names.host }],
  });
  await handle.result().catch(() => undefined); // InvalidInput: expected
}

function track(w: WorkerProcess): void {
  live.add(w);
  void w.exited.then(() => live.delete(w));
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const x of live) x.child.kill('SIGKILL');
  });
}
