import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Image } from '../src/image/image';
import { attachChild } from '../src/image/linked';
import { Facets } from '../src/model/facets';
import { plan } from '../src/stages/plan';
import { plannedState } from '../src/stages/parent-state';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, tempDir } from './helpers/tree';
import { pkgHere } from './helpers/pkg-here';

after(cleanup);

/** `pkg <argv>` in this process: its exit code and what it printed. */
const pkg = async (argv: string[]) => {
  const r = await pkgHere(...argv);
  return { code: r.code, out: r.stdout, err: r.stderr };
};

const exists = (p: string) =>
  fs.lstat(p).then(
    () => true,
    () => false,
  );
const short = (f: string | null) => (f ? f.replace(/^pkg:\/\/[^/]+\//, '').replace(/:\d{8}T\d{6}Z$/, '') : null);

describe('facets', () => {
  // Expected values: pkg(5) src/modules/facet.py (__getitem_internal) and _allow_facet in src/modules/_varcet.c.
  it('defaults to true, except facet.debug.* and facet.optional.*', () => {
    const f = new Facets();
    assert.equal(f.value('facet.doc'), true);
    assert.equal(f.value('facet.debug.kernel'), false);
    assert.equal(f.value('facet.optional.extras'), false);
  });

  it('takes the exact name, else the longest matching glob', () => {
    const f = new Facets({ local: { 'facet.locale.*': false, 'facet.locale.de*': true, 'facet.locale.de_CH': false } });
    assert.equal(f.value('facet.locale.fr'), false);
    assert.equal(f.value('facet.locale.de_DE'), true);
    assert.equal(f.value('facet.locale.de_CH'), false);
    assert.equal(f.lookup('facet.locale.de_AT').key, 'facet.locale.de*');
  });

  it("lets an action in when any of its tags is true, and only when every 'all' tag is true", () => {
    const f = new Facets({ local: { 'facet.doc': false, 'facet.doc.man': true } });
    assert.equal(f.allowTags({ 'facet.doc': 'true' }), false);
    assert.equal(f.allowTags({ 'facet.doc': 'true', 'facet.doc.man': 'true' }), true);
    assert.equal(f.allowTags({ 'facet.doc.man': 'all', 'facet.devel': 'all' }), true);
    assert.equal(f.allowTags({ 'facet.doc': 'all', 'facet.doc.man': 'true' }), false);
    assert.equal(f.allowTags({}), true);
  });

  it('inherited (parent) facets mask local ones of the same name', () => {
    const f = new Facets({ local: { 'facet.version-lock.lib': true }, inherited: { 'facet.version-lock.lib': false } });
    assert.deepEqual(f.lookup('facet.version-lock.lib'), {
      value: false,
      source: 'parent',
      key: 'facet.version-lock.lib',
    });
  });

  it('installs only the actions the facets allow; change-facet removes and restores them', async () => {
    const repo = await makeRepo();
    await publishPkg(
      repo,
      'app@1.0',
      { 'bin/app': 'x' },
      {
        actions: [
          'dir path=usr/share/doc/app mode=0755 facet.doc=true',
          'link path=bin/app-debug target=app facet.debug.app=true',
          'link path=bin/app-man target=app facet.doc.man=true',
        ],
      },
    );
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    assert.equal(await exists(path.join(image.root, 'usr/share/doc/app')), true);
    assert.equal(await exists(path.join(image.root, 'bin/app-man')), true);
    assert.equal(await exists(path.join(image.root, 'bin/app-debug')), false, 'facet.debug.* is false by default');

    const off = await pkg([
      'change-facet',
      '-R',
      image.root,
      '--cache',
      cache.root,
      'facet.doc*=false',
      'facet.debug.app=true',
    ]);
    assert.equal(off.code, 0, off.err);
    assert.equal(await exists(path.join(image.root, 'usr/share/doc/app')), false);
    assert.equal(await exists(path.join(image.root, 'bin/app-man')), false);
    assert.equal(await exists(path.join(image.root, 'bin/app-debug')), true);
    assert.deepEqual((await Image.open(image.root)).config().facets, { 'facet.doc*': false, 'facet.debug.app': true });
    const listed = (await pkg(['facet', '-R', image.root])).out;
    assert.equal(listed, 'FACET            VALUE  SRC\nfacet.debug.app  True   local\nfacet.doc*       False  local\n');

    const back = await pkg(['change-facet', '-R', image.root, '--cache', cache.root, 'facet.doc*=none']);
    assert.equal(back.code, 0, back.err);
    assert.equal(await exists(path.join(image.root, 'usr/share/doc/app')), true);
    assert.equal(await exists(path.join(image.root, 'bin/app-man')), true);
    assert.deepEqual((await Image.open(image.root)).config().facets, { 'facet.debug.app': true });
  });

  it("change-facet: a bad argument is a usage error (exit 2); a name without 'facet.' and any case are taken, as pkg(5)", async () => {
    const repo = await makeRepo();
    await publishPkg(
      repo,
      'app@1.0',
      { 'bin/app': 'x' },
      { actions: ['dir path=usr/share/doc/app mode=0755 facet.doc=true'] },
    );
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    for (const bad of ['facet.doc=maybe', 'facet.doc', 'facet.=true', '=true', 'doc=']) {
      const r = await pkg(['change-facet', '-R', image.root, '--cache', cache.root, bad]);
      assert.equal(r.code, 2, `${bad}: ${r.err}`);
      assert.match(
        r.err,
        new RegExp(`^pkg change-facet: argument '${bad.replace(/[.*]/g, '\\$&')}' is invalid\\. Expected`),
      );
      assert.doesNotMatch(r.err, /internal error|\n {4}at /);
    }
    assert.deepEqual((await Image.open(image.root)).config().facets ?? {}, {}, 'nothing was changed');
    const off = await pkg(['change-facet', '-R', image.root, '--cache', cache.root, 'doc=False']);
    assert.equal(off.code, 0, off.err);
    assert.deepEqual((await Image.open(image.root)).config().facets, { 'facet.doc': false });
    assert.equal(await exists(path.join(image.root, 'usr/share/doc/app')), false);
    const none = await pkg(['change-facet', '-R', image.root, '--cache', cache.root, 'facet.doc=NONE']);
    assert.equal(none.code, 0, none.err);
    assert.deepEqual((await Image.open(image.root)).config().facets ?? {}, {});
  });

  it('facet.version-lock.<stem>=false releases the incorporate lock tagged with it', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/v': '1' });
    await publishPkg(repo, 'lib@2.0', { 'lib/v': '2' });
    // pkg(5) incorporations tag their locks: depend type=incorporate fmri=... facet.version-lock.<stem>=true.
    await publishPkg(repo, 'inc@1.0', {}, { depends: ['type=incorporate fmri=lib@1.0 facet.version-lock.lib=true'] });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['inc', 'lib'] });
    assert.equal((await plan(image, {})).changes.length, 0, 'the lock holds lib at 1.0');
    const unlocked = await plan(image, { settings: { facets: { 'facet.version-lock.lib': false }, mediators: {} } });
    assert.deepEqual(
      unlocked.changes.map((c) => [c.stem, short(c.to)]),
      [['lib', 'lib@2.0']],
    );
  });

  it("a child inherits the parent's version-lock facets and cannot override them", async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'lib@1.0', { 'lib/v': '1' });
    await publishPkg(repo, 'lib@2.0', { 'lib/v': '2' });
    await publishPkg(repo, 'inc@1.0', {}, { depends: ['type=incorporate fmri=lib@1.0 facet.version-lock.lib=true'] });
    const parent = await makeImage(fileUrl(repo), { root: path.join(await tempDir('host'), 'root') });
    const child = await makeImage(fileUrl(repo), { zone: 'nonglobal', root: path.join(await tempDir('zone'), 'root') });
    await attachChild(parent, child, 'zone:z1');
    await child.reload();
    const cache = await makeCache();
    await update(parent, cache, { install: ['inc', 'lib'] });
    await update(child, cache, { install: ['inc', 'lib'] });
    // The child sets the lock on; the parent turns it off: the parent's value wins (facet.py PARENT facets).
    await child.withLock('t', () => child.updateConfig((c) => ({ ...c, facets: { 'facet.version-lock.lib': true } })));
    await child.reload();
    await parent.withLock('t', () =>
      parent.updateConfig((c) => ({ ...c, facets: { 'facet.version-lock.lib': false } })),
    );
    await parent.reload();
    const state = await plannedState(parent, null);
    assert.deepEqual(state.facets, { 'facet.version-lock.lib': false });
    const p = await plan(child, {}, state);
    assert.deepEqual(
      p.changes.map((c) => [c.stem, short(c.to)]),
      [['lib', 'lib@2.0']],
    );
    assert.match((await pkg(['facet', '-R', child.root])).out, /^facet\.version-lock\.lib {2}False {2}parent$/m);
  });
});
