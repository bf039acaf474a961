import { Image } from '../image/image';
import { inheritableFacets } from '../model/facets';
import { ParentState } from '../model/parent-constraint';
import type { Plan } from './plan';

/** The parent's packages as installed now, for a linked child; null when the image has no parent. */
export async function parentStateOf(child: Image): Promise<ParentState | null> {
  const linked = child.config().linked;
  if (!linked) return null;
  return installedState(await Image.open(linked.parent));
}

/** The image's packages and the facets its children inherit (its facet.version-lock.*), as a ParentState. */
export async function installedState(image: Image): Promise<ParentState> {
  const packages: Record<string, string> = {};
  for (const [stem, p] of await image.installed()) packages[stem] = p.fmri.toString();
  return withFacets({ packages }, image.config().facets);
}

/** `state` with the version-lock facets of `facets` (the parent's own), when it has any. */
function withFacets(state: ParentState, facets: Record<string, boolean> | undefined): ParentState {
  const inherited = inheritableFacets({ local: facets });
  const out: ParentState = { packages: state.packages };
  if (Object.keys(inherited).length) out.facets = inherited;
  return out;
}

/**
 * The parent's packages as they will be once its plan is executed: children are planned
 * against this, so that `depend type=parent` follows the parent's update rather than its past.
 */
export async function plannedState(parent: Image, parentPlan: Plan | null): Promise<ParentState> {
  const state = await installedState(parent);
  for (const c of parentPlan?.changes ?? []) {
    if (c.to) state.packages[c.stem] = c.to;
    else delete state.packages[c.stem];
  }
  // A parent plan that changes its facets (change-facet) hands its children the new ones.
  return parentPlan?.settings ? withFacets(state, parentPlan.settings.facets) : state;
}
