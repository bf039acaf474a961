/**
 * The live view's lines about a run's controls (progress.controls): what holds it (paused,
 * waiting for approval, waiting for the window) with how to move it on, and its failure budget.
 * Pure: `now` is the snapshot's time, so both renderers and unit tests see the same lines.
 */
import prettyMs from 'pretty-ms';
import type { ControlState } from '../../contract/controls';
import { failuresText, shortDigest } from '../controls/control-state-lines';

/** What controlLines needs besides the state. */
export interface ControlLinesContext {
  workflowId: string;
  /** "Now", ms since the epoch (the snapshot's time). */
  now: number;
  /** Plans waiting for approval (the parent's and the children's), when known. */
  plans: number | null;
  /** The zone times are shown in (an IANA name). @default the viewer's own */
  timeZone?: string;
}

/** `2026-12-06 02:00` in `timeZone` (default the viewer's): an operator reads the window in local time. */
export function localTime(ms: number, timeZone?: string): string {
  // sv-SE writes dates as ISO 8601 does (2026-12-06 02:00); other locales reorder them.
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(ms);
}

/** `3h 5m` (at most two units, no seconds past a minute): countdowns in the view. */
export function untilText(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.ceil(ms / 1000))}s`;
  return prettyMs(Math.floor(ms / 60_000) * 60_000, { unitCount: 2 });
}

/**
 * The lines for `c`, in this order and only those that apply:
 * - `paused: no new child work starts (resume: npm run control -- <id> resume)`
 * - `waiting for approval: 3 plans, set digest 1a2b3c4d5e6f… (see them and approve: npm run update -- --follow <id> --approve; or npm run control -- <id> approve)`
 * - `waiting for the window: opens 2026-12-06 02:00 (in 3h 5m), closes 2026-12-06 05:00`
 *   (`window: ...` when the run is not held by it: stages before execute go on before the window)
 * - `failures 1 of 2 allowed` (when the run has a budget or a failure)
 * - `skipped 2 (skipChild)`
 * - `holding: <the run's own words>` when something holds it that none of the above names.
 */
export function controlLines(c: ControlState, ctx: ControlLinesContext): string[] {
  const lines: string[] = [];
  const id = ctx.workflowId;
  const holding = c.holding ?? '';
  let named = false;
  if (c.paused) {
    lines.push(`paused: no new child work starts (resume: npm run control -- ${id} resume)`);
    named ||= /paused/.test(holding);
  }
  if (c.approval === 'waiting') {
    const plans = ctx.plans === null ? '' : `${ctx.plans} plan${ctx.plans === 1 ? '' : 's'}, `;
    const digest = c.setDigest ? `set digest ${shortDigest(c.setDigest)}` : 'no set digest yet';
    lines.push(
      `waiting for approval: ${plans}${digest} (see them and approve: npm run update -- --follow ${id} --approve; or npm run control -- ${id} approve | reject)`,
    );
    named ||= /approval/.test(holding);
  }
  const w = windowLine(c, ctx);
  if (w) {
    lines.push(w);
    named ||= /window/.test(holding);
  }
  if (c.maxFailures > 0 || c.failures > 0) lines.push(`failures ${failuresText(c)}`);
  if (c.skipped > 0) lines.push(`skipped ${c.skipped} (skipChild)`);
  if (holding && !named) lines.push(`holding: ${holding}`);
  return lines;
}

function windowLine(c: ControlState, ctx: ControlLinesContext): string | null {
  const w = c.window;
  if (!w || (!w.notBefore && !w.notAfter)) return null;
  const opens = w.notBefore ? Date.parse(w.notBefore) : null;
  const closes = w.notAfter ? Date.parse(w.notAfter) : null;
  const at = (ms: number) => localTime(ms, ctx.timeZone);
  if (closes !== null && ctx.now >= closes)
    return `window closed at ${at(closes)}: children not executed by then are deferred`;
  const closing = closes !== null ? `, closes ${at(closes)}` : '';
  if (opens !== null && ctx.now < opens) {
    const waiting = /window/.test(c.holding ?? '');
    return `${waiting ? 'waiting for the window: ' : 'window: '}opens ${at(opens)} (in ${untilText(opens - ctx.now)})${closing}`;
  }
  return closes !== null ? `window open, closes ${at(closes)} (in ${untilText(closes - ctx.now)})` : null;
}
