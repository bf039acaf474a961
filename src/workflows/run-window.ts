import { condition, isCancellation } from '@temporalio/workflow';

/** How one item went: its activity completed, failed, or was cancelled (the workflow is being cancelled). */
export type ItemEnd = 'ok' | 'failed' | 'cancelled';

/** How a window ended: every item settled; stopped after a failure (fail-fast); paused to continue as new; cancelled. */
export type WindowEnd = 'done' | 'failed' | 'paused' | 'cancelled';

/**
 * Runs `run` for each item with at most `limit` in flight, like `pkg -C N`. With `failFast`,
 * the first failure stops new items from starting; items already running finish, so none is
 * left half-done. `shouldPause()` is asked before each start: when it says yes, nothing more
 * starts, the running items finish and the window ends 'paused' (the caller continues as new;
 * the items not started are still waiting in its state). When the workflow is cancelled, nothing
 * new starts, the running items receive the cancellation (their activities roll back or finish)
 * and are waited for, and the window ends 'cancelled'. `run` records each item's outcome itself
 * and never throws. `condition()` writes no history events: the gate costs nothing in the audit trail.
 */
export async function runWindow<I>(
  items: readonly I[],
  limit: number,
  failFast: boolean,
  shouldPause: () => boolean,
  run: (item: I) => Promise<ItemEnd>,
): Promise<WindowEnd> {
  let inFlight = 0;
  let failed = false;
  let cancelled = false;
  let paused = false;
  const runs: Promise<void>[] = [];
  for (const item of items) {
    try {
      await condition(() => inFlight < limit || (failFast && failed) || cancelled);
    } catch (e) {
      if (!isCancellation(e)) throw e;
      cancelled = true;
      break;
    }
    if ((failFast && failed) || cancelled) break;
    if (shouldPause()) {
      paused = true;
      break;
    }
    inFlight++;
    runs.push(
      run(item).then((end) => {
        inFlight--;
        if (end === 'failed') failed = true;
        if (end === 'cancelled') cancelled = true;
      }),
    );
  }
  await Promise.all(runs);
  return cancelled ? 'cancelled' : failed && failFast ? 'failed' : paused ? 'paused' : failed ? 'failed' : 'done';
}
