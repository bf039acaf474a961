import assert from 'node:assert/strict';
import { promises as fs } from 'fs';
import * as path from 'path';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../src/activities/create-activities';
import { CONFIG_FILE } from '../src/image/image';
import { buildDemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';
import { release } from './helpers/workflow-fixture';

after(cleanup);

/** Runs one activity as a worker would (activity context, heartbeats, cancellation signal). */
const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment().run(fn, ...args);

describe('the run activities', () => {
  it("execute prepares again when the plan's content is not in this worker's cache (a restart with another --cache), then applies it", async () => {
    const host = await buildDemoHost(await tempDir('acts'), 1);
    const before = createActivities({ cacheDir: host.cacheDir });
    const address = { image: host.parent, child: 'zone:z1' };
    const parentPlan = (await run(before.plan, { image: host.parent, child: null, parentPlan: null })).plan;
    const { plan } = await run(before.plan, { ...address, parentPlan: parentPlan.digest });
    await run(before.prepare, { ...address, plan: plan.digest });

    const after = createActivities({ cacheDir: path.join(await tempDir('other-cache'), 'cache') });
    const out = await run(after.execute, { ...address, plan: plan.digest });
    assert.equal(out.status, 'applied');
    assert.equal(out.reprepared, true);
    assert.match(
      out.lines[0],
      /^Content was not in this host's cache \(Plan is not prepared: content [0-9a-f]{64} for .+\): prepared again, \d+ files fetched$/,
    );
    assert.equal(await release(host.children[0].path), 'Demo OS 1.1');
  });

  it('prepare and execute refuse a digest that names no saved plan of the image (BAD_PLAN, not retried)', async () => {
    const host = await buildDemoHost(await tempDir('acts'), 1);
    const acts = createActivities({ cacheDir: host.cacheDir });
    await assert.rejects(
      run(acts.execute, { image: host.parent, child: 'zone:z1', plan: 'f'.repeat(64) }),
      (e: unknown) =>
        e instanceof ApplicationFailure &&
        e.type === 'BAD_PLAN' &&
        e.nonRetryable &&
        /No saved plan f{64} in .*zone/.test(e.message),
    );
  });

  it('describeParent reports problems a retry cannot fix, and throws (retryably) what it can', async () => {
    const host = await buildDemoHost(await tempDir('acts'), 2);
    const acts = createActivities({ cacheDir: host.cacheDir });
    const bad = await run(acts.describeParent, {
      image: host.parent,
      children: ['zone:z1', 'zone:nope'],
      partitionSize: 1000,
    });
    assert.deepEqual(bad.problems, ["children: unknown child 'zone:nope'; attached children: zone:z1, zone:z2"]);
    const none = await run(acts.describeParent, { image: path.join(host.parent, 'not-here'), partitionSize: 1000 });
    assert.match(none.problems[0], /^image: Not an image: .*not-here \(missing var\/pkg\/image.json\)$/);
    // image.json unreadable for a moment (here: a directory in its place): IO_ERROR, retryable.
    const file = path.join(host.parent, CONFIG_FILE);
    await fs.rename(file, `${file}.away`);
    await fs.mkdir(file);
    await assert.rejects(
      run(acts.describeParent, { image: host.parent, partitionSize: 1000 }),
      (e: unknown) => e instanceof ApplicationFailure && e.type === 'IO_ERROR' && !e.nonRetryable,
    );
    await fs.rmdir(file);
    await fs.rename(`${file}.away`, file);
    const ok = await run(acts.describeParent, { image: host.parent, partitionSize: 1000 });
    assert.deepEqual([ok.problems, ok.total, ok.children], [[], 2, ['zone:z1', 'zone:z2']]);
  });

  it("describeParent shrinks partitions so that long names still fit a partition's state budget", async () => {
    const host = await buildDemoHost(await tempDir('acts'), 2);
    const acts = createActivities({ cacheDir: host.cacheDir });
    const d = await run(acts.describeParent, { image: host.parent, partitionSize: 1000 });
    assert.equal(d.partitionSize, 1000, 'short names: the size asked for');
    const { partitionSizeFor, PARTITION_STATE_BUDGET, PER_CHILD_OVERHEAD } =
      await import('../src/contract/partition-budget');
    assert.equal(partitionSizeFor(300, 1000), Math.floor(PARTITION_STATE_BUDGET / (300 + PER_CHILD_OVERHEAD)));
    assert.equal(partitionSizeFor(10, 7), 7);
    assert.equal(partitionSizeFor(1_000_000, 1000), 1);
  });
});
