/**
 * The model of a run's live view: what to show, built from one RunSnapshot (and the previous
 * view, for rates). Pure: no I/O, no clock (the snapshot's `at` is "now"), so both renderers
 * show the same thing and unit tests check it without a server.
 */
import prettyBytes from 'pretty-bytes';
import prettyMs from 'pretty-ms';
import type { ControlState } from '../../contract/controls';
import { controlLines } from './control-lines';
import type { PendingActivity, RunSnapshot, RunStatus } from './run-snapshot';

/** A host or workflow queue whose newest poll is older than this has no worker, in ms (a live worker's long poll lasts ~70 s). */
export const POLLER_STALE_MS = 90_000;
/** A started activity with no heartbeat (or start) for this long is shown as stalled, in ms (twice the activities' heartbeat timeout). */
export const STALL_MS = 30_000;

/** The progress of one working child, from its last heartbeat. */
export interface ChildProgress {
  done: number;
  total: number;
  unit: 'bytes' | 'steps';
  /** 0..1, null when total is 0. */
  fraction: number | null;
  /** e.g. `12 MB of 400 MB, step 1 of 26` (execute), `12 MB of 400 MB` (prepare) or `3 of 26 steps`. */
  detail: string;
  /** Units per second since this attempt was first seen; null until it moved. */
  ratePerSec: number | null;
  /** Seconds left at that rate; null without a rate. */
  etaSec: number | null;
}

/** One child (or the parent, or a batch) with an activity in flight. */
export interface ChildView {
  activityId: string;
  /** `zone:z1`, `parent`, or a batch `zone:z1..zone:z3`. */
  name: string;
  stage: string;
  attempt: number;
  /** 0: no limit. */
  maximumAttempts: number;
  /** `working`, `waiting for a worker`, `retrying`, `cancelling`, `paused`. */
  state: 'working' | 'waiting for a worker' | 'retrying' | 'cancelling' | 'paused';
  progress: ChildProgress | null;
  /** The last error and what happens next, e.g. `LOCKED: image locked by pid 15913, retry 3 in 20 s`; null when the attempt had no failure before. */
  problem: string | null;
  /** Set when a started attempt sent no heartbeat for STALL_MS: `no heartbeat for 45 s`. */
  stalled: string | null;
}

/** The first sample of an activity attempt's progress, the base of its rate. */
export interface RateBase {
  attempt: number;
  /** ms since the epoch. */
  at: number;
  done: number;
}

export interface RunView {
  workflowId: string;
  status: RunStatus;
  /** True once the run closed (completed, failed, ...; not continued-as-new). */
  finished: boolean;
  /** pkg(5)'s status line of the stage at work (with the partition for a partitioned run); null before the run answers. */
  stageLine: string | null;
  children: ChildView[];
  /** The run's live controls (progress.controls), null before it answers and in runs started before controls. */
  controls: ControlState | null;
  /** What holds the run and its failure budget, as control-lines.ts words it (empty when nothing applies or once finished). */
  controlLines: string[];
  /** Problems with the run as a whole: no worker on a queue, no answer to the progress query. */
  warnings: string[];
  /** Per activity ID, the base of its rate (carried from view to view). */
  rateBases: Record<string, RateBase>;
}

/**
 * The view of `s`. `prev` (the view of the round before, or null) carries the rate bases: a
 * rate is the progress since the attempt was first seen divided by the time since, so it needs
 * two readings and restarts with each attempt. `pollerStaleMs` as POLLER_STALE_MS, `stallMs` as
 * STALL_MS; `timeZone` the zone of the window's times (default the viewer's).
 */
export function buildRunView(
  s: RunSnapshot,
  prev: RunView | null,
  opts: { pollerStaleMs?: number; stallMs?: number; timeZone?: string } = {},
): RunView {
  const now = s.at.getTime();
  const rateBases: Record<string, RateBase> = {};
  const children = [...s.pending]
    .filter((a) => a.stage !== null)
    .sort((a, b) => a.activityId.localeCompare(b.activityId))
    .map((a) => childView(a, now, prev?.rateBases[a.activityId], rateBases, opts.stallMs ?? STALL_MS));
  const finished = s.status !== 'running' && s.status !== 'continued-as-new' && s.status !== 'unknown';
  const warnings: string[] = [];
  if (!finished) {
    for (const q of s.queues) {
      const w = queueWarning(q, now, opts.pollerStaleMs ?? POLLER_STALE_MS);
      if (w) warnings.push(w);
    }
    if (s.progress === null)
      warnings.push('the run does not answer its progress query (is a worker polling its workflow task queue?)');
  }
  const controls = s.progress?.controls ?? null;
  return {
    workflowId: s.workflowId,
    status: s.status,
    finished,
    stageLine: stageLine(s),
    children,
    controls,
    controlLines:
      controls && !finished
        ? controlLines(controls, {
            workflowId: s.workflowId,
            now,
            plans: s.plansWaiting ?? null,
            timeZone: opts.timeZone,
          })
        : [],
    warnings,
    rateBases,
  };
}

