import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { syncFsHelper } from '../image/syncfs-helper';
import type { LinkedImagesPlugin } from '../plugin/linked-images-plugin';

export interface HostWorkersOptions {
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  /** This host's plugin: its task queues, activities, workflow bundle and Worker defaults. */
  plugin: LinkedImagesPlugin;
  /** @default `<pid>@<host>` (set by the SDK) */
  identity?: string;
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  shutdownForceTime?: WorkerOptions['shutdownForceTime'];
  /** Further options for both workers (tuning, e.g. poller counts), applied last. */
  workerOptions?: Partial<WorkerOptions>;
}

/** The two Temporal workers of one host, run and stopped together. */
export interface HostWorkers {
  /** Workflow tasks from the shared queue (plus the legacy activities of runs from before host queues). */
  workflows: Worker;
  /** This host's activities, from its own queue: the only worker that touches its images and cache. */
  activities: Worker;
  taskQueue: string;
  hostTaskQueue: string;
  /** Runs both until shutdown() (or a fatal error of either, which stops the other). */
  run(): Promise<void>;
  /** Runs both until `p` settles, then shuts them down; resolves or rejects as `p` does. */
  runUntil<T>(p: Promise<T>): Promise<T>;
  shutdown(): void;
}

/**
 * A host's two Workers over one connection, each with `plugin` (LinkedImagesPlugin explains
 * the split): one on `plugin.taskQueue` (workflows), one on `plugin.hostTaskQueue` (this host's
 * activities). The one place this project creates its Workers: `npm run worker`, the demo, tests
 * and benchmarks all come through here. Rejects as Worker.create does (e.g. a workflow bundle
 * that does not build, a namespace that does not exist).
 */
export async function createHostWorkers(opts: HostWorkersOptions): Promise<HostWorkers> {
  const { plugin } = opts;
  const common = {
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    plugins: [plugin],
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
    ...opts.workerOptions,
  };
  const workflows = await Worker.create({ ...common, taskQueue: plugin.taskQueue });
  const activities = await Worker.create({
    // The SDK holds back heartbeats for up to 80% of the heartbeat timeout (12 s here); a plan
    // lane's heartbeat names the plans it has made, which its retry keeps after a lost worker, so
    // it goes out within a second. The activities themselves send at most one a second.
    maxHeartbeatThrottleInterval: '1 second',
    ...common,
    taskQueue: plugin.hostTaskQueue,
  });
  // Plan lanes and executes flush through these shells; spawned now, their start (several ms of
  // blocked event loop each) is not paid inside the first run's activities.
  syncFsHelper.prestart();
  const both = [workflows, activities];
  const shutdown = () => {
    for (const w of both) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    workflows,
    activities,
    taskQueue: plugin.taskQueue,
    hostTaskQueue: plugin.hostTaskQueue,
    async run() {
      // One failing (e.g. the connection is gone for good) stops the other: a host runs both or neither.
      await Promise.all(
        both.map((w) =>
          w.run().catch((e) => {
            shutdown();
            throw e;
          }),
        ),
      );
    },
    async runUntil<T>(p: Promise<T>): Promise<T> {
      // allSettled, not all: when `p` rejects, both workers must be shut down before this settles
      // (with all, the first rejection returned while the other still held the connection).
      const [a, b] = await Promise.allSettled([workflows.runUntil(p), activities.runUntil(p)]);
      if (a.status === 'rejected') throw a.reason;
      if (b.status === 'rejected') throw b.reason;
      return a.value;
    },
    shutdown,
  };
}
