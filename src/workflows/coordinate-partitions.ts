import {
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { DescribeParentOutput, StageName } from '../contract/activity-types';
import type { UpdateInput } from '../contract/input';
import { invalidInput } from '../contract/invalid-input';
import {
  partitionReportSignal,
  runStageSignal,
  type PartitionReport,
  type PartitionResult,
} from '../contract/messages';
import { runParentStage } from './parent-stage';
import { EXIT, MAX_FAILURES, parentSummary, runStatus, zeroCounts } from './run-result';
import { LINKED_IMAGE_STATUS } from '../contract/search-attributes';
import { STAGES } from '../contract/activity-ids';
import { NEEDS, type SegmentState } from './segment-state';
import type {
  ChildrenPage,
  ChildrenQueryArgs,
  FailureLine,
  Progress,
  StageCounts,
  UpdateResult,
} from '../contract/run-types';
import { updateChildImages } from './update-child-images';
import type { RunControls } from './run-controls';
import { partitionControlsSignal, plansQuery, type PartitionControls } from '../contract/controls';
import type { InstructionControls } from '../contract/messages';
import { planLine, setDigestOf } from './plan-set';
import { setStatus, STATUS } from './segment-state';
import { LINK_NAME_RE } from '../model/linked-image';

/**
 * A run's partitions are its pending child workflows for the whole run: Temporal allows 2,000
 * per execution; this keeps the run's own history (about 30 events per partition) well under
 * the 10,240-event warning. 100 partitions of up to 1,000 children: 100,000 children (about 50 events per partition).
 */
export const MAX_PARTITIONS = 100;

/** How a partitioned run answers its queries (the run's own per-child state lives in the partitions). */
export interface PartitionedView {
  progress(): Progress;
  page(args: ChildrenQueryArgs | undefined): ChildrenPage;
}

/**
 * Runs a selection too large for one execution's state as partitions: child workflows
 * `<id>/children-<k>` (updateChildImages), each holding up to `partitionSize` children. The run
 * itself does the parent's stages and steps the partitions through each stage one after another
 * (signal `runStage`, then wait for its `partitionReport`), each with the full concurrency: so
 * the cap holds over all children, every child finishes a stage before the next one starts, the
 * parent goes before its children, and a failure in one partition stops the stage (fail-fast)
 * before the next partition starts it. The run's history grows with the partitions, not the children.
 */
export async function coordinatePartitions(
  input: UpdateInput,
  d: DescribeParentOutput,
  parent: SegmentState,
  controls: RunControls | null,
  setView: (v: PartitionedView) => void,
): Promise<UpdateResult> {
  const info = workflowInfo();
  const size = d.partitionSize;
  const count = Math.ceil(d.total / size);
  if (count > MAX_PARTITIONS) {
    throw invalidInput([
      `children: the ${d.total} selected children need ${count} partitions of ${size}, more than a run takes (${MAX_PARTITIONS}, ${MAX_PARTITIONS * size} children): select fewer with children or ignore, or start several runs`,
    ]);
  }
  const parts = Array.from({ length: count }, (_, k) => ({
    workflowId: `${info.workflowId}/children-${k + 1}`,
    offset: k * size,
    count: Math.min(size, d.total - k * size),
  }));
  const reports = new Map<string, PartitionReport>();
  setHandler(partitionReportSignal, (r) => {
    reports.set(`${r.index}/${r.stage}`, r);
  });
  let stage: Progress['stage'] = 'starting';
  let active: number | null = null;
  let parentWorking = false;
  const view = (): Progress => ({
    ...progressOf(stage, parts, reports, active, parentWorking, d.total),
    ...(controls ? { controls: controls.state() } : {}),
  });
  setView({
    progress: view,
    page: (args) => ({ total: d.total, offset: args?.offset ?? 0, children: [], partitions: parts }),
  });
  const show = () => setCurrentDetails(view().line);

  const handles: ChildWorkflowHandle<typeof updateChildImages>[] = await Promise.all(
    parts.map((part, k) =>
      startChild(updateChildImages, {
        workflowId: part.workflowId,
        taskQueue: info.taskQueue,
        staticSummary: `children ${part.offset + 1}-${part.offset + part.count} of ${d.total} of ${input.image}`,
        args: [
          {
            run: info.workflowId,
            index: k + 1,
            count,
            offset: part.offset,
            size: part.count,
            total: d.total,
            digest: d.digest,
            input,
          },
        ],
      }),
    ),
  );
  const closed: (PartitionResult | { error: unknown } | null)[] = parts.map(() => null);
  handles.forEach((h, k) => {
    h.result().then(
      (r) => void (closed[k] = r),
      (error) => void (closed[k] = { error }),
    );
  });

  /** Per partition: its children failed over the run, from its last report. */
  const failuresOf = parts.map(() => 0);
  const behindOf: (StageName | null)[] = parts.map(() => null);
  const open = () => handles.filter((_, k) => closed[k] === null);
  const forward = async (extra: Pick<PartitionControls, 'skip' | 'retry'>) => {
    if (!controls) return;
    const m = controls.memo;
    const c: PartitionControls = {
      paused: m.paused,
      concurrency: m.concurrency,
      stageConcurrency: m.stageConcurrency,
      ...extra,
    };
    // Every open partition: skip and retry apply where the child is; caps and pause where work runs.
    await Promise.all(open().map((h) => h.signal(partitionControlsSignal, c).catch(() => undefined)));
    show();
  };
  if (controls) {
    // The run holds no names (they are in the partitions): a child name is checked there, and one
    // that no partition holds, or that cannot be skipped or retried now, is ignored.
    const nameOnly = (child: string) =>
      LINK_NAME_RE.test(child) ? null : `child: expected a child name like 'zone:z1', got ${JSON.stringify(child)}`;
    controls.register({
      skipProblem: nameOnly,
      retryProblem: nameOnly,
      skip: (child) => forward({ skip: [child], retry: [] }),
      retry: (child) => forward({ skip: [], retry: [child] }),
      changed: () => forward({ skip: [], retry: [] }),
    });
    setHandler(plansQuery, (args) => ({
      approval: controls.memo.approval,
      setDigest: controls.memo.setDigest,
      parent: planLine(parent, 0),
      total: d.total,
      offset: args?.offset ?? 0,
      children: [],
      partitions: parts,
    }));
  }
  const instructionControls = (k: number): InstructionControls | undefined => {
    if (!controls) return undefined;
    const m = controls.memo;
    m.failures = failuresOf.reduce((a, b) => a + b, 0);
    return {
      paused: m.paused,
      concurrency: m.concurrency,
      stageConcurrency: m.stageConcurrency,
      maxFailures: m.maxFailures,
      failuresElsewhere: m.failures - failuresOf[k],
      round: m.rounds,
    };
  };

  let cancelled = false;
  let firstStage = 0;
  try {
    rounds: for (;;) {
      for (const s of STAGES.slice(firstStage)) {
        if (input.dryRun && (s === 'prepare' || s === 'execute')) break;
        if (controls) {
          if ((await controls.whilePaused()) === 'cancelled') {
            cancelled = true;
            break rounds;
          }
          if (s === 'execute') {
            if (controls.memo.approval === 'pending') {
              const parentPlan = parent.status[0] === STATUS.prepared ? parent.plans[0] : null;
              const digests = parts.map((_, k) => reports.get(`${k + 1}/prepare`)?.planDigest ?? '-');
              show();
              const a = await controls.approval(setDigestOf(parentPlan, digests));
              show();
              if (a !== 'approved') {
                cancelled = a === 'cancelled';
                break rounds;
              }
            }
            if ((await controls.untilWindowOpens()) === 'cancelled') {
              cancelled = true;
              break rounds;
            }
            if (controls.rejected()) break rounds;
          }
        }
        stage = s;
        upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: s }]);
        show();
        if (s !== 'publisher-check' && parent.status[0] === NEEDS[s]) {
          if (s === 'execute' && controls?.windowClosed()) {
            // The window closed before the parent could start: nothing is executed (the partitions defer theirs).
            setStatus(parent, 0, STATUS.deferred);
          } else {
            parentWorking = true;
            show();
            const end = await runParentStage(s, parent, input);
            parentWorking = false;
            if (end !== 'ok') {
              cancelled = end === 'cancelled';
              break rounds;
            }
          }
        }
        let failed = false;
        for (let k = 0; k < count; k++) {
          if (closed[k] === null) {
            active = k;
            show();
            // A report of an earlier round is replaced by this round's.
            reports.delete(`${k + 1}/${s}`);
            await handles[k].signal(runStageSignal, {
              stage: s,
              parentPlan: parent.plans[0],
              ...(controls ? { controls: instructionControls(k) } : {}),
            });
            await condition(() => reports.has(`${k + 1}/${s}`) || closed[k] !== null);
            active = null;
            show();
          }
          const r = reports.get(`${k + 1}/${s}`);
          if (r?.outcome === 'cancelled') {
            cancelled = true;
            break rounds;
          }
          if (r?.failuresTotal !== undefined) failuresOf[k] = r.failuresTotal;
          if (controls) controls.memo.failures = failuresOf.reduce((a, b) => a + b, 0);
          if (r?.behind !== undefined) behindOf[k] = r.behind;
          if (!r || r.outcome === 'failed') {
            failed = true;
            if (s !== 'publisher-check') break; // fail-fast; the publisher check collects every error
          }
        }
        if (controls && s === 'publisher-check')
          failed = failuresOf.reduce((a, b) => a + b, 0) > controls.memo.maxFailures;
        if (failed) break rounds;
      }
      // A retried or re-planned child is behind: take it through its stages in another round.
      const behind = controls ? behindOf.filter((b) => b !== null).map((b) => STAGES.indexOf(b)) : [];
      if (!controls || behind.length === 0 || controls.exceeded() || controls.rejected()) break;
      controls.newRound();
      firstStage = Math.min(...behind);
    }
  } catch (e) {
    if (!isCancellation(e)) throw e;
    cancelled = true; // the partitions were told too (child workflows share the run's cancellation)
  }
  stage = 'finished';
  if (controls) controls.finished = true;
  await CancellationScope.nonCancellable(async () => {
    for (const [k, h] of handles.entries())
      if (closed[k] === null)
        await h.signal(runStageSignal, { stage: 'finish', parentPlan: null }).catch(() => undefined);
    await condition(() => closed.every((c) => c !== null));
  });
  show();
  return resultOf(
    input,
    parent,
    parts,
    closed as (PartitionResult | { error: unknown })[],
    cancelled,
    controls?.rejected() ?? false,
  );
}

