import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';

/** How one item went: its activity completed, failed, or was cancelled (the workflow is being cancelled). */
export type ItemEnd = 'ok' | 'failed' | 'cancelled';

/**
 * How a window ended: every item settled; `stopped`: nothing new was started any more (the failure
 * budget was exceeded, the plans were rejected, or the maintenance window closed: the gate says
 * which); paused to continue as new; cancelled.
 */
export type WindowEnd = 'done' | 'stopped' | 'paused' | 'cancelled';

/** What a window asks before it starts an item; read again whenever the workflow wakes up. */
export interface WindowGate {
  /** Items in flight at most now (`<= 0`: no limit, as pkg's -C); may change while the window runs (`setConcurrency`). */
  limit(): number;
  /** True while nothing new may start but the window must wait rather than end (`pause`). */
  held(): boolean;
  /** True once nothing new may start and the window should end `stopped` (failure budget exceeded, rejected, window closed). */
  stop(): boolean;
  /** Asked before each start: true to end `paused` so the caller continues as new (history budget). */
  shouldPause(): boolean;
}

/**
 * Several items as one start (a planChildren activity): the window counts a lane as one item in
 * flight, since it works its items one after another. Windows of runs recorded before lanes
 * have none (and then keep their old way, see runWindow).
 */
export interface WindowLanes<I> {
  /**
   * How many of the `left` items not yet started the next start takes (1: a start of its own);
   * `places`: items in flight at most (the window's limit; with no limit, the items left).
   */
  size(left: number, places: number): number;
  /** Works `items` (2 or more) as one start; items it did not start it pushes back onto the window's list. */
  run(items: I[]): Promise<ItemEnd>;
}

/**
 * Runs `run` for each item with at most `gate.limit()` in flight, like `pkg -C N`. Before each
 * start the gate may hold the window (paused: it waits), stop it (nothing more starts; the running
 * items finish, so none is left half-done) or pause it (the caller continues as new; the items not
 * started are still waiting in its state). Items pushed onto `items` while the window runs are
 * taken too (a retried child, the rest of a lane), until every start has ended. When the workflow
 * is cancelled, nothing new starts, the running items receive the cancellation (their activities
 * roll back or finish) and are waited for, and the window ends 'cancelled'. `run` records each
 * item's outcome itself and never throws; its failures count against the gate's budget there.
 * `condition()` writes no history events: the gate costs nothing in the audit trail.
 */
export async function runWindow<I>(
  items: I[],
  gate: WindowGate,
  run: (item: I) => Promise<ItemEnd>,
  lanes?: WindowLanes<I>,
): Promise<WindowEnd> {
  let inFlight = 0;
  let cancelled = false;
  let end: WindowEnd = 'done';
  const runs: Promise<void>[] = [];
  const room = () => {
    const limit = gate.limit();
    return limit <= 0 || inFlight < limit;
  };
  const ready = () => cancelled || gate.stop() || (!gate.held() && room());
  let k = 0;
  // Without lanes (runs recorded before them) the window ends once every item has started, and
  // every start awaits condition() directly: replay of those histories needs exactly that (even
  // one more promise between the two reorders an update's reply and an activity's schedule).
  while (k < items.length || (lanes && inFlight > 0)) {
    const waitingForPushes = k >= items.length;
    // condition() costs a few promises, each of which the SDK gives a stack trace (for its stack
    // trace query): with ~0 ms of work per child that was a tenth of the workflow's CPU, so with
    // lanes it is awaited only when the item cannot start at once.
    if (waitingForPushes || !lanes || !ready() || CancellationScope.current().consideredCancelled) {
      try {
        // Every item has started: a start still running may push items back (a lane's rest).
        await condition(waitingForPushes ? () => cancelled || k < items.length || inFlight === 0 : ready);
      } catch (e) {
        if (!isCancellation(e)) throw e;
        cancelled = true;
        break;
      }
      if (waitingForPushes) {
        if (cancelled) break;
        continue;
      }
    }
    if (cancelled) break;
    if (gate.stop()) {
      end = 'stopped';
      break;
    }
    if (gate.shouldPause()) {
      end = 'paused';
      break;
    }
    const left = items.length - k;
    const limit = gate.limit();
    const n = lanes ? Math.max(1, Math.min(lanes.size(left, limit > 0 ? limit : left), left)) : 1;
    inFlight++;
    const started = n > 1 ? lanes!.run(items.slice(k, k + n)) : run(items[k]);
    k += n;
    runs.push(
      started.then((r) => {
        inFlight--;
        if (r === 'cancelled') cancelled = true;
      }),
    );
  }
  await Promise.all(runs);
  if (cancelled) return 'cancelled';
  // A failure of the last items in flight may exceed the budget after every item started.
  if (end === 'done' && gate.stop()) return 'stopped';
  return end;
}
