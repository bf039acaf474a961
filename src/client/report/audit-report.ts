/**
 * The audit report of one `updateLinkedImages` run, as `npm run report -- <id> --json` prints it.
 * Field names are stable: a field may be added, but one that changes meaning or goes away bumps
 * `reportVersion`. Times are ISO 8601 UTC strings; durations are milliseconds; sizes are bytes.
 *
 * A run is every workflow execution it took: its own continue-as-new chain and, when it was
 * split into partitions, each partition's chain (`<workflowId>/children-<k>`). The report
 * merges them per image. Runs of both shapes are read: those started before bounded runs
 * (one activity per child and stage, the whole result in one object) and those since.
 *
 * Version 2 (bounded runs): `runId` is the latest execution of the run's chain, `historyLength`
 * counts the events of every execution; new: `firstRunId`, `shape`, `host`, `hostTaskQueue`,
 * `hostTimeout`, `partitionSize`, `selectedChildren`, `outcomes`, `historyBytes`, `executions`, `partitions`,
 * `stageCounts`; per stage `execution`, `taskQueue`, `batchSize`; per error `execution`; the
 * code HOST_UNAVAILABLE.
 */
import { STAGES } from '../../contract/activity-ids';
import type { Outcome, RunStatus } from '../../contract/run-types';

export const AUDIT_REPORT_VERSION = 2;

/** The stages of activity IDs `<stage>/<name>`, in the order the workflow runs them. */
export const AUDIT_STAGES = ['describe', ...STAGES] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** Temporal's workflow status names (WorkflowExecutionStatusName of @temporalio/client). */
export type WorkflowStatusName =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TERMINATED'
  | 'CONTINUED_AS_NEW'
  | 'TIMED_OUT'
  | 'PAUSED'
  | 'UNSPECIFIED'
  | 'UNKNOWN';

/**
 * Where one activity got to:
 * - completed, failed, timed-out, cancelled: closed (from the history);
 * - running: an attempt has started and not ended; scheduled: waiting for a worker to pick it up;
 *   retrying: an attempt failed and the next one waits for its backoff; cancel-requested; paused
 *   (from the pending activities of `describe`);
 * - pending: open, but no `describe` information was given;
 * - abandoned: never closed, and the execution it belongs to has closed (terminated, timed out).
 *
 * A child checked by a publisher-check batch (one activity for up to 100 children) has the
 * batch's state, except that it is `failed` when the batch completed and its result names an
 * error for this child.
 */
export type StageState =
  | 'completed'
  | 'failed'
  | 'timed-out'
  | 'cancelled'
  | 'running'
  | 'scheduled'
  | 'retrying'
  | 'cancel-requested'
  | 'paused'
  | 'pending'
  | 'abandoned';

export const STAGE_STATES: readonly StageState[] = [
  'completed',
  'failed',
  'timed-out',
  'cancelled',
  'running',
  'scheduled',
  'retrying',
  'cancel-requested',
  'paused',
  'pending',
  'abandoned',
];

export interface AuditFailure {
  /**
   * The stable error code: the ApplicationFailure type (e.g. PUBLISHER_MISMATCH), HOST_UNAVAILABLE
   * for a schedule-to-start timeout (no worker of the host took the activity from its task queue
   * in time, as the run's result says too), else TIMEOUT, CANCELLED, TERMINATED, SERVER or Error.
   */
  code: string;
  /** The full message, causes appended as `caused by CODE: message` lines. */
  message: string;
  /** For timeouts: START_TO_CLOSE, SCHEDULE_TO_START, SCHEDULE_TO_CLOSE or HEARTBEAT. */
  timeoutType: string | null;
  nonRetryable: boolean;
}

export interface HeartbeatInfo {
  /** prepare and execute heartbeat `{ done, total, unit }`; other activities send none (all null). */
  done: number | null;
  total: number | null;
  unit: string | null;
  /** The decoded details when they are not `{ done, total, unit }`. */
  details: unknown;
  at: string | null;
}

