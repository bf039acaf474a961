import { activityInfo, heartbeat, log } from '@temporalio/activity';
import type { HeartbeatProgress } from '../contract/activity-types';

/**
 * Heartbeats for one activity call, at most once per `everyMs`: progress pushed more often is
 * held back (a 50,000-step execute must not queue 50,000 heartbeats), and when nothing is
 * pushed the last details are repeated, so a dead worker is noticed within the heartbeat
 * timeout and cancellation (which only arrives with a heartbeat response) still gets through.
 * The first heartbeat goes out `everyMs` after the start and none after the end: an activity
 * shorter than that (most plans, prepares and executes of small zones) costs the server no
 * heartbeat at all, where two used to be sent (a first one at once, a last one at the end).
 * A retry starts from the details its previous attempt last sent.
 */
export class Heartbeater {
  private last: HeartbeatProgress | undefined;
  private sentAt = Date.now();
  private readonly timer: NodeJS.Timeout;

  /**
   * `details`: when given, what every heartbeat sends instead of the pushed progress (a plan
   * lane's children planned so far: the lane's own heartbeat must not be overwritten by a child's).
   */
  constructor(
    private readonly everyMs: number,
    private readonly details?: () => unknown,
  ) {
    this.last = activityInfo().heartbeatDetails as HeartbeatProgress | undefined;
    if (!details && this.last?.stage)
      log.info(
        `${this.last.stage} resumes after attempt ${activityInfo().attempt - 1} stopped at ${this.last.done}/${this.last.total} ${this.last.unit}`,
      );
    this.timer = setInterval(() => {
      if (Date.now() - this.sentAt >= this.everyMs) this.send();
    }, everyMs);
  }

  push(d: HeartbeatProgress): void {
    this.last = d;
    if (Date.now() - this.sentAt >= this.everyMs) this.send();
  }

  /** Stops the keep-alive (the activity's completion follows: a last heartbeat would only cost a round trip). */
  stop(): void {
    clearInterval(this.timer);
  }

  private send(): void {
    this.sentAt = Date.now();
    heartbeat(this.details ? this.details() : this.last);
  }
}
