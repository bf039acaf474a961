import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/create-activities';
import { hostTaskQueue } from '../contract/input';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';
import { WORKER_DEFAULTS } from './worker-defaults';


const LEGACY = ['describeImage', 'checkPublishers', 'auditChild', 'planImage', 'prepareImage', 'executeImage'] as const;

export interface HostWorkersOptions {
  connection: NativeConnection;
  /** @default 'default' */
  namespace?: string;
  /** The shared workflow task queue. @default DEFAULT_TASK_QUEUE */
  taskQueue?: string;
  /** This host's name: runs name it in their input (`host`). */
  host: string;
  /** The task queue of this host's activities. @default `linked-images@<host>` */
  hostTaskQueue?: string;
  activities: ActivityDeps;
  workflowBundle: NonNullable<WorkerOptions['workflowBundle']>;
  /** @default `<pid>@<host>` (set by the SDK) */
  identity?: string;
  /** Activities run at once on this host. @default 16 */
  maxActivities?: number;
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
 * A host's workers over one connection, as the worker-specific-task-queues pattern has them:
 * workflows on a shared queue, so a run does not depend on one host to make progress and a
 * dead host shows as a schedule-to-start timeout naming it; every activity that touches the
 * host's images or content cache on `linked-images@<host>`, polled by this host alone.
 * The workflow worker also serves the legacy activities, which runs started before host queues
 * schedule on the workflow's queue (README "Upgrading workers while runs are in flight").
 */
export async function createHostWorkers(opts: HostWorkersOptions): Promise<HostWorkers> {
  const taskQueue = opts.taskQueue ?? DEFAULT_TASK_QUEUE;
  const hostQueue = opts.hostTaskQueue ?? hostTaskQueue(opts.host);
  if (hostQueue === taskQueue) throw new Error(`Expected the host task queue to differ from the workflow task queue, got '${hostQueue}' for both`);
  const all = createActivities(opts.activities);
  const legacy = Object.fromEntries(LEGACY.map((k) => [k, all[k]]));
  const common = {
    ...WORKER_DEFAULTS,
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.shutdownGraceTime !== undefined ? { shutdownGraceTime: opts.shutdownGraceTime } : {}),
    ...(opts.shutdownForceTime !== undefined ? { shutdownForceTime: opts.shutdownForceTime } : {}),
  };
  const workflows = await Worker.create({ ...common, taskQueue, workflowBundle: opts.workflowBundle, activities: legacy, maxConcurrentActivityTaskExecutions: opts.maxActivities ?? 16, ...opts.workerOptions });
  const activities = await Worker.create({ ...common, taskQueue: hostQueue, activities: all, maxConcurrentActivityTaskExecutions: opts.maxActivities ?? 16, ...opts.workerOptions });
  const both = [workflows, activities];
  const shutdown = () => {
    for (const w of both) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    workflows,
    activities,
    taskQueue,
    hostTaskQueue: hostQueue,
    async run() {
      // One failing (e.g. the connection is gone for good) stops the other: a host runs both or neither.
      await Promise.all(both.map((w) => w.run().catch((e) => {
        shutdown();
        throw e;
      })));
    },
    async runUntil<T>(p: Promise<T>): Promise<T> {
      const [r] = await Promise.all([workflows.runUntil(p), activities.runUntil(p)]);
      return r;
    },
    shutdown,
  };
}