export interface StageAudit {
  stage: AuditStage | string;
  /** The activity's ID: `<stage>/<name>`, or `publisher-check/<first>..<last>` for a batch. */
  activityId: string;
  activityType: string;
  state: StageState;
  /** When the workflow scheduled the activity (the first attempt). */
  scheduledAt: string | null;
  /** When the last (or current) attempt started: Temporal keeps only that attempt's start. */
  startedAt: string | null;
  endedAt: string | null;
  /** endedAt - startedAt: the last attempt only; null while open. */
  durationMs: number | null;
  /** endedAt - scheduledAt: every attempt and backoff; null while open. */
  totalMs: number | null;
  /** The number of the last (or current) attempt; 1 = no retry. Null if no attempt ever started. */
  attempts: number | null;
  maximumAttempts: number | null;
  /** The worker identity (`pid@host`) that ran the last attempt. */
  worker: string | null;
  /** One line from the activity's result, e.g. `5 changes`, `applied, 42 steps`. */
  summary: string | null;
  /** Why it failed / timed out / was cancelled (final), or why the current attempt is a retry. */
  error: AuditFailure | null;
  /** Temporal's retry state of a closed failure, e.g. NON_RETRYABLE_FAILURE, MAXIMUM_ATTEMPTS_REACHED; null for an error a publisher-check batch reported for one child. */
  retryState: string | null;
  /** The failure of the attempt before the last one, when the activity was retried. */
  previousFailure: AuditFailure | null;
  /** Open activities only (from `describe`). */
  heartbeat: HeartbeatInfo | null;
  nextAttemptAt: string | null;
  /** The task queue the activity was scheduled on (runs since bounded runs: the host's, `linked-images@<host>`). */
  taskQueue: string | null;
  /** For a child checked by a publisher-check batch: how many children the batch checked; else null. */
  batchSize: number | null;
  /** The execution whose history holds the activity: an index into AuditReport.executions. */
  execution: number;
}

export interface FmriChange {
  stem: string;
  /** Full FMRIs; from null = install, to null = removal. */
  from: string | null;
  to: string | null;
  /** `1.0` from `pkg://demo/web/nginx@1.0:20261125T120000Z` (the timestamp dropped). */
  fromVersion: string | null;
  toVersion: string | null;
}

export interface ImageAudit {
  /** `parent`, or the child's name such as `zone:z1`. */
  name: string;
  /** The image's root: the parent's from the input; a child's from describe (runs before bounded runs) or from its plan; null when unknown. */
  path: string | null;
  /**
   * From the workflow's result (for runs since bounded runs: the parent, the compact line per
   * child, the partitions' results); when the result left a child's line out, derived from its
   * stages in the history the same way. Null while running, or when the run did not complete.
   */
  outcome: Outcome | null;
  /** Its stages in order (describe, publisher-check, plan, prepare, execute), from every execution of the run. */
  stages: StageAudit[];
  /** From the plan activity's result (the plan is the checkpoint); null when not planned (yet). */
  changes: FmriChange[] | null;
  planDigest: string | null;
  /**
   * Its last plan said every file it needs is in the parent's plan (`preparedWithParent`): the
   * parent's prepare fetched them, and it has no prepare activity of its own.
   */
  preparedWithParent: boolean;
}

export interface AuditError {
  /** Null for a failure of a workflow execution itself, or of a partition's `list` activity. */
  image: string | null;
  /** A stage, `list` (a partition listing its children) or `workflow`. */
  stage: string;
  activityId: string | null;
  attempt: number | null;
  at: string | null;
  code: string;
  message: string;
  retryState: string | null;
  /** False for a failed attempt the activity went on from (retrying now, or succeeded later). */
  final: boolean;
  /** The execution it happened in: an index into AuditReport.executions; null when not known. */
  execution: number | null;
}

/** One workflow execution of the run: of its own continue-as-new chain, or of a partition's. */
export interface ExecutionAudit {
  /** The run's workflow ID, or a partition's (`<workflowId>/children-<k>`). */
  workflowId: string;
  runId: string | null;
  workflowType: string | null;
  /** 0 for the run's own chain, else the partition's number k (1-based). */
  partition: number;
  /** Its position in its continue-as-new chain: 1 = the first. */
  chainIndex: number;
  status: WorkflowStatusName;
  startedAt: string | null;
  closedAt: string | null;
  /** Events in its history. */
  events: number;
  /** The size of its history: the events as protobuf-encoded bytes (what Temporal's history size limits count). */
  historyBytes: number;
  /** The run it continued as new into (the next of the chain), else null. */
  continuedAs: string | null;
}

