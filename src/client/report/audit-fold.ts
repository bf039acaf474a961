/**
 * The state AuditBuilder folds a run's events into (the activities in flight of the execution
 * being read, the images and partitions seen so far) and the pure derivations from it: stage
 * rows, outcomes, counts, failures. Pure: no I/O.
 */
import { LEGACY_ACTIVITY_STAGE, parseActivityId, RUN_ACTIVITY_STAGE } from '../../contract/activity-ids';
import { UpdateInputSchema } from '../../contract/input';
import { UpdateInputSchema as LegacyInputSchema } from '../../workflows/legacy/input';
import type { Outcome } from '../../contract/run-types';
import {
  AUDIT_STAGES,
  type AuditFailure,
  type AuditStage,
  type ExecutionAudit,
  type FmriChange,
  type ImageAudit,
  type PartitionAudit,
  type StageAudit,
  type StageCount,
  type StageState,
  type WorkflowStatusName,
} from './audit-report';
import {
  decodeFailure,
  describeBytes,
  enumName,
  iso,
  PENDING_ACTIVITY_STATES,
  RETRY_STATES,
  tsToMs,
} from './history-decode';
import { activitySummary, heartbeatOf } from './history-activity';
import type { HistoryEvent, PendingActivity, Failure, StartedAttributes } from './history-decode';

/** One activity as its events tell it, while its execution is read. */
export interface Activity {
  activityId: string;
  activityType: string;
  taskQueue: string | null;
  scheduledMs: number | null;
  maximumAttempts: number | null;
  /** A publisher-check batch: the children it checks (from its input). */
  batch: string[] | null;
  started?: { ms: number | null; attempt: number; identity: string; lastFailure: Failure | null | undefined };
  cancelRequested: boolean;
}

export interface Closed {
  state: 'completed' | 'failed' | 'timed-out' | 'cancelled';
  ms: number | null;
  result: unknown;
  failure: Failure | null | undefined;
  retryState: number | null | undefined;
  identity: string | null;
}

export interface CloseOf {
  status: WorkflowStatusName;
  ms: number | null;
  event: HistoryEvent;
}

/** The execution being read. */
export interface Execution {
  index: number;
  audit: ExecutionAudit;
  activities: Map<string, Activity>;
  started: StartedAttributes | null;
  close: CloseOf | null;
  /** For HOST_UNAVAILABLE messages: the run's host and schedule-to-start timeout. */
  host: string | null;
  hostTimeout: string | null;
}

export interface ImageAcc {
  name: string;
  stages: StageAudit[];
  changes: FmriChange[] | null;
  planDigest: string | null;
  planPath: string | null;
  preparedWithParent: boolean;
}

export interface PartitionAcc extends PartitionAudit {
  /** Status as the run's own history tells it (child workflow events), until the partition's own history is read. */
  statusFromRun: WorkflowStatusName;
}

export const CLOSE_STATUS: Record<string, WorkflowStatusName> = {
  workflowExecutionCompletedEventAttributes: 'COMPLETED',
  workflowExecutionFailedEventAttributes: 'FAILED',
  workflowExecutionTimedOutEventAttributes: 'TIMED_OUT',
  workflowExecutionCanceledEventAttributes: 'CANCELLED',
  workflowExecutionTerminatedEventAttributes: 'TERMINATED',
  workflowExecutionContinuedAsNewEventAttributes: 'CONTINUED_AS_NEW',
};

export const LEGACY_TYPES = new Set(Object.keys(LEGACY_ACTIVITY_STAGE));
export const BOUNDED_TYPES = new Set(Object.keys(RUN_ACTIVITY_STAGE));
export const TYPE_STAGE: Record<string, AuditStage | 'list'> = { ...LEGACY_ACTIVITY_STAGE, ...RUN_ACTIVITY_STAGE };
export const STAGE_INDEX = new Map<string, number>(AUDIT_STAGES.map((s, i) => [s, i]));
export const byName = new Intl.Collator('en', { numeric: true }).compare;

