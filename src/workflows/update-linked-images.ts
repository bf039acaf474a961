import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { RunActivities } from '../contract/activity-types';
import type { StageName } from '../contract/activity-types';
import { activityId, PARENT, STAGES } from '../contract/activity-ids';
import { activityOptions, hostQueueOf } from './activity-options';
import { childrenPage } from './children-page';
import { coordinatePartitions, type PartitionedView } from './coordinate-partitions';
import { describeFailure } from './describe-failure';
import { historyBudgetSpent } from './history-budget';
import {
  parseUpdateInput,
  recursionProblems,
  selectionOf,
  type UpdateInput,
  type UpdateRequest,
} from '../contract/input';
import { invalidInput } from '../contract/invalid-input';
import { legacyUpdateLinkedImages } from './legacy/update-inline';
import type { UpdateRequest as LegacyRequest } from './legacy/input';
import { childrenQuery, progressQuery } from '../contract/messages';
import { runParentStage } from './parent-stage';
import { MAX_WORKING_NAMES, progressLine } from './progress-line';
import { EXIT, MAX_FAILURES, MAX_RESULT_LINE_BYTES, parentSummary, runStatus, summarizeSegment } from './run-result';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../contract/search-attributes';
import { newSegmentMemo, SegmentRun, type SegmentMemo } from './segment-run';
import { firstStageBehind, newSegment, NEEDS, setError, setStatus, STATUS, type SegmentState } from './segment-state';
import { newControlMemo, RunControls, type ControlMemo } from './run-controls';
import { plansPage, segmentPlanDigest, setDigestOf, planLine } from './plan-set';
import { controlsQuery, plansQuery } from '../contract/controls';
import { resolveWindow, windowProblems } from '../contract/input';
import type { ChildrenPage, ChildrenQueryArgs, Progress, UpdateResult } from '../contract/run-types';

const acts = proxyActivities<RunActivities>({ startToCloseTimeout: '1 minute' });

/** What a run carries into its next execution when it continues as new. */
export interface RunResume {
  /** The stage being worked on; the stages before it are over. */
  stage: StageName;
  /** The parent image as a one-image segment named `parent`. */
  parent: SegmentState;
  /** Every selected child (a run that fits one execution chain; partitioned runs never continue as new). */
  children: SegmentState;
  memo: SegmentMemo;
  /** This execution's number in the chain (1 = the first). */
  execution: number;
  /** The run's live controls (absent in runs started before them: patch 'run-controls'). */
  controls?: ControlMemo;
}

/**
 * Updates a parent image and its linked children through pkg(5)'s stages: publisher check of
 * every child (all errors collected), plan (the parent first; children are planned against the
 * parent's plan), prepare, execute (the parent before the children). Each child's stage is one
 * activity on the host's own task queue, at most `concurrency` at once, and every child finishes
 * a stage before the next stage starts; plan, prepare and execute fail fast.
 *
 * Bounded whatever the number of children (README "Bounded runs: thousands of zones"): each plan is checkpointed
 * once, as its plan activity's result, and later stages get only its digest; the run continues
 * as new when its history grows (the server's suggestion, or history-budget.ts), carrying a
 * few bytes per child (segment-state.ts); a selection larger than one partition is split into
 * child workflows `<id>/children-<k>` (coordinate-partitions.ts); the result is bounded.
 */