/** `Prepare: ... (partition 2 of 4; 30 of all 120 children done in the partitions before)`, as progress-printer.ts watchProgress prints it. */
function stageLine(s: RunSnapshot): string | null {
  const p = s.progress;
  if (!p) return null;
  const part = s.partition;
  if (!part?.progress) return p.line;
  const inner = part.progress;
  const before = p.stages[inner.stage as keyof typeof p.stages]?.done ?? 0;
  return `${inner.line} (partition ${part.index} of ${part.count}; ${before} of all ${p.children} children done in the partitions before)`;
}

function queueWarning(q: RunSnapshot['queues'][number], now: number, staleMs: number): string | null {
  if (q.error) return `cannot tell whether a worker polls ${q.name}: ${q.error}`;
  const newest = Math.max(0, ...q.pollers.map((p) => p.lastAccessAt?.getTime() ?? 0));
  if (q.pollers.length && now - newest <= staleMs) return null;
  const since = newest ? ` (last poll ${seconds(now - newest)} ago)` : '';
  return q.kind === 'host'
    ? `no worker polls ${q.name}${since}: the host's activities wait (start its worker: npm run worker)`
    : `no worker polls the workflow task queue ${q.name}${since}: the run does not move`;
}

function childView(
  a: PendingActivity,
  now: number,
  prevBase: RateBase | undefined,
  bases: Record<string, RateBase>,
  stallMs: number,
): ChildView {
  const failedBefore = a.lastFailure !== null;
  const state: ChildView['state'] =
    a.state === 'started'
      ? 'working'
      : a.state === 'cancel-requested'
        ? 'cancelling'
        : a.state === 'paused'
          ? 'paused'
          : failedBefore && a.nextAttemptAt && a.nextAttemptAt.getTime() > now
            ? 'retrying'
            : 'waiting for a worker';
  let problem: string | null = null;
  if (a.lastFailure) {
    const err = `${a.lastFailure.type ? `${a.lastFailure.type}: ` : ''}${oneLine(a.lastFailure.message)}`;
    const of = a.maximumAttempts ? ` of ${a.maximumAttempts}` : '';
    problem =
      state === 'retrying'
        ? `${err}, retry ${a.attempt}${of} in ${seconds(a.nextAttemptAt!.getTime() - now)}`
        : state === 'working'
          ? `${err} (attempt ${a.attempt - 1}); attempt ${a.attempt}${of} running`
          : `${err}, retry ${a.attempt}${of} waiting for a worker`;
  }
  let stalled: string | null = null;
  const lastSign = Math.max(a.lastHeartbeatAt?.getTime() ?? 0, a.lastStartedAt?.getTime() ?? 0);
  if (state === 'working' && lastSign && now - lastSign >= stallMs)
    stalled = `no heartbeat for ${seconds(now - lastSign)}`;
  return {
    activityId: a.activityId,
    name: a.name,
    stage: a.stage ?? '?',
    attempt: a.attempt,
    maximumAttempts: a.maximumAttempts,
    state,
    progress: a.heartbeat ? childProgress(a, now, prevBase, bases) : null,
    problem,
    stalled,
  };
}

function childProgress(
  a: PendingActivity,
  now: number,
  prevBase: RateBase | undefined,
  bases: Record<string, RateBase>,
): ChildProgress {
  const h = a.heartbeat!;
  // Execute heartbeats bytes besides steps (since they were added): a big file moves the bar while its one step runs.
  const byBytes = h.unit === 'steps' && h.bytesTotal !== undefined && h.bytesTotal > 0;
  const done = byBytes ? (h.bytesDone ?? 0) : h.done;
  const total = byBytes ? h.bytesTotal! : h.total;
  const unit = byBytes ? 'bytes' : h.unit;
  const at = a.lastHeartbeatAt?.getTime() ?? now;
  const base =
    prevBase && prevBase.attempt === a.attempt && prevBase.done <= done ? prevBase : { attempt: a.attempt, at, done };
  bases[a.activityId] = base;
  const secs = (at - base.at) / 1000;
  const ratePerSec = secs >= 1 && done > base.done ? (done - base.done) / secs : null;
  const etaSec = ratePerSec ? Math.max(0, (total - done) / ratePerSec) : null;
  let detail = unit === 'bytes' ? `${prettyBytes(done)} of ${prettyBytes(total)}` : `${done} of ${total} steps`;
  if (byBytes) detail += `, step ${h.done} of ${h.total}`;
  return { done, total, unit, fraction: total > 0 ? Math.min(1, done / total) : null, detail, ratePerSec, etaSec };
}

/** `3 MB/s, 2m 10s left` or `12 steps/s, 40s left`; '' without a rate. */
export function rateText(p: ChildProgress): string {
  if (p.ratePerSec === null) return '';
  const rate =
    p.unit === 'bytes'
      ? `${prettyBytes(p.ratePerSec)}/s`
      : `${p.ratePerSec.toFixed(p.ratePerSec < 10 ? 1 : 0)} steps/s`;
  return p.etaSec === null ? rate : `${rate}, ${prettyMs(p.etaSec * 1000, { secondsDecimalDigits: 0 })} left`;
}

/** `20 s` (rounded up, at least 0 s). */
function seconds(ms: number): string {
  return `${Math.max(0, Math.ceil(ms / 1000))} s`;
}

/** Failure messages can hold stack-like newlines; a view line holds one line. */
function oneLine(s: string): string {
  const line = s.replace(/\s*\n\s*/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
