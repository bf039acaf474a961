/**
 * From the histories of an `updateLinkedImages` run (every execution: its continue-as-new chain
 * and its partitions' chains; plus, for an execution still open, the pending activities of
 * `describe`) to an AuditReport. Pure: unit-testable without a server.
 *
 * AuditBuilder folds the events in one pass, page by page (history-reader.ts feeds it from the
 * server), keeping only the activities in flight of the execution being read: everything it
 * does per event is O(1), and O(children) per publisher-check batch, so a report is linear in
 * events. Results are decoded when an activity closes and only what the report needs is kept
 * (a plan's changes, not the plan).
 *
 * What the history can and cannot say: an activity's Started event is written only when the
 * activity closes, for its last attempt, so a retried activity shows that attempt's start and
 * number (and the failure that caused the retry), not the earlier attempts. Open activities are
 * not in the history beyond their Scheduled event; `describe` supplies their attempt, worker
 * and last heartbeat.
 */
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { LEGACY_ACTIVITY_STAGE, parseActivityId, RUN_ACTIVITY_STAGE } from '../../contract/activity-ids';
import { UpdateInputSchema } from '../../contract/input';
import { UpdateInputSchema as LegacyInputSchema } from '../../workflows/legacy/input';
import type { UpdateResult as LegacyResult } from '../../workflows/legacy/types';
import type { PartitionResult } from '../../contract/messages';
import type { Outcome, UpdateResult } from '../../contract/run-types';
import {
  AUDIT_REPORT_VERSION,
  AUDIT_STAGES,
  type AuditError,
  type AuditFailure,
  type AuditReport,
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
  firstValue,
  iso,
  PENDING_ACTIVITY_STATES,
  RETRY_STATES,
  tsToMs,
} from './history-decode';
import { shortVersion } from '../../model/fmri';
import { activitySummary, heartbeatOf } from './history-activity';

export type * from './audit-report';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;
type Failure = temporal.api.failure.v1.IFailure;
type StartedAttributes = temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes;

/** What `describe()` adds; `describeInfo(await handle.describe())` builds it. */
export interface DescribeInfo {
  runId: string;
  status: WorkflowStatusName;
  pendingActivities: PendingActivity[];
  /** The first run of the execution's continue-as-new chain, when the server says. */
  firstRunId?: string | null;
}

export function describeInfo(d: WorkflowExecutionDescription): DescribeInfo {
  return {
    runId: d.runId,
    status: d.status.name,
    pendingActivities: d.raw.pendingActivities ?? [],
    firstRunId: d.raw.workflowExecutionInfo?.firstRunId || null,
  };
}

export interface ReportOptions {
  /** The run's workflow ID: executions under another ID are its partitions. */
  workflowId: string;
  runId?: string;
  /** For a single history: the describe of that execution (when it is open). */
  describe?: DescribeInfo;
  server?: { address: string; namespace: string };
  /** "Now", for the duration of a running workflow. @default new Date() */
  now?: Date;
}

/** The whole history of one execution, for buildAuditReport. */
export interface ExecutionHistory {
  workflowId: string;
  /** @default the run ID in its WorkflowExecutionStarted event */
  runId?: string | null;
  history: History;
  /** When the execution is open: its describe, for the pending activities. */
  describe?: DescribeInfo;
}

/**
 * The report of a run from whole histories: one History (a single execution of `opts.workflowId`,
 * with `opts.describe`), or every execution, the run's own chain first, oldest first.
 */
export function buildAuditReport(histories: History | ExecutionHistory[], opts: ReportOptions): AuditReport {
  const list: ExecutionHistory[] = Array.isArray(histories)
    ? histories
    : [
        {
          workflowId: opts.workflowId,
          runId: opts.describe?.runId ?? opts.runId ?? null,
          history: histories,
          describe: opts.describe,
        },
      ];
  const b = new AuditBuilder(opts);
  for (const h of list) {
    b.beginExecution(h.workflowId, h.runId ?? null);
    b.addEvents(h.history.events ?? []);
    b.endExecution(h.describe);
  }
  return b.report();
}

