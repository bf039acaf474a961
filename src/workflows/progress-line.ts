import type { StageName } from '../contract/activity-types';
import type { StageCounts } from '../contract/run-types';

/** Names listed in a status line and in `progress.working`; the rest are counted. */
export const MAX_WORKING_NAMES = 8;

const LABEL: Record<StageName, string> = {
  'publisher-check': 'Startup: Linked image publisher check',
  plan: 'Planning: Linked images',
  prepare: 'Preparing: Linked images',
  execute: 'Executing: Linked images',
};

/**
 * pkg(5)'s status line of a stage: `Planning: Linked images: 3/8 done; 1 failed; 2 working:
 * zone:z4 zone:z7`; beyond MAX_WORKING_NAMES working images, `(+12 more)`.
 */
export function progressLine(stage: StageName, c: StageCounts, working: string[], note = ''): string {
  const total = c.done + c.working + c.waiting + c.failed + (c.cancelled ?? 0) + (c.skipped ?? 0);
  const extra = `${c.cancelled ? `; ${c.cancelled} cancelled` : ''}${c.skipped ? `; ${c.skipped} skipped` : ''}`;
  const named = working.slice(0, MAX_WORKING_NAMES).join(' ');
  const more = working.length > MAX_WORKING_NAMES ? ` (+${working.length - MAX_WORKING_NAMES} more)` : '';
  return `${LABEL[stage]}: ${c.done}/${total} done${c.failed ? `; ${c.failed} failed` : ''}${extra}; ${working.length} working${working.length ? ': ' + named + more : ''}${note}`;
}