/** One partition of a run split into child workflows. */
export interface PartitionAudit {
  /** 1-based. */
  index: number;
  /** `<workflowId>/children-<index>`. */
  workflowId: string;
  /** The first run of its chain (from the run's ChildWorkflowExecutionStarted event); null if not started. */
  firstRunId: string | null;
  /** The status of its latest execution read (or, if none was read, what the run's history says). */
  status: WorkflowStatusName;
  /** How many of its executions were read. */
  executions: number;
  /** Children it listed (its `list/children-<k>` activity); null before it did. */
  children: number | null;
  /** Its `list/children-<k>` activity, which lists its slice of the selection. */
  list: StageAudit | null;
}

/** How the images' activities of one stage stand, over every execution. */
export interface StageCount {
  stage: AuditStage;
  /** Images with an activity (a row) in this stage, per state. States with no image are left out. */
  states: Partial<Record<StageState, number>>;
  /**
   * Images the stage applies to that have no activity in it (not started yet, or never reached
   * after a failure): describe: the parent; publisher-check: every child; plan: every image;
   * prepare and execute: every image whose plan has changes (none in a dry run).
   */
  notStarted: number;
}

export interface AuditReport {
  reportVersion: typeof AUDIT_REPORT_VERSION;
  generatedAt: string;
  /** The server the report was read from, when known. */
  server: { address: string; namespace: string } | null;
  workflowId: string;
  /** The latest execution of the run's own chain read (the one that holds the result, or is running). */
  runId: string | null;
  /** The first execution of the run's own chain. */
  firstRunId: string | null;
  /** `legacy`: started before bounded runs (src/workflows/legacy/); `bounded`: since; null when the history does not tell. */
  shape: 'legacy' | 'bounded' | null;
  workflowType: string | null;
  /** The task queue of the run's workflow tasks. */
  taskQueue: string | null;
  /** The identity of the client that started the run. */
  startedBy: string | null;
  status: WorkflowStatusName;
  /** Why the run closed without a result: the failure, the termination reason, a timeout. */
  closeReason: string | null;
  /** The workflow's result, when it completed. */
  result: { status: RunStatus; exitCode: number } | null;
  /** How many children the run selected (its describe activity, or the result); null before it described the parent. */
  selectedChildren: number | null;
  /** Selected children per outcome: the result's counts (or counted from a legacy result's children); null without a result. */
  outcomes: Record<Outcome, number> | null;
  /** The input as sent (raw). */
  input: unknown;
  /** From the input (or the result): the parent image, concurrency and dryRun with defaults applied. */
  parentImage: string | null;
  concurrency: number | null;
  dryRun: boolean | null;
  /** The host that holds the images (input `host`); null for legacy runs. */
  host: string | null;
  /** The task queue the host's worker polls for the run's activities (input `hostTaskQueue`, default `linked-images@<host>`); null for legacy runs. */
  hostTaskQueue: string | null;
  /** The schedule-to-start timeout of every activity (input `hostTimeout`, e.g. `10m`): past it, HOST_UNAVAILABLE. */
  hostTimeout: string | null;
  /** The input's `partitionSize`: at most this many children per partition. */
  partitionSize: number | null;
  startedAt: string | null;
  closedAt: string | null;
  /** closedAt (or generatedAt while running) - startedAt. */
  durationMs: number | null;
  /** Events in the histories of every execution read (all of `executions`). */
  historyLength: number;
  /** The sum of `executions[].historyBytes`. */
  historyBytes: number;
  /** Every execution read: the run's own continue-as-new chain first, then each partition's chain. */
  executions: ExecutionAudit[];
  /** The run's partitions (child workflows), in order; empty when it ran in one chain. */
  partitions: PartitionAudit[];
  /** Per stage, how the images stand (activities by state, and images not started). */
  stageCounts: StageCount[];
  /** The parent first, then the children in name order (zone:z2 before zone:z10). */
  images: ImageAudit[];
  /** Every error, in the order the executions were read and their events happened. */
  errors: AuditError[];
}
