import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

export interface WorkerProcessOptions {
  /** The Temporal server, `host:port`. */
  address: string;
  /** The shared workflow task queue. */
  taskQueue: string;
  /** The host name: its activities come from `linked-images@<host>`. */
  host: string;
  cacheDir: string;
  /** @default 16 (the worker's default) */
  maxActivities?: number;
  /** Milliseconds added before every image's every stage (the bench's simulated stage work). @default 0 */
  stageDelayMs?: number;
  /** Activity record file (bench/duplicate counts read it). */
  recordFile?: string;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves once the worker polls (its "polling task queues" log line). */
  ready: Promise<void>;
  exited: Promise<number | string | null>;
  output(): string;
  /** SIGTERM and wait (SIGKILL after 30 s). */
  stop(): Promise<void>;
}

/**
 * A host's worker in its own process, as an operator runs it: `npm run worker` (src/worker/main.ts)
 * when no stage delay is asked for, so its memory is the real worker's; bench/stage-delay-worker.ts
 * (the same workers with ActivityDeps.beforeStage) when one is.
 */
export function startWorkerProcess(o: WorkerProcessOptions): WorkerProcess {
  const delayed = (o.stageDelayMs ?? 0) > 0;
  const entry = delayed ? path.join(__dirname, 'stage-delay-worker.ts') : path.join(ROOT, 'src', 'worker', 'main.ts');
  const args = [
    '--host',
    o.host,
    '--task-queue',
    o.taskQueue,
    '--cache',
    o.cacheDir,
    '--max-activities',
    String(o.maxActivities ?? 16),
    ...(o.recordFile ? ['--record', o.recordFile] : []),
  ];
  const child = spawn(process.execPath, ['--require', 'ts-node/register', entry, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: o.address,
      TEMPORAL_NAMESPACE: 'default',
      TS_NODE_TRANSPILE_ONLY: '1',
      STAGE_DELAY_MS: String(o.stageDelayMs ?? 0),
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => out.includes('polling task queues') && resolve();
    child.stdout!.on('data', check);
    void exited.then((c) => reject(new Error(`worker exited (${c}) before it polled:\n${out.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    pid: child.pid!,
    ready,
    exited,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}
