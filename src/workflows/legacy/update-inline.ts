import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ActivityOptions, QueryDefinition } from '@temporalio/workflow';
import type { LegacyActivities as Activities } from '../../contract/activity-types';
import type { Plan, StageInput, StageName, StageOutput } from '../../contract/activity-types';
import { activityId, PARENT } from '../../contract/activity-ids';
import { parseUpdateInput, UpdateInput, UpdateRequest } from './input';
import { selectChildren } from '../select-children';
import { ProgressBoard } from './progress-board';
import { runCapped } from '../run-capped';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../../contract/search-attributes';
import type { ImageResult, Progress, RunStatus, UpdateResult } from './types';

/** Per image, at most this many output lines, each at most MAX_LINE characters: results live in history. */
export const MAX_OUTPUT_LINES = 40;
const MAX_LINE = 200;

// Short activities heartbeat a keep-alive, so a dead worker is noticed after heartbeatTimeout
// rather than after startToCloseTimeout; prepare and execute heartbeat their progress.
// On cancellation the workflow waits for each running activity to settle (execute rolls back,
// or reports it had already committed): the SDK's effective default would not wait.
const WAIT = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
const OPTIONS: Record<Exclude<keyof Activities, 'auditChild'>, ActivityOptions> = {
  describeImage: { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 }, cancellationType: WAIT },
  checkPublishers: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  planImage: {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  prepareImage: {
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 20, maximumInterval: '1 minute' },
    cancellationType: WAIT,
  },
  executeImage: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
    cancellationType: WAIT,
  },
};

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

const EXIT: Record<Exclude<RunStatus, 'rejected'>, number> = {
  ok: 0,
  'nothing-to-do': 4,
  partial: 3,
  failed: 1,
  cancelled: 1,
};

/**
 * Updates a parent image and its linked children through pkg(5)'s stages: publisher check of
 * every child (all errors collected), plan (parent first: children are planned against the
 * parent's plan), prepare, execute (parent before children). Each child stage is one activity,
 * at most `concurrency` at once, and every child finishes a stage before the next one starts.
 * The compact plans returned by the plan activities are the checkpoint: after a crash, replay
 * hands the same plans to prepare and execute, so nothing is planned twice.
 */
export async function legacyUpdateLinkedImages(
  raw: UpdateRequest,
  progressQuery: QueryDefinition<Progress>,
): Promise<UpdateResult> {
  const input = parseUpdateInput(raw);
  let board = new ProgressBoard([]);
  setHandler(progressQuery, () => board.snapshot());

  const described = await acts.describeImage.executeWithOptions(
    { ...OPTIONS.describeImage, activityId: activityId('describe', PARENT), summary: `describe ${input.image}` },
    [{ image: input.image }],
  );
  const selected = selectChildren(input, described.problem, described.children);

  board = new ProgressBoard(selected.map((c) => c.name));
  const parent = emptyResult('parent', input.image);
  const children = new Map(selected.map((c) => [c.name, emptyResult(c.name, c.path)]));
  const plans = new Map<string, Plan>();
  const show = () => setCurrentDetails(board.line(board.snapshot().working));
  // Runs recorded before search attributes existed replay without these upserts (patched()
  // is false there), so histories of runs in flight during an upgrade stay valid.
  const searchable = patched('search-attributes');
  const status = (value: string) => {
    if (searchable) upsertSearchAttributes([{ key: LINKED_IMAGE_STATUS, value }]);
  };
  if (searchable)
    upsertSearchAttributes([
      { key: LINKED_IMAGE_PARENT, value: input.image },
      { key: LINKED_IMAGE_STATUS, value: 'publisher-check' },
    ]);
  const finish = (dryRun = false, cancelled = false) => {
    board.finish();
    show();
    const r = result(input, parent, [...children.values()], dryRun, cancelled);
    status(r.status);
    return r;
  };

  /** Runs one stage activity for one image, recording output, outcome and error. */
  async function step<T extends StageOutput>(stage: StageName, r: ImageResult, call: () => Promise<T>): Promise<T> {
    r.lastStage = stage;
    if (r.name !== 'parent') board.set(r.name, 'working');
    show();
    try {
      const out = await call();
      addOutput(r, out.lines);
      if (r.name !== 'parent') board.set(r.name, 'done');
      return out;
    } catch (e) {
      r.outcome = isCancellation(e) ? 'cancelled' : 'failed';
      r.error = { stage, ...describeFailure(e, stage) };
      if (r.name !== 'parent') board.set(r.name, 'failed');
      throw e;
    } finally {
      show();
    }
  }
  const opts = (k: keyof typeof OPTIONS, stage: StageName, name: string): ActivityOptions => ({
    ...OPTIONS[k],
    activityId: activityId(stage, name),
    summary: `${stage} ${name}`,
  });
  const ok = (settled: { ok: boolean | null }[]) => settled.every((s) => s.ok === true);

  try {
    // 1. Publisher check: every child, all errors collected (pkg(5) does not fail fast here).
    board.begin(
      'publisher-check',
      selected.map((c) => c.name),
    );
    const checked = await runCapped(selected, input.concurrency, false, (c) =>
      step('publisher-check', children.get(c.name)!, () =>
        acts.checkPublishers.executeWithOptions(opts('checkPublishers', 'publisher-check', c.name), [
          { image: input.image, child: c },
        ]),
      ),
    );
    if (!ok(checked)) return finish();

    // 2. Plan: the parent, then the children against the parent's plan; fail fast.
    status('plan');
    let parentPlan: Plan;
    try {
      parentPlan = (
        await step('plan', parent, () =>
          acts.planImage.executeWithOptions(opts('planImage', 'plan', 'parent'), [
            { image: input.image, name: 'parent', packages: input.packages },
          ]),
        )
      ).plan;
    } catch (e) {
      if (isCancellation(e)) throw e;
      return finish();
    }
    setChanges(parent, parentPlan);
    board.begin(
      'plan',
      selected.map((c) => c.name),
    );
    const planned = await runCapped(selected, input.concurrency, true, async (c) => {
      const r = children.get(c.name)!;
      const out = await step('plan', r, () =>
        acts.planImage.executeWithOptions(opts('planImage', 'plan', c.name), [
          { image: c.path, name: c.name, packages: input.packages, parent: { image: input.image, plan: parentPlan } },
        ]),
      );
      plans.set(c.name, out.plan);
      setChanges(r, out.plan);
      if (out.plan.changes.length === 0) board.set(c.name, 'nothing-to-do');
    });
    if (!ok(planned)) return finish();
    const todo = selected.filter((c) => plans.get(c.name)!.changes.length > 0);
    for (const c of selected) if (!todo.includes(c)) children.get(c.name)!.outcome = 'nothing-to-do';
    if (parentPlan.changes.length === 0) parent.outcome = 'nothing-to-do';
    if (input.dryRun) {
      for (const r of [parent, ...todo.map((c) => children.get(c.name)!)])
        if (r.outcome !== 'nothing-to-do') r.outcome = 'planned';
      return finish(true);
    }

    // 3 and 4. Prepare, then execute: the parent first, then the children with work to do; fail fast.
    for (const [stage, k] of [
      ['prepare', 'prepareImage'],
      ['execute', 'executeImage'],
    ] as const) {
      status(stage);
      if (parentPlan.changes.length > 0) {
        try {
          await step(stage, parent, () =>
            runStage(k, opts(k, stage, 'parent'), { image: input.image, name: 'parent', plan: parentPlan }),
          );
        } catch (e) {
          if (isCancellation(e)) throw e;
          return finish();
        }
        if (stage === 'execute') parent.outcome = 'updated';
      }
      board.begin(
        stage,
        todo.map((c) => c.name),
      );
      const settled = await runCapped(todo, input.concurrency, true, async (c) => {
        const r = children.get(c.name)!;
        await step(stage, r, () =>
          runStage(k, opts(k, stage, c.name), { image: c.path, name: c.name, plan: plans.get(c.name)! }),
        );
        if (stage === 'execute') r.outcome = 'updated';
      });
      if (!ok(settled)) return finish();
    }
    return finish();
  } catch (e) {
    // Cancelled (`temporal workflow cancel`): running activities were told and have settled
    // (execute rolled back, or had already committed); nothing new was started.
    if (!isCancellation(e)) throw e;
    return finish(false, true);
  }
}

