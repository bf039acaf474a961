import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Image } from '../src/image/image';
import { plan } from '../src/stages/plan';
import { buildDemoHost } from '../src/dev/demo-host';
import { PARENT_DEPEND, syntheticPackages, syntheticStem } from '../src/dev/synthetic-packages';
import { cleanup, tempDir } from './helpers/tree';
import { DEMO_STEMS, versionOf } from './helpers/workflow-fixture';

after(cleanup);

describe('buildDemoHost packages option', () => {
  it("installs the demo's five packages by default, in the parent and every zone", async () => {
    const host = await buildDemoHost(await tempDir('li-dh'), 2);
    for (const root of [host.parent, ...host.children.map((c) => c.path)]) {
      assert.deepEqual([...(await (await Image.open(root)).installed()).keys()].sort(), DEMO_STEMS);
    }
  });

  it('with packages: 7 installs 7 synthetic packages at 1.0 everywhere, and 1.1 changes both files of each', async () => {
    const host = await buildDemoHost(await tempDir('li-dh'), 2, undefined, { packages: 7, zones: 'clone' });
    const stems = Array.from({ length: 7 }, (_, i) => syntheticStem(i));
    for (const root of [host.parent, ...host.children.map((c) => c.path)]) {
      const installed = await (await Image.open(root)).installed();
      assert.deepEqual([...installed.keys()].sort(), stems);
      for (const p of installed.values()) assert.equal(versionOf(p.fmri.toString()), '1.0');
      assert.match(await fs.readFile(path.join(root, 'opt/synthetic/p00006/bin/run'), 'utf8'), /p00006 version 1\.0/);
    }
    const p = await plan(await Image.open(host.parent), {});
    assert.deepEqual(
      p.changes.map((c) => [c.stem, versionOf(c.from), versionOf(c.to)]),
      stems.map((s) => [s, '1.0', '1.1']),
    );
    assert.equal(p.sizes.update, 14);
    assert.equal(p.sizes.files, 14);
  });

  it('ties two of every five synthetic packages to the parent, and refuses a count that is not an integer >= 1', async () => {
    const specs = syntheticPackages(10, 2);
    assert.deepEqual(
      specs.map((s) => (s.actions ?? []).includes(PARENT_DEPEND)),
      [true, true, false, false, false, true, true, false, false, false],
    );
    assert.ok(specs.every((s) => s.fmri.endsWith('@1.1') && Object.keys(s.tree).length === 2));
    assert.throws(() => syntheticPackages(0, 1), RangeError);
    const dir = await tempDir('li-dh');
    for (const bad of [0, 2.5, -1])
      await assert.rejects(buildDemoHost(dir, 1, undefined, { packages: bad }), RangeError);
  });
});
