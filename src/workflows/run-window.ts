import { condition, isCancellation } from '@temporalio/workflow';

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
 * Runs `run` for each item with at most `gate.limit()` in flight, like `pkg -C N`. Before each
 * start the gate may hold the window (paused: it waits), stop it (nothing more starts; the running
 * items finish, so none is left half-done) or pause it (the caller continues as new; the items not
 * started are still waiting in its state). Items pushed onto `items` while the window runs are
 * taken too (a retried child). When the workflow is cancelled, nothing new starts, the running
 * items receive the cancellation (their activities roll back or finish) and are waited for, and
 * the window ends 'cancelled'. `run` records each item's outcome itself and never throws; its
 * failures count against the gate's budget there. `condition()` writes no history events: the gate
 * costs nothing in the audit trail.
 */
export async function runWindow<I>(
  items: I[],
  gate: WindowGate,
  run: (item: I) => Promise<ItemEnd>,
): Promise<WindowEnd> {
  let inFlight = 0;
  let cancelled = false;
  let end: WindowEnd = 'done';
  const runs: Promise<void>[] = [];
  const room = () => {
    const limit = gate.limit();
    return limit <= 0 || inFlight < limit;
  };
  for (let k = 0; k < items.length; k++) {
    try {
      await condition(() => cancelled || gate.stop() || (!gate.held() && room()));
    } catch (e) {
      if (!isCancellation(e)) throw e;
      cancelled = true;
      break;
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
    inFlight++;
    runs.push(
      run(items[k]).then((r) => {
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
