import { promises as fs } from 'fs';
import type { ActivityRecordLine } from '../src/activities/activity-record';

/** The lines of a worker's activity record (`--record FILE`); none when the file does not exist yet. */
export async function readActivityRecord(file: string): Promise<ActivityRecordLine[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l) as ActivityRecordLine;
      } catch {
        throw new Error(`Expected a JSON line at line ${i + 1} of ${file}, got ${JSON.stringify(l.slice(0, 200))}`);
      }
    });
}

/**
 * Plan activity starts per child (every attempt, of every worker that wrote to the record; the
 * parent left out), and the most of any child: 1 when no child was planned twice. 0 when no
 * child was planned at all.
 */
export function maxPlansPerChild(lines: readonly ActivityRecordLine[]): number {
  const plans = new Map<string, number>();
  for (const l of lines)
    if (l.stage === 'plan' && l.event === 'start' && l.name !== 'parent')
      plans.set(l.name, (plans.get(l.name) ?? 0) + 1);
  return Math.max(0, ...plans.values());
}