function resultOf(
  input: UpdateInput,
  parentState: SegmentState,
  parts: { workflowId: string; offset: number; count: number }[],
  closed: (PartitionResult | { error: unknown })[],
  cancelled: boolean,
  rejected: boolean,
): UpdateResult {
  const parent = parentSummary(parentState, input.dryRun);
  const counts = zeroCounts();
  const failures: FailureLine[] = parent.error ? [{ name: 'parent', ...parent.error }] : [];
  let failuresOmitted = 0;
  let partitionFailed = false;
  const lines: string[] = [];
  let childrenOmitted = 0;
  let executions = 1;
  closed.forEach((c, k) => {
    const part = parts[k];
    const range = `children ${part.offset + 1}-${part.offset + part.count}`;
    if ('error' in c && !('index' in c)) {
      partitionFailed = true;
      counts.skipped += part.count;
      childrenOmitted += part.count;
      failures.push({
        name: range,
        stage: 'describe',
        code: 'PARTITION_FAILED',
        message: `${part.workflowId} failed: ${(c.error as Error)?.message ?? String(c.error)}`,
      });
      return;
    }
    const r = c as PartitionResult;
    for (const o of Object.keys(counts) as (keyof typeof counts)[]) counts[o] += r.counts[o];
    if (r.error) {
      partitionFailed = true;
      failures.push({ name: range, ...r.error });
    }
    for (const f of r.failures) failures.push(f);
    failuresOmitted += r.failuresOmitted;
    lines.push(...r.lines);
    childrenOmitted += r.linesOmitted;
    executions += r.executions;
  });
  failuresOmitted += Math.max(0, failures.length - MAX_FAILURES);
  const status = runStatus(parent.outcome, counts, cancelled, partitionFailed, rejected);
  upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value: status }]);
  return {
    resultVersion: 2,
    image: input.image,
    host: input.host,
    status,
    exitCode: EXIT[status],
    dryRun: input.dryRun,
    concurrency: input.concurrency,
    parent,
    counts,
    failures: failures.slice(0, MAX_FAILURES),
    failuresOmitted,
    children: lines,
    childrenOmitted,
    executions,
    partitions: parts.length,
  };
}