/** One activity as its events tell it, while its execution is read. */
interface Activity {
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

interface Closed {
  state: 'completed' | 'failed' | 'timed-out' | 'cancelled';
  ms: number | null;
  result: unknown;
  failure: Failure | null | undefined;
  retryState: number | null | undefined;
  identity: string | null;
}

interface CloseOf {
  status: WorkflowStatusName;
  ms: number | null;
  event: HistoryEvent;
}

/** The execution being read. */
interface Execution {
  index: number;
  audit: ExecutionAudit;
  activities: Map<string, Activity>;
  started: StartedAttributes | null;
  close: CloseOf | null;
  /** For HOST_UNAVAILABLE messages: the run's host and schedule-to-start timeout. */
  host: string | null;
  hostTimeout: string | null;
}

interface ImageAcc {
  name: string;
  stages: StageAudit[];
  changes: FmriChange[] | null;
  planDigest: string | null;
  planPath: string | null;
}

interface PartitionAcc extends PartitionAudit {
  /** Status as the run's own history tells it (child workflow events), until the partition's own history is read. */
  statusFromRun: WorkflowStatusName;
}

const CLOSE_STATUS: Record<string, WorkflowStatusName> = {
  workflowExecutionCompletedEventAttributes: 'COMPLETED',
  workflowExecutionFailedEventAttributes: 'FAILED',
  workflowExecutionTimedOutEventAttributes: 'TIMED_OUT',
  workflowExecutionCanceledEventAttributes: 'CANCELLED',
  workflowExecutionTerminatedEventAttributes: 'TERMINATED',
  workflowExecutionContinuedAsNewEventAttributes: 'CONTINUED_AS_NEW',
};

const LEGACY_TYPES = new Set(Object.keys(LEGACY_ACTIVITY_STAGE));
const BOUNDED_TYPES = new Set(Object.keys(RUN_ACTIVITY_STAGE));
const TYPE_STAGE: Record<string, AuditStage | 'list'> = { ...LEGACY_ACTIVITY_STAGE, ...RUN_ACTIVITY_STAGE };
const STAGE_INDEX = new Map<string, number>(AUDIT_STAGES.map((s, i) => [s, i]));
const byName = new Intl.Collator('en', { numeric: true }).compare;

/**
 * Folds the executions of one run into an AuditReport: beginExecution, addEvents (any number of
 * pages, in order), endExecution (with the execution's describe when it is open), for each
 * execution, the run's own chain first; then report().
 */
export class AuditBuilder {
  private readonly executions: ExecutionAudit[] = [];
  private current: Execution | null = null;
  private readonly chainLength = new Map<string, number>();
  private readonly images = new Map<string, ImageAcc>();
  private readonly errors: AuditError[] = [];
  private readonly partitions = new Map<string, PartitionAcc>();
  /** The first execution of the run's own chain that was read, and its start. */
  private mainStart: { started: StartedAttributes; ms: number | null; execution: number } | null = null;
  /** The latest execution of the run's own chain that was read. */
  private mainLast: {
    execution: number;
    status: WorkflowStatusName;
    close: CloseOf | null;
    runId: string | null;
  } | null = null;
  /** Legacy runs: the children describe found, with their paths. */
  private legacyDescribed: { name: string; path: string }[] | null = null;
  /** Runs since bounded runs: the selection when it fits one chain, and the partitions' slices. */
  private readonly selected: string[] = [];
  private selectedTotal: number | null = null;
  /** Per child, its outcome from a compact result line (the run's or a partition's). */
  private readonly lineOutcomes = new Map<string, Outcome>();
  private sawLegacy = false;
  private sawBounded = false;

  constructor(private readonly opts: ReportOptions) {}

  beginExecution(workflowId: string, runId: string | null): void {
    if (this.current) throw new Error('beginExecution: the previous execution was not ended');
    const chainIndex = (this.chainLength.get(workflowId) ?? 0) + 1;
    this.chainLength.set(workflowId, chainIndex);
    const audit: ExecutionAudit = {
      workflowId,
      runId,
      workflowType: null,
      partition: this.partitionIndexOf(workflowId),
      chainIndex,
      status: 'RUNNING',
      startedAt: null,
      closedAt: null,
      events: 0,
      historyBytes: 0,
      continuedAs: null,
    };
    this.executions.push(audit);
    this.current = {
      index: this.executions.length - 1,
      audit,
      activities: new Map(),
      started: null,
      close: null,
      host: null,
      hostTimeout: null,
    };
  }

