import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import type { Settled } from '../src/workflows/run-capped';

/**
 * runCapped waits for a free slot with @temporalio/workflow's `condition()`, which works only
 * inside a workflow activation. This unit test replaces `condition` alone (the real
 * `isCancellation` stays) with one that behaves like the SDK's: evaluated eagerly, then again
 * whenever the workflow wakes up (here: each turn of the event loop), and rejected with a
 * CancelledFailure when the workflow is cancelled. Its use inside real workflows is covered by
 * the workflow-*.test.ts files.
 */
const waiting = new Set<{ fn: () => boolean; resolve: () => void; reject: (e: unknown) => void }>();
let cancelledWith: CancelledFailure | null = null;
function condition(fn: () => boolean): Promise<void> {
  if (cancelledWith) return Promise.reject(cancelledWith);
  if (fn()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const w = { fn, resolve, reject };
    waiting.add(w);
    const poll = () => {
      if (!waiting.has(w)) return;
      if (fn()) {
        waiting.delete(w);
        resolve();
      } else setImmediate(poll);
    };
    setImmediate(poll);
  });
}
/** What `cancel` on the workflow does to a blocked condition: it rejects with CancelledFailure. */
function cancelWorkflow(): void {
  cancelledWith = new CancelledFailure('Workflow cancelled');
  for (const w of waiting) w.reject(cancelledWith);
  waiting.clear();
}

const wfPath = require.resolve('@temporalio/workflow');
const real = require(wfPath) as Record<string, unknown>;
require.cache[wfPath]!.exports = { ...real, condition };
const { runCapped } = require('../src/workflows/run-capped') as typeof import('../src/workflows/run-capped');

/** Lets pending promise callbacks and condition polls run (a few event-loop turns; no clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Items whose work the test finishes by hand; records start order and the most in flight at once. */
function controlled<T = string>() {
  const started: T[] = [];
  const pending = new Map<T, { resolve: (v: string) => void; reject: (e: unknown) => void }>();
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = (item: T) =>
    new Promise<string>((resolve, reject) => {
      started.push(item);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      pending.set(item, { resolve, reject });
    }).finally(() => inFlight--);
  return {
    fn,
    started,
    get maxInFlight() {
      return maxInFlight;
    },
    async succeed(item: T) {
      pending.get(item)!.resolve(`done ${item}`);
      pending.delete(item);
      await settle();
    },
    async fail(item: T, e: unknown) {
      pending.get(item)!.reject(e);
      pending.delete(item);
      await settle();
    },
  };
}

describe('runCapped: the cap', () => {
  it('runs at most `cap` items at once and starts them in item order as slots free up', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b', 'c', 'd', 'e'], 2, false, c.fn);
    await settle();
    assert.deepEqual(c.started, ['a', 'b']);
    await c.succeed('b');
    assert.deepEqual(c.started, ['a', 'b', 'c']);
    await c.succeed('a');
    assert.deepEqual(c.started, ['a', 'b', 'c', 'd']);
    await c.succeed('d');
    await c.succeed('c');
    await c.succeed('e');
    await run;
    assert.equal(c.maxInFlight, 2);
    assert.deepEqual(c.started, ['a', 'b', 'c', 'd', 'e']);
  });

  it('runs items one at a time with cap 1', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b', 'c'], 1, false, c.fn);
    await settle();
    for (const x of ['a', 'b', 'c']) {
      assert.equal(c.started.at(-1), x);
      await c.succeed(x);
    }
    await run;
    assert.equal(c.maxInFlight, 1);
  });

  for (const cap of [0, -1]) {
    it(`starts every item at once when cap is ${cap} (no limit)`, async () => {
      cancelledWith = null;
      const c = controlled();
      const run = runCapped(['a', 'b', 'c', 'd'], cap, false, c.fn);
      await settle();
      assert.deepEqual(c.started, ['a', 'b', 'c', 'd']);
      for (const x of ['d', 'c', 'b', 'a']) await c.succeed(x);
      await run;
    });
  }

  it('starts every item at once when the cap exceeds the number of items', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b'], 10, false, c.fn);
    await settle();
    assert.deepEqual(c.started, ['a', 'b']);
    await c.succeed('a');
    await c.succeed('b');
    await run;
  });

  it('returns an empty list for no items without calling fn', async () => {
    cancelledWith = null;
    const c = controlled();
    assert.deepEqual(await runCapped([], 2, true, c.fn), []);
    assert.deepEqual(c.started, []);
  });
});

