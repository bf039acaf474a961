import { ActionFilterSettings, diffActions, OwnedManifest } from '../model/action-diff';
import { Facets } from '../model/facets';
import { Image, ImageState } from '../image/image';
import { parsedManifest, parseManifestOnce } from '../model/manifest-memo';
import type { PlanSettings } from '../model/plan-types';

/** The image's facets and mediator settings as image.json holds them (empty records when unset). */
export function settingsOf(image: Image): PlanSettings {
  const cfg = image.config();
  return { facets: cfg.facets ?? {}, mediators: cfg.mediators ?? {} };
}

/** Whether two settings are the same (key order ignored). */
export function sameSettings(a: PlanSettings, b: PlanSettings): boolean {
  return canonical(a) === canonical(b);
}

function canonical(s: PlanSettings): string {
  const sorted = <T>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)));
  const meds = Object.fromEntries(
    Object.entries(sorted(s.mediators)).map(([k, v]) => [k, { version: v.version, implementation: v.implementation }]),
  );
  return JSON.stringify([sorted(s.facets), meds]);
}

/**
 * The action filter of these settings. Only the image's own facets: the ones a child inherits
 * (facet.version-lock.*) tag depend actions, which the solver sees, not file-system actions.
 */
export function filterSettings(s: PlanSettings): ActionFilterSettings {
  return { facets: new Facets({ local: s.facets }), mediators: s.mediators };
}

/**
 * The installed stems whose file-system actions differ between `before` and `after` settings
 * (a faceted file appearing or going, a mediated link moving to another package): the ones a
 * facet or mediator change delivers again. Reads every installed manifest.
 */
export async function stemsChangedBySettings(
  image: Image,
  state: ImageState,
  before: PlanSettings,
  after: PlanSettings,
): Promise<string[]> {
  const all: OwnedManifest[] = [];
  const stemOf = new Map<string, string>();
  for (const [stem, p] of Object.entries(state.packages)) {
    const m =
      parsedManifest(p.manifest) ??
      parseManifestOnce(await image.installedManifest(stem, state), p.manifest, `${p.fmri} (installed)`);
    all.push({ fmri: p.fmri, manifest: m });
    stemOf.set(p.fmri, stem);
  }
  const changes = diffActions({
    old: all,
    next: all,
    kept: [],
    variants: image.variants(),
    settings: filterSettings(after),
    before: filterSettings(before),
  });
  return [...new Set(changes.map((c) => stemOf.get(c.owner)!))].sort();
}

/** Writes the settings a plan applied into image.json (under the image lock); nothing when it has none. */
export async function saveSettings(image: Image, settings: PlanSettings | undefined): Promise<void> {
  if (!settings) return;
  await image.withLock('change-settings', () =>
    image.updateConfig((c) => {
      const next = { ...c };
      delete next.facets;
      delete next.mediators;
      return {
        ...next,
        ...(Object.keys(settings.facets).length ? { facets: settings.facets } : {}),
        ...(Object.keys(settings.mediators).length ? { mediators: settings.mediators } : {}),
      };
    }),
  );
  await image.reload();
}
