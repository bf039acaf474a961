/**
 * The state a workflow execution keeps for its children (all of a run's children, or one
 * partition's), compact enough to be the input of a continue-as-new: per child a status
 * character, its plan's digest and change count, and an error for the failed ones. The plans
 * themselves are in the history of the execution that planned them and saved in each image.
 * Pure: no Temporal calls.
 */
import type { StageName } from '../contract/activity-types';
import { STAGES } from '../contract/activity-ids';
import type { ChildDetail, ImageError, Outcome, StageCounts } from '../contract/run-types';

/**
 * One character per child, in the order of the stages (each status is reached from the one before):
 * `.` nothing done yet, `c` publisher check passed, `p` planned with changes, `n` planned with
 * nothing to do, `r` prepared, `u` updated (executed), `f` failed, `x` cancelled, `s` skipped by the
 * operator (`skipChild`), `d` deferred (prepared, but the maintenance window closed before its execute).
 */
export const STATUS = {
  waiting: '.',
  checked: 'c',
  planned: 'p',
  nothing: 'n',
  prepared: 'r',
  updated: 'u',
  failed: 'f',
  cancelled: 'x',
  skipped: 's',
  deferred: 'd',
} as const;
export type Status = (typeof STATUS)[keyof typeof STATUS];

/** The status a child must have for a stage to work on it. */
export const NEEDS: Record<StageName, Status> = { 'publisher-check': '.', plan: 'c', prepare: 'p', execute: 'r' };

/** Error messages kept in full for this many failed children; the rest keep their stage and code (the history has every message). */
export const MAX_FULL_ERRORS = 100;
/** Characters of an error message kept in workflow state and results. */
export const MAX_ERROR_MESSAGE = 500;

export interface SegmentState {
  /** Position of the first child in the whole run's selection (0-based). */
  offset: number;
  names: string[];
  /** One STATUS character per child. */
  status: string;
  /** Each child's plan digest once planned, else null. */
  plans: (string | null)[];
  /** Each child's planned package changes once planned, else null. */
  changes: (number | null)[];
  /** The failed and cancelled children's errors, by name. */
  errors: Record<string, ImageError>;
  /** Each child's content bytes once prepared (the `plans` query's download size); absent in states of runs started before it. */
  bytes?: (number | null)[];
  /**
   * One character per child, `1` when its plan's files are all in the parent's plan (the plan
   * activity's `preparedWithParent`: no prepare activity of its own), else `0`; absent until a
   * plan said so.
   */
  withParent?: string;
}

export function newSegment(names: string[], offset = 0): SegmentState {
  return {
    offset,
    names,
    status: STATUS.waiting.repeat(names.length),
    plans: names.map(() => null),
    changes: names.map(() => null),
    errors: {},
    bytes: names.map(() => null),
  };
}

/** Sets child i's status. Strings are immutable: O(n) per call, fine at 1,000 children a segment (a few µs). */
export function setStatus(s: SegmentState, i: number, st: Status): void {
  s.status = s.status.slice(0, i) + st + s.status.slice(i + 1);
}

/** Records whether child i's plan needs only content the parent's plan delivers (the field is created on first need). */
export function setWithParent(s: SegmentState, i: number, within: boolean): void {
  if (!within && s.withParent === undefined) return;
  const w = s.withParent ?? '0'.repeat(s.names.length);
  s.withParent = w.slice(0, i) + (within ? '1' : '0') + w.slice(i + 1);
}

/** Records child i's failure (or cancellation), the message cut to MAX_ERROR_MESSAGE and dropped beyond MAX_FULL_ERRORS. */
export function setError(s: SegmentState, i: number, error: ImageError, cancelled: boolean): void {
  setStatus(s, i, cancelled ? STATUS.cancelled : STATUS.failed);
  const full = Object.keys(s.errors).length < MAX_FULL_ERRORS;
  s.errors[s.names[i]] = { stage: error.stage, code: error.code, message: full ? trimMessage(error.message) : '' };
}

export function trimMessage(m: string): string {
  return m.length > MAX_ERROR_MESSAGE ? m.slice(0, MAX_ERROR_MESSAGE - 3) + '...' : m;
}

/** The last stage a child with this status started, given its error if it failed. */
export function lastStageOf(st: string, error: ImageError | undefined): StageName | null {
  switch (st) {
    case 'c':
      return 'publisher-check';
    case 'p':
    case 'n':
      return 'plan';
    case 'r':
    case 'd':
      return 'prepare';
    case 'u':
      return 'execute';
    case 'f':
    case 'x':
      return error && error.stage !== 'describe' ? error.stage : null;
    default:
      return null;
  }
}

