/**
 * How a run's control state (src/contract/controls.ts ControlState) reads for an operator:
 * `npm run control` prints it after each control, and the live view uses the same wording.
 * Pure: no I/O.
 */
import { STAGES } from '../../contract/activity-ids';
import type { ControlState, StageCaps } from '../../contract/controls';

/** Characters of a digest shown where the whole one is not needed (plan lists, the live view). */
export const SHORT_DIGEST = 12;

/** `1a2b3c4d5e6f…`: the first SHORT_DIGEST characters of a digest and an ellipsis (the digest itself when shorter). */
export function shortDigest(digest: string): string {
  return digest.length > SHORT_DIGEST ? `${digest.slice(0, SHORT_DIGEST)}…` : digest;
}

/** One cap as pkg's -C reads it: `4`, or `no limit` for `<= 0`. */
export function capText(cap: number): string {
  return cap <= 0 ? 'no limit' : String(cap);
}

/** `4 children at once (prepare 8, execute 2)`: the cap of every stage, then the stages with their own, in stage order. */
export function capsText(concurrency: number, stages: StageCaps): string {
  const own = STAGES.filter((s) => stages[s] !== undefined).map((s) => `${s} ${capText(stages[s]!)}`);
  return `${capText(concurrency)} children at once${own.length ? ` (${own.join(', ')})` : ''}`;
}

/** `1 of 2 allowed`, or `0 (fail-fast: none allowed)` when the run has no failure budget. */
export function failuresText(s: Pick<ControlState, 'failures' | 'maxFailures'>): string {
  return s.maxFailures > 0 ? `${s.failures} of ${s.maxFailures} allowed` : `${s.failures} (fail-fast: none allowed)`;
}

/** `2026-12-06T02:00:00+01:00 to 2026-12-06T05:00:00+01:00`, `from ...`, `until ...`, or `none`. */
export function windowText(w: ControlState['window']): string {
  if (!w || (!w.notBefore && !w.notAfter)) return 'none';
  if (w.notBefore && w.notAfter) return `${w.notBefore} to ${w.notAfter}`;
  return w.notBefore ? `from ${w.notBefore}` : `until ${w.notAfter}`;
}

/** `waiting: set digest <whole digest>`, `not required`, `pending (the run waits after prepare)`, ... */
export function approvalText(s: Pick<ControlState, 'approval' | 'setDigest'>): string {
  switch (s.approval) {
    case 'not-required':
      return 'not required';
    case 'pending':
      return 'pending (the run stops after prepare and waits for approve or reject)';
    case 'waiting':
      return `waiting, set digest ${s.setDigest ?? '(none yet)'}`;
    default:
      return s.approval;
  }
}

/**
 * The control state in a few lines, as `npm run control` prints it:
 *
 *     paused:      no
 *     concurrency: 4 children at once (prepare 8, execute 2)
 *     failures:    1 of 2 allowed
 *     skipped:     0
 *     approval:    waiting, set digest 1a2b...
 *     window:      2026-12-06T02:00:00+01:00 to 2026-12-06T05:00:00+01:00
 *     holding:     waiting for approval
 */
export function controlStateLines(s: ControlState): string[] {
  const rows: [string, string][] = [
    ['paused', s.paused ? 'yes (no new child work starts; running work finishes)' : 'no'],
    ['concurrency', capsText(s.concurrency, s.stageConcurrency)],
    ['failures', failuresText(s)],
    ['skipped', String(s.skipped)],
    ['approval', approvalText(s)],
    ['window', windowText(s.window)],
    ['holding', s.holding ?? 'nothing (the run moves)'],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`);
}
