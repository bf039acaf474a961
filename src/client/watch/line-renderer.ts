/**
 * The plain view of a run, for logs and pipes: one line per change, never a redraw. A child's
 * line is printed when its state, attempt or error changes, when it stalls, and each time its
 * progress passes a quarter; countdowns are not changes (a retry in 20 s then 19 s is one line).
 * A line about the run's controls (paused, waiting for approval or the window, failures) is
 * printed when it appears or changes, its countdown aside, and a hold that ends is said
 * (`* no longer paused`).
 */
import { rateText, type ChildView, type RunView } from './run-view';
import type { WatchRenderer } from './watch-renderer';

/** The line of a child: `zone:z1 prepare: working 25% 100 MB of 400 MB, 20 MB/s, 15s left, attempt 2/20; LOCKED: ..., retry 3 in 20 s`. */
export function childLine(c: ChildView): string {
  const p = c.progress;
  const bits: string[] = [c.state];
  if (p?.fraction !== null && p?.fraction !== undefined) bits.push(`${Math.floor(p.fraction * 100)}%`);
  if (p) bits.push(p.detail);
  let line = `${c.name} ${c.stage}: ${bits.join(' ')}`;
  if (p && rateText(p)) line += `, ${rateText(p)}`;
  if (c.attempt > 1) line += `, attempt ${c.attempt}${c.maximumAttempts ? `/${c.maximumAttempts}` : ''}`;
  if (c.problem) line += `; ${c.problem}`;
  if (c.stalled) line += `; stalled: ${c.stalled}`;
  return line;
}

/** What must differ for a child's line to be printed again. */
function childKey(c: ChildView): string {
  const quarter = c.progress?.fraction != null ? Math.floor(c.progress.fraction * 4) : -1;
  const problem = c.problem?.replace(/ in \d+ s$/, '') ?? '';
  return `${c.state}|${c.attempt}|${quarter}|${problem}|${c.stalled ? 'stalled' : ''}`;
}

/** A control line minus its countdown (`opens ... (in 3h 5m)`): the countdown alone is no change. */
export function withoutCountdown(line: string): string {
  return line.replace(/ \(in [^)]*\)/g, '');
}

/** `paused`, `waiting for approval`, `waiting for the window`: the hold a control line names, else null. */
function holdOf(line: string): string | null {
  return /^(paused|waiting for [^:]+):/.exec(line)?.[1] ?? null;
}

export class LineRenderer implements WatchRenderer {
  private stageLine: string | null = null;
  private readonly children = new Map<string, { key: string; child: ChildView }>();
  private warnings = new Set<string>();
  private controls = new Set<string>();

  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  update(view: RunView): void {
    if (view.stageLine && view.stageLine !== this.stageLine) this.write(view.stageLine);
    this.stageLine = view.stageLine ?? this.stageLine;
    const controls = new Set<string>();
    for (const l of view.controlLines) {
      const key = withoutCountdown(l);
      if (!this.controls.has(key)) this.write(`* ${l}`);
      controls.add(key);
    }
    // A hold that ends is said once: `* no longer paused` (a log reader would not see the line go).
    const heads = new Set([...controls].map(holdOf));
    for (const old of this.controls) {
      const head = holdOf(old);
      if (head && !heads.has(head)) this.write(`* no longer ${head}`);
    }
    this.controls = controls;
    const now = new Set<string>();
    for (const c of view.children) {
      now.add(c.activityId);
      const key = childKey(c);
      if (this.children.get(c.activityId)?.key !== key) this.write(`  ${childLine(c)}`);
      this.children.set(c.activityId, { key, child: c });
    }
    for (const [id, { child }] of this.children)
      if (!now.has(id)) {
        this.children.delete(id);
        this.write(`  ${child.name} ${child.stage}: ended`);
      }
    // A warning is printed when it appears (its wording, e.g. "last poll 95 s ago", is compared without numbers).
    const warnings = new Set<string>();
    for (const w of view.warnings) {
      const key = w.replace(/\d+ s ago/, 'N s ago');
      if (!this.warnings.has(key)) this.write(`! ${w}`);
      warnings.add(key);
    }
    this.warnings = warnings;
  }

  note(line: string): void {
    this.write(line);
  }

  finish(): void {}
}
