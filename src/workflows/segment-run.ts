import { proxyActivities } from '@temporalio/workflow';
import type { RunActivities } from '../contract/activity-types';
import type { StageName } from '../contract/activity-types';
import { activityId, batchActivityId } from '../contract/activity-ids';
import { activityOptions, hostQueueOf } from './activity-options';
import { describeFailure } from './describe-failure';
import { historyBudgetSpent, MAX_IN_FLIGHT } from './history-budget';
import type { UpdateInput } from '../contract/input';
import { progressLine } from './progress-line';
import { runWindow, type ItemEnd, type WindowEnd } from './run-window';
import { childDetail, NEEDS, type SegmentState, setError, setStatus, STATUS, stageCounts } from './segment-state';
import type { ChildDetail, StageCounts } from '../contract/run-types';

const acts = proxyActivities<RunActivities>({ startToCloseTimeout: '1 minute' });

/** Children per publisher-check activity: pkg(5) collects every error of this stage anyway. */
export const PUBLISHER_CHECK_BATCH = 100;

/** Until a plan came back, assume this many bytes per plan in flight (history the drain may still add). */
const FIRST_PLAN_BYTES_GUESS = 8_000;

/** What a segment run carries across continue-as-new besides its SegmentState. */
export interface SegmentMemo {
  /** The largest plan seen so far, in bytes of JSON: plans in flight are reserved this much history. */
  maxPlanBytes: number;
}

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

  constructor(
    readonly state: SegmentState,
    private readonly input: UpdateInput,
    readonly memo: SegmentMemo,
    private readonly onChange: () => void,
  ) {}

  /**
   * Works `stage` on every child waiting for it. `parentPlan`: the digest of the parent's saved
   * plan (plan stage). Returns how the window ended; per-child outcomes are in the state.
   */
  async runStage(stage: StageName, parentPlan: string | null): Promise<WindowEnd> {
    this.begin(stage);
    const todo: number[] = [];
    for (let i = 0; i < this.state.names.length; i++) if (this.state.status[i] === NEEDS[stage]) todo.push(i);
    const pause = () =>
      this.startedHere > 0 && historyBudgetSpent(stage === 'plan' ? this.current.working * this.memo.maxPlanBytes : 0);
    if (stage === 'publisher-check') {
      const batches: number[][] = [];
      for (let k = 0; k < todo.length; k += PUBLISHER_CHECK_BATCH)
        batches.push(todo.slice(k, k + PUBLISHER_CHECK_BATCH));
      return runWindow(batches, 1, false, pause, (b) => this.checkBatch(b));
    }
    const cap = this.input.concurrency > 0 ? Math.min(this.input.concurrency, MAX_IN_FLIGHT) : MAX_IN_FLIGHT;
    return runWindow(todo, cap, true, pause, (i) => this.one(stage, i, parentPlan));
  }

  /** The status line of the current stage, e.g. `Planning: Linked images: 3/8 done; 2 working: zone:z4 zone:z7`. */
  line(): string {
    return this.stage ? progressLine(this.stage, this.current, [...this.working]) : '';
  }

  counts(): Record<StageName, StageCounts> {
    return stageCounts(this.state, this.working, this.stage);
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

  private async checkBatch(batch: number[]): Promise<ItemEnd> {
    const names = batch.map((i) => this.state.names[i]);
    this.mark(names, +1);
    const id = batchActivityId('publisher-check', names);
    try {
      const out = await acts.publisherCheck.executeWithOptions(activityOptions('publisher-check', this.input, id), [
        { image: this.input.image, children: names, concurrency: this.input.concurrency },
      ]);
      let failed = false;
      out.results.forEach((r, k) => {
        if (r.error) {
          failed = true;
          setError(this.state, batch[k], { stage: 'publisher-check', ...r.error }, false);
          this.current.failed++;
        } else {
          setStatus(this.state, batch[k], STATUS.checked);
          this.current.done++;
        }
      });
      return failed ? 'failed' : 'ok';
    } catch (e) {
      const f = describeFailure(e, 'publisher-check', this.where());
      for (const i of batch) setError(this.state, i, { stage: 'publisher-check', ...f }, f.code === 'CANCELLED');
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
    this.mark([name], +1);
    const address = { image: this.input.image, child: name };
    const id = activityId(stage, name);
    try {
      if (stage === 'plan') {
        const out = await acts.plan.executeWithOptions(activityOptions('plan', this.input, id), [
          { ...address, packages: this.input.packages, parentPlan },
        ]);
        this.state.plans[i] = out.plan.digest;
        this.state.changes[i] = out.plan.changes.length;
        this.memo.maxPlanBytes = Math.max(this.memo.maxPlanBytes, JSON.stringify(out.plan).length);
        setStatus(this.state, i, out.plan.changes.length > 0 ? STATUS.planned : STATUS.nothing);
      } else {
        const plan = this.state.plans[i]!;
        if (stage === 'prepare')
          await acts.prepare.executeWithOptions(activityOptions('prepare', this.input, id), [{ ...address, plan }]);
        else await acts.execute.executeWithOptions(activityOptions('execute', this.input, id), [{ ...address, plan }]);
        setStatus(this.state, i, stage === 'prepare' ? STATUS.prepared : STATUS.updated);
      }
      this.current.done++;
      return 'ok';
    } catch (e) {
      const f = describeFailure(e, stage, this.where());
      setError(this.state, i, { stage, ...f }, f.code === 'CANCELLED');
      this.current.failed++;
      return f.code === 'CANCELLED' ? 'cancelled' : 'failed';
    } finally {
      this.mark([name], -1);
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

export function newSegmentMemo(): SegmentMemo {
  return { maxPlanBytes: FIRST_PLAN_BYTES_GUESS };
}