  /** The next events of the current execution, in order. */
  addEvents(events: HistoryEvent[]): void {
    const x = this.current;
    if (!x) throw new Error('addEvents: no execution begun');
    for (const e of events) {
      x.audit.events++;
      x.audit.historyBytes += temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
      this.onEvent(x, e);
    }
  }

  /** Whether the current execution's history read so far has no close event (it is still open). */
  currentOpen(): boolean {
    return this.current !== null && this.current.close === null;
  }

  /**
   * Ends the current execution. `describe`: its describe, used when it is open (pending
   * activities and the status). Returns the run it continued as new into, if any.
   */
  endExecution(describe?: DescribeInfo): { continuedAs: string | null } {
    const x = this.current;
    if (!x) throw new Error('endExecution: no execution begun');
    const d = describe && (x.audit.runId === null || describe.runId === x.audit.runId) ? describe : undefined;
    const status: WorkflowStatusName = x.close?.status ?? d?.status ?? 'RUNNING';
    x.audit.status = status;
    const open = status === 'RUNNING' || status === 'PAUSED';
    const pending = new Map((open && d ? d.pendingActivities : []).map((p) => [p.activityId ?? '', p]));
    for (const act of x.activities.values()) this.finishActivity(x, act, undefined, pending.get(act.activityId), open);
    x.activities.clear();
    if (x.audit.partition === 0) this.mainLast = { execution: x.index, status, close: x.close, runId: x.audit.runId };
    else {
      const p = this.partitionFor(x.audit.workflowId);
      p.executions++;
      p.status = status;
      if (p.firstRunId === null && x.audit.chainIndex === 1) p.firstRunId = x.audit.runId;
    }
    this.current = null;
    return { continuedAs: x.audit.continuedAs };
  }

  /** Partitions the run's history named so far, in order, with the first run of each that started. */
  partitionsToRead(): { workflowId: string; firstRunId: string | null }[] {
    return [...this.partitions.values()]
      .sort((a, b) => a.index - b.index)
      .map((p) => ({ workflowId: p.workflowId, firstRunId: p.firstRunId }));
  }

  private partitionIndexOf(workflowId: string): number {
    if (workflowId === this.opts.workflowId) return 0;
    const m = /\/children-(\d+)$/.exec(workflowId);
    return m ? Number(m[1]) : this.partitionFor(workflowId).index;
  }

  private partitionFor(workflowId: string): PartitionAcc {
    let p = this.partitions.get(workflowId);
    if (!p) {
      const m = /\/children-(\d+)$/.exec(workflowId);
      p = {
        index: m ? Number(m[1]) : this.partitions.size + 1,
        workflowId,
        firstRunId: null,
        status: 'UNSPECIFIED',
        statusFromRun: 'UNSPECIFIED',
        executions: 0,
        children: null,
        list: null,
      };
      this.partitions.set(workflowId, p);
    }
    return p;
  }

  private image(name: string): ImageAcc {
    let img = this.images.get(name);
    if (!img) {
      img = { name, stages: [], changes: null, planDigest: null, planPath: null };
      this.images.set(name, img);
    }
    return img;
  }

