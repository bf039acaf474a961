/**
 * The plain view of a run, for logs and pipes: one line per change, never a redraw. A child's
 * line is printed when its state, attempt or error changes, when it stalls, and each time its
 * progress passes a quarter; countdowns are not changes (a retry in 20 s then 19 s is one line).
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

export class LineRenderer implements WatchRenderer {
  private stageLine: string | null = null;
  private readonly children = new Map<string, { key: string; child: ChildView }>();
  private warnings = new Set<string>();

  constructor(private readonly write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  update(view: RunView): void {
    if (view.stageLine && view.stageLine !== this.stageLine) this.write(view.stageLine);
    this.stageLine = view.stageLine ?? this.stageLine;
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
