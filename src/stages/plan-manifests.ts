import { ContentCache } from '../cache/content-cache';
import { OwnedManifest } from '../model/action-diff';
import { ImageError } from '../model/errors';
import { parsedManifest, parseManifestOnce } from '../model/manifest-memo';
import { Image, ImageState } from '../image/image';
import type { Plan } from '../model/plan-types';

/** The manifests around a plan: those it replaces or removes, those it installs, and the rest of the image. */
export interface PlanManifests {
  old: OwnedManifest[];
  next: OwnedManifest[];
  kept: OwnedManifest[];
}

/**
 * Reads (or recalls, by digest) the manifests execute needs beyond the file-system diff: the
 * `user`/`group` actions and every hardlink of the image after the plan. The new manifests are
 * read from the content cache, where planning and prepare put them.
 * @throws ImageError NOT_PREPARED when a new manifest is not in `cache`; HASH_MISMATCH or
 *   NOT_FOUND (from `Image.installedManifest`) when an installed one is damaged or missing
 */
export async function planManifests(
  image: Image,
  p: Plan,
  cache: ContentCache,
  state: ImageState,
): Promise<PlanManifests> {
  const changed = new Set(p.changes.map((c) => c.stem));
  const out: PlanManifests = { old: [], next: [], kept: [] };
  for (const [stem, pkg] of Object.entries(state.packages)) {
    const manifest =
      parsedManifest(pkg.manifest) ??
      parseManifestOnce(await image.installedManifest(stem, state), pkg.manifest, `${pkg.fmri} (installed)`);
    (changed.has(stem) ? out.old : out.kept).push({ fmri: pkg.fmri, manifest });
  }
  for (const c of p.changes) {
    if (!c.to) continue;
    let manifest = parsedManifest(c.manifest!);
    if (!manifest) {
      const text = await cache.getManifest(c.manifest!);
      if (text === null)
        throw new ImageError(
          'NOT_PREPARED',
          `Plan is not prepared: the manifest of ${c.to} (${c.manifest}) is not in the content cache; run prepare first`,
          { digest: c.manifest },
        );
      manifest = parseManifestOnce(text, c.manifest!, c.to);
    }
    out.next.push({ fmri: c.to, manifest });
  }
  return out;
}
