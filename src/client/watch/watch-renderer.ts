import type { RunView } from './run-view';

/** Where a watch shows a run: the terminal's live area (TtyRenderer) or plain lines (LineRenderer). */
export interface WatchRenderer {
  /** Shows the view of this round. */
  update(view: RunView): void;
  /** A line that stays (a reconnect, the server unreachable), shown above the live area. */
  note(line: string): void;
  /** Ends the live area, leaving its last frame on screen; later output goes below it (a later `update` starts a new area there, e.g. after a prompt). */
  finish(): void;
}
