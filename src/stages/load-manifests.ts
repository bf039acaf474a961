import { ContentCache, sha256 } from '../cache/content-cache';
import { eachLimited } from '../model/each-limited';
import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Image } from '../image/image';
import { OriginPool } from '../origins/origin-pool';

/** How many manifests are fetched at once: enough to hide loopback latency, few enough for small depots. */
const CONCURRENCY = 16;

/**
 * Manifest texts by FMRI and expected digest: from the content cache when it holds them,
 * otherwise from the publisher's origins, checked against the digest before being used or cached.
 */
export async function loadManifests(
  image: Image,
  wanted: { fmri: Fmri; digest: string }[],
  cache: ContentCache | undefined,
  origins: OriginPool,
): Promise<string[]> {
  const out: string[] = new Array(wanted.length);
  await eachLimited(wanted, CONCURRENCY, async (w, i) => {
    out[i] = await loadOne(image, w, cache, origins);
  });
  return out;
}

async function loadOne(
  image: Image,
  w: { fmri: Fmri; digest: string },
  cache: ContentCache | undefined,
  origins: OriginPool,
): Promise<string> {
  const cached = cache ? await cache.getManifest(w.digest) : null;
  if (cached !== null) return cached;
  const pub = image.publishers().find((p) => p.name === w.fmri.publisher);
  if (!pub)
    throw new ImageError(
      'BAD_PLAN',
      `Publisher '${w.fmri.publisher}' of ${w.fmri} is not configured in ${image.root}`,
      { fmri: w.fmri.toString() },
    );
  const text = await origins.withOrigin(pub, (o) => o.manifest(pub.name, w.fmri));
  const got = sha256(text);
  if (got !== w.digest) {
    throw new ImageError(
      'HASH_MISMATCH',
      `Manifest of ${w.fmri} has SHA-256 ${got}, expected ${w.digest} (catalog and manifest disagree)`,
      { fmri: w.fmri.toString(), expected: w.digest, got },
    );
  }
  if (cache) await cache.putManifest(text);
  return text;
}
