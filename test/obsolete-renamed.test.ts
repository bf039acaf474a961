import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { isImageError } from '../src/model/errors';
import { plan } from '../src/stages/plan';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup } from './helpers/tree';

after(cleanup);

const short = (f: string | null) => (f ? f.replace(/^pkg:\/\/[^/]+\//, '').replace(/:\d{8}T\d{6}Z$/, '') : null);
const moves = (p: { changes: { stem: string; to: string | null }[] }) => p.changes.map((c) => [c.stem, short(c.to)]);
const OBSOLETE = 'set name=pkg.obsolete value=true';
const RENAMED = 'set name=pkg.renamed value=true';

// Expected behaviour: pkg(5) src/modules/client/pkg_solver.py (obsolete versions satisfy no
// require dependency, _TRIM_DEP_OBSOLETE; __elide_possible_renames drops a renamed package nothing needs).
describe('obsolete and renamed packages', () => {
  it('updating to an obsolete version removes the package and its files', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'old@1.0', { 'bin/old': 'x' });
    await publishPkg(repo, 'old@2.0', {}, { actions: [OBSOLETE] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['old@1.0'] });
    const { plan: p } = await update(image, cache, {});
    assert.deepEqual(moves(p), [['old', null]]);
    assert.equal((await image.installed()).has('old'), false);
    await assert.rejects(fs.lstat(path.join(image.root, 'bin/old')));
  });

  it('keeps a package whose newest version is obsolete while an installed package requires it', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/a': '1' });
    await publishPkg(repo, 'lib@2.0', {}, { actions: [OBSOLETE] });
    await publishPkg(repo, 'app@1.0', { 'bin/app': 'x' }, { depends: ['type=require fmri=lib@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    const p = await plan(image, {});
    assert.deepEqual(moves(p), []);
    assert.deepEqual(
      p.heldBack?.map((h) => h.stem),
      undefined,
      'the obsolete version is not a newer version to hold back from',
    );
  });

  it('refuses to install a package whose only versions are obsolete', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'gone@1.0', {}, { actions: [OBSOLETE] });
    const image = await makeImage(fileUrl(repo));
    await assert.rejects(plan(image, { install: ['gone'] }), (e) => {
      assert.ok(isImageError(e) && e.code === 'UNSATISFIABLE', String(e));
      assert.match((e as Error).message, /All versions of 'gone' are obsolete/);
      return true;
    });
  });

  it('a package requiring only obsolete versions of another is not installed', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@2.0', {}, { actions: [OBSOLETE] });
    await publishPkg(repo, 'app@1.0', {}, { depends: ['type=require fmri=lib@2.0'] });
    const image = await makeImage(fileUrl(repo));
    await assert.rejects(plan(image, { install: ['app'] }), /all acceptable versions of 'lib' are obsolete/);
  });

  it('follows a rename: the new name comes in and the old one goes once nothing requires it', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'old@1.0', { 'bin/tool': 'old' });
    await publishPkg(repo, 'old@2.0', {}, { actions: [RENAMED], depends: ['type=require fmri=new@1.0'] });
    await publishPkg(repo, 'new@1.0', { 'bin/tool': 'new' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['old@1.0'] });
    const { plan: p } = await update(image, cache, {});
    assert.deepEqual(moves(p), [
      ['new', 'new@1.0'],
      ['old', null],
    ]);
    assert.equal(await fs.readFile(path.join(image.root, 'bin/tool'), 'utf8'), 'new');
  });

  it('keeps the renamed package (no content) while another package requires its old name', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'old@1.0', { 'bin/tool': 'old' });
    await publishPkg(repo, 'old@2.0', {}, { actions: [RENAMED], depends: ['type=require fmri=new@1.0'] });
    await publishPkg(repo, 'new@1.0', { 'bin/tool': 'new' });
    await publishPkg(repo, 'user@1.0', {}, { depends: ['type=require fmri=old@1.0'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['old@1.0', 'user'] });
    const { plan: p } = await update(image, cache, {});
    assert.deepEqual(moves(p), [
      ['new', 'new@1.0'],
      ['old', 'old@2.0'],
    ]);
    assert.equal(await fs.readFile(path.join(image.root, 'bin/tool'), 'utf8'), 'new');
  });
});