  private onEvent(x: Execution, e: HistoryEvent): void {
    const ms = tsToMs(e.eventTime);
    const act = (id: unknown) => x.activities.get(String(id));
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      x.started = a;
      x.audit.startedAt = iso(ms);
      x.audit.workflowType = a.workflowType?.name ?? null;
      x.audit.runId ??= a.originalExecutionRunId || null;
      const input = firstValue(a.input) as Record<string, unknown> | undefined;
      // A partition's input holds the run's (validated) input.
      const runInput = UpdateInputSchema.safeParse(a.workflowType?.name === 'updateChildImages' ? input?.input : input);
      x.host = runInput.success ? runInput.data.host : null;
      x.hostTimeout = runInput.success ? runInput.data.hostTimeout : null;
      if (x.audit.partition === 0 && !this.mainStart) this.mainStart = { started: a, ms, execution: x.index };
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const type = a.activityType?.name ?? '';
      if (LEGACY_TYPES.has(type)) this.sawLegacy = true;
      else if (BOUNDED_TYPES.has(type)) this.sawBounded = true;
      let batch: string[] | null = null;
      if (type === 'publisherCheck') {
        const children = (firstValue(a.input) as { children?: unknown } | undefined)?.children;
        batch = Array.isArray(children) ? children.map(String) : null;
      }
      x.activities.set(String(e.eventId), {
        activityId: a.activityId ?? '',
        activityType: type,
        taskQueue: a.taskQueue?.name || null,
        scheduledMs: ms,
        maximumAttempts: a.retryPolicy?.maximumAttempts || null,
        batch,
        cancelRequested: false,
      });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const found = act(a.scheduledEventId);
      if (found)
        found.started = { ms, attempt: a.attempt ?? 1, identity: a.identity ?? '', lastFailure: a.lastFailure };
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      this.close(x, a.scheduledEventId, {
        state: 'completed',
        ms,
        result: firstValue(a.result),
        failure: null,
        retryState: null,
        identity: a.identity || null,
      });
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      this.close(x, a.scheduledEventId, {
        state: 'failed',
        ms,
        result: undefined,
        failure: a.failure,
        retryState: a.retryState,
        identity: a.identity || null,
      });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      this.close(x, a.scheduledEventId, {
        state: 'timed-out',
        ms,
        result: undefined,
        failure: a.failure,
        retryState: a.retryState,
        identity: null,
      });
    } else if (e.activityTaskCanceledEventAttributes) {
      const a = e.activityTaskCanceledEventAttributes;
      this.close(x, a.scheduledEventId, {
        state: 'cancelled',
        ms,
        result: undefined,
        failure: null,
        retryState: null,
        identity: a.identity || null,
      });
    } else if (e.activityTaskCancelRequestedEventAttributes) {
      const found = act(e.activityTaskCancelRequestedEventAttributes.scheduledEventId);
      if (found) found.cancelRequested = true;
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      const id = e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId;
      if (id) this.partitionFor(id);
    } else if (e.childWorkflowExecutionStartedEventAttributes) {
      const w = e.childWorkflowExecutionStartedEventAttributes.workflowExecution;
      if (w?.workflowId) {
        const p = this.partitionFor(w.workflowId);
        p.firstRunId ??= w.runId || null;
        p.statusFromRun = 'RUNNING';
      }
    } else if (e.startChildWorkflowExecutionFailedEventAttributes) {
      const a = e.startChildWorkflowExecutionFailedEventAttributes;
      const cause = enumName(START_CHILD_CAUSES, a.cause) ?? 'UNKNOWN';
      if (a.workflowId) this.partitionFor(a.workflowId);
      this.errors.push({
        image: null,
        stage: 'workflow',
        activityId: null,
        attempt: null,
        at: iso(ms),
        code: 'PARTITION_NOT_STARTED',
        message: `Partition ${a.workflowId ?? '?'} could not be started: ${cause}`,
        retryState: null,
        final: true,
        execution: x.index,
      });
    } else if (e.childWorkflowExecutionCompletedEventAttributes) {
      const a = e.childWorkflowExecutionCompletedEventAttributes;
      this.childClosed(a.workflowExecution?.workflowId, 'COMPLETED');
      this.partitionResult(firstValue(a.result));
    } else if (e.childWorkflowExecutionFailedEventAttributes) {
      this.childClosed(e.childWorkflowExecutionFailedEventAttributes.workflowExecution?.workflowId, 'FAILED');
    } else if (e.childWorkflowExecutionCanceledEventAttributes) {
      this.childClosed(e.childWorkflowExecutionCanceledEventAttributes.workflowExecution?.workflowId, 'CANCELLED');
    } else if (e.childWorkflowExecutionTimedOutEventAttributes) {
      this.childClosed(e.childWorkflowExecutionTimedOutEventAttributes.workflowExecution?.workflowId, 'TIMED_OUT');
    } else if (e.childWorkflowExecutionTerminatedEventAttributes) {
      this.childClosed(e.childWorkflowExecutionTerminatedEventAttributes.workflowExecution?.workflowId, 'TERMINATED');
    } else {
      for (const k in CLOSE_STATUS) {
        if (!e[k as keyof HistoryEvent]) continue;
        x.close = { status: CLOSE_STATUS[k], ms, event: e };
        x.audit.closedAt = iso(ms);
        x.audit.continuedAs = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || null;
        if (k === 'workflowExecutionCompletedEventAttributes' && x.audit.workflowType === 'updateChildImages')
          this.partitionResult(firstValue(e.workflowExecutionCompletedEventAttributes!.result));
        const failure = decodeFailure(e.workflowExecutionFailedEventAttributes?.failure);
        if (failure) {
          const retryState = enumName(RETRY_STATES, e.workflowExecutionFailedEventAttributes!.retryState);
          this.errors.push({
            image: null,
            stage: 'workflow',
            activityId: null,
            attempt: null,
            at: iso(ms),
            code: failure.code,
            message: failure.message,
            retryState,
            final: true,
            execution: x.index,
          });
        }
        break;
      }
    }
  }