const LABEL: Record<StageName, string> = {
  'publisher-check': 'Startup: Linked image publisher check',
  plan: 'Planning: Linked images',
  prepare: 'Preparing: Linked images',
  execute: 'Executing: Linked images',
};

/** The run's progress from its partitions' reports: finished partitions are counted, the working one is named. */
function progressOf(
  stage: Progress['stage'],
  parts: { workflowId: string; count: number }[],
  reports: Map<string, PartitionReport>,
  active: number | null,
  parentWorking: boolean,
  total: number,
): Progress {
  const stages = Object.fromEntries(
    STAGES.map((s) => {
      const c: StageCounts = { done: 0, working: 0, waiting: 0, failed: 0 };
      parts.forEach((p, k) => {
        const r = reports.get(`${k + 1}/${s}`);
        if (r) {
          c.done += r.done;
          c.failed += r.failed;
        } else if (s === stage && k === active) c.working += p.count;
        else c.waiting += p.count;
      });
      return [s, c];
    }),
  ) as Record<StageName, StageCounts>;
  let line: string;
  if (stage === 'starting') line = 'Startup: Linked images: starting the partitions';
  else if (stage === 'finished') line = 'Finished processing linked images.';
  else {
    const c = stages[stage];
    const who = parentWorking
      ? 'parent working'
      : active !== null
        ? `${parts[active].workflowId} working on ${parts[active].count} children`
        : 'waiting';
    line = `${LABEL[stage]}: ${c.done}/${total} done${c.failed ? `; ${c.failed} failed` : ''}; ${who}`;
  }
  return {
    stage,
    line,
    working: parentWorking ? ['parent'] : active !== null ? [parts[active].workflowId] : [],
    workingCount: parentWorking ? 1 : active !== null ? parts[active].count : 0,
    stages,
    children: total,
    execution: 1,
    partitions: {
      workflowIds: parts.map((p) => p.workflowId),
      active: active !== null ? parts[active].workflowId : null,
    },
  };
}
