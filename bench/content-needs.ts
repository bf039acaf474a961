import { actionCsize } from '../src/model/action-diff';
import { ContentCache } from '../src/cache/content-cache';
import { Image } from '../src/image/image';
import { OriginPool } from '../src/origins/origin-pool';
import { plannedState } from '../src/stages/parent-state';
import { plan, planActions, type Plan } from '../src/stages/plan';
import { loadSavedPlan } from '../src/stages/saved-plans';
import type { DemoHost } from '../src/dev/demo-host';

/** What an update of a host will need, planned from the host as it is now. */
export interface ContentNeeds {
  /** Plan digest per image (`parent`, `zone:z1`, …): the plans an update started now makes. */
  plans: Map<string, string>;
  /** Compressed bytes (pkg.csize) per content hash, over every image's plan, each hash once. */
  files: Map<string, number>;
}

/**
 * Plans every image of `host` as the update's plan activities do (the parent; each child
 * against plannedState of the parent's plan; everything installed may move) and collects the
 * file actions each plan's action diff delivers, which is exactly what prepare fetches
 * (src/stages/prepare.ts: every `to` file action, by hash, pkg.csize compressed bytes).
 *
 * Why before the run and not from the saved plans afterwards: planActions derives the diff from
 * the image's installed manifests, so once a plan is executed it would diff the new versions
 * against themselves. Planning is deterministic (same state token, same catalog, same host), so
 * these are the plans the run will make: confirmPlansExecuted checks their digests afterwards.
 *
 * Manifests go into a scratch cache at `scratchDir` (content is not fetched), so the host's
 * cache stays as it was; with an HTTP origin the depot serves catalogs and manifests, no content.
 */
export async function contentNeeds(host: DemoHost, scratchDir: string): Promise<ContentNeeds> {
  const cache = await ContentCache.open(scratchDir);
  const origins = new OriginPool();
  const needs: ContentNeeds = { plans: new Map(), files: new Map() };
  const collect = async (name: string, image: Image, p: Plan) => {
    needs.plans.set(name, p.digest);
    for (const c of await planActions(image, p, cache, origins))
      if (c.to?.type === 'file') needs.files.set(c.to.hash!, actionCsize(c.to));
  };
  try {
    const parent = await Image.open(host.parent);
    const parentPlan = await plan(parent, {}, null, { cache, origins });
    await collect('parent', parent, parentPlan);
    const planned = await plannedState(parent, parentPlan);
    for (const c of host.children) {
      const child = await Image.open(c.path);
      await collect(c.name, child, await plan(child, {}, planned, { cache, origins }));
    }
    return needs;
  } finally {
    origins.close();
  }
}

/** The part of `needs` not in `cache` now: its compressed bytes and files. */
export async function uniqueContent(
  cache: ContentCache,
  needs: ContentNeeds,
): Promise<{ bytes: number; files: number }> {
  const present = await cache.presentFiles([...needs.files.keys()]);
  let bytes = 0;
  let files = 0;
  for (const [hash, csize] of needs.files) {
    if (present.has(hash)) continue;
    bytes += csize;
    files++;
  }
  return { bytes, files };
}

/**
 * Checks that every image of `host` executed the plan `needs` has for it (its state's
 * lastPlan) and that the plan is the one saved in the image by the run's plan activity, so
 * the unique bytes were derived from the plans the run used. Throws an Error naming each
 * image that differs.
 */
export async function confirmPlansExecuted(host: DemoHost, needs: ContentNeeds): Promise<void> {
  const wrong: string[] = [];
  for (const [name, root] of [['parent', host.parent], ...host.children.map((c) => [c.name, c.path])]) {
    const want = needs.plans.get(name);
    const image = await Image.open(root);
    const got = (await image.readState()).lastPlan;
    if (want === undefined || got !== want) {
      wrong.push(`${name}: executed ${got ?? 'no plan'}, expected ${want ?? 'none planned'}`);
      continue;
    }
    await loadSavedPlan(image, want).catch((e: Error) => wrong.push(`${name}: ${e.message}`));
  }
  if (wrong.length)
    throw new Error(`The run did not execute the plans its unique bytes were derived from:\n  ${wrong.join('\n  ')}`);
}
