import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { RunActivities } from '../contract/activity-types';
import { listActivityId } from '../contract/activity-ids';
import { activityOptions, hostQueueOf } from './activity-options';
import { childrenPage } from './children-page';
import { describeFailure } from './describe-failure';
import { selectionOf, type UpdateInput } from '../contract/input';
import {
  childrenQuery,
  partitionReportSignal,
  progressQuery,
  runStageSignal,
  type PartitionResult,
  type StageInstruction,
} from '../contract/messages';
import { MAX_WORKING_NAMES } from './progress-line';
import { MAX_FAILURES, MAX_RESULT_LINE_BYTES, summarizeSegment, zeroCounts } from './run-result';
import { newSegmentMemo, SegmentRun, type SegmentMemo } from './segment-run';
import { firstStageBehind, newSegment, STATUS, type SegmentState } from './segment-state';
import { newControlMemo, RunControls } from './run-controls';
import { partitionControlsSignal, plansQuery } from '../contract/controls';
import { plansPage, segmentPlanDigest } from './plan-set';
import type { Progress } from '../contract/run-types';

const acts = proxyActivities<RunActivities>({ startToCloseTimeout: '1 minute' });

/** The input of one partition of a run: children at positions [offset, offset + size) of its selection. */
export interface PartitionInput {
  /** The run's workflow ID: reports go there. */
  run: string;
  /** 1-based, of `count`. */
  index: number;
  count: number;
  offset: number;
  size: number;
  /** Children in the whole run. */
  total: number;
  /** The selection's digest from the run's describe: the slice is refused if the selection changed. */
  digest: string;
  /** The run's validated input (host, concurrency, packages, dry run...). */
  input: UpdateInput;
}

/** Children of `s` with status `st`. */
function countStatus(s: SegmentState, st: string): number {
  let n = 0;
  for (let i = 0; i < s.status.length; i++) if (s.status[i] === st) n++;
  return n;
}

/** What a partition carries into its next execution. */
export interface PartitionResume {
  segment: SegmentState;
  /** Instructions received and not yet started, in order. */
  queue: StageInstruction[];
  /** The instruction being worked on when the execution ended (continue-as-new in the middle of a stage). */
  current: StageInstruction | null;
  memo: SegmentMemo;
  execution: number;
}

/**
 * One partition of a run too large for one execution's state: it lists its slice of the
 * children, then works each stage on them when the run says so (`runStage` signal), reports
 * to the run when the stage is over (`partitionReport` signal) and returns its bounded summary
 * when told to finish, or when cancelled. It continues as new when its own history grows,
 * carrying its segment state and any instructions not yet worked on.
 */
