import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import { eachLimited } from '../src/model/each-limited';
import { isImageError } from '../src/model/errors';
import { execute } from '../src/stages/execute';
import { Image } from '../src/image/image';
import { OriginPool } from '../src/origins/origin-pool';
import { plannedState } from '../src/stages/parent-state';
import { plan, Plan, planActions } from '../src/stages/plan';
import { contentHashes, contentWithin } from '../src/stages/content-within';
import { prepare } from '../src/stages/prepare';
import { publisherCheck } from '../src/stages/publisher-check';
import type { DemoHost } from '../src/dev/demo-host';

export type DirectStage = 'publisher-check' | 'plan' | 'prepare' | 'execute';

/** One stage of one image starting or ending (`ok: false` when it threw). */
export interface StageEvent {
  stage: DirectStage;
  /** `parent` or the child's link name. */
  name: string;
  phase: 'start' | 'end';
  ok?: boolean;
}

export interface DirectUpdateOptions {
  /** Children worked on at once in each stage; <= 0 means no limit (pkg's -C). @default 1 */
  concurrency?: number;
  /** Milliseconds slept before the work of every stage of every image: simulated slow stage work. @default 0 */
  stageDelayMs?: number;
  /** The host-wide content cache. @default host.cacheDir */
  cacheDir?: string;
  /** Called as each stage of each image starts and ends (tests check order and cap with it). */
  onEvent?: (e: StageEvent) => void;
}

export interface DirectUpdateResult {
  /** From the first publisher check started to the last stage ended, in seconds (opening the cache included). */
  wallSeconds: number;
  /** As the workflow's: `ok`, `nothing-to-do` (no image had changes), `partial` (some updated, some failed), `failed`. */
  status: 'ok' | 'nothing-to-do' | 'partial' | 'failed';
  /** Stage calls made, over all images (each runs once: plans are kept in memory). */
  calls: Record<DirectStage, number>;
  /** Images executed (parent included). */
  updated: number;
  /** Every stage that threw: publisher check collects all, later stages stop at the first. */
  failures: { name: string; stage: DirectStage; code: string; message: string }[];
}

/**
 * The update `updateLinkedImages` performs, done with the image model's functions in this
 * process, for the benchmark's "no Temporal" side. Same order and cap semantics as the
 * workflow: the publisher check of every child (all at once, as pkg(5) and the workflow: every
 * failure collected), then plan (the parent, then the children against plannedState of the parent's
 * plan), prepare and execute (the parent when it has changes, then the children with changes;
 * as in the workflow, no prepare for a child whose files are all in the parent's plan),
 * each child stage with at most `concurrency` running; every child finishes a stage before the
 * next stage starts. From plan on the first failure stops new children from starting (running
 * ones finish) and no later stage runs. One ContentCache and one OriginPool serve every call,
 * as in a worker. Resolves with the outcome; an image-model error is recorded in `failures`,
 * any other error (a bug) rejects.
 */
