import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { isNoop, plan } from '../src/stages/plan';
import { execute } from '../src/stages/execute';
import { prepare } from '../src/stages/prepare';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, snapshot, tempDir, writeTree } from './helpers/tree';

after(cleanup);

describe('plan, prepare and execute on a file:// repository', () => {
  it('installs a package and the image holds exactly its tree', async () => {
    const repo = await makeRepo();
    const tree = {
      'etc/app.conf': 'a=1\n',
      'usr/bin/app': { mode: 0o755, data: '#!/bin/sh\necho hi\n' },
      'usr/lib/': null,
      'usr/bin/app-link': { symlink: 'app' },
    };
    await publishPkg(repo, 'app@1.0', tree);
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    const { plan: p, result } = await update(image, cache, { install: ['app'] });
    assert.equal(result.status, 'applied');
    assert.equal(p.changes.length, 1);
    assert.match(p.changes[0].to!, /^pkg:\/\/test\/app@1\.0:\d{8}T\d{6}Z$/);
    const ref = await tempDir('ref');
    await writeTree(ref, tree);
    assert.deepEqual(await snapshot(image.root), await snapshot(ref));
    const installed = await image.installed();
    assert.deepEqual([...installed.keys()], ['app']);
  });

  it('updates to the newest version, changing only what differs, and then has nothing to do', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { 'a/x': 'x1', 'a/same': 'same', 'a/gone': 'bye', 'old/': null });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    await update(image, cache, { install: ['app'] });
    const v2 = { 'a/x': 'x2', 'a/same': 'same', 'b/new': 'new' };
    await publishPkg(repo, 'app@1.1', v2);
    await publishPkg(repo, 'app@1.0.5', { 'a/x': 'x105' });
    const { plan: p, result } = await update(image, cache);
    assert.equal(result.status, 'applied');
    assert.match(p.changes[0].to!, /app@1\.1:/);
    assert.deepEqual(
      { add: p.sizes.add, update: p.sizes.update, remove: p.sizes.remove },
      { add: 2, update: 1, remove: 2 },
    );
    const ref = await tempDir('ref');
    await writeTree(ref, v2);
    assert.deepEqual(await snapshot(image.root), await snapshot(ref));
    const again = await plan(image, {}, null, { cache });
    assert.ok(isNoop(again));
    assert.equal((await execute(image, again, cache)).status, 'nothing-to-do');
  });

  it('executing a plan that is already applied is a no-op', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { f: 'one' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    const { plan: p } = await update(image, cache, { install: ['app'] });
    const before = await image.readState();
    assert.equal((await execute(image, p, cache)).status, 'already-applied');
    assert.deepEqual(await image.readState(), before);
    assert.equal((await prepare(image, p, cache)).filesTotal, 0);
  });

  it('leaves no journal behind and records the plan in the image state', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'app@1.0', { f: 'one' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    const { plan: p } = await update(image, cache, { install: ['app'] });
    await assert.rejects(fs.stat(path.join(image.root, 'var/pkg/journal')), { code: 'ENOENT' });
    assert.equal((await image.readState()).lastPlan, p.digest);
  });
});
