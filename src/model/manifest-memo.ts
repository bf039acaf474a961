import { Manifest, parseManifest } from './manifest';

/** Actions kept parsed at most (about 100 MB): two versions of a 1,000-package image are 100,000. */
const MAX_ACTIONS = 250_000;

const memo = new Map<string, Manifest>();
let actions = 0;

/**
 * Parses a manifest whose text the caller has verified against `digest` (its SHA-256), reusing
 * an earlier parse of the same digest. A manifest is immutable by digest, and one worker plans,
 * prepares and executes the same manifests for every child image of a host: parsing was a
 * third of each of those steps. Least recently used manifests go first; callers must not
 * mutate what they get.
 */
export function parseManifestOnce(text: string, digest: string, source: string): Manifest {
  const hit = parsedManifest(digest);
  if (hit) return hit;
  const m = parseManifest(text, source);
  memo.set(digest, m);
  actions += m.actions.length;
  for (const [d, old] of memo) {
    if (actions <= MAX_ACTIONS) break;
    memo.delete(d);
    actions -= old.actions.length;
  }
  return m;
}

/**
 * The parse of a digest, if kept. A caller that knows which digest it needs (an image's state
 * records the digest of each installed manifest) then reads nothing: the text of a digest never
 * changes.
 */
export function parsedManifest(digest: string): Manifest | undefined {
  const hit = memo.get(digest);
  if (hit) {
    memo.delete(digest);
    memo.set(digest, hit);
  }
  return hit;
}

/** Forgets every parsed manifest (benchmarks measure cold plans with it). */
export function clearManifestMemo(): void {
  memo.clear();
  actions = 0;
}
