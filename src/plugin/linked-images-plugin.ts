import * as os from 'node:os';
import { SimplePlugin } from '@temporalio/plugin';
import type { WorkerOptions, WorkflowBundleOption } from '@temporalio/worker';
import { createActivitySets, type ActivityDeps } from '../activities/create-activities';
import { hostTaskQueue } from '../contract/input';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';
import { LINKED_IMAGES_WORKFLOWS_PATH } from './workflows-path';
import type { LinkedImagesWorkerRole } from './worker-role';
import { checkPluginOptions } from './check-plugin-options';

/** Activities one Worker runs at once unless the Worker options say otherwise. */
export const DEFAULT_MAX_ACTIVITIES = 16;

/**
 * The options of LinkedImagesPlugin: the activities' own (ActivityDeps: `cacheDir` required,
 * `recordFile`, `heartbeatMs`, `fs`, `beforeStage`, `maxPlanBytes`) and where this host's work comes from.
 */
export interface LinkedImagesPluginOptions extends ActivityDeps {
  /** This host's name, as runs name it in their input (`host`). @default os.hostname() */
  host?: string;
  /** The shared workflow task queue: runs are started on it. @default 'linked-images' (DEFAULT_TASK_QUEUE) */
  taskQueue?: string;
  /** This host's activity task queue, polled by this host alone. @default `linked-images@<host>` (hostTaskQueue(host)) */
  hostTaskQueue?: string;
  /**
   * A prebuilt workflow bundle (e.g. `{ codePath }` from bundleWorkflowCode run elsewhere, which
   * keeps webpack out of the worker's memory). @default none: the workflow Worker bundles
   * LINKED_IMAGES_WORKFLOWS_PATH itself when it is created (a few seconds, about 100 MB of heap kept)
   */
  workflowBundle?: WorkflowBundleOption;
  /**
   * Activities each Worker runs at once, unless its options set `maxConcurrentActivityTaskExecutions`
   * or a `tuner`. @default 16
   */
  maxActivities?: number;
}

/** Options this project sets on every Worker unless the Worker's own options set them. */
const WORKER_DEFAULTS = {
  // The SDK sends an activity's heartbeats to the server at most every 0.8 x heartbeatTimeout
  // (12 s here) unless capped; a cancellation only reaches an activity in a heartbeat response, so
  // without the cap `temporal workflow cancel` could take 12 s to stop an execute. Activities
  // already limit themselves to one heartbeat a second.
  maxHeartbeatThrottleInterval: '1 second',
  defaultHeartbeatThrottleInterval: '1 second',
} satisfies Partial<WorkerOptions>;

/**
 * The linked-images workflows and activities as a Temporal worker plugin. One instance per host
 * process; add it to both of the host's Workers:
 *
 *     const linkedImages = new LinkedImagesPlugin({ cacheDir: '/var/cache/linked-images' });
 *     const workflows = await Worker.create({ connection, taskQueue: linkedImages.taskQueue, plugins: [linkedImages] });
 *     const activities = await Worker.create({ connection, taskQueue: linkedImages.hostTaskQueue, plugins: [linkedImages] });
 *     await Promise.all([workflows.run(), activities.run()]);
 *
 * (createHostWorkers does exactly this and runs and stops the two together.)
 *
 * Why two Workers and how the plugin tells them apart: runs follow the worker-specific task
 * queues pattern. Workflows run on a shared queue, so a run does not depend on one host to make
 * progress, and every activity that touches a host's images or content cache runs on that host's
 * own queue (the run's input names the host). A Worker polls one queue, so a host needs two, and
 * a Worker's task queue is what gives it its role (LinkedImagesWorkerRole): on `taskQueue` the
 * plugin registers the workflows and the legacy activities, on `hostTaskQueue` every activity and
 * no workflows. Deriving the role from the queue, rather than asking for it separately, means a
 * Worker cannot be given one queue and the other queue's registrations, and the plugin can as
 * well be given to the NativeConnection (`plugins` there apply to every Worker on it). Both
 * Workers share one set of activities (one content cache, one pool of repository connections):
 * they are created once, by the constructor.
 *
 * Besides, the plugin sets this project's Worker defaults (heartbeat throttling capped at 1 s,
 * `maxActivities`) where the Worker's own options leave them unset; the Worker's own
 * `workflowsPath`/`workflowBundle`, if any, win over the plugin's. As a SimplePlugin it also
 * serves replay (`Worker.runReplayHistory({ plugins: [plugin] }, history)`).
 * Client side, the server needs the runs' search attributes: registerSearchAttributes.
 *
 * The constructor throws TypeError for bad options (checkPluginOptions), naming each.
 * Worker.create rejects (Error) when a Worker with this plugin polls a task queue that is
 * neither `taskQueue` nor `hostTaskQueue`; the constructor throws (Error) when the two are equal.
 */
