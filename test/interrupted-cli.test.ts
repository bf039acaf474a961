import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities/create-activities';
import { FsLayer, realFs } from '../src/image/fs-layer';
import { Image, STATE_FILE } from '../src/image/image';
import { attachChild } from '../src/image/linked';
import { execute } from '../src/stages/execute';
import { plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { pkgProcess } from './helpers/pkg-process';
import { cleanup, tempDir } from './helpers/tree';
import { pkgHere as pkg } from './helpers/pkg-here';

after(cleanup);

const SELF = 'depend type=parent fmri=feature/package/dependency/self';

async function version(root: string, stem: string): Promise<string | undefined> {
  return (await (await Image.open(root)).installed()).get(stem)?.fmri.version?.toString().split(':')[0];
}

/**
 * The state a SIGKILL leaves at the manifest swap, without timing: the steps run up to the
 * one that replaces state.json (so the old manifest is already moved away while state.json
 * still names it), which "dies"; the rollback does nothing, so the journal stays exactly as a
 * killed process leaves it (the technique of execute.test.ts).
 */
const killedAtStateSwap: FsLayer = {
  ...realFs,
  rmTree: async () => undefined,
  rmdir: async () => undefined,
  unlink: async () => undefined,
  rename: async (a, b) => {
    if (a.endsWith(STATE_FILE)) throw Object.assign(new Error('killed'), { code: 'EKILLED' });
    if (a.includes('/journal/backup/')) throw new Error('no rollback');
    return realFs.rename(a, b);
  },
};

/**
 * A parent with a@2.0 and a zone z1 (and z2) still at a@1.0 (a follows the parent), whose
 * sync to a@2.0 was interrupted in z1 at the manifest swap: a@1.0's manifest is gone.
 */
async function interruptedChild() {
  const repo = await makeRepo();
  await publishPkg(repo, 'a@1.0', { 'a/v': '1.0' }, { actions: [SELF] });
  const dir = await tempDir('intr');
  const cache = await makeCache();
  const parent = await makeImage(fileUrl(repo), { root: path.join(dir, 'gz') });
  await update(parent, cache, { install: ['a@1.0'] });
  const zones: Record<string, string> = {};
  for (const z of ['z1', 'z2']) {
    const child = await makeImage(fileUrl(repo), { zone: 'nonglobal', root: path.join(dir, z) });
    await attachChild(parent, child, `zone:${z}`);
    await child.reload();
    await update(child, cache, { install: ['a@1.0'] });
    zones[z] = child.root;
  }
  await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF] });
  await update(parent, cache, { update: ['a'] });
  const z1 = await Image.open(zones.z1);
  const p = await plan(z1, { sync: true }, undefined, { cache });
  await prepare(z1, p, cache);
  await assert.rejects(execute(z1, p, cache, { fs: killedAtStateSwap }));
  await fs.access(path.join(z1.root, 'var/pkg/journal/intent.json'));
  await assert.rejects(z1.installedManifest('a'), /BAD_IMAGE|is missing/, 'the swap point: a@1.0 manifest moved away');
  return { parent: parent.root, zones, cache: cache.root };
}

describe('an image left with an interrupted execute (a SIGKILL mid-execute)', () => {
  it('update and sync-linked roll it back first, say so, then plan as usual', async () => {
    for (const args of [['update'], ['sync-linked']]) {
      const h = await interruptedChild();
      // Its own process, as after a real kill: nothing of the old manifest is remembered in memory.
      const r = await pkgProcess(args[0], '-R', h.zones.z1, '--cache', h.cache);
      assert.equal(r.code, 0, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^${h.zones.z1}: an interrupted execute was rolled back first$`, 'm'));
      assert.equal(await version(h.zones.z1, 'a'), '2.0');
      await assert.rejects(fs.stat(path.join(h.zones.z1, 'var/pkg/journal')), { code: 'ENOENT' });
    }
  });

  it("a parent's update and sync-linked -a roll the interrupted child back before syncing it", async () => {
    const h = await interruptedChild();
    const r = await pkgProcess('sync-linked', '-R', h.parent, '-a', '--cache', h.cache);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /an interrupted execute was rolled back first/);
    for (const z of Object.values(h.zones)) assert.equal(await version(z, 'a'), '2.0');
  });

  it('read-only commands say an execute was interrupted and how to finish or roll it back', async () => {
    const h = await interruptedChild();
    const notice = new RegExp(
      `^pkg: ${h.zones.z1}: an execute was interrupted .*pkg update -R ${h.zones.z1}.*pkg recover -R ${h.zones.z1}`,
      'm',
    );
    for (const cmd of ['installed', 'history']) {
      const r = await pkg(cmd, '-R', h.zones.z1);
      assert.match(r.stderr, notice, `${cmd}: ${r.stderr}`);
    }
    const audit = await pkg('audit-linked', '-R', h.parent);
    assert.doesNotMatch(audit.stderr, /BAD_IMAGE/);
    assert.match(audit.stdout, /^zone:z1\tinterrupted$/m);
    assert.match(audit.stdout, /^zone:z2\tdiverged$/m);
    assert.match(audit.stderr, /^pkg: zone:z1: an execute was interrupted/m);
    const self = await pkg('audit-linked', '-R', h.zones.z1);
    assert.doesNotMatch(self.stderr, /BAD_IMAGE/);
    assert.match(self.stderr, /^pkg: zone:z1: an execute was interrupted .*pkg recover -R /m);
    assert.equal(self.code, 1);
    const clean = await pkg('installed', '-R', h.zones.z2);
    assert.equal(clean.stderr, '', 'no notice on an image without a journal');
  });
});

describe('the plan activity on an image with an interrupted execute (a new run after its host went down)', () => {
  it('rolls the interrupted execute back first, says so in its lines, then plans as usual', async () => {
    const h = await interruptedChild();
    const acts = createActivities({ cacheDir: h.cache });
    const run = <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
      new MockActivityEnvironment().run(fn, ...args);
    const parent = await run(acts.plan, { image: h.parent, child: null, parentPlan: null });
    const out = await run(acts.plan, { image: h.parent, child: 'zone:z1', parentPlan: parent.plan.digest, sync: true });
    assert.match(out.lines[0], /^An execute interrupted in this image \(plan [0-9a-f]{12}\) was rolled back first$/);
    assert.deepEqual(
      out.plan.changes.map((c) => c.to?.replace(/:\d{8}T\d{6}Z$/, '')),
      ['pkg://test/a@2.0'],
    );
    await assert.rejects(fs.access(path.join(h.zones.z1, 'var/pkg/journal/intent.json')), { code: 'ENOENT' });
    assert.equal(await version(h.zones.z1, 'a'), '1.0', 'rolled back, not yet executed');
  });
});