export async function updateChildImages(p: PartitionInput, resume?: PartitionResume): Promise<PartitionResult> {
  const state: PartitionResume = resume ?? {
    segment: newSegment([], p.offset),
    queue: [],
    current: null,
    memo: newSegmentMemo(),
    execution: 1,
  };
  setHandler(runStageSignal, (instruction) => {
    state.queue.push(instruction);
  });
  // The run's controls as the last instruction gave them; `partitionControls` signals change them
  // in between (a paused run holds the window; skip and retry apply to the children held here).
  const controls = new RunControls(newControlMemo(p.input, 0), p.input);
  const adopt = (i: StageInstruction | null) => {
    const c = i?.controls;
    if (!c) return;
    Object.assign(controls.memo, {
      paused: c.paused,
      concurrency: c.concurrency,
      stageConcurrency: c.stageConcurrency,
      maxFailures: c.maxFailures,
      failures: c.failuresElsewhere + countStatus(state.segment, STATUS.failed),
      rounds: c.round,
    });
  };
  adopt(state.current);
  const seg = new SegmentRun(
    state.segment,
    p.input,
    state.memo,
    controls,
    () => setCurrentDetails(seg.line()),
    () => controls.memo.rounds,
  );
  setHandler(partitionControlsSignal, (c) => {
    Object.assign(controls.memo, {
      paused: c.paused,
      concurrency: c.concurrency,
      stageConcurrency: c.stageConcurrency,
    });
    for (const name of c.skip) if (seg.skipProblem(name) === null) seg.skip(name);
    for (const name of c.retry) if (seg.retryProblem(name) === null) seg.retry(name);
  });
  setHandler(plansQuery, (args) =>
    plansPage(args, state.segment, { approval: 'not-required', setDigest: null, parent: null }),
  );
  let finished = false;
  setHandler(progressQuery, (): Progress => {
    const working = seg.workingNames();
    return {
      stage: finished
        ? 'finished'
        : ((state.current?.stage === 'finish' ? 'finished' : state.current?.stage) ?? 'starting'),
      line: seg.line() || `Linked images: children ${p.offset + 1}-${p.offset + p.size}: waiting for the run`,
      working: working.slice(0, MAX_WORKING_NAMES),
      workingCount: working.length,
      stages: seg.counts(),
      children: state.segment.names.length,
      execution: state.execution,
      partitions: null,
    };
  });
  setHandler(childrenQuery, (args) =>
    childrenPage(args, p.total, p.offset, state.segment.names.length, (i) => seg.detail(i, finished)),
  );

  if (!resume) {
    try {
      const { names } = await acts.listChildren.executeWithOptions(
        activityOptions('list', p.input, listActivityId(p.index)),
        [
          {
            ...selectionOf(p.input),
            offset: p.offset,
            limit: p.size,
            digest: p.digest,
          },
        ],
      );
      Object.assign(state.segment, newSegment(names, p.offset)); // the SegmentRun holds this object
    } catch (e) {
      const f = describeFailure(e, 'describe', {
        host: p.input.host,
        taskQueue: hostQueueOf(p.input),
        hostTimeout: p.input.hostTimeout,
      });
      return {
        index: p.index,
        counts: { ...zeroCounts(), skipped: p.size },
        failures: [],
        failuresOmitted: 0,
        lines: [],
        linesOmitted: p.size,
        executions: state.execution,
        error: { stage: 'describe', ...f },
      };
    }
  }

  const result = (): PartitionResult => {
    finished = true;
    seg.finished = true;
    // Each partition's share of the run's bounds: its result is one event of the run's history.
    const sum = summarizeSegment(
      state.segment,
      p.input.dryRun,
      Math.max(5, Math.ceil(MAX_FAILURES / p.count)),
      Math.floor(MAX_RESULT_LINE_BYTES / p.count),
    );
    return { index: p.index, ...sum, executions: state.execution, error: null };
  };
  for (;;) {
    if (!state.current) {
      try {
        await condition(() => state.queue.length > 0);
      } catch (e) {
        if (isCancellation(e)) return result();
        throw e;
      }
      state.current = state.queue.shift()!;
    }
    const instruction = state.current;
    if (instruction.stage === 'finish') return result();
    adopt(instruction);
    const end = await seg.runStage(instruction.stage, instruction.parentPlan);
    if (end === 'paused') {
      await condition(allHandlersFinished);
      return continueAsNew<typeof updateChildImages>(p, { ...state, execution: state.execution + 1 });
    }
    if (end === 'cancelled') return result();
    const c = seg.counts()[instruction.stage];
    await getExternalWorkflowHandle(p.run).signal(partitionReportSignal, {
      index: p.index,
      stage: instruction.stage,
      outcome: end === 'stopped' ? 'failed' : end,
      done: c.done,
      failed: c.failed,
      total: c.done + c.failed + c.waiting + c.working,
      ...(instruction.controls
        ? {
            failuresTotal: countStatus(state.segment, STATUS.failed),
            behind: firstStageBehind(state.segment, p.input.dryRun),
            ...(instruction.stage === 'prepare' ? { planDigest: segmentPlanDigest(state.segment) } : {}),
          }
        : {}),
    });
    state.current = null;
  }
}
