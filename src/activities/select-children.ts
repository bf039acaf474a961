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
 * The children a run acts on: `children` (default every attached child) less `ignore` (pkg(5)'s
 * `-i`), duplicates dropped, in the order given. Names that are not attached, in these or in
 * `recursion` (pkg(5)'s `-z` / `-Z`, which select nothing here), are problems, all reported at
 * once with the attached names.
 */
export function selectChildren(parent: Image, input: SelectInput): Selection {
  const attached = parent.config().children.map((c) => c.name);
  const known = new Set(attached);
  const problems: string[] = [];
  const list =
    attached.length > 20
      ? `${attached.slice(0, 20).join(', ')}, ... (${attached.length} in all)`
      : attached.join(', ') || 'none';
  const given: [string, string[] | undefined][] = [
    ['children', input.children ?? input.recursion?.children],
    ['ignore', input.ignore],
    ['exclude', input.recursion?.exclude],
  ];
  for (const [field, names] of given) {
    const unknown = (names ?? []).filter((n) => !known.has(n));
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
