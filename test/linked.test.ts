import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isImageError } from '../src/model/errors';
import { Image } from '../src/image/image';
import { attachChild, detachChild, listChildren, parentOf } from '../src/image/linked';

let tmp: string;
let n = 0;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'li-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A fresh global-zone image with `count` zone images under <root>/zones/z<i>/root, none attached. */
async function host(count: number): Promise<{ parent: Image; zones: Image[] }> {
  const root = path.join(tmp, `gz${++n}`);
  const parent = await Image.create(root);
  const zones: Image[] = [];
  for (let i = 1; i <= count; i++)
    zones.push(
      await Image.create(path.join(root, 'zones', `z${i}`, 'root'), {
        variants: { 'variant.opensolaris.zone': 'nonglobal' },
      }),
    );
  return { parent, zones };
}

async function rejectsWith(p: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isImageError(e), `expected an ImageError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const s of parts)
      assert.ok(e.message.includes(s), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(s)}`);
    return true;
  });
}

describe('linked images', () => {
  it('lists three attached children by name and absolute path, and each child knows its parent', async () => {
    const { parent, zones } = await host(3);
    for (const [i, z] of zones.entries()) await attachChild(parent, z, `zone:z${i + 1}`);
    const expected = zones.map((z, i) => ({ name: `zone:z${i + 1}`, path: z.root }));
    assert.deepEqual(listChildren(parent), expected);
    assert.deepEqual(listChildren(await Image.open(parent.root)), expected);
    for (const [i, z] of zones.entries()) {
      assert.deepEqual(parentOf(z), { name: `zone:z${i + 1}`, model: 'push', parent: parent.root });
      assert.deepEqual(parentOf(await Image.open(z.root)), parentOf(z));
    }
    assert.equal(parentOf(parent), null);
  });

  it('changes the state token of both images on attach and on detach', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    const tokens = async () => [await parent.stateToken(), await z.stateToken()];
    const t0 = await tokens();
    await attachChild(parent, z, 'zone:z1');
    const t1 = await tokens();
    await detachChild(parent, 'zone:z1');
    const t2 = await tokens();
    assert.equal(new Set([t0[0], t1[0], t2[0]]).size, 3);
    assert.equal(new Set([t0[1], t1[1], t2[1]]).size, 3);
  });

  it('refuses a name that is already used by another child', async () => {
    const {
      parent,
      zones: [a, b],
    } = await host(2);
    await attachChild(parent, a, 'zone:web');
    await rejectsWith(attachChild(parent, b, 'zone:web'), 'ALREADY_LINKED', 'zone:web', a.root);
    assert.equal(parentOf(await Image.open(b.root)), null);
  });

  it('refuses a name not of the form zone:<name> or system:<name>', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    for (const bad of ['z1', 'zone:', 'zone:-x', 'pool:z1', 'zone:a b']) {
      await rejectsWith(
        attachChild(parent, z, bad),
        'BAD_REQUEST',
        JSON.stringify(bad),
        'zone:<name> or system:<name>',
      );
    }
    await attachChild(parent, z, 'system:backup.1');
  });

  it('refuses to attach a child that is already linked', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    const other = await Image.create(path.join(tmp, `other${++n}`));
    await attachChild(parent, z, 'zone:z1');
    await rejectsWith(attachChild(other, z, 'zone:z1'), 'ALREADY_LINKED', z.root, parent.root);
    await rejectsWith(attachChild(parent, z, 'zone:again'), 'ALREADY_LINKED', z.root);
    assert.deepEqual(listChildren(await Image.open(other.root)), []);
  });

  it('refuses to attach an image to itself or to an image inside it', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    await rejectsWith(attachChild(parent, parent, 'zone:self'), 'BAD_REQUEST', 'itself');
    await rejectsWith(attachChild(parent, await Image.open(parent.root), 'zone:self'), 'BAD_REQUEST', 'itself');
    await rejectsWith(attachChild(z, parent, 'zone:up'), 'BAD_REQUEST', 'inside the child');
    assert.deepEqual(listChildren(await Image.open(z.root)), []);
    assert.equal(parentOf(await Image.open(parent.root)), null);
  });

  it('refuses to attach a parent to its own child (a cycle)', async () => {
    const a = await Image.create(path.join(tmp, `a${++n}`));
    const b = await Image.create(path.join(tmp, `b${n}`));
    await attachChild(a, b, 'system:b');
    const fresh = await Image.open(a.root);
    await rejectsWith(attachChild(b, fresh, 'system:a'), 'BAD_REQUEST', a.root, "parent's own parent");
  });

  it('detaches a child, updating both sides', async () => {
    const {
      parent,
      zones: [a, b],
    } = await host(2);
    await attachChild(parent, a, 'zone:z1');
    await attachChild(parent, b, 'zone:z2');
    await detachChild(parent, 'zone:z1');
    assert.deepEqual(listChildren(parent), [{ name: 'zone:z2', path: b.root }]);
    assert.deepEqual(listChildren(await Image.open(parent.root)), [{ name: 'zone:z2', path: b.root }]);
    assert.equal(parentOf(await Image.open(a.root)), null);
    await attachChild(parent, await Image.open(a.root), 'zone:z1');
    assert.equal(listChildren(await Image.open(parent.root)).length, 2);
  });

  it('reports an unknown name on detach, listing the attached names', async () => {
    const {
      parent,
      zones: [a, b],
    } = await host(2);
    await rejectsWith(detachChild(parent, 'zone:nope'), 'NO_SUCH_CHILD', 'zone:nope', '(none)');
    await attachChild(parent, a, 'zone:z1');
    await attachChild(parent, b, 'zone:z2');
    await rejectsWith(detachChild(parent, 'zone:z3'), 'NO_SUCH_CHILD', '"zone:z3"', 'zone:z1, zone:z2');
  });

  it('detaches a child whose root has been deleted, changing only the parent', async () => {
    const {
      parent,
      zones: [a, b],
    } = await host(2);
    await attachChild(parent, a, 'zone:z1');
    await attachChild(parent, b, 'zone:z2');
    await fs.rm(path.dirname(a.root), { recursive: true });
    await detachChild(parent, 'zone:z1');
    assert.deepEqual(listChildren(await Image.open(parent.root)), [{ name: 'zone:z2', path: b.root }]);
    await assert.rejects(fs.stat(a.root), { code: 'ENOENT' });
  });

  it('finishes an attach that stopped after recording the child in the parent', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    await parent.withLock('test', () =>
      parent.updateConfig((c) => ({ ...c, children: [{ name: 'zone:z1', path: z.root }] })),
    );
    await attachChild(parent, z, 'zone:z1');
    assert.deepEqual(parentOf(await Image.open(z.root)), { name: 'zone:z1', model: 'push', parent: parent.root });
    assert.deepEqual(listChildren(await Image.open(parent.root)), [{ name: 'zone:z1', path: z.root }]);
  });

  it('refuses to attach while either image is locked, changing neither', async () => {
    const {
      parent,
      zones: [z],
    } = await host(1);
    await z.withLock('install', () => rejectsWith(attachChild(parent, z, 'zone:z1'), 'LOCKED', z.root, "'install'"));
    await parent.withLock('update', () =>
      rejectsWith(attachChild(parent, z, 'zone:z1'), 'LOCKED', parent.root, "'update'"),
    );
    assert.deepEqual(listChildren(await Image.open(parent.root)), []);
    assert.equal(parentOf(await Image.open(z.root)), null);
  });
});
