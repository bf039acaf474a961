/**
 * The audit report of one `updateLinkedImages` run, as `npm run report -- <id> --json` prints it.
 * Field names are stable: a field may be added, but one that changes meaning or goes away bumps
 * `reportVersion`. Times are ISO 8601 UTC strings; durations are milliseconds.
 */
import type { Outcome, RunStatus } from '../workflows/legacy/types';

export const AUDIT_REPORT_VERSION = 1;

/** The stages of activity IDs `<stage>/<name>`, in the order the workflow runs them. */
export const AUDIT_STAGES = ['describe', 'publisher-check', 'plan', 'prepare', 'execute'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** Temporal's workflow status names (WorkflowExecutionStatusName of @temporalio/client). */
export type WorkflowStatusName = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT' | 'PAUSED' | 'UNSPECIFIED' | 'UNKNOWN';

/**
 * Where one activity got to:
 * - completed, failed, timed-out, cancelled: closed (from the history);
 * - running: an attempt has started and not ended; scheduled: waiting for a worker to pick it up;
 *   retrying: an attempt failed and the next one waits for its backoff; cancel-requested; paused
 *   (from the pending activities of `describe`);
 * - pending: open, but no `describe` information was given;
 * - abandoned: never closed, and the workflow itself has closed (terminated, timed out).
 */
export type StageState = 'completed' | 'failed' | 'timed-out' | 'cancelled' | 'running' | 'scheduled' | 'retrying' | 'cancel-requested' | 'paused' | 'pending' | 'abandoned';

export interface AuditFailure {
  /** The stable error code: the ApplicationFailure type (e.g. PUBLISHER_MISMATCH), else TIMEOUT, CANCELLED, TERMINATED, SERVER or Error. */
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
  /** One line from the activity's result, e.g. `5 changes`, `applied 42 steps`. */
  summary: string | null;
  /** Why it failed / timed out / was cancelled (final), or why the current attempt is a retry. */
  error: AuditFailure | null;
  /** Temporal's retry state of a closed failure, e.g. NON_RETRYABLE_FAILURE, MAXIMUM_ATTEMPTS_REACHED. */
  retryState: string | null;
  /** The failure of the attempt before the last one, when the activity was retried. */
  previousFailure: AuditFailure | null;
  /** Open activities only (from `describe`). */
  heartbeat: HeartbeatInfo | null;
  nextAttemptAt: string | null;
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
  path: string | null;
  /** From the workflow's result; null while running or when the workflow did not complete. */
  outcome: Outcome | null;
  stages: StageAudit[];
  /** From the plan activity's result; null when not planned (yet). */
  changes: FmriChange[] | null;
  planDigest: string | null;
}

export interface AuditError {
  /** Null for a failure of the workflow itself. */
  image: string | null;
  stage: string;
  activityId: string | null;
  attempt: number | null;
  at: string | null;
  code: string;
  message: string;
  retryState: string | null;
  /** False for a failed attempt the activity went on from (retrying now, or succeeded later). */
  final: boolean;
}

export interface AuditReport {
  reportVersion: typeof AUDIT_REPORT_VERSION;
  generatedAt: string;
  /** The server the report was read from, when known. */
  server: { address: string; namespace: string } | null;
  workflowId: string;
  runId: string | null;
  workflowType: string | null;
  taskQueue: string | null;
  /** The identity of the client that started the run. */
  startedBy: string | null;
  status: WorkflowStatusName;
  /** Why the run closed without a result: the failure, the termination reason, a timeout. */
  closeReason: string | null;
  /** The workflow's result, when it completed. */
  result: { status: RunStatus; exitCode: number } | null;
  /** The input as sent (raw). */
  input: unknown;
  /** From the input (or the result): the parent image, concurrency and dryRun with defaults applied. */
  parentImage: string | null;
  concurrency: number | null;
  dryRun: boolean | null;
  startedAt: string | null;
  closedAt: string | null;
  /** closedAt (or generatedAt while running) - startedAt. */
  durationMs: number | null;
  historyLength: number;
  /** The parent first, then the children in name order (zone:z2 before zone:z10). */
  images: ImageAudit[];
  errors: AuditError[];
}
