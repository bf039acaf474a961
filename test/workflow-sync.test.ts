/**
 * Sync versus update through the workflow on a real dev server (issue 12, section 1). pkg(5):
 * `pkg update` of a parent updates the parent and only *syncs* each child (it moves as far as its
 * parent-constrained packages require); `-r` recurses the full update into the children, `-z` /
 * `-Z` limit that recursion and the children left out are still synced; `-i` leaves a child alone.
 * The demo zones tie system/kernel and system/library to the parent (`depend type=parent`); the
 * other three packages are free to move on their own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { audit } from '../src/image/audit';
import { Image } from '../src/image/image';
import { maxRunning } from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import {
  checkpointedPlans,
  DEMO_STEMS,
  imageOf,
  makeHost,
  release,
  runFailing,
  runUpdate,
  versionOf,
} from './helpers/workflow-fixture';

/** What pkg(5)'s sync moves in a demo zone when the parent goes from 1.0 to 1.1. */
const TIED = ['system/kernel', 'system/library'];

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

/** The stems a child's checkpointed plan changes, sorted. */
const stemsOf = (plans: Map<string, { changes: { stem: string }[] }>, name: string) =>
  plans
    .get(name)!
    .changes.map((c) => c.stem)
    .sort();

const bashrc = (root: string) => fs.readFile(path.join(root, 'etc', 'bash.bashrc'), 'utf8');

describe('sync versus update of the children (pkg update, -r, -z, -Z, -i)', () => {
  it('by default updates the parent and only syncs each child; a second run leaves the children alone', async () => {
    const host = await makeHost(2);
    // recursive left out: pkg(5)'s default (the fixture passes recursive: true otherwise).
    const run = await runUpdate(env, host, { concurrency: 2, recursive: undefined });
    assert.equal(run.result.status, 'ok');
    assert.equal(imageOf(run.result, 'parent').changes, 5);
    const plans = await checkpointedPlans(env, run.workflowId);
    for (const [i, c] of host.children.entries()) {
      const name = `zone:z${i + 1}`;
      assert.equal(imageOf(run.result, name).outcome, 'updated', name);
      assert.deepEqual(
        plans.get(name)!.changes.map((x) => `${x.stem} ${versionOf(x.from)}->${versionOf(x.to)}`),
        TIED.map((s) => `${s} 1.0->1.1`),
        `${name}: only the packages tied to the parent move`,
      );
      assert.equal(await release(c.path), 'Demo OS 1.1', `${name}: kernel synced`);
      assert.equal(await bashrc(c.path), '# bash 1.0\n', `${name}: shell/bash not updated`);
      const a = await audit(await Image.open(host.parent), await Image.open(c.path));
      assert.equal(a.status, 'synced', `${name}: ${JSON.stringify(a.diverged)}`);
    }
    const planStarts = run.lines.filter((l) => l.stage === 'plan' && l.name !== 'parent' && l.event === 'start');
    assert.equal(planStarts.length, 2, 'each child planned once');

    const again = await runUpdate(env, host, { concurrency: 2, recursive: undefined });
    assert.equal(again.result.status, 'nothing-to-do', "nothing anywhere: pkg(5)'s exit 4");
    for (const name of ['zone:z1', 'zone:z2']) assert.equal(imageOf(again.result, name).outcome, 'nothing-to-do', name);
    assert.deepEqual(
      again.lines
        .filter((l) => l.name !== 'parent' && (l.stage === 'prepare' || l.stage === 'execute'))
        .map((l) => `${l.stage}/${l.name}`),
      [],
      'children in step are neither prepared nor executed',
    );
  });

  it('-r -Z: recurses into all children but the excluded, which are still synced; -i leaves one alone', async () => {
    const host = await makeHost(3);
    const run = await runUpdate(env, host, {
      concurrency: 0,
      recursive: true,
      exclude: ['zone:z2'],
      ignore: ['zone:z3'],
    });
    assert.equal(run.result.status, 'ok');
    const plans = await checkpointedPlans(env, run.workflowId);
    assert.deepEqual(stemsOf(plans, 'zone:z1'), DEMO_STEMS, 'z1: full update');
    assert.deepEqual(stemsOf(plans, 'zone:z2'), TIED, 'z2: synced');
    assert.equal(plans.has('zone:z3'), false, 'z3 (ignored) is not planned');
    assert.equal(await bashrc(host.children[0].path), '# bash 1.1\n');
    assert.equal(await bashrc(host.children[1].path), '# bash 1.0\n');
    assert.equal(await release(host.children[1].path), 'Demo OS 1.1');
    assert.equal(await release(host.children[2].path), 'Demo OS 1.0', 'the ignored zone is untouched (and diverged)');
    const a = await audit(await Image.open(host.parent), await Image.open(host.children[2].path));
    assert.equal(a.status, 'diverged');
  });

  it('-r -z: recurses into the named children only; the others are synced', async () => {
    const host = await makeHost(2);
    const run = await runUpdate(env, host, { concurrency: 2, recursive: true, children: ['zone:z2'] });
    assert.equal(run.result.status, 'ok');
    const plans = await checkpointedPlans(env, run.workflowId);
    assert.deepEqual(stemsOf(plans, 'zone:z1'), TIED, 'z1: synced');
    assert.deepEqual(stemsOf(plans, 'zone:z2'), DEMO_STEMS, 'z2: full update');
  });

  it("without a concurrency takes the parent image's recursion-concurrency property, as pkg(5) does without -C", async () => {
    const host = await makeHost(2);
    const parent = await Image.open(host.parent);
    await parent.withLock('test', () =>
      parent.updateConfig((c) => ({ ...c, properties: { ...c.properties, 'recursion-concurrency': '3' } })),
    );
    const run = await runUpdate(env, host, { concurrency: undefined });
    assert.equal(run.result.status, 'ok');
    assert.equal(run.result.concurrency, 3);
    const given = await runUpdate(env, host, { concurrency: 2, dryRun: true });
    assert.equal(given.result.concurrency, 2, 'a concurrency given wins');
    await parent.withLock('test', () =>
      parent.updateConfig((c) => ({ ...c, properties: { ...c.properties, 'recursion-concurrency': 'four' } })),
    );
    const { failure } = await runFailing(env, host, (hostName: string) => ({ image: host.parent, host: hostName }));
    assert.equal(failure.type, 'InvalidInput');
    assert.match(
      failure.message,
      /concurrency: the parent image's property recursion-concurrency: expected an integer .*"four"/,
    );
  });

  it('caps the publisher check only when a cap is given for that stage', async () => {
    const host = await makeHost(4);
    const run = await runUpdate(env, host, {
      concurrency: 0,
      stageConcurrency: { 'publisher-check': 1 },
      dryRun: true,
    });
    assert.equal(run.result.status, 'ok');
    assert.equal(maxRunning(run.lines, 'publisher-check'), 1, 'the cap given for the publisher check holds');
  });
});
