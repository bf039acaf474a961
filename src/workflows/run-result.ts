/**
 * The bounded result of a run (and of a partition), built from SegmentStates. Pure.
 * Bounds: MAX_FAILURES failures with their messages, MAX_RESULT_LINE_BYTES of per-child lines;
 * what is left out is counted, and the `children` query and `npm run report` have it all.
 */
import { finalOutcome, childLine, lastStageOf, type SegmentState } from './segment-state';
import type { FailureLine, ImageSummary, Outcome, RunStatus } from '../contract/run-types';

export const MAX_FAILURES = 100;
export const MAX_RESULT_LINE_BYTES = 96_000;

/** pkg(5)'s exit codes: ok 0, nothing-to-do 4, partial 3, failed 1; a cancelled or rejected run is 1. */
export const EXIT: Record<RunStatus, number> = {
  ok: 0,
  'nothing-to-do': 4,
  partial: 3,
  failed: 1,
  cancelled: 1,
  rejected: 1,
};

export const OUTCOMES: Outcome[] = [
  'updated',
  'nothing-to-do',
  'planned',
  'failed',
  'cancelled',
  'skipped',
  'deferred',
];

export interface SegmentSummary {
  counts: Record<Outcome, number>;
  failures: FailureLine[];
  failuresOmitted: number;
  lines: string[];
  linesOmitted: number;
}

export function zeroCounts(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
}

/** Counts, failures (at most `maxFailures`) and lines (at most `lineBytes`) of a segment once the run is over. */
export function summarizeSegment(
  s: SegmentState,
  dryRun: boolean,
  maxFailures: number,
  lineBytes: number,
): SegmentSummary {
  const out: SegmentSummary = { counts: zeroCounts(), failures: [], failuresOmitted: 0, lines: [], linesOmitted: 0 };
  let bytes = 0;
  for (let i = 0; i < s.names.length; i++) {
    const outcome = finalOutcome(s.status[i], dryRun);
    out.counts[outcome]++;
    const e = s.errors[s.names[i]];
    if (e && (outcome === 'failed' || outcome === 'cancelled')) {
      if (out.failures.length < maxFailures) out.failures.push({ name: s.names[i], ...e });
      else out.failuresOmitted++;
    }
    const line = childLine(s, i, dryRun);
    if (bytes + line.length + 3 <= lineBytes) {
      out.lines.push(line);
      bytes += line.length + 3;
    } else out.linesOmitted++;
  }
  return out;
}

/** The parent (a one-image segment) as the result shows it. */
export function parentSummary(p: SegmentState, dryRun: boolean): ImageSummary {
  const e = p.errors.parent ?? null;
  // The parent starts `checked` (pkg(5) checks only children's publishers): no stage started yet.
  const lastStage = p.status[0] === 'c' ? null : lastStageOf(p.status[0], e ?? undefined);
  return {
    name: 'parent',
    outcome: finalOutcome(p.status[0], dryRun),
    lastStage,
    changes: p.changes[0],
    planDigest: p.plans[0],
    error: e,
  };
}

/**
 * pkg(5)'s run status: cancelled; rejected (plans rejected at approval); partial (some updated, some failed); failed; nothing-to-do
 * (every image); ok. `otherFailure`: something failed that is no image (a partition could not start).
 */
export function runStatus(
  parent: Outcome,
  counts: Record<Outcome, number>,
  cancelled: boolean,
  otherFailure = false,
  rejected = false,
): RunStatus {
  if (cancelled) return 'cancelled';
  if (rejected) return 'rejected'; // the plans were rejected at approval: nothing was executed
  const failed = otherFailure || parent === 'failed' || parent === 'cancelled' || counts.failed + counts.cancelled > 0;
  if (failed) return parent === 'updated' || counts.updated > 0 ? 'partial' : 'failed';
  // The window closed before everything was executed: some work is left to another run.
  if (parent === 'deferred' || counts.deferred > 0) return 'partial';
  const others = OUTCOMES.filter((o) => o !== 'nothing-to-do').reduce((n, o) => n + counts[o], 0);
  if (parent === 'nothing-to-do' && others === 0) return 'nothing-to-do';
  return 'ok';
}
