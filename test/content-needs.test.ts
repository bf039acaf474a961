import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ContentCache } from '../src/cache/content-cache';
import { Image } from '../src/image/image';
import { plannedState } from '../src/stages/parent-state';
import { plan } from '../src/stages/plan';
import { savePlan } from '../src/stages/saved-plans';
import { confirmPlansExecuted, contentNeeds, uniqueContent } from '../bench/content-needs';
import { runDirectUpdate } from '../bench/direct-update';
import { startProxiedDepot } from '../bench/proxied-depot';
import { FRAME_HEADER_BYTES } from '../bench/update-figures';
import { buildDemoHost } from '../src/dev/demo-host';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

/** Content hashes in a content cache (`file/<hh>/<sha256>`). */
async function cachedHashes(cacheDir: string): Promise<Set<string>> {
  const root = path.join(cacheDir, 'file');
  const hashes = new Set<string>();
  for (const d of await fs.readdir(root)) {
    if (d.startsWith('.')) continue;
    for (const f of await fs.readdir(path.join(root, d))) hashes.add(f);
  }
  return hashes;
}

const names = (host: { children: { name: string }[] }) => ['parent', ...host.children.map((c) => c.name)];

describe('contentNeeds and uniqueContent (the unique bytes of npm run bench)', () => {
  it('are the compressed bytes of exactly the content an update then fetches over HTTP, from the plans it executes', async () => {
    const dir = await tempDir('li-needs');
    const host = await buildDemoHost(dir, 2, undefined, { bigFileBytes: 100_000, zones: 'clone' });
    const served = await startProxiedDepot(host);
    try {
      const before = await cachedHashes(host.cacheDir);
      const needs = await contentNeeds(host, path.join(dir, 'scratch'));
      const unique = await uniqueContent(await ContentCache.open(host.cacheDir), needs);
      assert.deepEqual([...needs.plans.keys()], names(host));
      assert.deepEqual(await cachedHashes(host.cacheDir), before, "planning left the host's cache as it was");
      assert.equal(served.contentBytes(), 0, 'planning fetched no content');

      const r = await runDirectUpdate(host, { concurrency: 2 });
      assert.equal(r.status, 'ok');
      const fetched = [...(await cachedHashes(host.cacheDir))].filter((h) => !before.has(h));
      assert.deepEqual(
        new Set(fetched),
        new Set([...needs.files.keys()].filter((h) => !before.has(h))),
        'the update fetched what was needed and not cached',
      );
      assert.equal(unique.files, fetched.length);
      // The repository stores each payload gzip-compressed under the hash of its uncompressed bytes: pkg.csize is that file's size.
      const stored = await Promise.all(
        fetched.map(
          async (h) => (await fs.stat(path.join(host.repo, 'publisher', 'demo', 'file', h.slice(0, 2), h))).size,
        ),
      );
      assert.equal(
        unique.bytes,
        stored.reduce((a, b) => a + b, 0),
      );
      assert.ok(unique.bytes > 50_000, `the zone-only big file is among them (${unique.bytes} bytes)`);
      const got = served.contentBytes();
      assert.ok(
        got >= unique.bytes && got <= unique.bytes + unique.files * FRAME_HEADER_BYTES,
        `depot served ${got} content bytes for ${unique.bytes} unique in ${unique.files} files`,
      );

      for (const [name, root] of [['parent', host.parent], ...host.children.map((c) => [c.name, c.path])]) {
        assert.equal(
          (await (await Image.open(root)).readState()).lastPlan,
          needs.plans.get(name),
          `${name} executed the plan needed`,
        );
      }
      await assert.rejects(
        confirmPlansExecuted(host, needs),
        /did not execute the plans[\s\S]*parent: No saved plan/,
        'runDirectUpdate saves no plans',
      );
    } finally {
      await served.close();
    }
  });

  it('confirmPlansExecuted accepts an update that saved and executed those plans, and names an image that executed another', async () => {
    const host = await buildDemoHost(await tempDir('li-needs-saved'), 2, undefined, { zones: 'clone' });
    const needs = await contentNeeds(host, path.join(await tempDir('li-needs-scratch'), 'cache'));
    // What the plan activities do: plan the parent, each child against it, save every plan in its image.
    const parent = await Image.open(host.parent);
    const parentPlan = await plan(parent, {});
    await savePlan(parent, parentPlan);
    const planned = await plannedState(parent, parentPlan);
    for (const c of host.children) {
      const child = await Image.open(c.path);
      await savePlan(child, await plan(child, {}, planned));
    }
    assert.equal((await runDirectUpdate(host, { concurrency: 2 })).status, 'ok');
    await confirmPlansExecuted(host, needs);

    needs.plans.set('zone:z2', '0'.repeat(64));
    await assert.rejects(
      confirmPlansExecuted(host, needs),
      (e: Error) => /zone:z2: executed [0-9a-f]{64}, expected 0{64}/.test(e.message) && !e.message.includes('zone:z1'),
    );
  });
});
