/**
 * What the watch reads from the server each round, as plain data (no SDK types), so the view
 * model (run-view.ts) is a pure function of it and unit tests can build one by hand.
 */
import type { HeartbeatProgress } from '../../contract/activity-types';
import type { ActivityStage } from '../../contract/activity-ids';
import type { Progress } from '../../contract/run-types';

/** The execution's status as `temporal workflow describe` names it, lower case. */
export type RunStatus =
  'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed-out' | 'continued-as-new' | 'unknown';

/** One activity in flight (or waiting for its next attempt) of the execution at work. */
export interface PendingActivity {
  /** `<stage>/<name>`, e.g. `prepare/zone:z1` (src/contract/activity-ids.ts). */
  activityId: string;
  stage: ActivityStage | null;
  /** The child's name (`parent` for the parent), or the batch `zone:z1..zone:z3`. */
  name: string;
  /** `scheduled`: waiting for a worker (a first attempt, or a retry once nextAttemptAt has passed); `started`: a worker has it. */
  state: 'scheduled' | 'started' | 'cancel-requested' | 'paused' | 'other';
  /** 1-based. */
  attempt: number;
  /** 0: no limit. */
  maximumAttempts: number;
  /** The failure of the previous attempt, if any. */
  lastFailure: { type: string | null; message: string } | null;
  /** When the next attempt starts (set between a failed attempt and its retry). */
  nextAttemptAt: Date | null;
  lastStartedAt: Date | null;
  lastHeartbeatAt: Date | null;
  /** The details of its last heartbeat when they are a HeartbeatProgress (prepare, execute). */
  heartbeat: HeartbeatProgress | null;
  /** The worker that last took it. */
  lastWorker: string | null;
}

/** The pollers of one task queue, as describeTaskQueue lists them. */
export interface QueuePollers {
  name: string;
  /** `host`: the host's activity queue (`linked-images@<host>`); `workflow`: the run's workflow task queue. */
  kind: 'host' | 'workflow';
  pollers: { identity: string; lastAccessAt: Date | null }[];
  /** Set when describeTaskQueue failed (the view says it could not tell). */
  error: string | null;
}

/** One round's reading of a run. */
export interface RunSnapshot {
  workflowId: string;
  runId: string | null;
  status: RunStatus;
  /** When this reading was taken. */
  at: Date;
  /** The run's `progress` answer; null when no worker answered the query in time. */
  progress: Progress | null;
  /** For a run split into partitions: the one at work (1-based index) and its own `progress` answer. */
  partition: { index: number; count: number; workflowId: string; progress: Progress | null } | null;
  /** Activities of the execution at work (the active partition's, or the run's own). */
  pending: PendingActivity[];
  /** The workflow ID of that execution (where their results will be in the history). */
  pendingOf: string;
  /** Plans waiting for approval (the `plans` query's parent and children) while progress.controls.approval is `waiting`; else null or absent. */
  plansWaiting?: number | null;
  /** The run's host (from its input), null when its input does not name one (a legacy run). */
  host: string | null;
  queues: QueuePollers[];
}