export async function runDirectUpdate(host: DemoHost, opts: DirectUpdateOptions = {}): Promise<DirectUpdateResult> {
  const cap = opts.concurrency ?? 1;
  const delay = opts.stageDelayMs ?? 0;
  const result: DirectUpdateResult = {
    wallSeconds: 0,
    status: 'ok',
    calls: { 'publisher-check': 0, plan: 0, prepare: 0, execute: 0 },
    updated: 0,
    failures: [],
  };
  const t0 = performance.now();
  const cache = await ContentCache.open(path.resolve(opts.cacheDir ?? host.cacheDir));
  const origins = new OriginPool();

  /** One stage of one image: the delay, then the work; a model error is recorded and rethrown. */
  const stage = async <T>(s: DirectStage, name: string, work: () => Promise<T>): Promise<T> => {
    opts.onEvent?.({ stage: s, name, phase: 'start' });
    result.calls[s]++;
    try {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const v = await work();
      opts.onEvent?.({ stage: s, name, phase: 'end', ok: true });
      return v;
    } catch (e) {
      opts.onEvent?.({ stage: s, name, phase: 'end', ok: false });
      if (!isImageError(e)) throw e;
      result.failures.push({ name, stage: s, code: e.code, message: e.message });
      throw e;
    }
  };
  const finish = () => {
    origins.close();
    result.wallSeconds = (performance.now() - t0) / 1000;
    if (result.failures.length) result.status = result.updated > 0 ? 'partial' : 'failed';
    return result;
  };

  try {
    const parent = await Image.open(host.parent).catch((e) => {
      // As the workflow's describe refuses it: a parent that cannot be opened fails the run.
      if (isImageError(e))
        result.failures.push({ name: 'parent', stage: 'publisher-check', code: e.code, message: e.message });
      throw e;
    });
    const children = host.children;
    if (
      // No cap: as the workflow (stageConcurrency 'publisher-check' 0), pkg(5) checks every child at once.
      !(await capped(children, 0, false, (c) =>
        stage('publisher-check', c.name, async () => publisherCheck(parent, await Image.open(c.path))),
      ))
    )
      return finish();

    const parentPlan = await stage('plan', 'parent', () => plan(parent, {}, null, { cache, origins }));
    const planned = await plannedState(parent, parentPlan);
    const plans = new Map<string, Plan>();
    const ok = await capped(children, cap, true, async (c) => {
      plans.set(
        c.name,
        await stage('plan', c.name, async () => plan(await Image.open(c.path), {}, planned, { cache, origins })),
      );
    });
    if (!ok) return finish();
    const todo = children.filter((c) => plans.get(c.name)!.changes.length > 0);
    if (parentPlan.changes.length === 0 && todo.length === 0) {
      result.status = 'nothing-to-do';
      return finish();
    }

    // As the workflow: a child whose files are all in the parent's plan is not prepared on its
    // own (the parent's prepare put them in the cache; src/stages/content-within.ts).
    const parentContent = contentHashes(await planActions(parent, parentPlan, cache, origins));
    const withParent = new Set<string>();
    for (const c of todo)
      if (contentWithin(await planActions(await Image.open(c.path), plans.get(c.name)!, cache, origins), parentContent))
        withParent.add(c.name);

    for (const s of ['prepare', 'execute'] as const) {
      const run = async (name: string, root: string, p: Plan) => {
        await stage(s, name, async () => {
          const image = await Image.open(root);
          await (s === 'prepare' ? prepare(image, p, cache, { origins }) : execute(image, p, cache, { origins }));
        });
        if (s === 'execute') result.updated++;
      };
      if (parentPlan.changes.length > 0) await run('parent', host.parent, parentPlan);
      const these = s === 'prepare' ? todo.filter((c) => !withParent.has(c.name)) : todo;
      if (!(await capped(these, cap, true, (c) => run(c.name, c.path, plans.get(c.name)!)))) return finish();
    }
    return finish();
  } catch (e) {
    if (!isImageError(e)) {
      origins.close();
      throw e;
    }
    return finish(); // a parent stage failed; it is in failures
  }
}

/**
 * Runs `fn` over `items`, at most `cap` at once (`cap <= 0`: all at once). With `failFast`, no
 * item starts after one has failed; running items finish either way. Resolves true when every
 * item ran and succeeded. Errors that are not the image model's reject (after the rest settled).
 */
async function capped<I>(
  items: readonly I[],
  cap: number,
  failFast: boolean,
  fn: (item: I) => Promise<unknown>,
): Promise<boolean> {
  let failed = false;
  let bug: unknown = null;
  const ran = eachLimited(
    items,
    cap,
    async (item) => {
      try {
        await fn(item);
      } catch (e) {
        failed = true;
        if (!isImageError(e) && bug === null) bug = e;
        if (failFast) throw e; // stops further items; reported as `false` (or as the bug) below
      }
    },
    { keepGoing: !failFast },
  );
  await ran.catch(() => undefined);
  if (bug !== null) throw bug;
  return !failed;
}
