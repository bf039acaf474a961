import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isImageError } from '../src/model/errors';
import { plan } from '../src/stages/plan';
import { plannedState } from '../src/stages/parent-state';
import { makeRepo, publishPkg, update, linkedImages } from './helpers/fixture';
import { cleanup } from './helpers/tree';

after(cleanup);

const SELF = 'depend type=parent fmri=feature/package/dependency/self';
const short = (f: string | null) => (f ? f.replace(/^pkg:\/\/[^/]+\//, '').replace(/:\d{8}T\d{6}Z$/, '') : null);
const moves = (p: { changes: { stem: string; from: string | null; to: string | null }[] }) =>
  p.changes.map((c) => `${short(c.from)} -> ${short(c.to)}`);

/**
 * A parent and a child zone on one repository. Both have `a@1.0` (parent-constrained: the child
 * must have the parent's version); the child also has `b@1.0`, which has no parent constraint.
 */
async function pair() {
  const repo = await makeRepo();
  await publishPkg(repo, 'a@1.0', { 'a/v': '1.0' }, { actions: [SELF] });
  await publishPkg(repo, 'b@1.0', { 'b/v': '1.0' });
  return { repo, ...(await linkedImages(repo, { parent: ['a@1.0'], child: ['a@1.0', 'b@1.0'] })) };
}

describe('plan in sync mode (pkg sync-linked)', () => {
  it("moves only the parent-constrained package to the parent's planned version; a full update moves both", async () => {
    const { repo, parent, child, cache } = await pair();
    await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF] });
    await publishPkg(repo, 'b@2.0', { 'b/v': '2.0' });
    const parentPlan = await plan(parent, { update: ['a'] }, null, { cache });
    assert.deepEqual(moves(parentPlan), ['a@1.0 -> a@2.0']);
    const planned = await plannedState(parent, parentPlan);

    const synced = await plan(child, { sync: true }, planned, { cache });
    assert.deepEqual(moves(synced), ['a@1.0 -> a@2.0']);

    const full = await plan(child, {}, planned, { cache });
    assert.deepEqual(moves(full), ['a@1.0 -> a@2.0', 'b@1.0 -> b@2.0']);
  });

  it('gives a child already in step an empty plan, even with newer packages available', async () => {
    const { repo, child, cache } = await pair();
    await publishPkg(repo, 'b@2.0', { 'b/v': '2.0' });
    // a@2.0 exists but the parent still has a@1.0: the child is in step at 1.0.
    await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF] });
    const synced = await plan(child, { sync: true }, undefined, { cache });
    assert.deepEqual(synced.changes, []);
    assert.equal(synced.sizes.files, 0);
  });

  it('syncs against the parent as installed when no parent state is given', async () => {
    const { repo, parent, child, cache } = await pair();
    await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF] });
    await publishPkg(repo, 'a@3.0', { 'a/v': '3.0' }, { actions: [SELF] });
    await publishPkg(repo, 'b@2.0', { 'b/v': '2.0' });
    await update(parent, cache, { install: ['a@2.0'] });
    const synced = await plan(child, { sync: true }, undefined, { cache });
    assert.deepEqual(moves(synced), ['a@1.0 -> a@2.0']);
  });

  it('moves what the synced package needs, only as far as it needs, and nothing else', async () => {
    const { repo, parent, child, cache } = await pair();
    await publishPkg(repo, 'lib@1.0', { 'lib/v': '1.0' });
    await update(child, cache, { install: ['lib@1.0'] });
    await publishPkg(repo, 'lib@2.0', { 'lib/v': '2.0' });
    await publishPkg(repo, 'lib@3.0', { 'lib/v': '3.0' });
    await publishPkg(repo, 'b@2.0', { 'b/v': '2.0' });
    await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF], depends: ['type=require fmri=pkg:/lib@2.0'] });
    const parentPlan = await plan(parent, { update: ['a'] }, null, { cache });
    const synced = await plan(child, { sync: true }, await plannedState(parent, parentPlan), { cache });
    assert.deepEqual(moves(synced), ['a@1.0 -> a@2.0', 'lib@1.0 -> lib@2.0']);
  });

  it('refuses a sync of an image with no parent (NOT_LINKED) and a sync that also names packages (BAD_REQUEST)', async () => {
    const { parent, child, cache } = await pair();
    await assert.rejects(plan(parent, { sync: true }, undefined, { cache }), (e: unknown) => {
      assert.ok(isImageError(e, 'NOT_LINKED'), String(e));
      assert.match((e as Error).message, /not a linked child/);
      return true;
    });
    await assert.rejects(plan(child, { sync: true, install: ['b'] }, undefined, { cache }), (e: unknown) => {
      assert.ok(isImageError(e, 'BAD_REQUEST'), String(e));
      assert.match((e as Error).message, /cannot be combined with install/);
      return true;
    });
  });
});
