/**
 * From the history of an `updateLinkedImages` run (plus, for a run still open, the pending
 * activities of `describe`) to an AuditReport. Pure: unit-testable without a server.
 *
 * What the history can and cannot say: an activity's Started event is written only when the
 * activity closes, for its last attempt, so a retried activity shows that attempt's start and
 * number (and the failure that caused the retry), not the earlier attempts. Open activities are
 * not in the history beyond their Scheduled event; `describe` supplies their attempt, worker
 * and last heartbeat.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { UpdateInputSchema } from '../workflows/legacy/input';
import type { UpdateResult } from '../workflows/legacy/types';
import {
  AUDIT_REPORT_VERSION, AUDIT_STAGES, type AuditError, type AuditReport, type AuditStage, type FmriChange, type ImageAudit,
  type StageAudit, type WorkflowStatusName,
} from './audit-report';
import { decodeFailure, describeBytes, enumName, firstValue, iso, PENDING_ACTIVITY_STATES, RETRY_STATES, shortVersion, tsToMs } from './history-decode';
import { activitySummary, heartbeatOf } from './history-activity';

export type * from './audit-report';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/** What `describe()` adds; `describeInfo(await handle.describe())` builds it. */
export interface DescribeInfo {
  runId: string;
  status: WorkflowStatusName;
  pendingActivities: PendingActivity[];
}

export function describeInfo(d: WorkflowExecutionDescription): DescribeInfo {
  return { runId: d.runId, status: d.status.name, pendingActivities: d.raw.pendingActivities ?? [] };
}

export interface ReportOptions {
  workflowId: string;
  runId?: string;
  describe?: DescribeInfo;
  server?: { address: string; namespace: string };
  /** "Now", for the duration of a running workflow. @default new Date() */
  now?: Date;
}

/** One activity as its events tell it. */
interface Activity {
  activityId: string;
  activityType: string;
  scheduledMs: number | null;
  maximumAttempts: number | null;
  started?: { ms: number | null; attempt: number; identity: string; lastFailure: temporal.api.failure.v1.IFailure | null | undefined };
  closed?: { state: 'completed' | 'failed' | 'timed-out' | 'cancelled'; ms: number | null; result: unknown; failure: temporal.api.failure.v1.IFailure | null | undefined; retryState: number | null | undefined; identity: string | null };
  cancelRequested: boolean;
}

const CLOSE_STATUS: [keyof HistoryEvent, WorkflowStatusName][] = [
  ['workflowExecutionCompletedEventAttributes', 'COMPLETED'],
  ['workflowExecutionFailedEventAttributes', 'FAILED'],
  ['workflowExecutionTimedOutEventAttributes', 'TIMED_OUT'],
  ['workflowExecutionCanceledEventAttributes', 'CANCELLED'],
  ['workflowExecutionTerminatedEventAttributes', 'TERMINATED'],
  ['workflowExecutionContinuedAsNewEventAttributes', 'CONTINUED_AS_NEW'],
];

