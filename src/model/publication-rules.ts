import { ImageError } from './errors';
import { Fmri } from './fmri';
import { Action, Manifest, attr, values } from './manifest';

/** set actions whose value pkg(5) allows once (src/modules/actions/attribute.py validate). */
const SINGLE_VALUE_SETS: ReadonlySet<string> = new Set([
  'pkg.summary',
  'pkg.obsolete',
  'pkg.renamed',
  'pkg.description',
  'pkg.depend.explicit-install',
]);

/**
 * The checks pkg(5) makes of each action when it is published (its actions' validate(), which
 * the publication transaction calls; src/modules/actions/generic.py _validate and
 * attribute.py), beyond what parsing already refuses:
 * - a `facet.*`, `variant.*` or `reboot-needed` attribute given more than once, on any action;
 * - more than one value for the `set` actions pkg.summary, pkg.obsolete, pkg.renamed,
 *   pkg.description and pkg.depend.explicit-install;
 * - a `set name=pkg.additional-*` value that is not an FMRI (pkg(5)'s actuators).
 * Parsing accepts these (an image reads what was published), so they are checked here, when a
 * package is about to enter a repository. `manifest.lines` (a pkgsend reading) gives the lines
 * named in messages; without it, the action's position in the manifest (1-based) stands in.
 * @throws ImageError BAD_MANIFEST `<source>: line <n>: <why>`, for the first action refused.
 */
export function validateForPublication(manifest: Manifest, source: string): void {
  manifest.actions.forEach((a, i) => {
    const why = publicationProblem(a);
    if (why) {
      const line = manifest.lines?.[i] ?? i + 1;
      throw new ImageError('BAD_MANIFEST', `${source}: line ${line}: ${why} (pkg(5) refuses it at publication)`, {
        source,
        line,
      });
    }
  });
}

/** Why pkg(5) would refuse to publish this action, or null. */
export function publicationProblem(a: Action): string | null {
  for (const k in a.attrs) {
    if (Array.isArray(a.attrs[k]) && (k.startsWith('facet.') || k.startsWith('variant.') || k === 'reboot-needed'))
      return `${a.type} action has '${k}=' more than once`;
  }
  if (a.type !== 'set') return null;
  const name = attr(a, 'name') as string;
  if (SINGLE_VALUE_SETS.has(name) && Array.isArray(a.attrs.value)) return `set action ${name} has more than one value`;
  if (name.startsWith('pkg.additional-')) {
    for (const v of values(a, 'value')) {
      try {
        Fmri.parse(v);
      } catch (e) {
        return `set action ${name} has a value that is not an FMRI: ${(e as Error).message}`;
      }
    }
  }
  return null;
}
