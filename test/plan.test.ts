import assert from 'node:assert/strict';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { after, describe, it } from 'node:test';
import { audit } from '../src/image/audit';
import { ImageError, isImageError } from '../src/model/errors';
import { Image } from '../src/image/image';
import { clearActionMemo } from '../src/model/action-memo';
import { plan, planActions } from '../src/stages/plan';
import { plannedState } from '../src/stages/parent-state';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update, linkedImages } from './helpers/fixture';
import { cleanup } from './helpers/tree';

after(cleanup);

const SELF = 'depend type=parent fmri=feature/package/dependency/self';
const short = (f: string | null) => (f ? f.replace(/^pkg:\/\/[^/]+\//, '').replace(/:\d{8}T\d{6}Z$/, '') : null);

/** A parent (global) and a child zone on the same repository, both with `sys@1.0` installed. */
async function linkedPair(extra: (repo: string) => Promise<void> = async () => undefined) {
  const repo = await makeRepo();
  await publishPkg(repo, 'sys@1.0', { 'sys/v': '1.0' }, { actions: [SELF] });
  await extra(repo);
  return { repo, ...(await linkedImages(repo, { parent: ['sys@1.0'], child: ['sys@1.0'] })) };
}

describe('plan', () => {
  it('chooses the newest version by pkg(5) ordering, not by string order', async () => {
    const repo = await makeRepo();
    for (const v of ['1.9', '1.10', '1.2.1']) await publishPkg(repo, `app@${v}`, { f: v });
    const image = await makeImage(fileUrl(repo));
    const p = await plan(image, { install: ['app'] });
    assert.equal(short(p.changes[0].to), 'app@1.10');
    const pinned = await plan(image, { install: ['app@1.2'] });
    assert.equal(short(pinned.changes[0].to), 'app@1.2.1');
  });

  it('installs and uninstalls without upgrading the other installed packages (pkg(5) solve_install / solve_uninstall)', async () => {
    // pkg5 pkg_solver.py solve_install: "try and avoid upgrading already installed pkgs".
    const repo = await makeRepo();
    await publishPkg(repo, 'data@1.0', { 'data/v': '1' });
    await publishPkg(repo, 'tool@1.0', { 'bin/tool': 't' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['data', 'tool'] });
    await publishPkg(repo, 'data@2.0', { 'data/v': '2' });
    await publishPkg(repo, 'app@1.0', { 'bin/app': 'a' });
    const p = await plan(image, { install: ['app'] }, undefined, { cache });
    assert.deepEqual(
      p.changes.map((c) => `${short(c.from)} -> ${short(c.to)}`),
      ['null -> app@1.0'],
      'data stays at 1.0',
    );
    const u = await plan(image, { remove: ['tool'] }, undefined, { cache });
    assert.deepEqual(
      u.changes.map((c) => `${short(c.from)} -> ${short(c.to)}`),
      ['tool@1.0 -> null'],
    );
    const all = await plan(image, {}, undefined, { cache });
    assert.ok(
      all.changes.some((c) => short(c.to) === 'data@2.0'),
      'an update still moves every package',
    );
  });

  it("uninstalling a package keeps its directories that another package's paths still need (pkg(5)'s implicit directories)", async () => {
    // kern delivers dir usr, dir usr/bin and usr/bin/kern; app only a link in usr/bin, no dir
    // action: removing kern must not take usr/bin (and app's link) with it.
    const repo = await makeRepo();
    await publishPkg(repo, 'kern@1.0', { 'usr/bin/kern': 'k' });
    await publishPkg(repo, 'app@1.0', {}, { actions: ['link path=usr/bin/app target=kern'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['kern', 'app'] });
    await update(image, cache, { remove: ['kern'] });
    const root = image.root;
    assert.equal(await fsp.readlink(path.join(root, 'usr/bin/app')), 'kern');
    await assert.rejects(fsp.lstat(path.join(root, 'usr/bin/kern')), { code: 'ENOENT' });
    assert.deepEqual([...(await image.installed()).keys()], ['app']);
  });

  it('installs what a package requires, at least the required version', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/a': '1' });
    await publishPkg(repo, 'lib@2.0', { 'lib/a': '2' });
    await publishPkg(repo, 'app@1.0', { 'bin/app': 'x' }, { depends: ['type=require fmri=pkg:/lib@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const p = await plan(image, { install: ['app'] });
    assert.deepEqual(
      p.changes.map((c) => short(c.to)),
      ['app@1.0', 'lib@2.0'],
    );
  });

  it('moves a dependency that was not named as far as a named package needs, and no further', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/a': '1' });
    await publishPkg(repo, 'app@1.0', { 'bin/app': '1' }, { depends: ['type=require fmri=pkg:/lib@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    await publishPkg(repo, 'lib@2.0', { 'lib/a': '2' });
    await publishPkg(repo, 'lib@3.0', { 'lib/a': '3' });
    await publishPkg(repo, 'app@2.0', { 'bin/app': '2' }, { depends: ['type=require fmri=pkg:/lib@2.0'] });
    const p = await plan(image, { update: ['app'] }, null, { cache });
    assert.deepEqual(
      p.changes.map((c) => `${c.stem} ${short(c.from)} -> ${short(c.to)}`),
      ['app app@1.0 -> app@2.0', 'lib lib@1.0 -> lib@2.0'],
    );
  });

  it('honours incorporate locks from an incorporation package', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/a': '1.0' });
    await publishPkg(repo, 'lib@1.1', { 'lib/a': '1.1' });
    await publishPkg(repo, 'lib@2.0', { 'lib/a': '2.0' });
    await publishPkg(
      repo,
      'entire@1.0',
      {},
      { depends: ['type=incorporate fmri=pkg:/lib@1', 'type=require fmri=pkg:/lib'] },
    );
    const image = await makeImage(fileUrl(repo));
    const p = await plan(image, { install: ['entire'] });
    assert.deepEqual(
      p.changes.map((c) => short(c.to)),
      ['entire@1.0', 'lib@1.1'],
    );
  });

  it('drops to an older incorporation when the newest one cannot be satisfied', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/a': '1.0' });
    await publishPkg(
      repo,
      'entire@1.0',
      {},
      { depends: ['type=incorporate fmri=pkg:/lib@1.0', 'type=require fmri=pkg:/lib'] },
    );
    await publishPkg(
      repo,
      'entire@2.0',
      {},
      { depends: ['type=incorporate fmri=pkg:/lib@3.0', 'type=require fmri=pkg:/lib'] },
    );
    const image = await makeImage(fileUrl(repo));
    const p = await plan(image, { install: ['entire'] });
    assert.deepEqual(
      p.changes.map((c) => short(c.to)),
      ['entire@1.0', 'lib@1.0'],
    );
  });

  it('names an unknown package, whether to install or to update', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { f: '1' });
    const image = await makeImage(fileUrl(repo));
    await assert.rejects(
      plan(image, { install: ['nosuch'] }),
      (e: unknown) => isImageError(e, 'UNKNOWN_PACKAGE') && /'nosuch'/.test((e as Error).message),
    );
    await assert.rejects(
      plan(image, { update: ['app'] }),
      (e: unknown) => isImageError(e, 'UNKNOWN_PACKAGE') && /no such package is installed/.test((e as Error).message),
    );
    await assert.rejects(
      plan(image, { install: ['app@9'] }),
      (e: unknown) => isImageError(e, 'UNSATISFIABLE') && /app.*matches 9; available: 1\.0/.test((e as Error).message),
    );
  });

  it('an empty plan means nothing to do', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { f: '1' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    const p = await plan(image, {}, null, { cache });
    assert.deepEqual(p.changes, []);
    assert.deepEqual(await planActions(image, p, cache), []);
  });

  it('serialises 100 package changes in well under 64 KB and re-derives the action diff from it', async () => {
    const repo = await makeRepo();
    for (let i = 0; i < 100; i++) await publishPkg(repo, `pkg${i}@1.0`, { [`p${i}/a`]: `${i}`, [`p${i}/b`]: `b${i}` });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    const p = await plan(image, { install: Array.from({ length: 100 }, (_, i) => `pkg${i}`) }, null, { cache });
    const bytes = Buffer.byteLength(JSON.stringify(p));
    assert.ok(bytes < 32 * 1024, `plan is ${bytes} bytes`);
    const again = JSON.parse(JSON.stringify(p));
    const remembered = await planActions(image, again, cache);
    clearActionMemo(); // as in a worker that restarted since it planned
    const actions = await planActions(image, again, cache);
    assert.equal(actions.length, 300); // per package: a directory and two files
    assert.deepEqual(actions, remembered);
    assert.equal(p.sizes.add, 300);
  });

  it('uses an action diff remembered from planning only while the image is unchanged', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'a@1.0', { 'shared/f': 'from a' });
    await publishPkg(repo, 'b@1.0', { 'shared/f': 'from b' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    const p = await plan(image, { install: ['a'] }, null, { cache });
    const first = await planActions(image, p, cache);
    first.length = 0; // a caller's copy: the remembered list is not changed through it
    assert.ok((await planActions(image, p, cache)).some((c) => c.path === 'shared/f'));
    await update(image, cache, { install: ['b'] });
    // Derived again for the new state, where b owns shared/f: a stale diff would install over it.
    await assert.rejects(
      planActions(image, p, cache),
      (e: unknown) => isImageError(e, 'CONFLICTING_ACTIONS') && /shared\/f/.test((e as Error).message),
    );
  });
});

describe('plan of a linked child', () => {
  it("follows the parent: the child gets exactly the parent's planned version of a parent-constrained package", async () => {
    const { repo, parent, child, cache } = await linkedPair();
    await publishPkg(repo, 'sys@2.0', { 'sys/v': '2.0' }, { actions: [SELF] });
    await publishPkg(repo, 'sys@3.0', { 'sys/v': '3.0' }, { actions: [SELF] });
    const parentPlan = await plan(parent, { install: ['sys@2.0'] }, null, { cache });
    const childPlan = await plan(child, {}, await plannedState(parent, parentPlan), { cache });
    assert.equal(short(childPlan.changes[0].to), 'sys@2.0');
  });

  it("refuses, with pkg(5)'s reasons, a child update the parent does not allow", async () => {
    const { repo, child } = await linkedPair();
    await publishPkg(repo, 'sys@2.0', { 'sys/v': '2.0' }, { actions: [SELF] });
    await assert.rejects(plan(child, { install: ['sys@2.0'] }), (e: unknown) => {
      assert.ok(isImageError(e, 'UNSATISFIABLE'));
      assert.match((e as Error).message, /Parent has older version sys@1\.0/);
      assert.ok(((e as ImageError).details!.reasons as string[]).length >= 2);
      return true;
    });
  });

  it('reports a parent-constrained package the parent does not have', async () => {
    const { repo, child } = await linkedPair(async (r) => {
      await publishPkg(r, 'zonly@1.0', { z: '1' }, { actions: [SELF] });
    });
    void repo;
    await assert.rejects(
      plan(child, { install: ['zonly'] }),
      (e: unknown) =>
        isImageError(e, 'UNSATISFIABLE') && /'zonly' is not installed in the parent image/.test((e as Error).message),
    );
  });

  it('audit says synced, then diverged when the parent moves on alone', async () => {
    const { repo, parent, child, cache } = await linkedPair();
    assert.deepEqual(await audit(parent, child), { status: 'synced', diverged: [] });
    await publishPkg(repo, 'sys@2.0', { 'sys/v': '2.0' }, { actions: [SELF] });
    await update(parent, cache);
    const r = await audit(parent, child);
    assert.equal(r.status, 'diverged');
    assert.match(r.diverged[0].problem, /Parent has newer version sys@2\.0/);
    await update(child, cache);
    assert.equal((await audit(parent, await Image.open(child.root))).status, 'synced');
  });
});