export async function updateLinkedImages(raw: UpdateRequest, resume?: RunResume): Promise<UpdateResult> {
  // Runs started before host task queues replay the old shape; new executions record the marker.
  if (!patched('bounded-runs'))
    return legacyUpdateLinkedImages(raw as LegacyRequest, progressQuery as never) as unknown as Promise<UpdateResult>;
  // Runs started before the live controls replay without them (no update handlers, no new waits).
  const controlled = patched('run-controls');
  let input: UpdateInput;
  try {
    input = parseUpdateInput(raw);
    // Runs started before sync existed (no marker, or a continued execution of one: its carried
    // input has no `recursive`) keep `recursive` absent: their children are updated, as before.
    const legacyRecursion = !patched('sync-children') || (resume !== undefined && input.recursive === undefined);
    if (!legacyRecursion) {
      input.recursive ??= false;
      if (!resume) {
        const bad = recursionProblems(input);
        if (bad.length) throw invalidInput(bad);
        // pkg(5) checks every child's publishers at once unless a cap is given for that stage:
        // the concurrency caps the stages that change things. Carried from here on.
        if (input.stageConcurrency['publisher-check'] === undefined)
          input.stageConcurrency = { ...input.stageConcurrency, 'publisher-check': 0 };
      }
    }
    if (controlled && !resume) {
      // A window given by its length ends that long after it opens: fixed now, carried from here on.
      input.window = resolveWindow(input.window, Date.now());
      const late = windowProblems(input.window, Date.now());
      if (late.length) throw invalidInput(late);
    }
  } catch (e) {
    if (controlled) markFailedOnBadInput(raw);
    throw e;
  }
  const run = new RunView(input, resume, controlled);
  setHandler(progressQuery, () => run.progress());
  setHandler(childrenQuery, (args) => run.page(args));
  // Until the selection is known (describe), the controls answer with the input's settings.
  if (controlled) setHandler(controlsQuery, () => new RunControls(newControlMemo(input, 0), input).state());

  if (!resume) {
    upsertSearchAttributes([
      { key: LINKED_IMAGE_PARENT, value: input.image },
      { key: LINKED_IMAGE_STATUS, value: 'publisher-check' },
    ]);
    let d;
    try {
      d = await acts.describeParent.executeWithOptions(
        activityOptions('describe', input, activityId('describe', PARENT)),
        [{ ...selectionOf(input), partitionSize: input.partitionSize }],
      );
    } catch (e) {
      const f = describeFailure(e, 'describe', {
        host: input.host,
        taskQueue: hostQueueOf(input),
        hostTimeout: input.hostTimeout,
      });
      setError(run.parent, 0, { stage: 'describe', ...f }, f.code === 'CANCELLED');
      return run.finish(f.code === 'CANCELLED');
    }
    if (d.problems.length) {
      if (controlled) upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: 'failed' }]);
      throw invalidInput(d.problems);
    }
    // No concurrency given: the parent's recursion-concurrency property, as pkg(5) takes it
    // when no -C is given (the client has already applied PKG_CONCURRENCY). Carried from here on.
    if ((raw as { concurrency?: unknown }).concurrency === undefined) {
      if (d.recursionConcurrencyProblem) {
        if (controlled) upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: 'failed' }]);
        throw invalidInput([`concurrency: ${d.recursionConcurrencyProblem}`]);
      }
      if (d.recursionConcurrency !== undefined) input.concurrency = d.recursionConcurrency;
    }
    if (controlled) run.startControls(d.total);
    if (d.children === null)
      return coordinatePartitions(input, d, run.parent, run.controls, (v) => run.setPartitionView(v));
    run.children = newSegment(d.children);
  }
  return run.go();
}

/** A run refused on bad input is `failed` in the Web UI's list and in LinkedImageStatus, not left at `starting`. */
function markFailedOnBadInput(raw: unknown): void {
  const image = (raw as { image?: unknown } | null)?.image;
  upsertSearchAttributes([
    ...(typeof image === 'string' && image.length > 0 ? [{ key: LINKED_IMAGE_PARENT, value: image }] : []),
    { key: LINKED_IMAGE_STATUS, value: 'failed' },
  ]);
}

/** The state of one execution of an unpartitioned run, its stage loop, and its answers to queries. */
class RunView {
  parent: SegmentState;
  children: SegmentState;
  stage: StageName | 'starting' | 'finished' = 'starting';
  /** The live controls; null in runs started before them (patch 'run-controls'). */
  controls: RunControls | null = null;
  private readonly memo: SegmentMemo;
  private readonly execution: number;
  private readonly firstStage: number;
  private seg: SegmentRun | null = null;
  private parentWorking = false;
  private partitionView: PartitionedView | null = null;

