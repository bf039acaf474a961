import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { plan } from '../src/stages/plan';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update, linkedImages } from './helpers/fixture';
import { cleanup } from './helpers/tree';
import { pkgHere } from './helpers/pkg-here';

after(cleanup);

/** `pkg <argv>` in this process: its exit code and what it printed. */
const pkg = async (argv: string[]) => {
  const r = await pkgHere(...argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
};

const strip = (v: string) => v.replace(/:\d{8}T\d{6}Z$/, '').replace(/,5\.11-0\.\d+$/, '');

// The kinds of reasons follow pkg(5)'s trim reasons (src/modules/client/pkg_solver.py:
// _TRIM_INSTALLED_INC, _TRIM_PARENT_OLDER, _TRIM_DEP_MISSING).
describe('why not newer', () => {
  it("'No updates available' (exit 4) says which incorporation holds a package back", async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/v': '1' });
    await publishPkg(repo, 'lib@2.0', { 'lib/v': '2' });
    await publishPkg(repo, 'inc@1.0', {}, { depends: ['type=incorporate fmri=lib@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['inc', 'lib'] });
    const p = await plan(image, {});
    assert.equal(p.changes.length, 0);
    assert.equal(p.heldBack?.length, 1);
    assert.equal(p.heldBack![0].stem, 'lib');
    assert.match(p.heldBack![0].reason, /^incorporated by inc@1\.0.* at version 1\.0$/);
    const r = await pkg(['update', '-R', image.root, '--cache', cache.root, '-n']);
    assert.equal(r.code, 4, r.err);
    assert.match(r.out, /No updates available/);
    assert.match(r.out, /lib: stays at 1\.0\S*, newest 2\.0\S*: incorporated by inc@1\.0/);
  });

  it('says when the newest version needs a package no publisher provides, and settles on the one before', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { 'bin/app': '1' });
    await publishPkg(repo, 'app@1.1', { 'bin/app': '1.1' });
    await publishPkg(repo, 'app@2.0', { 'bin/app': '2' }, { depends: ['type=require fmri=missing@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app@1.0'] });
    const p = await plan(image, {});
    assert.deepEqual(
      p.changes.map((c) => strip(c.to!.replace(/^pkg:\/\/[^/]+\//, ''))),
      ['app@1.1'],
    );
    assert.equal(p.heldBack?.[0].stem, 'app');
    assert.match(p.heldBack![0].reason, /app@2\.0.* requires missing@1\.0, which no enabled publisher provides/);
  });

  it('says when the parent image holds a child package back', async () => {
    const SELF = 'depend type=parent fmri=feature/package/dependency/self';
    const repo = await makeRepo();
    await publishPkg(repo, 'sys@1.0', { 'sys/v': '1' }, { actions: [SELF] });
    await publishPkg(repo, 'sys@2.0', { 'sys/v': '2' }, { actions: [SELF] });
    const { child } = await linkedImages(repo, { parent: ['sys@1.0'], child: ['sys@1.0'] });
    const p = await plan(child, {});
    assert.equal(p.changes.length, 0);
    assert.match(p.heldBack?.[0].reason ?? '', /^Parent has older version sys@1\.0/);
  });

  it('keeps at most 20 reasons in the plan and counts the rest', async () => {
    const repo = await makeRepo();
    const deps: string[] = [];
    for (let i = 0; i < 23; i++) {
      await publishPkg(repo, `p${i}@1.0`, {});
      await publishPkg(repo, `p${i}@2.0`, {});
      deps.push(`type=incorporate fmri=p${i}@1.0`);
    }
    await publishPkg(repo, 'inc@1.0', {}, { depends: deps });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['inc', ...Array.from({ length: 23 }, (_, i) => `p${i}@1.0`)] });
    const p = await plan(image, {});
    assert.equal(p.heldBack?.length, 20);
    assert.equal(p.heldBackMore, 3);
  });
});
