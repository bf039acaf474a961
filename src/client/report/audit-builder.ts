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
import { temporal } from '@temporalio/proto';
import { UpdateInputSchema } from '../../contract/input';
import type { UpdateResult as LegacyResult } from '../../workflows/legacy/types';
import type { PartitionResult } from '../../contract/messages';
import type { Outcome, UpdateResult } from '../../contract/run-types';
import {
  AUDIT_REPORT_VERSION,
  type AuditError,
  type AuditReport,
  type ExecutionAudit,
  type ImageAudit,
  type PartitionAudit,
  type StageAudit,
  type WorkflowStatusName,
} from './audit-report';
import { decodeFailure, describeBytes, enumName, firstValue, iso, RETRY_STATES, tsToMs } from './history-decode';
import { shortVersion } from '../../model/fmri';
import { activitySummary } from './history-activity';

import {
  Activity,
  BOUNDED_TYPES,
  byName,
  CLOSE_STATUS,
  Closed,
  CloseOf,
  closeReasonOf,
  deriveOutcome,
  Execution,
  ImageAcc,
  LEGACY_TYPES,
  parseInput,
  PartitionAcc,
  splitActivityId,
  START_CHILD_CAUSES,
  stageCounts,
  stageRow,
  byStage,
} from './audit-fold';
import type { DescribeInfo, ReportOptions } from './report-options';
import type { HistoryEvent, PendingActivity, StartedAttributes } from './history-decode';

/** The activity types that work several children one after another (src/contract/lanes.ts). */
const LANE_TYPES = new Set(['planChildren', 'executeChildren']);

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
      img = { name, stages: [], changes: null, planDigest: null, planPath: null, preparedWithParent: false };
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
      if (type === 'publisherCheck' || LANE_TYPES.has(type)) {
        const children = (firstValue(a.input) as { children?: unknown } | undefined)?.children;
        // A lane's children are `{ child, ... }`; publisherCheck's are names.
        batch = Array.isArray(children)
          ? children.map((c) => String(c && typeof c === 'object' ? (c as { child?: unknown }).child : c))
          : null;
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

    if (LANE_TYPES.has(act.activityType)) {
      this.laneRows(x, act, stage, row, value, closed !== undefined, image);
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
      this.planOf(img, value);
    } else if (stage === 'describe') {
      if (act.activityType === 'describeImage' && Array.isArray(value.children))
        this.legacyDescribed = value.children as { name: string; path: string }[];
      if (act.activityType === 'describeParent') {
        if (typeof value.total === 'number') this.selectedTotal = value.total;
        if (Array.isArray(value.children)) for (const n of value.children) this.selected.push(String(n));
      }
    }
  }

  /** What a plan result tells of its image: the changes, the plan's digest and where it was saved. */
  private planOf(img: ImageAcc, value: Record<string, unknown>): void {
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
    img.preparedWithParent = value.preparedWithParent === true;
  }

  /**
   * A lane (planChildren, executeChildren; src/contract/lanes.ts): a row for each child it
   * worked on (with its own summary) and for the child that failed or was cancelled; the children
   * it did not start get none here (a later activity works on them). While it is open, or when it
   * failed as a whole, every child it was given shares its row.
   */
  private laneRows(
    x: Execution,
    act: Activity,
    stage: string,
    row: StageAudit,
    value: Record<string, unknown> | undefined,
    closed: boolean,
    fallback: string,
  ): void {
    const names = act.batch ?? [fallback];
    const results = value && Array.isArray(value.results) ? (value.results as Record<string, unknown>[]) : null;
    if (!results) {
      for (const name of names) {
        const childRow: StageAudit = { ...row, batchSize: names.length };
        this.image(name).stages.push(childRow);
        this.pushErrors(x, name, stage, childRow, closed);
      }
      return;
    }
    const failure = value!.failure as { name: string; code: string; message: string } | undefined;
    const cancelled = typeof value!.cancelled === 'string' ? value!.cancelled : null;
    const worked = results.length + (failure ? 1 : 0) + (cancelled ? 1 : 0);
    for (const r of results) {
      const img = this.image(String(r.name));
      img.stages.push({ ...row, batchSize: worked, summary: activitySummary(stage, r, describeBytes) });
      if (stage === 'plan' && r.plan) this.planOf(img, r);
    }
    // A lane that completed after a failed attempt: that attempt's error is the lane's, listed once.
    if (row.previousFailure) this.pushErrors(x, fallback, stage, { ...row, error: null }, true);
    const ended = (name: string, state: StageAudit['state'], error: StageAudit['error']) => {
      const childRow: StageAudit = { ...row, batchSize: worked, state, summary: null, error };
      this.image(name).stages.push(childRow);
      this.pushErrors(x, name, stage, childRow, true);
    };
    if (failure)
      ended(failure.name, 'failed', {
        code: failure.code,
        message: failure.message,
        timeoutType: null,
        nonRetryable: true,
      });
    if (cancelled)
      ended(cancelled, 'cancelled', {
        code: 'CANCELLED',
        message: 'cancelled: the run was cancelled; the image was rolled back',
        timeoutType: null,
        nonRetryable: false,
      });
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
        preparedWithParent: acc?.preparedWithParent ?? false,
      };
    });

    let outcomes: Record<Outcome, number> | null = null;
    if (v2) outcomes = { ...v2.counts };
    else if (legacy) {
      outcomes = { updated: 0, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 0, deferred: 0 };
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
