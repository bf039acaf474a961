/**
 * Bounded concurrency for Node-side code (stages, cache, activities, dev tools, benchmarks).
 * Plain promises, no I/O, so it lives with the Node-free model; workflows use
 * src/workflows/run-capped.ts instead, which gates on condition() to stay deterministic and
 * records each item's settlement.
 */

/**
 * Calls `fn(item, index)` for every item, starting them in order, at most `limit` at once
 * (`limit <= 0`: all at once). After the first failure no further item starts (items already
 * running finish, so none is left half-done) and, once they settled, that first failure is
 * thrown; later failures are dropped. With `keepGoing`, every item still starts and the first
 * failure is thrown at the end. Resolves when every started call settled.
 */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<unknown>,
  opts: { keepGoing?: boolean } = {},
): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length && (opts.keepGoing || !failed)) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        if (!failed) [failed, failure] = [true, e];
      }
    }
  };
  await Promise.all(Array.from({ length: limit <= 0 ? items.length : Math.min(limit, items.length) }, lane));
  if (failed) throw failure;
}