function runStage(k: 'prepareImage' | 'executeImage', o: ActivityOptions, arg: StageInput): Promise<StageOutput> {
  return k === 'prepareImage'
    ? acts.prepareImage.executeWithOptions(o, [arg])
    : acts.executeImage.executeWithOptions(o, [arg]);
}

function emptyResult(name: string, path: string): ImageResult {
  return { name, path, outcome: 'skipped', lastStage: null, changes: [], error: null, output: [] };
}

function setChanges(r: ImageResult, p: Plan): void {
  r.changes = p.changes.map((c) => ({ stem: c.stem, from: c.from, to: c.to }));
}

function addOutput(r: ImageResult, lines: string[]): void {
  for (const l of lines) {
    if (r.output.length >= MAX_OUTPUT_LINES) {
      r.output[MAX_OUTPUT_LINES - 1] = '... (output truncated)';
      return;
    }
    r.output.push(l.length > MAX_LINE ? l.slice(0, MAX_LINE - 3) + '...' : l);
  }
}

/** The stable code and message of an activity failure (the image model's code when there is one). */
function describeFailure(e: unknown, stage: StageName): { code: string; message: string } {
  if (isCancellation(e)) {
    // execute rolls back on cancellation; earlier stages change no image.
    return {
      code: 'CANCELLED',
      message:
        stage === 'execute'
          ? 'cancelled during execute: the image was rolled back to its state before the update'
          : `cancelled during ${stage}: the image was not changed`,
    };
  }
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure) return { code: 'TIMEOUT', message: cause.message };
  return { code: 'Error', message: (cause as Error)?.message ?? String(cause) };
}

function result(
  input: UpdateInput,
  parent: ImageResult,
  children: ImageResult[],
  dryRun: boolean,
  cancelled: boolean,
): UpdateResult {
  const all = [parent, ...children];
  let status: RunStatus;
  if (cancelled) status = 'cancelled';
  else if (all.some((r) => r.outcome === 'failed' || r.outcome === 'cancelled')) {
    status = all.some((r) => r.outcome === 'updated') ? 'partial' : 'failed';
  } else if (all.every((r) => r.outcome === 'nothing-to-do')) status = 'nothing-to-do';
  else status = 'ok';
  return {
    image: input.image,
    status,
    exitCode: EXIT[status],
    dryRun,
    concurrency: input.concurrency,
    parent,
    children,
  };
}