/** A child's outcome once the run is over (`dryRun`: planned children are `planned`). */
export function finalOutcome(st: string, dryRun: boolean): Outcome {
  if (st === 'u') return 'updated';
  if (st === 'n') return 'nothing-to-do';
  if (st === 'f') return 'failed';
  if (st === 'x') return 'cancelled';
  if (st === 'p' && dryRun) return 'planned';
  if (st === 'd') return 'deferred';
  return 'skipped';
}

/** Child i as the `children` query shows it while the run goes on (`final`: the run is over). */
export function childDetail(
  s: SegmentState,
  i: number,
  opts: { final: boolean; dryRun: boolean; working: boolean },
): ChildDetail {
  const st = s.status[i];
  const error = s.errors[s.names[i]] ?? null;
  const settled = st === 'u' || st === 'n' || st === 'f' || st === 'x' || st === 's' || st === 'd';
  return {
    name: s.names[i],
    outcome: opts.final || settled ? finalOutcome(st, opts.dryRun) : 'pending',
    lastStage: lastStageOf(st, error ?? undefined),
    changes: s.changes[i],
    planDigest: s.plans[i],
    error,
    working: opts.working,
  };
}

/** `zone:z1 updated execute 5`: name, outcome, last stage (or -), changes (or -). */
export function childLine(s: SegmentState, i: number, dryRun: boolean): string {
  const st = s.status[i];
  const error = s.errors[s.names[i]];
  return `${s.names[i]} ${finalOutcome(st, dryRun)} ${lastStageOf(st, error) ?? '-'} ${s.changes[i] ?? '-'}`;
}

/**
 * Counts per stage from the statuses (the children working now are passed in, by name):
 * which children take part in a stage, which are through it, which failed in it, which were
 * cancelled in it; once the run is over (`final`), those still waiting were never worked on
 * (`skipped`), and so are children deferred by the window in execute.
 */
export function stageCounts(
  s: SegmentState,
  working: ReadonlySet<string>,
  workingStage: StageName | null,
  final = false,
): Record<StageName, StageCounts> {
  const out = Object.fromEntries(STAGES.map((st) => [st, { done: 0, working: 0, waiting: 0, failed: 0 }])) as Record<
    StageName,
    StageCounts
  >;
  for (let i = 0; i < s.names.length; i++) {
    const st = s.status[i];
    const failedAt = st === 'f' || st === 'x' ? s.errors[s.names[i]]?.stage : undefined;
    const rank = RANK[st] ?? -1;
    for (let k = 0; k < STAGES.length; k++) {
      const stage = STAGES[k];
      const c = out[stage];
      if (failedAt !== undefined) {
        const at = STAGES.indexOf(failedAt as StageName);
        if (at === k) {
          if (st === 'x') c.cancelled = (c.cancelled ?? 0) + 1;
          else c.failed++;
        } else if (at > k) c.done++;
        continue;
      }
      if (st === 'n' && k >= 2) continue; // nothing to prepare or execute
      if (rank > k) c.done++;
      else if (rank === k) {
        if (working.has(s.names[i]) && workingStage === stage) c.working++;
        else if (final || st === 'd') c.skipped = (c.skipped ?? 0) + 1;
        else c.waiting++;
      }
    }
  }
  return out;
}

/** Stages a status has gone through: `.` none, `c` one, `p`/`n` two, `r` three, `u` four. */
const RANK: Record<string, number> = { '.': 0, c: 1, p: 2, n: 2, r: 3, d: 3, u: 4 };

/**
 * Children that still have stages to go (not failed, cancelled, skipped, deferred or through):
 * a child retried, or re-planned because its image changed, is behind the run's stage and is
 * taken through the stages again in another round. Returns the first stage one of them needs, or null.
 */
export function firstStageBehind(s: SegmentState, dryRun: boolean): StageName | null {
  let first = Infinity;
  for (let i = 0; i < s.status.length; i++) {
    const rank = BEHIND[s.status[i]];
    if (rank !== undefined && !(dryRun && rank >= 2)) first = Math.min(first, rank);
  }
  return first === Infinity ? null : STAGES[first];
}

/** Statuses with stages to go, and the first stage they need. */
const BEHIND: Record<string, number> = { '.': 0, c: 1, p: 2, r: 3 };
