import { ApplicationFailure } from '@temporalio/common';
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import { runLane } from './run-lane';
import * as path from 'path';
import { promises as fsp } from 'fs';
import { syncFsHelper } from '../image/syncfs-helper';
import { settleInterruptedExecute } from '../stages/interrupted-execute';
import { eachLimited } from '../model/each-limited';
import { ioError, isImageError } from '../model/errors';
import { Image } from '../image/image';
import { plannedState } from '../stages/parent-state';
import { plan as makePlan, planActions, type Plan } from '../stages/plan';
import { contentHashes, contentWithin } from '../stages/content-within';
import { checkPublishers } from '../stages/publisher-check';
import { loadSavedPlan, savePlan } from '../stages/saved-plans';
import { partitionSizeFor } from '../contract/partition-budget';
import { LANE_MAX_BYTES } from '../contract/lanes';
import { mapErrors } from './activity-failure';
import type { ActivityContext } from './activity-context';
import { Heartbeater } from './heartbeater';
import { planLines } from './plan-lines';
import { selectChildren } from './select-children';
import { executeLine, executeWithProgress, prepareWithProgress } from './stage-work';
import type {
  RunActivities,
  DescribeParentInput,
  DescribeParentOutput,
  ExecuteChildrenInput,
  ExecuteChildrenOutput,
  ExecuteImageOutput,
  ImageAddress,
  ListChildrenInput,
  PlanChildrenInput,
  PlanChildrenOutput,
  PlanImageInput,
  PlanImageOutput,
  PlanLaneHeartbeat,
  PlannedStageInput,
  PrepareOutput,
  PublisherCheckBatchInput,
  PublisherCheckBatchOutput,
} from '../contract/activity-types';

/**
 * A plan is kept in the workflow's history once, as the plan activity's result. Temporal warns
 * at 256 KB per payload and fails at 2 MB; this leaves room for the rest of the result.
 * About 900 changed packages of ~220 bytes each.
 */
export const MAX_PLAN_BYTES = 200_000;

/** A publisher-check batch's error messages are cut here, so 100 children's results stay far under 256 KB. */
const MAX_BATCH_MESSAGE = 1000;

/**
 * The activities of runs since host task queues: each runs on the host's own task queue and
 * finds its image from the parent's root and the child's name (`ImageAddress`); plans travel by
 * digest and are loaded from the image (src/stages/saved-plans.ts).
 */
