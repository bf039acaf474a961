import { condition, isCancellation } from '@temporalio/workflow';

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown } | { ok: null };

/**
 * Runs `fn` for each item with at most `cap` running at once (`cap <= 0`: no limit), like
 * `pkg -C N`. With `failFast`, the first failure stops new items from starting (those get
 * `{ ok: null }`); items already running are allowed to finish, so none is left half-done.
 * `condition()` writes no history events, so the gate costs nothing in the audit trail.
 * When the workflow is cancelled, no new item starts; the running ones receive the cancellation
 * (their activities roll back or finish) and are waited for before the cancellation is rethrown,
 * so every item's settlement is recorded.
 */
export async function runCapped<I, T>(
  items: I[],
  cap: number,
  failFast: boolean,
  fn: (item: I) => Promise<T>,
): Promise<Settled<T>[]> {
  const out: Settled<T>[] = items.map(() => ({ ok: null }));
  const limit = cap <= 0 ? Infinity : cap;
  let inFlight = 0;
  let failed = false;
  let cancelled: unknown = null;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      await condition(() => inFlight < limit || (failFast && failed));
    } catch (e) {
      if (!isCancellation(e)) throw e;
      cancelled = e;
      break;
    }
    if (failFast && failed) break;
    inFlight++;
    runs.push(
      fn(items[i])
        .then(
          (value) => {
            out[i] = { ok: true, value };
          },
          (error) => {
            out[i] = { ok: false, error };
            failed = true;
            if (isCancellation(error) && cancelled === null) cancelled = error;
          },
        )
        .finally(() => {
          inFlight--;
        }),
    );
  }
  await Promise.all(runs);
  if (cancelled !== null) throw cancelled;
  return out;
}