  private childClosed(workflowId: string | null | undefined, status: WorkflowStatusName): void {
    if (workflowId) this.partitionFor(workflowId).statusFromRun = status;
  }

  private partitionResult(value: unknown): void {
    const r = value as Partial<PartitionResult> | undefined;
    if (Array.isArray(r?.lines)) for (const line of r.lines) this.addLine(line);
  }

  /** `zone:z1 updated execute 5` -> zone:z1's outcome. */
  private addLine(line: string): void {
    const a = line.indexOf(' ');
    if (a <= 0) return;
    const b = line.indexOf(' ', a + 1);
    this.lineOutcomes.set(line.slice(0, a), line.slice(a + 1, b < 0 ? undefined : b) as Outcome);
  }

  private close(x: Execution, scheduledEventId: unknown, closed: Closed): void {
    const key = String(scheduledEventId);
    const act = x.activities.get(key);
    if (!act) return;
    x.activities.delete(key);
    this.finishActivity(x, act, closed, undefined, false);
  }

  /** Turns one activity into its rows (one, or one per child of a publisher-check batch), its errors and what its result tells. */
  private finishActivity(
    x: Execution,
    act: Activity,
    closed: Closed | undefined,
    pending: PendingActivity | undefined,
    open: boolean,
  ): void {
    const { stage, image } = splitActivityId(act.activityId, act.activityType);
    const row = stageRow(act, closed, stage, open, pending, x);
    const value = closed?.state === 'completed' ? (closed.result as Record<string, unknown> | undefined) : undefined;

    if (stage === 'list') {
      const p = this.partitionFor(x.audit.workflowId);
      p.list = row;
      if (Array.isArray(value?.names)) {
        p.children = value.names.length;
        for (const n of value.names) this.selected.push(String(n));
      }
      this.pushErrors(x, null, stage, row, closed !== undefined);
      return;
    }

    if (act.batch || act.activityType === 'publisherCheck') {
      const results = Array.isArray(value?.results)
        ? (value.results as { name: string; error: { code: string; message: string } | null }[])
        : null;
      const names = act.batch ?? results?.map((r) => r.name) ?? [image];
      const aligned =
        results !== null && results.length === names.length && results.every((r, k) => r.name === names[k]);
      const resultOf = aligned
        ? (k: number) => results[k]
        : results
          ? (
              (m) => (k: number) =>
                m.get(names[k])
            )(new Map(results.map((r) => [r.name, r])))
          : () => undefined;
      names.forEach((name, k) => {
        const childRow: StageAudit = { ...row, batchSize: names.length };
        if (results) {
          const r = resultOf(k);
          if (r?.error)
            Object.assign(childRow, {
              state: 'failed',
              summary: null,
              error: { code: r.error.code, message: r.error.message, timeoutType: null, nonRetryable: true },
            });
          else if (r) childRow.summary = 'publishers agree';
        }
        this.image(name).stages.push(childRow);
        this.pushErrors(x, name, stage, childRow, closed !== undefined);
      });
      return;
    }

    const img = this.image(image);
    img.stages.push(row);
    this.pushErrors(x, image, stage, row, closed !== undefined);
    if (!value) return;
    if (stage === 'plan' && value.plan) {
      const p = value.plan as {
        changes?: { stem: string; from: string | null; to: string | null }[];
        digest?: string;
        image?: string;
      };
      img.changes = (p.changes ?? []).map((c) => ({
        stem: c.stem,
        from: c.from,
        to: c.to,
        fromVersion: c.from === null ? null : shortVersion(c.from),
        toVersion: c.to === null ? null : shortVersion(c.to),
      }));
      img.planDigest = p.digest ?? null;
      img.planPath = typeof p.image === 'string' ? p.image : null;
    } else if (stage === 'describe') {
      if (act.activityType === 'describeImage' && Array.isArray(value.children))
        this.legacyDescribed = value.children as { name: string; path: string }[];
      if (act.activityType === 'describeParent') {
        if (typeof value.total === 'number') this.selectedTotal = value.total;
        if (Array.isArray(value.children)) for (const n of value.children) this.selected.push(String(n));
      }
    }
  }

