import { createHash } from 'crypto';
import type { Image } from '../image/image';
import type { SelectInput } from '../contract/activity-types';

/** A run's selection of children. */
export interface Selection {
  /** Every reason the selection is invalid, each naming its field; empty when fine. */
  problems: string[];
  /** The selected children's names: `children` (default all attached, in attach order) less `ignore`. */
  names: string[];
  /** SHA-256 (hex) of the names, one per line: the selection's identity across activities. */
  digest: string;
}

/**
 * The children a run acts on, as pkg(5)'s `-z` / `-Z` select them: `children` (default every
 * attached child) less `ignore`, duplicates dropped, in the order given. Names that are not
 * attached are problems, all reported at once with the attached names.
 */
export function selectChildren(parent: Image, input: SelectInput): Selection {
  const attached = parent.config().children.map((c) => c.name);
  const known = new Set(attached);
  const problems: string[] = [];
  const list =
    attached.length > 20
      ? `${attached.slice(0, 20).join(', ')}, ... (${attached.length} in all)`
      : attached.join(', ') || 'none';
  for (const field of ['children', 'ignore'] as const) {
    const unknown = (input[field] ?? []).filter((n) => !known.has(n));
    if (unknown.length)
      problems.push(
        `${field}: unknown child ${unknown
          .slice(0, 20)
          .map((n) => `'${n}'`)
          .join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''}; attached children: ${list}`,
      );
  }
  const ignore = new Set(input.ignore ?? []);
  const names = [...new Set(input.children ?? attached)].filter((n) => !ignore.has(n));
  return { problems, names, digest: createHash('sha256').update(names.join('\n')).digest('hex') };
}
