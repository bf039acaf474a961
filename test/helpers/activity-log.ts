import { promises as fs } from 'fs';
import type { ActivityRecordLine } from '../../src/activities/activity-record';
import { activityId, type ActivityStage } from '../../src/contract/activity-ids';

/**
 * Reads and measures the activity record file (one JSON line per activity start/end/fail).
 * Lines are appended synchronously by one worker process, so their ORDER in the file is the real
 * order of events; overlaps are counted from that order, never from the millisecond timestamps.
 */
export type RecordLine = ActivityRecordLine & { index: number };

export async function readRecord(file: string, workflowId?: string): Promise<RecordLine[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return (
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, index) => ({ ...(JSON.parse(l) as ActivityRecordLine), index }))
      // A run's partitions are child workflows `<run ID>/children-<k>`: their lines belong to the run.
      .filter(
        (l) => workflowId === undefined || l.workflowId === workflowId || l.workflowId.startsWith(`${workflowId}/`),
      )
  );
}

const isChild = (l: RecordLine) => l.name !== 'parent';

/** The most activities of `stage` (children only, unless `withParent`) that were running at once. */
export function maxRunning(lines: RecordLine[], stage: string, withParent = false): number {
  let running = 0;
  let max = 0;
  for (const l of lines) {
    if (l.stage !== stage || (!withParent && !isChild(l))) continue;
    running += l.event === 'start' ? 1 : -1;
    max = Math.max(max, running);
  }
  return max;
}

/** How often each name started `stage`, e.g. `{ 'zone:z1': 1 }`. */
export function startsPerName(lines: RecordLine[], stage: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) if (l.stage === stage && l.event === 'start') out[l.name] = (out[l.name] ?? 0) + 1;
  return out;
}

export function stagesSeen(lines: RecordLine[]): Set<string> {
  return new Set(lines.map((l) => l.stage));
}

/** Indices of the first start and last end/fail of `stage`, filtered by `who`. */
export function span(
  lines: RecordLine[],
  stage: string,
  who: 'children' | 'parent' | 'all' = 'all',
): { firstStart: number; lastEnd: number } | null {
  const pick = lines.filter((l) => l.stage === stage && (who === 'all' || (who === 'parent') !== isChild(l)));
  if (pick.length === 0) return null;
  const starts = pick.filter((l) => l.event === 'start').map((l) => l.index);
  const ends = pick.filter((l) => l.event !== 'start').map((l) => l.index);
  return { firstStart: Math.min(...starts), lastEnd: Math.max(...ends) };
}

/**
 * True when some child activity was running while one of the parent's activities ran (the
 * parent's activities must run alone).
 */
export function parentOverlapsChildren(lines: RecordLine[]): RecordLine | null {
  let children = 0;
  let parentRunning = 0;
  for (const l of lines) {
    const d = l.event === 'start' ? 1 : -1;
    if (isChild(l)) children += d;
    else parentRunning += d;
    if (children > 0 && parentRunning > 0) return l;
  }
  return null;
}

/** Every start has a matching end or fail (nothing still running when the workflow ended). */
export function unbalanced(lines: RecordLine[]): string[] {
  const open = new Map<string, number>();
  for (const l of lines) {
    const k = activityId(l.stage as ActivityStage, l.name);
    open.set(k, (open.get(k) ?? 0) + (l.event === 'start' ? 1 : -1));
  }
  return [...open].filter(([, n]) => n !== 0).map(([k]) => k);
}