export function buildAuditReport(history: History, opts: ReportOptions): AuditReport {
  const events = history.events ?? [];
  const activities = new Map<string, Activity>();
  const byScheduled = (id: unknown) => activities.get(String(id));
  let started: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | null = null;
  let startedMs: number | null = null;
  let close: { status: WorkflowStatusName; ms: number | null; event: HistoryEvent } | null = null;

  for (const e of events) {
    const ms = tsToMs(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) {
      started = e.workflowExecutionStartedEventAttributes;
      startedMs = ms;
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      activities.set(String(e.eventId), {
        activityId: a.activityId ?? '',
        activityType: a.activityType?.name ?? '',
        scheduledMs: ms,
        maximumAttempts: a.retryPolicy?.maximumAttempts || null,
        cancelRequested: false,
      });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const act = byScheduled(a.scheduledEventId);
      if (act) act.started = { ms, attempt: a.attempt ?? 1, identity: a.identity ?? '', lastFailure: a.lastFailure };
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const act = byScheduled(a.scheduledEventId);
      if (act) act.closed = { state: 'completed', ms, result: firstValue(a.result), failure: null, retryState: null, identity: a.identity || null };
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const act = byScheduled(a.scheduledEventId);
      if (act) act.closed = { state: 'failed', ms, result: undefined, failure: a.failure, retryState: a.retryState, identity: a.identity || null };
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      const act = byScheduled(a.scheduledEventId);
      if (act) act.closed = { state: 'timed-out', ms, result: undefined, failure: a.failure, retryState: a.retryState, identity: null };
    } else if (e.activityTaskCancelRequestedEventAttributes) {
      const act = byScheduled(e.activityTaskCancelRequestedEventAttributes.scheduledEventId);
      if (act) act.cancelRequested = true;
    } else if (e.activityTaskCanceledEventAttributes) {
      const a = e.activityTaskCanceledEventAttributes;
      const act = byScheduled(a.scheduledEventId);
      if (act) act.closed = { state: 'cancelled', ms, result: undefined, failure: null, retryState: null, identity: a.identity || null };
    } else {
      const hit = CLOSE_STATUS.find(([k]) => e[k]);
      if (hit) close = { status: hit[1], ms, event: e };
    }
  }

  const status: WorkflowStatusName = opts.describe?.status ?? close?.status ?? (started ? 'RUNNING' : 'UNKNOWN');
  const workflowOpen = status === 'RUNNING' || status === 'PAUSED';
  const input = firstValue(started?.input);
  const parsedInput = UpdateInputSchema.safeParse(input);
  const result = close?.event.workflowExecutionCompletedEventAttributes ? (firstValue(close.event.workflowExecutionCompletedEventAttributes.result) as UpdateResult | undefined) : undefined;
  const raw = (input ?? {}) as Record<string, unknown>;

  const errors: AuditError[] = [];
  const pendingById = new Map((opts.describe?.pendingActivities ?? []).map((p) => [p.activityId ?? '', p]));
  const stagesByImage = new Map<string, StageAudit[]>();
  const planOf = new Map<string, { changes: FmriChange[]; digest: string | null }>();
  let described: { name: string; path: string }[] = [];

  for (const act of activities.values()) {
    const { stage, image } = splitActivityId(act.activityId, act.activityType);
    const row = stageRow(act, stage, workflowOpen, act.closed ? undefined : pendingById.get(act.activityId));
    (stagesByImage.get(image) ?? stagesByImage.set(image, []).get(image)!).push(row);
    const value = act.closed?.result as Record<string, unknown> | undefined;
    if (act.closed?.state === 'completed' && stage === 'plan' && value?.plan) planOf.set(image, planChanges(value.plan));
    if (act.closed?.state === 'completed' && stage === 'describe' && Array.isArray(value?.children)) described = value.children as typeof described;
    // An open activity's error is its previous attempt's: not final. A closed one's is the outcome.
    const base = { image, stage, activityId: act.activityId };
    const earlier = act.closed ? row.previousFailure : row.error;
    if (earlier) errors.push({ ...base, attempt: row.attempts === null ? null : row.attempts - 1, at: null, code: earlier.code, message: earlier.message, retryState: null, final: false });
    if (act.closed && row.error) errors.push({ ...base, attempt: row.attempts, at: row.endedAt, code: row.error.code, message: row.error.message, retryState: row.retryState, final: true });
  }

  const closeReason = closeReasonOf(close?.event);
  const wfFailure = decodeFailure(close?.event.workflowExecutionFailedEventAttributes?.failure);
  if (wfFailure) errors.push({ image: null, stage: 'workflow', activityId: null, attempt: null, at: iso(close!.ms), code: wfFailure.code, message: wfFailure.message, retryState: enumName(RETRY_STATES, close!.event.workflowExecutionFailedEventAttributes!.retryState), final: true });

  const parentImage = result?.image ?? (typeof raw.image === 'string' ? raw.image : null);
  const images = imageList(parentImage, result, selectedChildren(described, parsedInput.success ? parsedInput.data : null), stagesByImage).map((img): ImageAudit => {
    const plan = planOf.get(img.name);
    const fromResult = img.name === 'parent' ? result?.parent : result?.children.find((c) => c.name === img.name);
    return { name: img.name, path: img.path, outcome: fromResult?.outcome ?? null, stages: img.stages, changes: plan?.changes ?? null, planDigest: plan?.digest ?? null };
  });

  const now = (opts.now ?? new Date()).getTime();
  return {
    reportVersion: AUDIT_REPORT_VERSION,
    generatedAt: new Date(now).toISOString(),
    server: opts.server ?? null,
    workflowId: opts.workflowId,
    runId: opts.describe?.runId ?? opts.runId ?? started?.originalExecutionRunId ?? null,
    workflowType: started?.workflowType?.name ?? null,
    taskQueue: started?.taskQueue?.name ?? null,
    startedBy: started?.identity || null,
    status,
    closeReason,
    result: result ? { status: result.status, exitCode: result.exitCode } : null,
    input: input ?? null,
    parentImage,
    concurrency: result?.concurrency ?? (parsedInput.success ? parsedInput.data.concurrency : typeof raw.concurrency === 'number' ? raw.concurrency : null),
    dryRun: result?.dryRun ?? (parsedInput.success ? parsedInput.data.dryRun : typeof raw.dryRun === 'boolean' ? raw.dryRun : null),
    startedAt: iso(startedMs),
    closedAt: iso(close?.ms ?? null),
    durationMs: startedMs === null ? null : (close?.ms ?? now) - startedMs,
    historyLength: events.length,
    images,
    errors,
  };
}

