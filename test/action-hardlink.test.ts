import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { isImageError } from '../src/model/errors';
import { execute } from '../src/stages/execute';
import { FsLayer, realFs } from '../src/image/fs-layer';
import { plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup } from './helpers/tree';

after(cleanup);

/**
 * pkg(5): a hardlink action's path and target share one inode (src/modules/actions/hardlink.py,
 * verify: "Path and Target inodes not the same" is an error), and a plan that updates a file
 * re-creates the hardlinks to it after the files (src/modules/client/imageplan.py). So after an
 * update that changes the target's content, every name reads the new content from one inode.
 */
async function installed() {
  const repo = await makeRepo();
  await publishPkg(
    repo,
    'app@1.0',
    { 'bin/': null, 'bin/tool': 'one\n' },
    { actions: ['hardlink path=bin/alias target=tool'] },
  );
  // Another package links to app's file: its hardlink is not part of app's update at all.
  await publishPkg(repo, 'extra@1.0', { 'sbin/': null }, { actions: ['hardlink path=sbin/tool target=../bin/tool'] });
  const image = await makeImage(fileUrl(repo));
  const cache = await makeCache();
  await update(image, cache, { install: ['app', 'extra'] });
  await publishPkg(
    repo,
    'app@2.0',
    { 'bin/': null, 'bin/tool': 'two\n' },
    { actions: ['hardlink path=bin/alias target=tool'] },
  );
  const names = ['bin/tool', 'bin/alias', 'sbin/tool'].map((n) => path.join(image.root, n));
  const look = async () =>
    Promise.all(names.map(async (n) => ({ ino: (await fs.stat(n)).ino, text: await fs.readFile(n, 'utf8') })));
  return { image, cache, look };
}

function failingLink(): FsLayer {
  return {
    ...realFs,
    link: async (a, b) => {
      throw Object.assign(new Error(`EIO: i/o error, link '${a}' -> '${b}'`), { code: 'EIO' });
    },
  };
}

describe('hardlink actions', () => {
  it('keep every name on one inode with the new content when an update changes the target file', async () => {
    const { image, cache, look } = await installed();
    const before = await look();
    assert.equal(new Set(before.map((x) => x.ino)).size, 1, 'installed: one inode');
    assert.deepEqual(
      before.map((x) => x.text),
      ['one\n', 'one\n', 'one\n'],
    );

    await update(image, cache, { update: ['app'] });
    const now = await look();
    assert.equal(new Set(now.map((x) => x.ino)).size, 1, `updated: one inode, got ${JSON.stringify(now)}`);
    assert.notEqual(now[0].ino, before[0].ino, 'the file was replaced by a new inode');
    assert.deepEqual(
      now.map((x) => x.text),
      ['two\n', 'two\n', 'two\n'],
    );
    assert.equal((await fs.stat(path.join(image.root, 'bin/tool'))).nlink, 3);
  });

  it("does not bring back a hardlink the image's facets leave out when an update rewrites its target", async () => {
    // pkg(5) installs only the actions the image's facets allow (facet.py); re-creating the
    // hardlinks of a rewritten file must not bring a faceted-out one back.
    const repo = await makeRepo();
    const tree = (text: string) => ({ 'bin/': null, 'bin/tool': text });
    const actions = { actions: ['hardlink path=bin/tool-doc target=tool facet.doc=true'] };
    await publishPkg(repo, 'app@1.0', tree('one\n'), actions);
    const image = await makeImage(fileUrl(repo));
    await image.withLock('test', () => image.updateConfig((c) => ({ ...c, facets: { 'facet.doc': false } })));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    const doc = path.join(image.root, 'bin/tool-doc');
    await assert.rejects(fs.lstat(doc), { code: 'ENOENT' });
    await publishPkg(repo, 'app@2.0', tree('two\n'), actions);
    await update(image, cache, { update: ['app'] });
    assert.equal(await fs.readFile(path.join(image.root, 'bin/tool'), 'utf8'), 'two\n');
    await assert.rejects(fs.lstat(doc), { code: 'ENOENT' }, 'the faceted-out hardlink stays out');
  });

  it('leaves the old inode and content under every name when the execute fails after the file step', async () => {
    const { image, cache, look } = await installed();
    const before = await look();
    const p = await plan(image, { update: ['app'] }, null, { cache });
    await prepare(image, p, cache);
    // The file step ran (link comes after it): the rollback must put the old inode back.
    await assert.rejects(execute(image, p, cache, { fs: failingLink() }), (e: unknown) => {
      assert.ok(isImageError(e, 'IO_ERROR'), String(e));
      assert.match((e as Error).message, /rolled back/);
      return true;
    });
    assert.deepEqual(await look(), before);
    assert.equal((await fs.stat(path.join(image.root, 'bin/tool'))).nlink, 3);

    // The same plan applies once the disk is healthy.
    await execute(image, p, cache);
    const now = await look();
    assert.equal(new Set(now.map((x) => x.ino)).size, 1);
    assert.equal(now[0].text, 'two\n');
  });

  it('leaves hardlinks alone when the update does not touch their target', async () => {
    const repo = await makeRepo();
    await publishPkg(
      repo,
      'app@1.0',
      { 'bin/': null, 'bin/tool': 'same\n', 'etc/': null, 'etc/a': '1' },
      {
        actions: ['hardlink path=bin/alias target=tool'],
      },
    );
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    const ino = (await fs.stat(path.join(image.root, 'bin/alias'))).ino;
    await publishPkg(
      repo,
      'app@2.0',
      { 'bin/': null, 'bin/tool': 'same\n', 'etc/': null, 'etc/a': '2' },
      {
        actions: ['hardlink path=bin/alias target=tool'],
      },
    );
    const { plan: p } = await update(image, cache, { update: ['app'] });
    assert.equal(p.sizes.update, 1, 'only etc/a changed');
    assert.equal((await fs.stat(path.join(image.root, 'bin/alias'))).ino, ino);
    assert.equal((await fs.stat(path.join(image.root, 'bin/tool'))).ino, ino);
  });
});
