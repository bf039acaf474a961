/**
 * Calls `fn` at most once per `everyMs` (the first call always goes through); `flush` sends the
 * last value held back. Heartbeats are throttled here to once a second so that a 50,000-step
 * execute does not queue 50,000 of them.
 */
export function throttle<T>(everyMs: number, fn: (v: T) => void, now: () => number = Date.now): { push: (v: T) => void; flush: () => void } {
  let last = -Infinity;
  let held: { v: T } | null = null;
  return {
    push(v) {
      const t = now();
      if (t - last >= everyMs) {
        last = t;
        held = null;
        fn(v);
      } else held = { v };
    },
    flush() {
      if (held) {
        fn(held.v);
        held = null;
        last = now();
      }
    },
  };
}
