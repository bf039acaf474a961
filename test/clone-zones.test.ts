import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isImageError } from '../src/model/errors';
import { readHistory } from '../src/image/history';
import { Image } from '../src/image/image';
import { listChildren } from '../src/image/linked';
import { cloneZones } from '../src/dev/clone-zones';
import { buildDemoHost, DemoHost } from '../src/dev/demo-host';
import { cleanup, snapshot, tempDir } from './helpers/tree';
import { pkgHere } from './helpers/pkg-here';

after(cleanup);

/** `pkg <args>` in this process: its exit code and everything it printed. */
const pkg = async (...args: string[]) => {
  const r = await pkgHere(...args);
  return { code: r.code, out: r.stdout + r.stderr };
};

const METADATA = ['var/pkg/image.json', 'var/pkg/state.json', 'var/pkg/history.jsonl'];

/** The audit, dry run and update of every image of `host` through the pkg CLI, as one transcript (parent first, as pkg(5) does). */
async function updateTranscript(host: DemoHost): Promise<string[]> {
  const t: string[] = [];
  const run = async (...args: string[]) => {
    const r = await pkg(...args);
    t.push(`$ pkg ${args.join(' ')}\n[exit ${r.code}]\n${r.out}`);
  };
  const cache = ['--cache', host.cacheDir];
  await run('audit-linked', '-R', host.parent);
  for (const c of host.children) await run('update', '-R', c.path, '-n', ...cache);
  await run('update', '-R', host.parent, ...cache);
  await run('audit-linked', '-R', host.parent);
  for (const c of host.children) await run('update', '-R', c.path, '-n', ...cache);
  for (const c of host.children) await run('update', '-R', c.path, ...cache);
  await run('audit-linked', '-R', host.parent);
  for (const c of host.children) await run('update', '-R', c.path, ...cache);
  return t;
}

/** Paths under the host dir and publication timestamps made comparable between hosts. */
function normalise(lines: string[], dir: string): string[] {
  return lines.map((l) =>
    l
      .split(dir)
      .join('<host>')
      .replace(/\d{8}T\d{6}Z/g, '<ts>'),
  );
}

