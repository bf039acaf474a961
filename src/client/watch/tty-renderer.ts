/**
 * The terminal view of a run: a live area, redrawn in place by log-update (it erases the
 * previous frame and wraps to the terminal's width), holding pkg(5)'s stage line, what holds the
 * run (paused, waiting for approval or the window) and its failure budget, a bar per
 * working child with its rate, ETA and attempt, its last error and next retry, and the warnings.
 * Lines that must stay (the stage line of a finished stage, notes) are persisted above it.
 */
import { createLogUpdate } from 'log-update';
import { rateText, type ChildView, type RunView } from './run-view';
import type { WatchRenderer } from './watch-renderer';

/** Children drawn with a bar; the rest are counted (the frame must fit a terminal). */
export const MAX_BARS = 15;
const BAR_WIDTH = 24;

/** `[██████░░░░░░░░░░░░░░░░░░]  25%`, or the state for a child without heartbeat progress. */
export function barText(c: ChildView): string {
  const p = c.progress;
  if (!p || p.fraction === null) return `[${' '.repeat(BAR_WIDTH)}]  ${c.state === 'working' ? 'working' : c.state}`;
  const full = Math.round(p.fraction * BAR_WIDTH);
  return `[${'█'.repeat(full)}${'░'.repeat(BAR_WIDTH - full)}] ${String(Math.floor(p.fraction * 100)).padStart(3)}%`;
}

/** The frame of a view: the lines of the live area. */
export function ttyFrame(view: RunView): string[] {
  const lines = [view.stageLine ?? `Waiting for ${view.workflowId} to answer...`];
  for (const l of view.controlLines) lines.push(`* ${l}`);
  const shown = view.children.slice(0, MAX_BARS);
  const nameWidth = Math.max(0, ...shown.map((c) => `${c.name} ${c.stage}`.length));
  for (const c of shown) {
    const p = c.progress;
    const parts = [`  ${`${c.name} ${c.stage}`.padEnd(nameWidth)}`, barText(c)];
    if (p) parts.push(p.detail);
    if (p && rateText(p)) parts.push(rateText(p));
    if (c.attempt > 1) parts.push(`attempt ${c.attempt}${c.maximumAttempts ? `/${c.maximumAttempts}` : ''}`);
    lines.push(parts.join('  '));
    if (c.problem) lines.push(`      ${c.problem}`);
    if (c.stalled) lines.push(`      stalled: ${c.stalled}`);
  }
  if (view.children.length > shown.length)
    lines.push(`  ... and ${view.children.length - shown.length} more in flight`);
  for (const w of view.warnings) lines.push(`! ${w}`);
  return lines;
}

/**
 * Whether `stream` is a terminal the live area can be drawn in: a TTY with a size (a pseudo-terminal
 * without one, e.g. under `script` with no terminal around it, has 0 rows, and log-update draws nothing there).
 */
export function canRedraw(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (stream.rows ?? 0) > 0 && (stream.columns ?? 0) > 0;
}

export class TtyRenderer implements WatchRenderer {
  private readonly log: ReturnType<typeof createLogUpdate>;
  private lastStageLine: string | null = null;

  constructor(stream: NodeJS.WriteStream = process.stdout) {
    this.log = createLogUpdate(stream);
  }

  update(view: RunView): void {
    // A stage line that changes stage (Planning -> Downloading) stays in the scrollback, as pkg(5) leaves it.
    if (this.lastStageLine && view.stageLine && stageOf(view.stageLine) !== stageOf(this.lastStageLine)) {
      this.log.clear();
      this.log.persist(this.lastStageLine);
    }
    if (view.stageLine) this.lastStageLine = view.stageLine;
    // A closed run answers no progress query: its last frame keeps the last stage line rather than "Waiting for ... to answer".
    const shown = view.finished && !view.stageLine ? { ...view, stageLine: this.lastStageLine } : view;
    this.log(ttyFrame(shown).join('\n'));
  }

  note(line: string): void {
    this.log.clear();
    this.log.persist(line);
  }

  finish(): void {
    this.log.done();
  }
}

/** `Planning` of `Planning: Linked images: 3/8 done`. */
function stageOf(line: string): string {
  return line.split(':')[0];
}