  constructor(
    private readonly input: UpdateInput,
    resume: RunResume | undefined,
    controlled: boolean,
  ) {
    // The parent has no publisher check of its own: it starts as `checked`.
    this.parent = resume?.parent ?? { ...newSegment(['parent']), status: STATUS.checked };
    this.children = resume?.children ?? newSegment([]);
    this.memo = resume?.memo ?? newSegmentMemo();
    this.execution = resume?.execution ?? 1;
    this.firstStage = resume ? STAGES.indexOf(resume.stage) : 0;
    if (resume) this.stage = resume.stage;
    if (controlled && resume?.controls) this.controls = new RunControls(resume.controls, input);
  }

  /** The first execution, once the selection is known: the controls start from the input. */
  startControls(children: number): void {
    this.controls = new RunControls(newControlMemo(this.input, children), this.input);
  }

  setPartitionView(view: PartitionedView): void {
    this.partitionView = view;
  }

  async go(): Promise<UpdateResult> {
    const c = this.controls ?? new RunControls(newControlMemo(this.input, 0), this.input); // old runs: fail-fast, no waits
    this.seg = new SegmentRun(
      this.children,
      this.input,
      this.memo,
      c,
      () => this.show(),
      () => c.memo.rounds,
    );
    if (this.controls) this.registerControls(this.controls, this.seg);
    let workedHere = false;
    let s = this.firstStage;
    for (;;) {
      for (; s < STAGES.length; s++) {
        const stage = STAGES[s];
        if (this.input.dryRun && (stage === 'prepare' || stage === 'execute')) break;
        if (this.controls) {
          // A stage boundary: nothing new starts while paused; approval and the window gate execute.
          if ((await this.controls.whilePaused()) === 'cancelled') return this.finish(true);
          if (stage === 'execute') {
            const gate = await this.beforeExecute(this.controls);
            if (gate !== 'ok') return this.finish(gate === 'cancelled');
          }
        }
        if (stage !== this.stage) upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: stage }]);
        this.stage = stage;
        if (stage !== 'publisher-check' && this.parent.status[0] === NEEDS[stage]) {
          if (workedHere && historyBudgetSpent()) return this.continueAsNew(stage);
          if (stage === 'execute' && c.windowClosed()) {
            // The window closed before the parent could start: nothing is executed.
            setStatus(this.parent, 0, STATUS.deferred);
            this.seg.deferRemaining();
            return this.finish(false);
          }
          this.parentWorking = true;
          this.show();
          const end = await runParentStage(stage, this.parent, this.input);
          this.parentWorking = false;
          workedHere = true;
          if (end !== 'ok') return this.finish(end === 'cancelled');
        }
        const end = await this.seg.runStage(stage, this.parent.plans[0]);
        workedHere = true;
        if (end === 'paused') return this.continueAsNew(stage);
        if (end !== 'done') return this.finish(end === 'cancelled');
      }
      // A retried or re-planned child is behind: take it through its stages in another round.
      const behind = this.controls ? firstStageBehind(this.children, this.input.dryRun) : null;
      if (behind === null || c.exceeded() || c.rejected()) break;
      c.newRound();
      s = STAGES.indexOf(behind);
    }
    return this.finish(false);
  }

  /**
   * Before the execute stage: with `approval`, wait for `approve` of exactly the plans prepared
   * (the set digest); then wait for the window to open. 'stop' when rejected.
   */
  private async beforeExecute(c: RunControls): Promise<'ok' | 'stop' | 'cancelled'> {
    if (c.memo.approval === 'pending' || c.memo.approval === 'rejected') {
      const parentPlan = this.parent.status[0] === STATUS.prepared ? this.parent.plans[0] : null;
      const digest = setDigestOf(parentPlan, [segmentPlanDigest(this.children)]);
      if (parentPlan !== null || this.children.status.includes(STATUS.prepared)) {
        this.show();
        const a = await c.approval(digest);
        this.show();
        if (a !== 'approved') return a === 'cancelled' ? 'cancelled' : 'stop';
      }
    }
    const w = await c.untilWindowOpens();
    if (w === 'cancelled') return 'cancelled';
    return c.rejected() ? 'stop' : 'ok';
  }

  private registerControls(c: RunControls, seg: SegmentRun): void {
    c.register({
      skipProblem: (child) => seg.skipProblem(child),
      retryProblem: (child) => seg.retryProblem(child),
      skip: (child) => Promise.resolve(seg.skip(child)),
      retry: (child) => Promise.resolve(seg.retry(child)),
      changed: () => Promise.resolve(this.show()),
    });
    setHandler(plansQuery, (args) =>
      plansPage(args, this.children, {
        approval: c.memo.approval,
        setDigest: c.memo.setDigest,
        parent: planLine(this.parent, 0),
      }),
    );
  }

  private async continueAsNew(stage: StageName): Promise<never> {
    await condition(allHandlersFinished);
    const next: RunResume = {
      stage,
      parent: this.parent,
      children: this.children,
      memo: this.memo,
      execution: this.execution + 1,
      ...(this.controls ? { controls: this.controls.memo } : {}),
    };
    return continueAsNew<typeof updateLinkedImages>(this.input, next);
  }

  finish(cancelled: boolean): UpdateResult {
    this.stage = 'finished';
    if (this.controls) this.controls.finished = true;
    if (this.seg) this.seg.finished = true;
    const dryRun = this.input.dryRun;
    const sum = summarizeSegment(this.children, dryRun, MAX_FAILURES, MAX_RESULT_LINE_BYTES);
    const parent = parentSummary(this.parent, dryRun);
    const failures = parent.error
      ? [{ name: 'parent', ...parent.error }, ...sum.failures].slice(0, MAX_FAILURES)
      : sum.failures;
    const status = runStatus(parent.outcome, sum.counts, cancelled, false, this.controls?.rejected() ?? false);
    upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: status }]);
    this.show();
    return {
      resultVersion: 2,
      image: this.input.image,
      host: this.input.host,
      status,
      exitCode: EXIT[status],
      dryRun,
      concurrency: this.input.concurrency,
      parent,
      counts: sum.counts,
      failures,
      failuresOmitted: sum.failuresOmitted + (parent.error && sum.failures.length >= MAX_FAILURES ? 1 : 0),
      children: sum.lines,
      childrenOmitted: sum.linesOmitted,
      executions: this.execution,
      partitions: 0,
    };
  }

  progress(): Progress {
    if (this.partitionView) return this.partitionView.progress();
    const working = [...(this.parentWorking ? ['parent'] : []), ...(this.seg?.workingNames() ?? [])];
    const counts = this.seg?.counts() ?? { 'publisher-check': zero(), plan: zero(), prepare: zero(), execute: zero() };
    return {
      stage: this.stage,
      line: this.line(),
      working: working.slice(0, MAX_WORKING_NAMES),
      workingCount: working.length,
      stages: counts,
      children: this.children.names.length,
      execution: this.execution,
      partitions: null,
      ...(this.controls ? { controls: this.controls.state() } : {}),
    };
  }

  page(args: ChildrenQueryArgs | undefined): ChildrenPage {
    if (this.partitionView) return this.partitionView.page(args);
    const seg =
      this.seg ??
      new SegmentRun(
        this.children,
        this.input,
        this.memo,
        new RunControls(newControlMemo(this.input, 0), this.input),
        () => undefined,
      );
    return childrenPage(args, this.children.names.length, 0, this.children.names.length, (i) =>
      seg.detail(i, this.stage === 'finished'),
    );
  }

  private line(): string {
    if (this.stage === 'starting') return 'Startup: Linked images: checking the parent image';
    if (this.stage === 'finished') return 'Finished processing linked images.';
    const holding = this.controls?.state().holding;
    if (holding) return `${this.seg?.line() || progressLine(this.stage, zero(), [])} (${holding})`;
    if (this.parentWorking) return progressLine(this.stage, this.seg!.counts()[this.stage], ['parent']);
    return this.seg?.line() || progressLine(this.stage, zero(), []);
  }

  private show(): void {
    setCurrentDetails(this.line());
  }
}

function zero() {
  return { done: 0, working: 0, waiting: 0, failed: 0 };
}
