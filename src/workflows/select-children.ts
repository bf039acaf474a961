import type { ChildRef } from '../contract/activity-types';
import { invalidInput } from '../contract/invalid-input';

/**
 * The children a run acts on: `children` (default: all attached) less `ignore`, in the order
 * given. An image the describe activity could not open, or a name that is not attached, is
 * invalid input, reported with every problem at once.
 */
export function selectChildren(
  input: { children?: string[]; ignore?: string[] },
  problem: string | null,
  attached: ChildRef[],
): ChildRef[] {
  const problems: string[] = [];
  if (problem) problems.push(`image: ${problem}`);
  const byName = new Map(attached.map((c) => [c.name, c]));
  const names = attached.map((c) => c.name).join(', ') || 'none';
  for (const field of ['children', 'ignore'] as const) {
    const unknown = (input[field] ?? []).filter((n) => !byName.has(n));
    if (unknown.length && !problem)
      problems.push(`${field}: unknown child ${unknown.map((n) => `'${n}'`).join(', ')}; attached children: ${names}`);
  }
  if (problems.length) throw invalidInput(problems);
  const wanted = [...new Set(input.children ?? attached.map((c) => c.name))];
  const ignore = input.ignore ?? [];
  return wanted.filter((n) => !ignore.includes(n)).map((n) => byName.get(n)!);
}
