import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { audit } from '../src/image/audit';
import { Image } from '../src/image/image';
import { runDirectUpdateProcess } from '../bench/direct-process';
import { DirectStage, runDirectUpdate, StageEvent } from '../bench/direct-update';
import { buildDemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';
import { emptyOriginFor, release, setZonePublishers } from './helpers/workflow-fixture';

after(cleanup);

/** Most stages of `stage` (children, or the parent) running at the same time. */
function maxInFlight(events: StageEvent[], stage: DirectStage): number {
  let now = 0;
  let max = 0;
  for (const e of events.filter((x) => x.stage === stage)) {
    now += e.phase === 'start' ? 1 : -1;
    max = Math.max(max, now);
  }
  return max;
}

/** Index of the first event matching, or of the last one with `last`. */
function at(events: StageEvent[], match: Partial<StageEvent>, last = false): number {
  const ok = (e: StageEvent) => Object.entries(match).every(([k, v]) => e[k as keyof StageEvent] === v);
  const i = last ? events.length - 1 - [...events].reverse().findIndex(ok) : events.findIndex(ok);
  assert.ok(events.some(ok), `no event ${JSON.stringify(match)}`);
  return i;
}

describe("runDirectUpdate (the image model in process, the workflow's order and cap)", () => {
  it('checks every child, then plans, prepares and executes parent first, at most `concurrency` children at a time', async () => {
    const host = await buildDemoHost(await tempDir('li-direct'), 4, undefined, { zones: 'clone' });
    const events: StageEvent[] = [];
    const r = await runDirectUpdate(host, { concurrency: 2, stageDelayMs: 20, onEvent: (e) => events.push(e) });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.failures, []);
    // The cloned zones need only files the parent's plan delivers: as in the workflow, the
    // parent's prepare is the only one (src/stages/content-within.ts).
    assert.deepEqual(r.calls, { 'publisher-check': 4, plan: 5, prepare: 1, execute: 5 });
    assert.equal(r.updated, 5);
    // pkg(5) checks every child's publishers at once, without the cap.
    assert.equal(
      maxInFlight(
        events.filter((e) => e.name !== 'parent'),
        'publisher-check',
      ),
      4,
    );
    for (const s of ['plan', 'execute'] as const)
      assert.equal(
        maxInFlight(
          events.filter((e) => e.name !== 'parent'),
          s,
        ),
        2,
        s,
      );
    // Every stage ends everywhere before the next begins; the parent goes first in plan, prepare, execute.
    const order: [Partial<StageEvent>, Partial<StageEvent>][] = [];
    const stages = ['plan', 'prepare', 'execute'] as const;
    order.push([
      { stage: 'publisher-check', phase: 'end' },
      { stage: 'plan', phase: 'start' },
    ]);
    for (const s of ['plan', 'execute'] as const)
      order.push([
        { stage: s, name: 'parent', phase: 'end' },
        { stage: s, phase: 'start', name: 'zone:z1' },
      ]);
    for (let k = 0; k < stages.length - 1; k++)
      order.push([
        { stage: stages[k], phase: 'end' },
        { stage: stages[k + 1], phase: 'start' },
      ]);
    for (const [before, next] of order)
      assert.ok(
        at(events, before, true) < at(events, next),
        `${JSON.stringify(before)} before ${JSON.stringify(next)}`,
      );
    assert.equal(events.filter((e) => e.phase === 'start' && e.stage === 'plan')[0].name, 'parent');
    const parent = await Image.open(host.parent);
    for (const c of host.children) {
      assert.equal(await release(c.path), 'Demo OS 1.1');
      assert.equal((await audit(parent, await Image.open(c.path))).status, 'synced');
    }

    // Again: nothing to do, no prepare or execute; a cap of 0 runs every child at once.
    const again: StageEvent[] = [];
    const r2 = await runDirectUpdate(host, { concurrency: 0, stageDelayMs: 5, onEvent: (e) => again.push(e) });
    assert.equal(r2.status, 'nothing-to-do');
    assert.deepEqual(r2.calls, { 'publisher-check': 4, plan: 5, prepare: 0, execute: 0 });
    assert.equal(
      maxInFlight(
        again.filter((e) => e.name !== 'parent'),
        'plan',
      ),
      4,
    );
  });

  it('collects every publisher mismatch and stops before planning; a failed plan stops further children and every later stage', async () => {
    const host = await buildDemoHost(await tempDir('li-direct'), 4, undefined, { zones: 'clone' });
    for (const k of [1, 3])
      await setZonePublishers(host.children[k].path, (pubs) => pubs.map((p) => ({ ...p, sticky: false })));
    const r = await runDirectUpdate(host, { concurrency: 1 });
    assert.equal(r.status, 'failed');
    assert.deepEqual(
      r.failures.map((f) => [f.name, f.stage, f.code]),
      [
        ['zone:z2', 'publisher-check', 'PUBLISHER_MISMATCH'],
        ['zone:z4', 'publisher-check', 'PUBLISHER_MISMATCH'],
      ],
    );
    assert.deepEqual(r.calls, { 'publisher-check': 4, plan: 0, prepare: 0, execute: 0 });

    for (const k of [1, 3])
      await setZonePublishers(host.children[k].path, (pubs) => pubs.map((p) => ({ ...p, sticky: true })));
    await emptyOriginFor(host.children[1].path);
    const r2 = await runDirectUpdate(host, { concurrency: 1 });
    assert.equal(r2.status, 'failed');
    assert.deepEqual(
      r2.failures.map((f) => [f.name, f.stage]),
      [['zone:z2', 'plan']],
    );
    assert.deepEqual(
      r2.calls,
      { 'publisher-check': 4, plan: 3, prepare: 0, execute: 0 },
      'parent, z1, z2: z3 and z4 never start',
    );
    assert.equal(await release(host.parent), 'Demo OS 1.0');
  });

  it('runDirectUpdateProcess does the same update in a process of its own and returns its result', async () => {
    const host = await buildDemoHost(await tempDir('li-direct'), 2, undefined, { zones: 'clone' });
    const r = await runDirectUpdateProcess(host, { concurrency: 2 });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.calls, { 'publisher-check': 2, plan: 3, prepare: 1, execute: 3 });
    assert.ok(r.wallSeconds > 0);
    // The other process changed the images on disk.
    assert.equal(await release(host.parent), 'Demo OS 1.1');
    const parent = await Image.open(host.parent);
    for (const c of host.children) assert.equal((await audit(parent, await Image.open(c.path))).status, 'synced');
    // An image-model error is the run's failure (as the workflow's describe refuses a bad path)...
    const bad = await runDirectUpdateProcess({ ...host, parent: '/nonexistent/li-direct-process' }, { concurrency: 1 });
    assert.equal(bad.status, 'failed');
    assert.deepEqual(
      bad.failures.map((f) => [f.name, f.stage]),
      [['parent', 'publisher-check']],
    );
    // ...any other error (a bug) fails the process, its stderr in the rejection.
    await assert.rejects(
      runDirectUpdateProcess({ ...host, children: null as never }, { concurrency: 1 }),
      /The direct update of .* failed in its process: TypeError/s,
    );
  });
});
