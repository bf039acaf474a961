/**
 * Polls a server with backoff: the next round waits longer while nothing changes (a 300 ms poll
 * of a long run once filled the server's query buffer) and after errors, and a connection that
 * keeps failing is dropped and made again (the server restarted, the network dropped).
 */

/** What the caller says about one round's value. */
export type RoundOutcome = 'changed' | 'same' | 'stop';

export interface BackoffPollerOptions<C, T> {
  /** Makes a connection; called at the start and again after `reconnectAfter` failed rounds in a row. May throw (counted as a failed round). */
  connect: () => Promise<C>;
  /** Closes a connection that is dropped; errors are ignored. */
  close: (c: C) => Promise<void>;
  /** One round's reading. */
  read: (c: C) => Promise<T>;
  /** Gets each reading; 'changed' resets the interval, 'same' stretches it, 'stop' ends the polling. */
  onValue: (v: T) => RoundOutcome | Promise<RoundOutcome>;
  /** Gets each failure and the wait before the next try, in ms; return false to stop (an error that waiting will not cure). */
  onError: (e: unknown, retryInMs: number) => boolean;
  /** The wait after a round that changed, in ms. @default 1000 */
  intervalMs?: number;
  /** The longest wait, in ms, whether unchanged or failing. @default 10000 */
  maxIntervalMs?: number;
  /** Failed rounds in a row after which the connection is made again. @default 2 */
  reconnectAfter?: number;
}

/** The waits: `interval * 1.5^unchanged` and `interval * 2^failures`, each at most `max`, in ms. */
export function nextWait(intervalMs: number, maxIntervalMs: number, unchanged: number, failures: number): number {
  const factor = failures > 0 ? 2 ** failures : 1.5 ** unchanged;
  return Math.round(Math.min(maxIntervalMs, intervalMs * factor));
}

/**
 * Polls until `onValue` says 'stop', `onError` returns false, or `stop()` is called; `done`
 * settles then (it never rejects: errors go to onError). The connection is closed at the end.
 */
export class BackoffPoller<C, T> {
  /** Settles when the polling has ended. */
  readonly done: Promise<void>;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(private readonly o: BackoffPollerOptions<C, T>) {
    this.done = this.loop();
  }

  /** Ends the polling after the round at work (at once when waiting). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const interval = this.o.intervalMs ?? 1000;
    const max = this.o.maxIntervalMs ?? 10_000;
    const reconnectAfter = this.o.reconnectAfter ?? 2;
    let conn: C | null = null;
    let unchanged = 0;
    let failures = 0;
    try {
      while (!this.stopped) {
        try {
          conn ??= await this.o.connect();
          const outcome = await this.o.onValue(await this.o.read(conn));
          failures = 0;
          if (outcome === 'stop') return;
          unchanged = outcome === 'same' ? unchanged + 1 : 0;
        } catch (e) {
          failures++;
          if (conn !== null && failures >= reconnectAfter) {
            const old: C = conn;
            conn = null;
            await this.o.close(old).catch(() => undefined);
          }
          if (!this.o.onError(e, nextWait(interval, max, unchanged, failures))) return;
        }
        if (this.stopped) return;
        await new Promise<void>((r) => {
          const t = setTimeout(r, nextWait(interval, max, unchanged, failures));
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
      }
    } finally {
      if (conn !== null) await this.o.close(conn).catch(() => undefined);
    }
  }
}
