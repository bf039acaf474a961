import * as os from 'os';
import { actionCsize, actionSize } from '../model/action-diff';
import { ContentCache } from '../cache/content-cache';
import { ImageError } from '../model/errors';
import { fetchContent, FetchProgress, FetchResult } from '../cache/fetch-content';
import { Fmri } from '../model/fmri';
import { Image } from '../image/image';
import { attr } from '../model/manifest';
import { OriginPool, withPool } from '../origins/origin-pool';
import { checkPlan, Plan, planActions, stalePlan } from './plan';
import { ContentNeed } from '../cache/receive-content';

export interface PrepareOptions {
  onProgress?: (p: FetchProgress) => void;
  signal?: AbortSignal;
  origins?: OriginPool;
  host?: string;
}

/**
 * Downloads what a plan needs into the host-wide content cache, verifying every byte before
 * it enters. Safe to call again after any failure or crash: verified files are never fetched
 * again and an interrupted large file resumes from its partial download.
 */
export async function prepare(
  image: Image,
  p: Plan,
  cache: ContentCache,
  opts: PrepareOptions = {},
): Promise<FetchResult> {
  checkPlan(p, image, opts.host ?? os.hostname());
  const state = await image.readState();
  const empty: FetchResult = {
    bytesDone: 0,
    bytesTotal: 0,
    filesDone: 0,
    filesTotal: 0,
    fetchedFiles: 0,
    fetchedBytes: 0,
  };
  if (state.lastPlan === p.digest || p.changes.length === 0) return empty; // already applied, or nothing to do
  if (state.token !== p.stateToken) throw stalePlan(image, p, state.token);
  return withPool(opts.origins, async (origins) => {
    const actions = await planActions(image, p, cache, origins);
    const needs: ContentNeed[] = [];
    for (const c of actions) {
      if (c.to?.type !== 'file') continue;
      needs.push({
        hash: c.to.hash!,
        size: actionSize(c.to),
        csize: actionCsize(c.to),
        chash: attr(c.to, 'chash'),
        publisher: Fmri.parse(c.owner).publisher!,
      });
    }
    try {
      return await fetchContent(cache, needs, image.publishers(), origins, opts);
    } catch (e) {
      if (opts.signal?.aborted)
        throw new ImageError(
          'CANCELLED',
          `Prepare of ${image.root} was cancelled; verified downloads are kept`,
          {},
          { cause: e },
        );
      throw e;
    }
  });
}