/** The input's fields with defaults applied, as the run's own schema (since bounded runs, or legacy) reads them; raw values when neither accepts it. */
export function parseInput(raw: Record<string, unknown> | undefined) {
  const bounded = UpdateInputSchema.safeParse(raw);
  if (bounded.success) {
    const d = bounded.data;
    return {
      ...d,
      hostTaskQueue: d.hostTaskQueue ?? `linked-images@${d.host}`,
      partitionSize: d.partitionSize as number | null,
    };
  }
  const legacy = LegacyInputSchema.safeParse(raw);
  const none = { host: null, hostTaskQueue: null, hostTimeout: null, partitionSize: null };
  if (legacy.success) return { ...legacy.data, ...none };
  const r = raw ?? {};
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : null);
  const names = (k: string) => (Array.isArray(r[k]) ? (r[k] as unknown[]).map(String) : undefined);
  return {
    image: str('image'),
    children: names('children'),
    ignore: names('ignore') ?? [],
    concurrency: typeof r.concurrency === 'number' ? r.concurrency : null,
    dryRun: typeof r.dryRun === 'boolean' ? r.dryRun : null,
    host: str('host'),
    hostTaskQueue: str('hostTaskQueue') ?? (str('host') ? `linked-images@${str('host')}` : null),
    hostTimeout: str('hostTimeout'),
    partitionSize: typeof r.partitionSize === 'number' ? r.partitionSize : null,
  };
}

/**
 * `plan/zone:z1` -> plan, zone:z1 (src/contract/activity-ids.ts). IDs in another shape, and an
 * audit run's `audit/<child>`, keep their activity type's stage and their whole ID as the image.
 */
export function splitActivityId(
  activityId: string,
  activityType: string,
): { stage: AuditStage | 'list' | string; image: string } {
  const parsed = parseActivityId(activityId);
  if (parsed && parsed.stage !== 'audit') return { stage: parsed.stage, image: parsed.name };
  return { stage: TYPE_STAGE[activityType] ?? activityType, image: activityId };
}

export function byStage(a: StageAudit, b: StageAudit): number {
  return (
    (STAGE_INDEX.get(a.stage) ?? AUDIT_STAGES.length) - (STAGE_INDEX.get(b.stage) ?? AUDIT_STAGES.length) ||
    (a.scheduledAt ?? '').localeCompare(b.scheduledAt ?? '')
  );
}

export function stageRow(
  act: Activity,
  c: Closed | undefined,
  stage: string,
  workflowOpen: boolean,
  pending: PendingActivity | undefined,
  x: Execution,
): StageAudit {
  const startedMs = c ? (act.started?.ms ?? null) : (tsToMs(pending?.lastStartedTime) ?? act.started?.ms ?? null);
  const endedMs = c?.ms ?? null;
  let failure =
    decodeFailure(c?.failure) ??
    (c?.state === 'cancelled'
      ? { code: 'CANCELLED', message: 'cancelled', timeoutType: null, nonRetryable: false }
      : null);
  if (failure?.code === 'TIMEOUT' && failure.timeoutType === 'SCHEDULE_TO_START')
    failure = hostUnavailable(failure, stage, act.taskQueue, x);
  return {
    stage,
    activityId: act.activityId,
    activityType: act.activityType,
    state: c ? c.state : openState(act, workflowOpen, pending),
    scheduledAt: iso(act.scheduledMs),
    startedAt: iso(startedMs),
    endedAt: iso(endedMs),
    durationMs: startedMs !== null && endedMs !== null ? endedMs - startedMs : null,
    totalMs: act.scheduledMs !== null && endedMs !== null ? endedMs - act.scheduledMs : null,
    attempts: c ? (act.started?.attempt ?? null) : pending?.attempt || null,
    maximumAttempts: pending?.maximumAttempts || act.maximumAttempts,
    worker: (c ? act.started?.identity || c.identity : pending?.lastWorkerIdentity || act.started?.identity) || null,
    summary: c?.state === 'completed' ? activitySummary(act.activityType, c.result, describeBytes) : null,
    error: c ? failure : decodeFailure(pending?.lastFailure),
    retryState: enumName(RETRY_STATES, c?.retryState),
    previousFailure: c ? decodeFailure(act.started?.lastFailure) : null,
    heartbeat: c
      ? c.state === 'timed-out'
        ? heartbeatOf(c.failure?.timeoutFailureInfo?.lastHeartbeatDetails, null)
        : null
      : heartbeatOf(pending?.heartbeatDetails, pending?.lastHeartbeatTime),
    nextAttemptAt: iso(tsToMs(pending?.nextAttemptScheduleTime)),
    taskQueue: act.taskQueue,
    batchSize: null,
    execution: x.index,
  };
}