  /** An open activity's error is its previous attempt's: not final. A closed one's is the outcome. */
  private pushErrors(x: Execution, image: string | null, stage: string, row: StageAudit, closed: boolean): void {
    const base = { image, stage, activityId: row.activityId, execution: x.index };
    const earlier = closed ? row.previousFailure : row.error;
    if (earlier)
      this.errors.push({
        ...base,
        attempt: row.attempts === null ? null : row.attempts - 1,
        at: null,
        code: earlier.code,
        message: earlier.message,
        retryState: null,
        final: false,
      });
    if (closed && row.error)
      this.errors.push({
        ...base,
        attempt: row.attempts,
        at: row.endedAt,
        code: row.error.code,
        message: row.error.message,
        retryState: row.retryState,
        final: true,
      });
  }

  report(): AuditReport {
    if (this.current) throw new Error('report: the current execution was not ended');
    const now = (this.opts.now ?? new Date()).getTime();
    const start = this.mainStart;
    const last = this.mainLast;
    const status: WorkflowStatusName = last?.status ?? (this.executions.length ? 'RUNNING' : 'UNKNOWN');
    const closeEvent = last?.close?.event;
    const raw = firstValue(start?.started.input) as Record<string, unknown> | undefined;
    const input = parseInput(raw);
    const completed = closeEvent?.workflowExecutionCompletedEventAttributes;
    const result = completed ? (firstValue(completed.result) as UpdateResult | LegacyResult | undefined) : undefined;
    const v2 = result && 'resultVersion' in result ? (result as UpdateResult) : undefined;
    const legacy = result && !v2 ? (result as LegacyResult) : undefined;
    const dryRun = result?.dryRun ?? input.dryRun;

    // Outcomes and paths the result gives, by name.
    const outcomeOf = new Map<string, Outcome>();
    const pathOf = new Map<string, string | null>();
    const parentImage = result?.image ?? input.image;
    pathOf.set('parent', parentImage);
    if (result) outcomeOf.set('parent', result.parent.outcome);
    if (legacy) for (const c of legacy.children) (outcomeOf.set(c.name, c.outcome), pathOf.set(c.name, c.path));
    if (v2) for (const line of v2.children) this.addLine(line);
    if (result) for (const [n, o] of this.lineOutcomes) if (!outcomeOf.has(n)) outcomeOf.set(n, o);

    // Every image: the selection (as the run made it), plus any name the history or the result names.
    const names = new Set<string>();
    if (legacy) for (const c of legacy.children) names.add(c.name);
    else if (this.legacyDescribed) {
      const wanted = input.children ? new Set(input.children) : null;
      const ignored = new Set(input.ignore);
      for (const c of this.legacyDescribed) {
        if ((wanted && !wanted.has(c.name)) || ignored.has(c.name)) continue;
        names.add(c.name);
        pathOf.set(c.name, c.path);
      }
    }
    for (const n of this.selected) names.add(n);
    for (const n of this.lineOutcomes.keys()) names.add(n);
    for (const n of this.images.keys()) names.add(n);
    names.delete('parent');
    const order = ['parent', ...[...names].sort(byName)];

    const images = order.map((name): ImageAudit => {
      const acc = this.images.get(name);
      const stages = acc ? acc.stages.sort(byStage) : [];
      const changes = acc?.changes ?? null;
      const outcome = outcomeOf.get(name) ?? (result ? deriveOutcome(stages, changes, dryRun === true) : null);
      return {
        name,
        path: pathOf.get(name) ?? acc?.planPath ?? null,
        outcome,
        stages,
        changes,
        planDigest: acc?.planDigest ?? null,
      };
    });

    let outcomes: Record<Outcome, number> | null = null;
    if (v2) outcomes = { ...v2.counts };
    else if (legacy) {
      outcomes = { updated: 0, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 0 };
      for (const c of legacy.children) outcomes[c.outcome]++;
    }

    const partitions: PartitionAudit[] = [...this.partitions.values()]
      .sort((a, b) => a.index - b.index)
      .map(({ statusFromRun, ...p }) => ({ ...p, status: p.executions > 0 ? p.status : statusFromRun }));
    const closedMs = last?.close?.ms ?? null;
    const startedMs = start?.ms ?? null;
    return {
      reportVersion: AUDIT_REPORT_VERSION,
      generatedAt: new Date(now).toISOString(),
      server: this.opts.server ?? null,
      workflowId: this.opts.workflowId,
      runId: last?.runId ?? this.opts.runId ?? null,
      firstRunId: start ? start.started.firstExecutionRunId || this.executions[start.execution].runId : null,
      shape: this.sawLegacy || legacy ? 'legacy' : this.sawBounded || v2 || input.host ? 'bounded' : null,
      workflowType: start?.started.workflowType?.name ?? null,
      taskQueue: start?.started.taskQueue?.name ?? null,
      startedBy: start?.started.identity || null,
      status,
      closeReason: closeReasonOf(closeEvent),
      result: result ? { status: result.status, exitCode: result.exitCode } : null,
      selectedChildren:
        this.selectedTotal ??
        (legacy
          ? legacy.children.length
          : this.legacyDescribed
            ? images.length - 1
            : outcomes
              ? Object.values(outcomes).reduce((n, c) => n + c, 0)
              : null),
      outcomes,
      input: raw ?? null,
      parentImage,
      concurrency: result?.concurrency ?? input.concurrency,
      dryRun,
      host: v2?.host ?? input.host,
      hostTaskQueue: input.hostTaskQueue,
      hostTimeout: input.hostTimeout,
      partitionSize: input.partitionSize,
      startedAt: iso(startedMs),
      closedAt: iso(closedMs),
      durationMs: startedMs === null ? null : (closedMs ?? now) - startedMs,
      historyLength: this.executions.reduce((n, e) => n + e.events, 0),
      historyBytes: this.executions.reduce((n, e) => n + e.historyBytes, 0),
      executions: this.executions,
      partitions,
      stageCounts: stageCounts(images, dryRun === true),
      images,
      errors: this.errors,
    };
  }
}

