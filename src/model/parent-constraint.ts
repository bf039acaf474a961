import { Fmri } from './fmri';

/** The packages a child's `depend type=parent` actions are checked against: stem -> full FMRI. */
export interface ParentState {
  packages: Record<string, string>;
  /**
   * The parent's `facet.version-lock.*` facets (pkg(5)'s parent facets): a child inherits
   * them, and they mask the child's own values of the same name. Absent when it has none.
   */
  facets?: Record<string, boolean>;
}

/** pkg(5)'s special FMRI meaning "this same package, at exactly the parent's version". */
export const SELF_DEPENDENCY = 'feature/package/dependency/self';

/**
 * Why `candidate` (a child package carrying `depend type=parent fmri=<dependFmri>`) cannot be
 * installed beside this parent, or null when it can. The wording follows pkg(5)'s solver:
 * "not installed in parent image", "different publisher", "Parent has newer/older version".
 */
export function parentConstraintProblem(candidate: Fmri, dependFmri: string, parent: ParentState): string | null {
  const dep = Fmri.parse(dependFmri);
  const self = dep.name === SELF_DEPENDENCY;
  const stem = self ? candidate.name : dep.name;
  const inParent = parent.packages[stem];
  if (!inParent) return `Package '${stem}' is not installed in the parent image`;
  const p = Fmri.parse(inParent);
  if (self) {
    if (p.publisher && candidate.publisher && p.publisher !== candidate.publisher) {
      return `Package '${stem}' comes from a different publisher in the parent (${p.publisher}) than ${candidate.toString()}`;
    }
    const c = candidate.version!.compare(p.version!);
    if (c < 0) return `Parent has newer version ${p.toShortString()} than ${candidate.toShortString()}`;
    if (c > 0) return `Parent has older version ${p.toShortString()} than ${candidate.toShortString()}`;
    return null;
  }
  if (dep.version && p.version!.compare(dep.version) < 0 && !p.version!.matches(dep.version)) {
    return `Parent has older version ${p.toShortString()} than the required ${dep.toShortString()}`;
  }
  return null;
}