describe('cloneZones (buildDemoHost zones: clone)', () => {
  let dirC: string;
  let dirI: string;
  let cloned: DemoHost;
  let installed: DemoHost;

  before(async () => {
    dirC = await tempDir('li-clone');
    dirI = await tempDir('li-inst');
    cloned = await buildDemoHost(dirC, 3, undefined, { zones: 'clone' });
    installed = await buildDemoHost(dirI, 3, undefined, { zones: 'install' });
  });

  it('lists every clone in the parent, in order, and each clone names its parent', async () => {
    const parent = await Image.open(cloned.parent);
    assert.deepEqual(listChildren(parent), cloned.children);
    assert.deepEqual(
      cloned.children.map((c) => c.name),
      ['zone:z1', 'zone:z2', 'zone:z3'],
    );
    for (const c of cloned.children)
      assert.deepEqual((await Image.open(c.path)).config().linked, {
        name: c.name,
        model: 'push',
        parent: cloned.parent,
      });
  });

  it('copies the template zone file for file, with the same packages and generation but a state token and last plan of its own', async () => {
    const [z1, z2, z3] = await Promise.all(cloned.children.map((c) => Image.open(c.path)));
    assert.deepEqual(await snapshot(z2.root, METADATA), await snapshot(z1.root, METADATA));
    assert.deepEqual(await snapshot(z3.root, METADATA), await snapshot(z1.root, METADATA));
    const [s1, s2, s3] = await Promise.all([z1, z2, z3].map((z) => z.readState()));
    for (const s of [s2, s3]) {
      assert.deepEqual(s.packages, s1.packages);
      assert.equal(s.generation, s1.generation);
    }
    assert.equal(new Set([s1.token, s2.token, s3.token]).size, 3);
    assert.equal(new Set([s1.lastPlan, s2.lastPlan, s3.lastPlan]).size, 3);
    assert.deepEqual({ ...z2.config(), linked: null }, { ...z1.config(), linked: null });
    const h2 = await readHistory(z2.root);
    assert.deepEqual(
      h2.map((h) => ({ ...h, plan: '' })),
      (await readHistory(z1.root)).map((h) => ({ ...h, plan: '' })),
    );
    assert.equal(h2[0].plan, s2.lastPlan);
    // Every installed manifest verifies against the digest state.json records.
    for (const stem of Object.keys(s2.packages)) await z2.installedManifest(stem, s2);
    for (const rel of ['var/pkg/lock', 'var/pkg/journal']) await assert.rejects(fs.access(path.join(z2.root, rel)));
  });

  it('updates a cloned zone exactly as an installed one: audit-linked, update -n and update give the same output and trees', async () => {
    const c = await updateTranscript(cloned);
    const i = await updateTranscript(installed);
    assert.deepEqual(normalise(c, dirC), normalise(i, dirI));
    // Within the cloned host, the clones behave as the installed zone:z1 does.
    const z1 = c
      .filter((l) => l.includes(cloned.children[0].path))
      .map((l) => l.split(cloned.children[0].path).join('<zone>'));
    const z3 = c
      .filter((l) => l.includes(cloned.children[2].path))
      .map((l) => l.split(cloned.children[2].path).join('<zone>'));
    assert.deepEqual(z3, z1);
    assert.match(c.join('\n'), /zone:z3\tsynced/);
    assert.match(c.join('\n'), /Execute: applied/);
    assert.match(c.at(-1)!, /\[exit 4\]\nNo updates available/);
    for (const k of [1, 2])
      assert.deepEqual(
        await snapshot(cloned.children[k].path, METADATA),
        await snapshot(cloned.children[0].path, METADATA),
      );
    // Across hosts the installed manifests' paths carry each repository's publication time: compare the delivered files.
    assert.deepEqual(await snapshot(cloned.children[2].path), await snapshot(installed.children[2].path));
  });

  it('refuses a template that is not a child of the parent, a non-empty target and a name already attached, before writing anything', async () => {
    const dir = await tempDir('li-clone-bad');
    const host = await buildDemoHost(dir, 2, undefined, { zones: 'clone', packages: 1 });
    const parent = await Image.open(host.parent);
    const z1 = await Image.open(host.children[0].path);
    const installPlan = {
      format: 1,
      host: 'h',
      image: z1.root,
      stateToken: 't',
      changes: [],
      sizes: { downloadBytes: 0, installBytes: 0, files: 0, add: 0, update: 0, remove: 0 },
      digest: (await z1.readState()).lastPlan!,
    };
    const isBad =
      (...parts: string[]) =>
      (e: unknown) => {
        assert.ok(isImageError(e, 'BAD_REQUEST'), String(e));
        for (const p of parts) assert.ok(e.message.includes(p), e.message);
        return true;
      };
    await assert.rejects(
      cloneZones(z1, parent, installPlan, [{ name: 'zone:x', root: path.join(dir, 'x') }]),
      isBad('expected a child of'),
    );
    const busy = path.join(dir, 'busy');
    await fs.mkdir(busy);
    await fs.writeFile(path.join(busy, 'f'), '');
    await assert.rejects(cloneZones(parent, z1, installPlan, [{ name: 'zone:busy', root: busy }]), isBad('not empty'));
    await assert.rejects(
      cloneZones(parent, z1, installPlan, [{ name: 'zone:z2', root: path.join(dir, 'again') }]),
      isBad('a name no other child has'),
    );
    await assert.rejects(fs.access(path.join(dir, 'again')));
    await parent.reload();
    assert.deepEqual(
      listChildren(parent).map((c) => c.name),
      ['zone:z1', 'zone:z2'],
    );
  });
});