export function createRunActivities(ctx: ActivityContext): RunActivities {
  const { recorded, origins, parents, getCache, deps } = ctx;
  const before = async (stage: Parameters<NonNullable<typeof deps.beforeStage>>[0], name: string) =>
    deps.beforeStage?.(stage, name);
  const imageOf = async (a: ImageAddress): Promise<Image> =>
    Image.open(a.child === null ? a.image : await parents.childRoot(a.image, a.child));
  const nameOf = (a: ImageAddress) => a.child ?? 'parent';
  /** plannedState of the parent, per parent plan and parent state: every child of a run is planned against the same one. */
  const planned = new Map<string, Promise<Awaited<ReturnType<typeof plannedState>>>>();
  const parentPlannedState = async (root: string, digest: string) => {
    const parent = await Image.open(root);
    const key = `${parent.root}\0${digest}\0${await parent.stateToken()}`;
    let p = planned.get(key);
    if (!p) {
      p = loadSavedPlan(parent, digest).then((pp) => plannedState(parent, pp));
      p.catch(() => planned.delete(key));
      if (planned.size >= 64) planned.delete(planned.keys().next().value!);
      planned.set(key, p);
    }
    return p;
  };
  /** The payload hashes the parent's saved plan `digest` delivers, per parent plan (every child of a run asks for the same one). */
  const parentContent = new Map<string, Promise<Set<string>>>();
  const parentContentOf = async (root: string, digest: string) => {
    const key = `${root}\0${digest}`;
    let c = parentContent.get(key);
    if (!c) {
      c = (async () => {
        const parent = await Image.open(root);
        return contentHashes(await planActions(parent, await loadSavedPlan(parent, digest), await getCache(), origins));
      })();
      c.catch(() => parentContent.delete(key));
      if (parentContent.size >= 64) parentContent.delete(parentContent.keys().next().value!);
      parentContent.set(key, c);
    }
    return c;
  };

  /** Plans one image as the plan activity does; `durable: false` leaves the saved plan's fsync to the caller (a lane). */
  async function planImage(
    input: PlanImageInput,
    durable = true,
    details?: () => PlanLaneHeartbeat,
  ): Promise<PlanImageOutput> {
    return recorded(
      'plan',
      nameOf(input),
      async () => {
        await before('plan', nameOf(input));
        const image = await imageOf(input);
        // An execute of an earlier run that was cut off in this image (its host went down) is
        // settled first, as `pkg update` does: the image plans from a whole state again.
        const settled = await settleInterruptedExecute(image, await getCache());
        const installed = await image.installed();
        const packages =
          input.packages && (input.child !== null ? input.packages.filter((s) => installed.has(s)) : input.packages);
        const parentState =
          input.child !== null && input.parentPlan ? await parentPlannedState(input.image, input.parentPlan) : null;
        // A child only synced (no -r) moves as far as its parent constraints require; packages do not apply.
        const request = input.sync && input.child !== null ? { sync: true } : packages ? { update: packages } : {};
        const p = await makePlan(image, request, parentState, {
          cache: await getCache(),
          origins,
        });
        checkPlanSize(p, nameOf(input), deps.maxPlanBytes ?? MAX_PLAN_BYTES);
        await savePlan(image, p, { fsync: durable });
        const lines = planLines(p);
        if (settled.outcome !== 'none')
          lines.unshift(
            `An execute interrupted in this image (plan ${settled.plan.slice(0, 12) || 'unknown'}) was ${settled.outcome === 'rolled-back' ? 'rolled back' : 'past its commit point and was finished'} first`,
          );
        return planOutput(input, image, p, lines);
      },
      { details },
    );
  }

  /**
   * The plan activity's output for `p` of `image`: its lines, and whether every file of a
   * child's plan is in the parent's plan. Decided here, where the plan's actions are at hand
   * (planActions recalls them from makePlan), so that the workflow can leave out a prepare
   * activity that would download nothing.
   */
  async function planOutput(input: PlanImageInput, image: Image, p: Plan, lines: string[]): Promise<PlanImageOutput> {
    const withParent =
      input.child !== null &&
      input.parentPlan !== null &&
      p.changes.length > 0 &&
      contentWithin(
        await planActions(image, p, await getCache(), origins),
        await parentContentOf(input.image, input.parentPlan),
      );
    if (withParent) lines.push(`Content: every file is in the parent's plan; the parent's prepare downloads it`);
    return { plan: p, lines, ...(withParent ? { preparedWithParent: true } : {}) };
  }

  /**
   * A lane's child that an earlier attempt of the same lane planned (its digest in the attempt's
   * last heartbeat): its saved plan is returned, not made again (the design's "nothing is planned
   * twice"); null when that plan cannot be loaded any more (then it is planned as usual).
   */
  async function keptPlan(
    input: PlanImageInput,
    digest: string,
    attempt: number,
    details: () => PlanLaneHeartbeat,
  ): Promise<PlanImageOutput | null> {
    return recorded(
      'plan',
      nameOf(input),
      async () => {
        const image = await imageOf(input);
        const p = await loadSavedPlan(image, digest).catch(() => null);
        if (!p) return null;
        const lines = [
          `Planned by an earlier attempt (before ${attempt}) of this lane; its saved plan is kept`,
          ...planLines(p),
        ];
        return planOutput(input, image, p, lines);
      },
      { details },
    );
  }

  /** planChildren's loop: the children planned (plans saved, not yet fsynced), the failure, the rest. */
  async function planLane(input: PlanChildrenInput): Promise<PlanChildrenOutput> {
    const t0 = Date.now();
    let bytes = 0;
    const info = activityInfo();
    // Digests of the children planned so far, by this attempt or one before it: sent with every
    // heartbeat, so a retry after a lost worker returns those plans instead of making them again.
    const planned: Record<string, string> = {
      ...((info.heartbeatDetails as Partial<PlanLaneHeartbeat> | undefined)?.lane?.planned ?? {}),
    };
    const laneBeat = (): PlanLaneHeartbeat => ({ lane: { planned } });
    return runLane(
      input.children,
      () => Date.now() - t0 >= input.budgetMs || bytes >= LANE_MAX_BYTES || cancellationSignal().aborted,
      async (c) => {
        const child = { image: input.image, parentPlan: input.parentPlan, ...c };
        const kept = planned[c.child] ? await keptPlan(child, planned[c.child], info.attempt, laneBeat) : null;
        const out = kept ?? (await planImage(child, false, laneBeat));
        bytes += Buffer.byteLength(JSON.stringify(out.plan));
        planned[c.child] = out.plan.digest;
        heartbeat(laneBeat());
        return out;
      },
    );
  }

  async function executeImage(input: PlannedStageInput): Promise<ExecuteImageOutput> {
    return recorded('execute', nameOf(input), async (beat) => {
      await before('execute', nameOf(input));
      const image = await imageOf(input);
      const p = await loadSavedPlan(image, input.plan);
      const lines: string[] = [];
      let reprepared = false;
      let r;
      try {
        r = await executeWithProgress(ctx, image, p, beat);
      } catch (e) {
        if (!isImageError(e, 'NOT_PREPARED')) throw e;
        // Nothing was changed (the check comes before the journal, or the run rolled back).
        const got = await prepareWithProgress(ctx, image, p, beat);
        lines.push(
          `Content was not in this host's cache (${e.message.split(';')[0]}): prepared again, ${got.fetchedFiles} files fetched`,
        );
        reprepared = true;
        r = await executeWithProgress(ctx, image, p, beat);
      }
      lines.push(executeLine(r));
      return { status: r.status, steps: r.steps, resumed: r.resumed, reprepared, lines };
    });
  }

  return {
    /**
     * The parent and the children a run selects (`children` less `ignore`). Problems a new
     * attempt cannot fix (not an image, unknown names) come back as `problems` for the workflow
     * to report as InvalidInput; transient errors (IO_ERROR, LOCKED) are thrown and retried.
     */
    async describeParent(input: DescribeParentInput): Promise<DescribeParentOutput> {
      return recorded('describe', 'parent', async () => {
        const none = { total: 0, digest: '', partitionSize: input.partitionSize, children: null };
        if (!path.isAbsolute(input.image))
          return { ...none, problems: [`image: '${input.image}' is not an absolute path`] };
        let parent: Image;
        try {
          parent = await parents.parent(input.image);
        } catch (e) {
          if (isImageError(e) && !e.retryable) return { ...none, problems: [`image: ${e.message}`] };
          throw e;
        }
        const s = selectChildren(parent, input);
        if (s.problems.length) return { ...none, problems: s.problems };
        const size = partitionSizeFor(Math.max(0, ...s.names.map((n) => n.length)), input.partitionSize);
        const property = parent.config().properties['recursion-concurrency'];
        return {
          problems: [],
          total: s.names.length,
          digest: s.digest,
          partitionSize: size,
          children: s.names.length <= size ? s.names : null,
          ...(property === undefined
            ? {}
            : /^\s*-?\d+\s*$/.test(property)
              ? { recursionConcurrency: Number(property) }
              : {
                  recursionConcurrencyProblem: `the parent image's property recursion-concurrency: expected an integer (<= 0 means no limit), got ${JSON.stringify(property)}; fix it or give a concurrency`,
                }),
        };
      });
    },

    /** One partition's slice of the selection. Raises CHILDREN_CHANGED (non-retryable) when the selection is no longer the one described. */
    async listChildren(input: ListChildrenInput): Promise<{ names: string[] }> {
      return recorded('list', `children ${input.offset + 1}-${input.offset + input.limit}`, async () => {
        const s = selectChildren(await parents.parent(input.image), input);
        if (s.problems.length || s.digest !== input.digest) {
          throw ApplicationFailure.nonRetryable(
            `The children of ${input.image} changed after the run started (${s.problems.length ? s.problems.join('; ') : `${s.names.length} selected now`}): start a new run`,
            'CHILDREN_CHANGED',
          );
        }
        return { names: s.names.slice(input.offset, input.offset + input.limit) };
      });
    },

    /**
     * pkg(5)'s publisher check for a batch of children (it collects every error anyway, so one
     * activity saves a round trip per child): each child's error, or null. Retryable errors
     * (IO_ERROR) fail the batch, which is retried whole (checks only read configurations).
     */
    async publisherCheck(input: PublisherCheckBatchInput): Promise<PublisherCheckBatchOutput> {
      const beat = new Heartbeater(ctx.every);
      try {
        return await mapErrors(async () => {
          // The parent's publishers once: its configuration lists every child (0.4 MB with 5,000).
          const parentPubs = (await Image.open(input.image)).publishers();
          const results: PublisherCheckBatchOutput['results'] = input.children.map((name) => ({ name, error: null }));
          await eachLimited(input.children, input.concurrency, async (name, i) => {
            try {
              await recorded(
                'publisher-check',
                name,
                async () => {
                  await before('publisher-check', name);
                  const child = await Image.open(await parents.childRoot(input.image, name));
                  checkPublishers(parentPubs, child.publishers(), child.config().linked?.name ?? child.root);
                },
                { heartbeat: false },
              );
            } catch (e) {
              const f = e as ApplicationFailure;
              if (!f.nonRetryable) throw e;
              results[i].error = {
                code: f.type ?? 'Error',
                message:
                  f.message.length > MAX_BATCH_MESSAGE ? f.message.slice(0, MAX_BATCH_MESSAGE - 3) + '...' : f.message,
              };
            }
          });
          return { results };
        });
      } finally {
        beat.stop();
      }
    },

    /**
     * Plans one image (a child against its parent's saved plan), saves the plan in the image
     * and returns it: the workflow's checkpoint. Raises PLAN_TOO_LARGE (non-retryable) when the
     * plan would not fit a payload (MAX_PLAN_BYTES), naming what to do.
     */
    plan: (input) => planImage(input),

    /**
     * Plans children of one parent one after another, each exactly as `plan` would (saved in the
     * image, recorded, errors mapped), in one activity: with small zones a plan is milliseconds
     * of work and its own activity's round trip costs more than the plan. Stops starting children
     * once `budgetMs` passed, the plans returned reach LANE_MAX_BYTES or the run is cancelled,
     * and at the first failure; the children it did not start come back in `notStarted` for the
     * workflow to schedule again.
     * A retryable failure of the first child is raised (the server retries the activity); of a
     * later one, that child comes back not started.
     */
    async planChildren(input: PlanChildrenInput): Promise<PlanChildrenOutput> {
      const out = await planLane(input);
      // The plans were saved without an fsync each: one flush per file system makes them all
      // durable before the activity reports them (execute loads them after a host crash).
      await mapErrors(() => syncFileSystems(out.results.map((r) => r.plan.image))); // a plan names its image's root
      return out;
    },

    async prepare(input: PlannedStageInput): Promise<PrepareOutput> {
      return recorded('prepare', nameOf(input), async (beat) => {
        await before('prepare', nameOf(input));
        const image = await imageOf(input);
        return prepareWithProgress(ctx, image, await loadSavedPlan(image, input.plan), beat);
      });
    },

    /**
     * Executes one image's saved plan. Content that is not in this host's cache (a worker
     * restarted with another --cache, a swept cache) is prepared again first, instead of failing.
     */
    execute: executeImage,

    /**
     * Executes children of one parent one after another, each exactly as `execute` would
     * (journalled, rolled back on failure or cancellation, recorded), in one activity: a lane
     * (src/contract/lanes.ts). Starts no further child once `budgetMs` passed or the
     * maintenance window's `notAfter` is reached, and at the first failure; those not started come
     * back in `notStarted`. A retryable failure of the first child is raised (the server retries
     * the activity); of a later one, that child comes back not started. Cancelled (the run is),
     * the child being executed rolls back and comes back in `cancelled`; the activity completes,
     * so that the workflow learns which children were executed before.
     */
    async executeChildren(input: ExecuteChildrenInput): Promise<ExecuteChildrenOutput> {
      const t0 = Date.now();
      const notAfter = input.notAfter ? Date.parse(input.notAfter) : Infinity;
      return runLane(
        input.children,
        () => Date.now() - t0 >= input.budgetMs || Date.now() >= notAfter || cancellationSignal().aborted,
        (c) => executeImage({ image: input.image, ...c }),
      );
    },
  };
}

