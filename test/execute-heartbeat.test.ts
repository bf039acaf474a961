import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities/create-activities';
import type { HeartbeatProgress } from '../src/contract/activity-types';
import { buildDemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

describe('the execute heartbeat', () => {
  it("carries the bytes of content written besides the steps (what the watch view's bar shows)", async () => {
    const host = await buildDemoHost(await tempDir('exec-beat'), 1);
    // A heartbeat at every push (the default holds them back for a second).
    const acts = createActivities({ cacheDir: host.cacheDir, heartbeatMs: 1 });
    const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
      new MockActivityEnvironment().run(fn, ...args);
    const address = { image: host.parent, child: 'zone:z1' };
    const parentPlan = (await run(acts.plan, { image: host.parent, child: null, parentPlan: null })).plan;
    const { plan } = await run(acts.plan, { ...address, parentPlan: parentPlan.digest });
    await run(acts.prepare, { ...address, plan: plan.digest });
    const beats: HeartbeatProgress[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d as HeartbeatProgress));
    const out = (await env.run(acts.execute, { ...address, plan: plan.digest })) as Awaited<
      ReturnType<typeof acts.execute>
    >;
    assert.equal(out.status, 'applied');
    const last = beats.at(-1)!;
    assert.ok(last, 'execute heartbeated');
    assert.equal(last.unit, 'steps');
    assert.equal(last.done, last.total);
    assert.ok(plan.sizes.installBytes > 0);
    assert.equal(last.bytesTotal, plan.sizes.installBytes);
    assert.ok(last.bytesDone! > 0 && last.bytesDone! <= last.bytesTotal!, JSON.stringify(last));
  });

  it('reports the bytes of a big file while it is copied, not only once it is done', async () => {
    const big = 48 * 1024 * 1024;
    const host = await buildDemoHost(await tempDir('exec-beat-big'), 1, () => undefined, { bigFileBytes: big });
    const acts = createActivities({ cacheDir: host.cacheDir, heartbeatMs: 1 });
    const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
      new MockActivityEnvironment().run(fn, ...args);
    const address = { image: host.parent, child: 'zone:z1' };
    const parentPlan = (await run(acts.plan, { image: host.parent, child: null, parentPlan: null })).plan;
    const { plan } = await run(acts.plan, { ...address, parentPlan: parentPlan.digest });
    await run(acts.prepare, { ...address, plan: plan.digest });
    const beats: HeartbeatProgress[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => beats.push(d as HeartbeatProgress));
    await env.run(acts.execute, { ...address, plan: plan.digest });
    const sent = beats.filter((b) => b !== undefined); // a keep-alive before any progress has no details
    // While the big file streams its bytes arrive in small steps: copied whole, they would come as one 48 MiB jump.
    let jump = 0;
    for (let k = 1; k < sent.length; k++)
      jump = Math.max(jump, (sent[k].bytesDone ?? 0) - (sent[k - 1].bytesDone ?? 0));
    assert.ok(jump < big / 2, `the largest jump of bytesDone between two heartbeats: ${jump} bytes`);
    assert.equal(sent.at(-1)!.bytesDone, plan.sizes.installBytes);
  });
});