export class LinkedImagesPlugin extends SimplePlugin {
  /** The shared workflow task queue: a Worker on it runs the workflows. */
  readonly taskQueue: string;
  /** This host's name, as runs name it in their input. */
  readonly host: string;
  /** This host's activity queue: a Worker on it runs the activities that touch this host. */
  readonly hostTaskQueue: string;
  private readonly hostActivities: SimplePlugin;
  private readonly maxActivities: number;

  constructor(opts: LinkedImagesPluginOptions) {
    checkPluginOptions(opts);
    const {
      host = os.hostname(),
      taskQueue = DEFAULT_TASK_QUEUE,
      workflowBundle,
      maxActivities = DEFAULT_MAX_ACTIVITIES,
      hostTaskQueue: hostQueue,
      ...deps
    } = opts;
    const { run, legacy } = createActivitySets(deps);
    super({
      name: 'linked-images',
      activities: legacy,
      // Functions, so that a Worker's own workflowsPath or workflowBundle wins.
      ...(workflowBundle
        ? { workflowBundle: (b) => b ?? workflowBundle }
        : { workflowsPath: (p) => p ?? LINKED_IMAGES_WORKFLOWS_PATH }),
    });
    this.host = host;
    this.taskQueue = taskQueue;
    this.hostTaskQueue = hostQueue ?? hostTaskQueue(host);
    if (this.hostTaskQueue === this.taskQueue)
      throw new Error(
        `Expected the host task queue to differ from the workflow task queue, got '${this.taskQueue}' for both`,
      );
    this.maxActivities = maxActivities;
    this.hostActivities = new SimplePlugin({ name: 'linked-images', activities: { ...run, ...legacy } });
  }

  /** The role of a Worker on `taskQueue`; throws (Error) for a queue that is neither of this plugin's. */
  roleOf(taskQueue: string): LinkedImagesWorkerRole {
    if (taskQueue === this.taskQueue) return 'workflows';
    if (taskQueue === this.hostTaskQueue) return 'host-activities';
    throw new Error(
      `LinkedImagesPlugin serves task queues '${this.taskQueue}' (workflows) and '${this.hostTaskQueue}' (host '${this.host}' activities), got a Worker on '${taskQueue}'`,
    );
  }

  override configureWorker(options: WorkerOptions): WorkerOptions {
    const role = this.roleOf(options.taskQueue);
    const withDefaults: WorkerOptions = {
      ...options,
      maxHeartbeatThrottleInterval:
        options.maxHeartbeatThrottleInterval ?? WORKER_DEFAULTS.maxHeartbeatThrottleInterval,
      defaultHeartbeatThrottleInterval:
        options.defaultHeartbeatThrottleInterval ?? WORKER_DEFAULTS.defaultHeartbeatThrottleInterval,
      // The SDK refuses a tuner together with a concurrency limit.
      ...(options.tuner === undefined
        ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? this.maxActivities }
        : {}),
    };
    if (role === 'host-activities') return this.hostActivities.configureWorker(withDefaults);
    const out = super.configureWorker(withDefaults);
    // A Worker given its own bundle keeps it, without the SDK's "ignoring workflowsPath" warning.
    if (options.workflowBundle !== undefined && options.workflowsPath === undefined) delete out.workflowsPath;
    return out;
  }
}