/** `plan/zone:z1` -> plan, zone:z1. IDs in another shape keep their activity type's stage and their whole ID as the image. */
export function splitActivityId(activityId: string, activityType: string): { stage: AuditStage | string; image: string } {
  const slash = activityId.indexOf('/');
  const stage = slash > 0 ? activityId.slice(0, slash) : '';
  if ((AUDIT_STAGES as readonly string[]).includes(stage)) return { stage, image: activityId.slice(slash + 1) };
  return { stage: TYPE_STAGE[activityType] ?? activityType, image: activityId };
}

const TYPE_STAGE: Record<string, AuditStage> = { describeImage: 'describe', checkPublishers: 'publisher-check', planImage: 'plan', prepareImage: 'prepare', executeImage: 'execute' };

function stageRow(act: Activity, stage: string, workflowOpen: boolean, pending: PendingActivity | undefined): StageAudit {
  const c = act.closed;
  const startedMs = c ? (act.started?.ms ?? null) : (tsToMs(pending?.lastStartedTime) ?? act.started?.ms ?? null);
  const endedMs = c?.ms ?? null;
  const failure = decodeFailure(c?.failure) ?? (c?.state === 'cancelled' ? { code: 'CANCELLED', message: 'cancelled', timeoutType: null, nonRetryable: false } : null);
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
    attempts: c ? (act.started?.attempt ?? null) : (pending?.attempt || null),
    maximumAttempts: pending?.maximumAttempts || act.maximumAttempts,
    worker: (c ? act.started?.identity || c.identity : pending?.lastWorkerIdentity || act.started?.identity) || null,
    summary: c?.state === 'completed' ? activitySummary(act.activityType, c.result, describeBytes) : null,
    error: c ? failure : decodeFailure(pending?.lastFailure),
    retryState: enumName(RETRY_STATES, c?.retryState),
    previousFailure: c ? decodeFailure(act.started?.lastFailure) : null,
    heartbeat: c ? (c.state === 'timed-out' ? heartbeatOf(c.failure?.timeoutFailureInfo?.lastHeartbeatDetails, null) : null) : heartbeatOf(pending?.heartbeatDetails, pending?.lastHeartbeatTime),
    nextAttemptAt: iso(tsToMs(pending?.nextAttemptScheduleTime)),
  };
}

function openState(act: Activity, workflowOpen: boolean, pending: PendingActivity | undefined): StageAudit['state'] {
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

function planChanges(plan: unknown): { changes: FmriChange[]; digest: string | null } {
  const p = plan as { changes?: { stem: string; from: string | null; to: string | null }[]; digest?: string };
  const changes = (p.changes ?? []).map((c) => ({ stem: c.stem, from: c.from, to: c.to, fromVersion: shortVersion(c.from), toVersion: shortVersion(c.to) }));
  return { changes, digest: p.digest ?? null };
}

function closeReasonOf(e: HistoryEvent | undefined): string | null {
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
  if (e.workflowExecutionContinuedAsNewEventAttributes) return `continued as new run ${e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? '?'}`;
  return null;
}

/** The children the workflow selects from those `describe` found: `children` if given, minus `ignore`. */
function selectedChildren(described: { name: string; path: string }[], input: { children?: string[]; ignore: string[] } | null): { name: string; path: string }[] {
  if (!input) return described;
  const wanted = input.children ? described.filter((c) => input.children!.includes(c.name)) : described;
  return wanted.filter((c) => !input.ignore.includes(c.name));
}

function imageList(parentImage: string | null, result: UpdateResult | undefined, described: { name: string; path: string }[], stages: Map<string, StageAudit[]>) {
  const paths = new Map<string, string | null>([['parent', parentImage]]);
  for (const c of result ? result.children : described) paths.set(c.name, c.path);
  for (const name of stages.keys()) if (!paths.has(name)) paths.set(name, null);
  const names = [...paths.keys()].filter((n) => n !== 'parent').sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return ['parent', ...names].map((name) => ({
    name,
    path: paths.get(name) ?? null,
    stages: (stages.get(name) ?? []).sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage) || (a.scheduledAt ?? '').localeCompare(b.scheduledAt ?? '')),
  }));
}

function stageIndex(stage: string): number {
  const i = (AUDIT_STAGES as readonly string[]).indexOf(stage);
  return i < 0 ? AUDIT_STAGES.length : i;
}