/** A schedule-to-start timeout, named as the workflow names it (src/workflows/describe-failure.ts): no worker of the host took the activity. */
export function hostUnavailable(f: AuditFailure, stage: string, taskQueue: string | null, x: Execution): AuditFailure {
  const host = x.host ? `host '${x.host}'` : 'the host';
  const queue = taskQueue ? ` from task queue '${taskQueue}'` : '';
  const within = x.hostTimeout ? ` within ${x.hostTimeout}` : '';
  const hint = x.host ? `: is "npm run worker" running on ${x.host} with --host ${x.host}?` : '';
  return {
    ...f,
    code: 'HOST_UNAVAILABLE',
    message: `No worker of ${host} took the ${stage} activity${queue}${within} (schedule-to-start timeout)${hint}\ncaused by TIMEOUT: ${f.message}`,
  };
}

export function openState(act: Activity, workflowOpen: boolean, pending: PendingActivity | undefined): StageState {
  if (!workflowOpen) return 'abandoned';
  if (!pending) return act.cancelRequested ? 'cancel-requested' : 'pending';
  switch (enumName(PENDING_ACTIVITY_STATES, pending.state)) {
    case 'STARTED':
      return 'running';
    case 'CANCEL_REQUESTED':
      return 'cancel-requested';
    case 'PAUSED':
    case 'PAUSE_REQUESTED':
      return 'paused';
    default:
      return (pending.attempt ?? 1) > 1 ? 'retrying' : 'scheduled';
  }
}

/** An image's outcome from its stages, as the workflow decides it (src/workflows/segment-state.ts finalOutcome), for a child the result's lines left out. */
export function deriveOutcome(stages: StageAudit[], changes: FmriChange[] | null, dryRun: boolean): Outcome {
  let executed = false;
  let planned = false;
  for (const s of stages) {
    if (s.state === 'cancelled' || s.error?.code === 'CANCELLED') return 'cancelled';
    if (s.state === 'failed' || s.state === 'timed-out') return 'failed';
    if (s.stage === 'execute' && s.state === 'completed') executed = true;
    if (s.stage === 'plan' && s.state === 'completed') planned = true;
  }
  if (executed) return 'updated';
  if (planned && changes?.length === 0) return 'nothing-to-do';
  if (planned && dryRun) return 'planned';
  return 'skipped';
}

export function stageCounts(images: ImageAudit[], dryRun: boolean): StageCount[] {
  const out = AUDIT_STAGES.map((stage): StageCount => ({ stage, states: {}, notStarted: 0 }));
  for (const img of images) {
    const seen = new Set<string>();
    for (const s of img.stages) {
      const k = STAGE_INDEX.get(s.stage);
      if (k === undefined) continue;
      seen.add(s.stage);
      out[k].states[s.state] = (out[k].states[s.state] ?? 0) + 1;
    }
    const parent = img.name === 'parent';
    const withChanges = !dryRun && (img.changes?.length ?? 0) > 0;
    const applies: Record<AuditStage, boolean> = {
      describe: parent,
      'publisher-check': !parent,
      plan: true,
      prepare: withChanges && !img.preparedWithParent, // the parent's prepare fetched its files
      execute: withChanges,
    };
    for (const c of out) if (applies[c.stage] && !seen.has(c.stage)) c.notStarted++;
  }
  return out;
}

export function closeReasonOf(e: HistoryEvent | undefined): string | null {
  if (!e) return null;
  if (e.workflowExecutionFailedEventAttributes) {
    const f = decodeFailure(e.workflowExecutionFailedEventAttributes.failure);
    return f ? `${f.code}: ${f.message.split('\n')[0]}` : 'failed';
  }
  if (e.workflowExecutionTerminatedEventAttributes) {
    const t = e.workflowExecutionTerminatedEventAttributes;
    return `terminated${t.identity ? ` by ${t.identity}` : ''}${t.reason ? `: ${t.reason}` : ''}`;
  }
  if (e.workflowExecutionTimedOutEventAttributes) return 'the workflow timed out (execution or run timeout)';
  if (e.workflowExecutionCanceledEventAttributes) return 'cancelled';
  if (e.workflowExecutionContinuedAsNewEventAttributes)
    return `continued as new run ${e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? '?'}`;
  return null;
}

// temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause (wire values).
export const START_CHILD_CAUSES = ['UNSPECIFIED', 'WORKFLOW_ALREADY_EXISTS', 'NAMESPACE_NOT_FOUND'];
