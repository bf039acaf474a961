/**
 * The activities' share in cutting round trips (issue 8, "fewer round trips"): planChildren and
 * executeChildren work several children in one activity (a lane, src/contract/lanes.ts), each
 * child exactly as `plan` / `execute` would; and `plan` says when a child's files are all in the
 * parent's plan (`preparedWithParent`: the workflow then schedules no prepare of its own).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities/create-activities';
import { buildDemoHost } from '../src/dev/demo-host';
import { Image } from '../src/image/image';
import { loadSavedPlan } from '../src/stages/saved-plans';
import type { PlanChildrenOutput, PlanLaneHeartbeat } from '../src/contract/activity-types';
import { cleanup, tempDir } from './helpers/tree';
import { release } from './helpers/workflow-fixture';

after(cleanup);

const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, ...args);

async function planned(zones: number, parentPackages?: string[]) {
  const host = await buildDemoHost(await tempDir('lanes'), zones, undefined, { zones: 'clone' });
  const acts = createActivities({ cacheDir: host.cacheDir });
  const parent = await run(acts.plan, {
    image: host.parent,
    child: null,
    parentPlan: null,
    ...(parentPackages ? { packages: parentPackages } : {}),
  });
  return { host, acts, parentPlan: parent.plan.digest };
}

describe('planChildren (a lane) and preparedWithParent', () => {
  it('plans each child as plan would, saves each plan in its image, and says when the parent prepares its files', async () => {
    const { host, acts, parentPlan } = await planned(3);
    const out = await run(acts.planChildren, {
      image: host.parent,
      parentPlan,
      children: host.children.map((c) => ({ child: c.name })),
      budgetMs: 60_000,
    });
    assert.deepEqual(
      out.results.map((r) => r.name),
      host.children.map((c) => c.name),
    );
    assert.deepEqual(out.notStarted, []);
    assert.equal(out.failure, undefined);
    for (const [k, r] of out.results.entries()) {
      assert.equal(r.plan.changes.length, 5, `${r.name}: the full update (no sync asked)`);
      const saved = await loadSavedPlan(await Image.open(host.children[k].path), r.plan.digest);
      assert.equal(saved.digest, r.plan.digest, `${r.name}: saved in the image`);
      // Cloned zones: every file is one the parent's update delivers too.
      assert.equal(r.preparedWithParent, true, r.name);
      assert.ok(r.lines.includes("Content: every file is in the parent's plan; the parent's prepare downloads it"));
    }
  });

  it('a child whose files the parent does not deliver is prepared on its own', async () => {
    // The parent updates only its kernel: the children's other four packages bring files it does not.
    const { host, acts, parentPlan } = await planned(1, ['system/kernel']);
    const out = await run(acts.plan, { image: host.parent, child: 'zone:z1', parentPlan });
    assert.ok(out.plan.changes.length > 1, JSON.stringify(out.plan.changes.map((c) => c.stem)));
    assert.equal(out.preparedWithParent, undefined);
  });

  it('a retry keeps the plans its earlier attempt made (named by its heartbeat) and plans only the others', async () => {
    const { host, acts, parentPlan } = await planned(3);
    const input = {
      image: host.parent,
      parentPlan,
      children: host.children.map((c) => ({ child: c.name })),
      budgetMs: 60_000,
    };
    const env = new MockActivityEnvironment();
    const beats: PlanLaneHeartbeat[] = [];
    env.on('heartbeat', (d: PlanLaneHeartbeat) => beats.push(structuredClone(d)));
    const first: PlanChildrenOutput = await env.run(acts.planChildren, input);
    const digests = Object.fromEntries(first.results.map((r) => [r.name, r.plan.digest]));
    assert.deepEqual(beats[beats.length - 1], { lane: { planned: digests } }, 'every plan named as it is made');
    // The worker was lost after two children: attempt 2 starts from the heartbeat naming them.
    const planning: string[] = [];
    const again = createActivities({
      cacheDir: host.cacheDir,
      beforeStage: async (stage, name) => void (stage === 'plan' && planning.push(name)),
    });
    const second: PlanChildrenOutput = await new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { lane: { planned: { 'zone:z1': digests['zone:z1'], 'zone:z2': digests['zone:z2'] } } },
    }).run(again.planChildren, input);
    assert.deepEqual(planning, ['zone:z3'], 'only the child no attempt had planned');
    assert.deepEqual(
      second.results.map((r) => [r.name, r.plan.digest]),
      Object.entries(digests),
    );
    for (const r of second.results.slice(0, 2)) {
      assert.match(r.lines[0], /^Planned by an earlier attempt \(before 2\) of this lane; its saved plan is kept$/);
      assert.equal(r.preparedWithParent, true, r.name);
    }
  });

  it('starts no further child once the budget is spent: the rest come back not started', async () => {
    const { host, acts, parentPlan } = await planned(3);
    const out = await run(acts.planChildren, {
      image: host.parent,
      parentPlan,
      children: host.children.map((c) => ({ child: c.name })),
      budgetMs: 0,
    });
    assert.deepEqual(
      out.results.map((r) => r.name),
      ['zone:z1'],
      'the first child is always planned',
    );
    assert.deepEqual(out.notStarted, ['zone:z2', 'zone:z3']);
  });

  it('stops at a failed child (fail-fast): its error comes back, the children after it are not started', async () => {
    const { host, acts, parentPlan } = await planned(2);
    const out = await run(acts.planChildren, {
      image: host.parent,
      parentPlan,
      children: [{ child: 'zone:z1' }, { child: 'zone:gone' }, { child: 'zone:z2' }],
      budgetMs: 60_000,
    });
    assert.deepEqual(
      out.results.map((r) => r.name),
      ['zone:z1'],
    );
    assert.equal(out.failure?.name, 'zone:gone');
    assert.equal(out.failure?.code, 'NO_SUCH_CHILD');
    assert.deepEqual(out.notStarted, ['zone:z2']);
  });

  it('a first child that fails leaves the others not started, whatever their order', async () => {
    const { host, acts, parentPlan } = await planned(1);
    const out = await run(acts.planChildren, {
      image: host.parent,
      parentPlan,
      children: [{ child: 'zone:gone' }, { child: 'zone:z1' }],
      budgetMs: 60_000,
    });
    assert.deepEqual(out.results, []);
    assert.equal(out.failure?.code, 'NO_SUCH_CHILD');
    assert.deepEqual(out.notStarted, ['zone:z1']);
  });
});

describe('executeChildren (a lane of executes)', () => {
  async function prepared(zones: number) {
    const { host, acts, parentPlan } = await planned(zones);
    await run(acts.prepare, { image: host.parent, child: null, plan: parentPlan });
    await run(acts.execute, { image: host.parent, child: null, plan: parentPlan });
    const lane = await run(acts.planChildren, {
      image: host.parent,
      parentPlan,
      children: host.children.map((c) => ({ child: c.name })),
      budgetMs: 60_000,
    });
    const children = lane.results.map((r) => ({ child: r.name, plan: r.plan.digest }));
    return { host, acts, children };
  }

  it('executes each child as execute would, one after another', async () => {
    const { host, acts, children } = await prepared(3);
    const out = await run(acts.executeChildren, { image: host.parent, children, budgetMs: 60_000 });
    assert.deepEqual(
      out.results.map((r) => `${r.name} ${r.status}`),
      ['zone:z1 applied', 'zone:z2 applied', 'zone:z3 applied'],
    );
    assert.deepEqual(out.notStarted, []);
    for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1', c.name);
    // Again (a retried lane): every child is found already applied, nothing is done twice.
    const again = await run(acts.executeChildren, { image: host.parent, children, budgetMs: 60_000 });
    assert.deepEqual(
      again.results.map((r) => r.status),
      ['already-applied', 'already-applied', 'already-applied'],
    );
  });

  it('stops at a failed child: it is left as it was, the children after it are not started', async () => {
    const { host, acts, children } = await prepared(3);
    const bad = [children[0], { ...children[1], plan: 'f'.repeat(64) }, children[2]];
    const out = await run(acts.executeChildren, { image: host.parent, children: bad, budgetMs: 60_000 });
    assert.deepEqual(
      out.results.map((r) => r.name),
      ['zone:z1'],
    );
    assert.equal(out.failure?.name, 'zone:z2');
    assert.equal(out.failure?.code, 'BAD_PLAN');
    assert.deepEqual(out.notStarted, ['zone:z3']);
    assert.equal(await release(host.children[1].path), 'Demo OS 1.0', 'zone:z2 untouched');
    assert.equal(await release(host.children[2].path), 'Demo OS 1.0', 'zone:z3 not started');
  });

  it("starts no child after the budget or the maintenance window's end, except the first", async () => {
    const { host, acts, children } = await prepared(2);
    const out = await run(acts.executeChildren, {
      image: host.parent,
      children,
      budgetMs: 60_000,
      notAfter: new Date(Date.now() - 1000).toISOString(),
    });
    assert.deepEqual(
      out.results.map((r) => r.name),
      ['zone:z1'],
    );
    assert.deepEqual(out.notStarted, ['zone:z2']);
    assert.equal(await release(host.children[1].path), 'Demo OS 1.0');
  });
});