describe('runCapped: results and failures', () => {
  it('returns one settlement per item in item order, whatever order they finish in', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b', 'c'], 0, false, c.fn);
    await settle();
    await c.succeed('c');
    await c.succeed('a');
    await c.succeed('b');
    assert.deepEqual(await run, [
      { ok: true, value: 'done a' },
      { ok: true, value: 'done b' },
      { ok: true, value: 'done c' },
    ]);
  });

  it('without failFast, records a failure and still runs every other item', async () => {
    cancelledWith = null;
    const c = controlled();
    const boom = new Error('boom');
    const run = runCapped(['a', 'b', 'c'], 1, false, c.fn);
    await settle();
    await c.fail('a', boom);
    await c.succeed('b');
    await c.succeed('c');
    assert.deepEqual(await run, [
      { ok: false, error: boom },
      { ok: true, value: 'done b' },
      { ok: true, value: 'done c' },
    ]);
  });

  it('with failFast, starts no new item after the first failure and marks those { ok: null }', async () => {
    cancelledWith = null;
    const c = controlled();
    const boom = new Error('boom');
    const run = runCapped(['a', 'b', 'c', 'd'], 2, true, c.fn);
    await settle();
    await c.fail('a', boom);
    assert.deepEqual(c.started, ['a', 'b'], 'c is not started after a failed');
    await c.succeed('b');
    assert.deepEqual(await run, [
      { ok: false, error: boom },
      { ok: true, value: 'done b' },
      { ok: null },
      { ok: null },
    ]);
    assert.deepEqual(c.started, ['a', 'b']);
  });

  it('with failFast, lets items already running finish and records their results', async () => {
    cancelledWith = null;
    const c = controlled();
    const boom = new Error('boom');
    const run = runCapped(['a', 'b', 'c'], 0, true, c.fn);
    await settle();
    await c.fail('b', boom);
    let done = false;
    void run.then(() => (done = true));
    await settle();
    assert.equal(done, false, 'runCapped waits for a and c');
    await c.succeed('a');
    await c.succeed('c');
    assert.deepEqual(await run, [
      { ok: true, value: 'done a' },
      { ok: false, error: boom },
      { ok: true, value: 'done c' },
    ]);
  });

  it('with failFast and no failure, runs every item', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b', 'c'], 1, true, c.fn);
    await settle();
    for (const x of ['a', 'b', 'c']) await c.succeed(x);
    assert.deepEqual(
      (await run).map((s: Settled<string>) => s.ok),
      [true, true, true],
    );
  });
});

describe('runCapped: cancellation', () => {
  it('when the workflow is cancelled, starts no new item, waits for the running ones, then rethrows the cancellation', async () => {
    cancelledWith = null;
    const c = controlled();
    const run = runCapped(['a', 'b', 'c', 'd'], 2, false, c.fn);
    let settled: unknown = 'pending';
    run.then(
      (v) => (settled = v),
      (e) => (settled = e),
    );
    const outcome = () => settled; // a call, so assert.equal below does not narrow it for later reads
    await settle();
    cancelWorkflow();
    await settle();
    assert.equal(outcome(), 'pending', 'still waiting for a and b');
    // The running items' activities see the cancellation too; one rolls back, one had finished.
    await c.fail('a', cancelledWith);
    await c.succeed('b');
    assert.ok(outcome() instanceof CancelledFailure, `rejected with the cancellation, got ${String(outcome())}`);
    assert.deepEqual(c.started, ['a', 'b']);
  });

  it('rethrows a cancellation an item failed with, once every item has settled', async () => {
    cancelledWith = null;
    const c = controlled();
    const cancelled = new CancelledFailure('activity cancelled');
    const run = runCapped(['a', 'b'], 0, false, c.fn);
    const rejected = assert.rejects(run, (e) => e === cancelled);
    await settle();
    await c.fail('a', cancelled);
    await c.succeed('b');
    await rejected;
  });

  it('rethrows an error that is not a cancellation from the slot wait as it is', async () => {
    const odd = new Error('not a cancellation');
    cancelledWith = odd as unknown as CancelledFailure; // the next condition() rejects with it
    try {
      await assert.rejects(
        runCapped(['a'], 1, false, async () => 'x'),
        (e) => e === odd,
      );
    } finally {
      cancelledWith = null;
    }
  });
});