/**
 * Flushes each file system that holds one of `roots` once (syncfs(2) through the worker's helper,
 * src/image/syncfs-helper.ts): what many fsyncs would make durable, for the price of one per
 * file system. Raises IO_ERROR (retryable) when one cannot be flushed.
 */
async function syncFileSystems(roots: string[]): Promise<void> {
  const byDevice = new Map<number, string>();
  for (const root of roots) {
    const st = await fsp.stat(root).catch((e) => {
      throw ioError('Cannot stat', root, e);
    });
    if (!byDevice.has(st.dev)) byDevice.set(st.dev, root);
  }
  for (const root of byDevice.values())
    await syncFsHelper.syncFs(root).catch((e) => {
      throw ioError('Cannot flush the file system of', root, e);
    });
}

function checkPlanSize(p: Plan, name: string, limit: number): void {
  const bytes = Buffer.byteLength(JSON.stringify(p));
  if (bytes <= limit) return;
  throw ApplicationFailure.nonRetryable(
    `The plan of ${name} changes ${p.changes.length} packages and takes ${bytes} bytes, over the ${limit} bytes a plan may take in the workflow's history (Temporal warns at 256 KB per payload): update fewer packages per run (the input's packages)`,
    'PLAN_TOO_LARGE',
    { bytes, limit, changes: p.changes.length },
  );
}