/** The input's fields with defaults applied, as the run's own schema (since bounded runs, or legacy) reads them; raw values when neither accepts it. */
function parseInput(raw: Record<string, unknown> | undefined) {
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

function byStage(a: StageAudit, b: StageAudit): number {
  return (
    (STAGE_INDEX.get(a.stage) ?? AUDIT_STAGES.length) - (STAGE_INDEX.get(b.stage) ?? AUDIT_STAGES.length) ||
    (a.scheduledAt ?? '').localeCompare(b.scheduledAt ?? '')
  );
}

function stageRow(
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
function hostUnavailable(f: AuditFailure, stage: string, taskQueue: string | null, x: Execution): AuditFailure {
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

function openState(act: Activity, workflowOpen: boolean, pending: PendingActivity | undefined): StageState {
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
function deriveOutcome(stages: StageAudit[], changes: FmriChange[] | null, dryRun: boolean): Outcome {
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

function stageCounts(images: ImageAudit[], dryRun: boolean): StageCount[] {
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
      prepare: withChanges,
      execute: withChanges,
    };
    for (const c of out) if (applies[c.stage] && !seen.has(c.stage)) c.notStarted++;
  }
  return out;
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
  if (e.workflowExecutionContinuedAsNewEventAttributes)
    return `continued as new run ${e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? '?'}`;
  return null;
}

// temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause (wire values).
const START_CHILD_CAUSES = ['UNSPECIFIED', 'WORKFLOW_ALREADY_EXISTS', 'NAMESPACE_NOT_FOUND'];
