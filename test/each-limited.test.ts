import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachLimited } from '../src/model/each-limited';

/** A call that waits for the test to release it, so the test decides the order things end in. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('eachLimited', () => {
  it('runs every item once, in order, never more than `limit` at once', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await eachLimited([10, 11, 12, 13, 14, 15, 16], 3, async (item, i) => {
      assert.equal(item, i + 10);
      seen.push(i);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(peak, 3);
  });

  it('runs everything at once when limit <= 0, and does nothing for no items', async () => {
    const gates = [gate(), gate(), gate()];
    let started = 0;
    const all = eachLimited(gates, 0, async (g) => {
      started++;
      await g.opened;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(started, 3);
    gates.forEach((g) => g.open());
    await all;
    await eachLimited([], 2, async () => assert.fail('called for no items'));
  });

  it('starts nothing after a failure, lets running ones finish, then throws the first failure', async () => {
    const slow = gate();
    const events: string[] = [];
    const run = eachLimited(['slow', 'bad', 'later-bad', 'never'], 2, async (name) => {
      events.push(`start ${name}`);
      if (name === 'slow') await slow.opened;
      if (name.endsWith('bad')) throw new Error(name);
      events.push(`end ${name}`);
    });
    await new Promise((r) => setImmediate(r));
    slow.open();
    await assert.rejects(run, { message: 'bad' });
    assert.deepEqual(events, ['start slow', 'start bad', 'end slow']);
  });

  it('with keepGoing starts every item and throws the first failure at the end', async () => {
    const started: number[] = [];
    await assert.rejects(
      eachLimited(
        [0, 1, 2, 3],
        1,
        async (i) => {
          started.push(i);
          if (i === 1 || i === 2) throw new Error(`item ${i}`);
        },
        { keepGoing: true },
      ),
      { message: 'item 1' },
    );
    assert.deepEqual(started, [0, 1, 2, 3]);
  });
});
