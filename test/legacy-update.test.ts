import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Image } from '../src/image/image';
import { audit } from '../src/image/audit';
import { LegacyUpdateError, runLegacyUpdate } from '../bench/legacy-update';
import { compiledPkgCli, tsNodePkgCli } from '../bench/pkg-command';
import { buildDemoHost, DemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';
import { release, setZonePublishers } from './helpers/workflow-fixture';

after(cleanup);

describe('runLegacyUpdate (pkg(5) staged recursion, one process per stage)', () => {
  let host: DemoHost;

  before(async () => {
    host = await buildDemoHost(await tempDir('li-legacy'), 2);
  });

  it('updates the parent, then each child: four processes per child, planning three times and preparing twice per image', async () => {
    const lines: string[] = [];
    const r = await runLegacyUpdate(host, { log: (l) => lines.push(l) });
    assert.equal(r.processes, 3 + 2 * 4);
    assert.deepEqual(r.runs, { pubcheck: 2, plan: 9, prepare: 6, execute: 3 });
    assert.deepEqual(r.byStage, {
      pubcheck: { pubcheck: 2, plan: 0, prepare: 0, execute: 0 },
      plan: { pubcheck: 0, plan: 3, prepare: 0, execute: 0 },
      prepare: { pubcheck: 0, plan: 3, prepare: 3, execute: 0 },
      execute: { pubcheck: 0, plan: 3, prepare: 3, execute: 3 },
    });
    assert.deepEqual(r.images, [
      { name: 'parent', outcome: 'updated' },
      { name: 'zone:z1', outcome: 'updated' },
      { name: 'zone:z2', outcome: 'updated' },
    ]);
    assert.ok(r.wallSeconds > 0);
    assert.equal(lines.length, 3);
    assert.match(lines[1], /zone:z1: updated \(\d+\.\d\d s\)/);
    const parent = await Image.open(host.parent);
    for (const c of host.children) {
      assert.equal(await release(c.path), 'Demo OS 1.1');
      assert.equal((await audit(parent, await Image.open(c.path))).status, 'synced');
    }
  });

  it('plans once per image and stops there when there is nothing to do', async () => {
    const r = await runLegacyUpdate(host);
    assert.equal(r.processes, 1 + 2 * 2);
    assert.deepEqual(r.runs, { pubcheck: 2, plan: 3, prepare: 0, execute: 0 });
    assert.ok(r.images.every((i) => i.outcome === 'nothing-to-do'));
  });

  it('stops at the first child whose publisher check fails, naming it', async () => {
    await setZonePublishers(host.children[1].path, (pubs) => pubs.map((p) => ({ ...p, sticky: false })));
    await assert.rejects(runLegacyUpdate(host), (e: unknown) => {
      assert.ok(e instanceof LegacyUpdateError);
      assert.equal(e.image, 'zone:z2');
      assert.equal(e.exitCode, 1);
      assert.deepEqual(e.argv, ['pubcheck-linked', '-R', host.parent, '-l', 'zone:z2']);
      assert.match(e.message, /Invalid child image publisher configuration for zone:z2/);
      return true;
    });
  });

  it('runs the same CLI compiled or through ts-node', async () => {
    for (const pkg of [await compiledPkgCli(), tsNodePkgCli()]) {
      const r = spawnSync(pkg.command, [...pkg.args, 'list-linked', '-R', host.parent], {
        cwd: pkg.cwd,
        env: { ...process.env, ...pkg.env },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `NAME\tPATH\n${host.children.map((c) => `${c.name}\t${c.path}\n`).join('')}`);
    }
  });
});
