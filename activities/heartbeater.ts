import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { HeartbeatProgress } from './types';

/**
 * Heartbeats for one activity call, at most once per `everyMs`: progress pushed more often is
 * held back (a 50,000-step execute must not queue 50,000 heartbeats), and when nothing is
 * pushed the last details are repeated, so a dead worker is noticed within the heartbeat
 * timeout and cancellation (which only arrives with a heartbeat response) still gets through.
 * A retry starts from the details its previous attempt last sent.
 */
export class Heartbeater {
  private last: HeartbeatProgress | undefined;
  private sentAt = -Infinity;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly everyMs: number) {
    this.last = activityInfo().heartbeatDetails as HeartbeatProgress | undefined;
    if (this.last) log.info(`${this.last.stage} resumes after attempt ${activityInfo().attempt - 1} stopped at ${this.last.done}/${this.last.total} ${this.last.unit}`);
    this.timer = setInterval(() => {
      if (Date.now() - this.sentAt >= this.everyMs) this.send();
    }, everyMs);
  }

  /** Where the previous attempt got to, if this is a retry. */
  get resumedFrom(): HeartbeatProgress | undefined {
    return activityInfo().heartbeatDetails as HeartbeatProgress | undefined;
  }

  push(d: HeartbeatProgress): void {
    this.last = d;
    if (Date.now() - this.sentAt >= this.everyMs) this.send();
  }

  /** Sends the newest details (the final count) and stops the keep-alive. */
  stop(final = true): void {
    clearInterval(this.timer);
    if (final && this.last) heartbeat(this.last);
  }

  private send(): void {
    this.sentAt = Date.now();
    heartbeat(this.last);
  }
}
