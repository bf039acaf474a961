import { CancelledFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { PlanImageOutput, RunActivities } from '../contract/activity-types';
import type { StageName } from '../contract/activity-types';
import { activityId, batchActivityId } from '../contract/activity-ids';
import { activityOptions, hostQueueOf } from './activity-options';
import { describeFailure } from './describe-failure';
import { historyBudgetSpent, MAX_IN_FLIGHT } from './history-budget';
import { recursesInto, type UpdateInput } from '../contract/input';
import { progressLine } from './progress-line';
import { runWindow, type ItemEnd, type WindowEnd, type WindowGate, type WindowLanes } from './run-window';
import { LANE_BUDGET_MS, LANE_MAX_BYTES, MAX_LANE } from '../contract/lanes';
import {
  childDetail,
  NEEDS,
  type SegmentState,
  setError,
  setStatus,
  setWithParent,
  STATUS,
  stageCounts,
} from './segment-state';
import type { ChildDetail, StageCounts } from '../contract/run-types';

const acts = proxyActivities<RunActivities>({ startToCloseTimeout: '1 minute' });

/** The patch under which small children are planned and executed several to an activity (src/contract/lanes.ts). */
export const LANES = 'lanes';

/** The patch under which a child whose content is all in the parent's plan gets no prepare activity. */
export const PREPARED_WITH_PARENT = 'prepared-with-parent';

/** Children per publisher-check activity: pkg(5) collects every error of this stage anyway. */
export const PUBLISHER_CHECK_BATCH = 100;

/** Until a plan came back, assume this many bytes per plan in flight (history the drain may still add). */
const FIRST_PLAN_BYTES_GUESS = 8_000;

/** What a segment run carries across continue-as-new besides its SegmentState. */
export interface SegmentMemo {
  /** The largest plan seen so far, in bytes of JSON: plans in flight are reserved this much history. */
  maxPlanBytes: number;
}

/** What a segment run asks of the run's controls (src/workflows/run-controls.ts implements it). */
export interface SegmentGate {
  /** Children in flight at most in `stage` (`<= 0`: no limit). */
  cap(stage: StageName): number;
  paused(): boolean;
  rejected(): boolean;
  /** More children failed over the run than its failure budget allows. */
  exceeded(): boolean;
  countFailure(d: 1 | -1): void;
  windowClosed(): boolean;
  startWindowTimer(): void;
}

/** How many times a run re-plans children whose image changed after planning (STALE_PLAN) before it lets them fail. */
export const MAX_ROUNDS = 5;

/**
 * Runs pkg(5)'s stages over the children of one segment (a whole run's children, or one
 * partition's) as activities on the host's task queue: each child's stage is one activity,
 * at most `concurrency` at once, the publisher check in batches (collect-all), plan / prepare /
 * execute fail-fast. Every outcome is written into the SegmentState, which is all that
 * continue-as-new needs to carry. Stops taking new work once the execution's history budget is
 * spent (history-budget.ts), so the caller can continue as new.
 */
export class SegmentRun {
  private readonly working = new Set<string>();
  private stage: StageName | null = null;
  /** The current stage's counts, kept as outcomes arrive (the status line is shown after each). */
  private current: StageCounts = { done: 0, working: 0, waiting: 0, failed: 0 };
  /** Items this execution has started: an execution always does some work before it may pause. */
  private startedHere = 0;
  /** The children the current stage's window goes through; a retried child is pushed on while it runs. */
  private todo: number[] | null = null;
  /** Set when the run is over: children still waiting are counted `skipped`. */
  finished = false;
  /** Bytes of plans the plan activities in flight may still add to the history (with lanes). */
  private reserved = 0;
  /** Per stage, the workflow time one child took in the last activity that ended (ms). */
  private readonly perChildMs: Partial<Record<StageName, number>> = {};

  constructor(
    readonly state: SegmentState,
    private readonly input: UpdateInput,
    readonly memo: SegmentMemo,
    private readonly gate: SegmentGate,
    private readonly onChange: () => void,
    /** The round of stages this is (re-planning a stale plan stops after MAX_ROUNDS). */
    private readonly round: () => number = () => 1,
  ) {}

  /**
   * Works `stage` on every child waiting for it. `parentPlan`: the digest of the parent's saved
   * plan (plan stage). Returns how the window ended; per-child outcomes are in the state.
   */
  async runStage(stage: StageName, parentPlan: string | null): Promise<WindowEnd> {
    this.begin(stage);
    const todo: number[] = [];
    for (let i = 0; i < this.state.names.length; i++) if (this.state.status[i] === NEEDS[stage]) todo.push(i);
    // Runs recorded before lanes keep their windows as they were (runWindow without lanes).
    const lanes = stage === 'publisher-check' || !patched(LANES) ? undefined : this.lanes(stage, parentPlan);
    const reserve = () =>
      stage !== 'plan' ? 0 : lanes ? this.reserved : this.current.working * this.memo.maxPlanBytes;
    const shouldPause = () => this.startedHere > 0 && historyBudgetSpent(reserve());
    const g = this.gate;
    let end: WindowEnd;
    if (stage === 'publisher-check') {
      // pkg(5) collects every error of this stage: the budget is checked once it is over.
      const batches: number[][] = [];
      for (let k = 0; k < todo.length; k += PUBLISHER_CHECK_BATCH)
        batches.push(todo.slice(k, k + PUBLISHER_CHECK_BATCH));
      const gate: WindowGate = { limit: () => 1, held: () => g.paused(), stop: () => g.rejected(), shouldPause };
      end = await runWindow(batches, gate, (b) => this.checkBatch(b));
    } else {
      if (stage === 'execute') g.startWindowTimer();
      const limit = () => {
        const cap = g.cap(stage);
        return cap > 0 ? Math.min(cap, MAX_IN_FLIGHT) : MAX_IN_FLIGHT;
      };
      const stop = () => g.exceeded() || g.rejected() || (stage === 'execute' && g.windowClosed());
      this.todo = todo;
      end = await runWindow(
        todo,
        { limit, held: () => g.paused(), stop, shouldPause },
        (i) => this.one(stage, i, parentPlan),
        lanes,
      );
      this.todo = null;
    }
    if (end === 'cancelled' || end === 'paused') return end;
    if (stage === 'execute' && g.windowClosed()) this.deferRemaining();
    return g.exceeded() || g.rejected() ? 'stopped' : 'done';
  }

  /** The window closed: prepared children not executed are `deferred`. */
  deferRemaining(): void {
    for (let i = 0; i < this.state.names.length; i++)
      if (this.state.status[i] === STATUS.prepared && !this.working.has(this.state.names[i]))
        setStatus(this.state, i, STATUS.deferred);
    this.onChange();
  }

  /** Why `name` cannot be skipped: unknown, working now, or settled; null when it can. */
  skipProblem(name: string): string | null {
    const i = this.state.names.indexOf(name);
    if (i < 0) return `child: '${name}' is not one of this run's children`;
    if (this.working.has(name))
      return `child: '${name}' is working now (its ${this.stage} started); it can no longer be skipped`;
    const st = this.state.status[i];
    if (st === STATUS.waiting || st === STATUS.checked || st === STATUS.planned || st === STATUS.prepared) return null;
    return `child: '${name}' has no stage left to skip (it is ${DONE_WORDS[st] ?? st})`;
  }

  /** Leaves child `name` out of every stage still to come (reported `skipped`); skipProblem must be null. */
  skip(name: string): void {
    setStatus(this.state, this.state.names.indexOf(name), STATUS.skipped);
    if (this.stage) this.current = { ...this.counts()[this.stage] };
    this.onChange();
  }

  /** Why `name` cannot be retried: unknown, or not failed; null when it can. */
  retryProblem(name: string): string | null {
    const i = this.state.names.indexOf(name);
    if (i < 0) return `child: '${name}' is not one of this run's children`;
    const st = this.state.status[i];
    if (st !== STATUS.failed)
      return `child: '${name}' has not failed (it is ${DONE_WORDS[st] ?? 'still to be worked on'}); only a failed child can be retried`;
    if (this.state.errors[name]?.stage === 'describe') return `child: '${name}' was never listed; start a new run`;
    return null;
  }

  /**
   * Takes failed child `name` through the stage it failed in again (retryProblem must be null):
   * its failure no longer counts against the budget; if that stage is running now it joins its
   * window, else the run takes it through the stages in another round.
   */
  retry(name: string): void {
    const i = this.state.names.indexOf(name);
    const stage = this.state.errors[name].stage as StageName;
    delete this.state.errors[name];
    setStatus(this.state, i, NEEDS[stage]);
    this.gate.countFailure(-1);
    if (this.stage) this.current = { ...this.counts()[this.stage] };
    if (this.todo && this.stage === stage && stage !== 'publisher-check') this.todo.push(i);
    this.onChange();
  }

  /** The status line of the current stage, e.g. `Planning: Linked images: 3/8 done; 2 working: zone:z4 zone:z7`. */
  line(): string {
    return this.stage ? progressLine(this.stage, this.current, [...this.working]) : '';
  }

  counts(): Record<StageName, StageCounts> {
    return stageCounts(this.state, this.working, this.stage, this.finished);
  }

  workingNames(): string[] {
    return [...this.working];
  }

  detail(i: number, final: boolean): ChildDetail {
    return childDetail(this.state, i, {
      final,
      dryRun: this.input.dryRun,
      working: this.working.has(this.state.names[i]),
    });
  }

  private begin(stage: StageName): void {
    this.stage = stage;
    this.current = { ...this.counts()[stage] };
    this.onChange();
  }

  private async checkBatch(all: number[]): Promise<ItemEnd> {
    const batch = all.filter((i) => this.state.status[i] === NEEDS['publisher-check']); // skipped meanwhile
    if (batch.length === 0) return 'ok';
    const names = batch.map((i) => this.state.names[i]);
    this.mark(names, +1);
    const id = batchActivityId('publisher-check', names);
    try {
      const out = await acts.publisherCheck.executeWithOptions(activityOptions('publisher-check', this.input, id), [
        { image: this.input.image, children: names, concurrency: this.gate.cap('publisher-check') },
      ]);
      let failed = false;
      out.results.forEach((r, k) => {
        if (r.error) {
          failed = true;
          setError(this.state, batch[k], { stage: 'publisher-check', ...r.error }, false);
          this.gate.countFailure(1);
          this.current.failed++;
        } else {
          setStatus(this.state, batch[k], STATUS.checked);
          this.current.done++;
        }
      });
      return failed ? 'failed' : 'ok';
    } catch (e) {
      const f = describeFailure(e, 'publisher-check', this.where());
      for (const i of batch) {
        setError(this.state, i, { stage: 'publisher-check', ...f }, f.code === 'CANCELLED');
        if (f.code !== 'CANCELLED') this.gate.countFailure(1);
      }
      this.current.failed += batch.length;
      return f.code === 'CANCELLED' ? 'cancelled' : 'failed';
    } finally {
      this.mark(names, -1);
    }
  }

  private async one(
    stage: Exclude<StageName, 'publisher-check'>,
    i: number,
    parentPlan: string | null,
  ): Promise<ItemEnd> {
    const name = this.state.names[i];
    // Skipped (or re-queued twice) since the stage's list was made: nothing to do.
    if (this.state.status[i] !== NEEDS[stage] || this.working.has(name)) return 'ok';
    this.mark([name], +1);
    const address = { image: this.input.image, child: name };
    const id = activityId(stage, name);
    const t0 = Date.now();
    try {
      if (stage === 'plan') {
        const reserve = this.memo.maxPlanBytes;
        this.reserved += reserve;
        try {
          const out = await acts.plan.executeWithOptions(activityOptions('plan', this.input, id), [
            recursesInto(this.input, name)
              ? { ...address, packages: this.input.packages, parentPlan }
              : { ...address, parentPlan, sync: true },
          ]);
          this.planned(i, out);
        } finally {
          this.reserved -= reserve;
        }
      } else {
        const plan = this.state.plans[i]!;
        // The parent's prepare (done before any child's) downloaded all this child needs: a
        // prepare activity would download nothing, so none is scheduled (a round trip and three
        // history events fewer per child). patched: runs recorded before it scheduled one.
        if (stage === 'prepare' && this.state.withParent?.[i] === '1' && patched(PREPARED_WITH_PARENT)) {
          if (this.state.bytes) this.state.bytes[i] = 0;
        } else if (stage === 'prepare') {
          const out = await acts.prepare.executeWithOptions(activityOptions('prepare', this.input, id), [
            { ...address, plan },
          ]);
          if (this.state.bytes) this.state.bytes[i] = out.bytes;
        } else
          await acts.execute.executeWithOptions(activityOptions('execute', this.input, id), [{ ...address, plan }]);
        setStatus(this.state, i, stage === 'prepare' ? STATUS.prepared : STATUS.updated);
      }
      this.observe(stage, Date.now() - t0, 1);
      this.current.done++;
      return 'ok';
    } catch (e) {
      return this.failed(stage, i, describeFailure(e, stage, this.where()));
    } finally {
      this.mark([name], -1);
    }
  }

  /** Child i's `stage` failed (or was cancelled) with `f`: recorded, counted against the budget. */
  private failed(
    stage: Exclude<StageName, 'publisher-check'>,
    i: number,
    f: { code: string; message: string },
  ): ItemEnd {
    if (f.code === 'STALE_PLAN' && this.input.approval && this.round() < MAX_ROUNDS) {
      // The image changed since it was planned: with approval, it is planned again alone (in
      // the next round) and its new plan needs approval again, instead of failing the child.
      setStatus(this.state, i, STATUS.checked);
      this.state.plans[i] = null;
      this.state.changes[i] = null;
      return 'ok';
    }
    setError(this.state, i, { stage, ...f }, f.code === 'CANCELLED');
    if (f.code !== 'CANCELLED') this.gate.countFailure(1);
    this.current.failed++;
    return f.code === 'CANCELLED' ? 'cancelled' : 'failed';
  }

  /**
   * `ms` of workflow time (scheduled to completed) for `children` children of `stage`: the
   * stage's time per child, which sizes its lanes. Kept per execution (an execution after
   * continue-as-new starts with single children again).
   */
  private observe(stage: StageName, ms: number, children: number): void {
    if (children > 0) this.perChildMs[stage] = ms / children;
  }

  /** Child i's plan came back: its digest and change count are the checkpoint. */
  private planned(i: number, out: PlanImageOutput): void {
    this.state.plans[i] = out.plan.digest;
    this.state.changes[i] = out.plan.changes.length;
    this.memo.maxPlanBytes = Math.max(this.memo.maxPlanBytes, JSON.stringify(out.plan).length);
    setWithParent(this.state, i, out.preparedWithParent === true);
    setStatus(this.state, i, out.plan.changes.length > 0 ? STATUS.planned : STATUS.nothing);
  }

  /**
   * The window's lanes in `stage` (src/contract/lanes.ts). In plan and execute the first starts
   * are single children; once some have ended, each start takes as many as fit LANE_BUDGET_MS by
   * the time a child of this stage took (workflow time, so replay decides the same), at most an
   * even share of the children left over the window's places and MAX_LANE. Slow children
   * (a stage of a second or more) keep an activity each. Prepare starts one child at a time (its
   * downloads are long, or there are none).
   */
  private lanes(stage: StageName, parentPlan: string | null): WindowLanes<number> {
    const burst = { at: -1, left: 0 };
    return {
      size: (left, places) => {
        const perChild = this.perChildMs[stage];
        if ((stage !== 'plan' && stage !== 'execute') || perChild === undefined) return 1;
        // Starts made at one workflow time (one workflow task) share what was left at the first of
        // them: 42 children left for 8 places start as 7 lanes of 6 that end together, not as
        // lanes of 6, 5, 4, ... whose first one ends last.
        const now = Date.now();
        if (burst.at !== now) Object.assign(burst, { at: now, left });
        // As many as fit the budget by what this stage's children took so far (so a pause or a
        // skip reaches a child waiting in a lane within about LANE_BUDGET_MS), and no more than an
        // even share over the window's places.
        const fit = Math.floor(LANE_BUDGET_MS / Math.max(1, perChild));
        return Math.max(1, Math.min(MAX_LANE, fit, Math.ceil(burst.left / places)));
      },
      run: (items) => this.lane(stage as 'plan' | 'execute', items, parentPlan),
    };
  }

  /**
   * Works `stage` on `all` in one planChildren or executeChildren activity: each child's outcome
   * is recorded as its own activity's would be (a plan is its checkpoint; a failed child fails,
   * fail-fast); children the lane did not start wait for another start. When the activity itself
   * fails (its first child's retryable error after every retry, a timeout, a cancellation), its
   * first child takes the failure and the others wait.
   */
  private async lane(stage: 'plan' | 'execute', all: number[], parentPlan: string | null): Promise<ItemEnd> {
    const items = all.filter((i) => this.state.status[i] === NEEDS[stage] && !this.working.has(this.state.names[i]));
    if (items.length <= 1) return items.length ? this.one(stage, items[0], parentPlan) : 'ok';
    const names = items.map((i) => this.state.names[i]);
    const index = new Map(names.map((n, k) => [n, items[k]]));
    const requeue = (ns: string[]) => {
      const back = ns.filter((n) => this.state.status[index.get(n)!] === NEEDS[stage]); // skipped meanwhile
      for (const n of back) this.todo?.push(index.get(n)!);
      return back.length;
    };
    const reserve =
      stage === 'plan' ? Math.min(items.length * this.memo.maxPlanBytes, LANE_MAX_BYTES + this.memo.maxPlanBytes) : 0;
    this.reserved += reserve;
    this.mark(names, +1);
    let waitingAgain = 0;
    const options = activityOptions(stage, this.input, batchActivityId(stage, names));
    const t0 = Date.now();
    try {
      let out: {
        results: { name: string }[];
        failure?: { name: string; code: string; message: string };
        notStarted: string[];
        cancelled?: string;
      };
      if (stage === 'plan') {
        const children = names.map((n) =>
          recursesInto(this.input, n)
            ? { child: n, ...(this.input.packages ? { packages: this.input.packages } : {}) }
            : { child: n, sync: true },
        );
        const planned = await acts.planChildren.executeWithOptions(options, [
          { image: this.input.image, parentPlan, children, budgetMs: LANE_BUDGET_MS },
        ]);
        for (const r of planned.results) this.planned(index.get(r.name)!, r);
        out = planned;
      } else {
        const children = items.map((i) => ({ child: this.state.names[i], plan: this.state.plans[i]! }));
        const notAfter = this.input.window?.notAfter;
        out = await acts.executeChildren.executeWithOptions(options, [
          { image: this.input.image, children, budgetMs: LANE_BUDGET_MS, ...(notAfter ? { notAfter } : {}) },
        ]);
        for (const r of out.results) setStatus(this.state, index.get(r.name)!, STATUS.updated);
      }
      this.current.done += out.results.length;
      this.observe(stage, Date.now() - t0, out.results.length + (out.failure || out.cancelled ? 1 : 0));
      let end: ItemEnd = 'ok';
      if (out.failure) end = this.failed(stage, index.get(out.failure.name)!, out.failure);
      if (out.cancelled)
        end = this.failed(
          stage,
          index.get(out.cancelled)!,
          describeFailure(new CancelledFailure('cancelled'), stage, this.where()),
        );
      waitingAgain = requeue(out.notStarted);
      return end;
    } catch (e) {
      const end = this.failed(stage, items[0], describeFailure(e, stage, this.where()));
      waitingAgain = requeue(names.slice(1));
      return end;
    } finally {
      this.reserved -= reserve;
      this.mark(names, -1);
      this.current.waiting += waitingAgain;
      this.onChange();
    }
  }

  private mark(names: string[], d: 1 | -1): void {
    for (const n of names) d > 0 ? this.working.add(n) : this.working.delete(n);
    this.current.working += d * names.length;
    if (d > 0) {
      this.current.waiting -= names.length;
      this.startedHere += names.length;
    }
    this.onChange();
  }

  private where() {
    return { host: this.input.host, taskQueue: hostQueueOf(this.input), hostTimeout: this.input.hostTimeout };
  }
}

/** What a settled status reads as in a refusal. */
const DONE_WORDS: Record<string, string> = {
  n: 'planned with nothing to do',
  u: 'updated',
  f: 'failed',
  x: 'cancelled',
  s: 'skipped already',
  d: 'deferred',
};

export function newSegmentMemo(): SegmentMemo {
  return { maxPlanBytes: FIRST_PLAN_BYTES_GUESS };
}
