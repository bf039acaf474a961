import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Image } from '../src/image/image';
import { attachChild } from '../src/image/linked';
import { recursionConcurrency } from '../src/pkg-cli/child-runs';
import { combineExits } from '../src/pkg-cli/exit-codes';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, tempDir } from './helpers/tree';
import { pkgHere as pkg } from './helpers/pkg-here';

after(cleanup);

const SELF = 'depend type=parent fmri=feature/package/dependency/self';

/** stem -> version of what `root` has installed. */
async function versions(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [stem, p] of await (await Image.open(root)).installed())
    out[stem] = p.fmri.version!.toString().split(':')[0];
  return out;
}

/**
 * A parent with `a@1.0` (parent-constrained) and three zones z1..z3 with a@1.0 and b@1.0 (free);
 * then a@2.0 and b@2.0 are published. Returns the roots and the cache directory.
 */
async function host() {
  const repo = await makeRepo();
  await publishPkg(repo, 'a@1.0', { 'a/v': '1.0' }, { actions: [SELF] });
  await publishPkg(repo, 'b@1.0', { 'b/v': '1.0' });
  const dir = await tempDir('lcli');
  const parent = await makeImage(fileUrl(repo), { root: path.join(dir, 'gz') });
  const cache = await makeCache();
  await update(parent, cache, { install: ['a@1.0'] });
  const zones: Record<string, string> = {};
  for (const z of ['z1', 'z2', 'z3']) {
    const child = await makeImage(fileUrl(repo), { zone: 'nonglobal', root: path.join(dir, z) });
    await attachChild(parent, child, `zone:${z}`);
    await child.reload();
    await update(child, cache, { install: ['a@1.0', 'b@1.0'] });
    zones[z] = child.root;
  }
  await publishPkg(repo, 'a@2.0', { 'a/v': '2.0' }, { actions: [SELF] });
  await publishPkg(repo, 'b@2.0', { 'b/v': '2.0' });
  return { repo, dir, parent: parent.root, zones, cache: cache.root };
}

describe('pkg update of a parent: children synced (pkg(5) default) or updated (-r, -z, -Z)', () => {
  it('syncs every child by default: the parent-constrained package follows, nothing else moves', async () => {
    const h = await host();
    const r = await pkg('update', '-R', h.parent, '--cache', h.cache);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await versions(h.parent), { a: '2.0' });
    for (const z of Object.values(h.zones)) assert.deepEqual(await versions(z), { a: '2.0', b: '1.0' });
    assert.match(r.stdout, /^zone:z1: sync$/m);
    const audit = await pkg('audit-linked', '-R', h.parent);
    assert.deepEqual(audit, { code: 0, stdout: 'zone:z1\tsynced\nzone:z2\tsynced\nzone:z3\tsynced\n', stderr: '' });
    const again = await pkg('update', '-R', h.parent, '--cache', h.cache);
    assert.equal(again.code, 4, 'nothing to do in the parent nor in any child');
  });

  it('-r updates children fully; -Z leaves a child only synced; -z updates only the named ones', async () => {
    const h = await host();
    const r = await pkg('update', '-R', h.parent, '--cache', h.cache, '-r', '-Z', 'zone:z2', '-C', '2');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await versions(h.zones.z1), { a: '2.0', b: '2.0' });
    assert.deepEqual(await versions(h.zones.z2), { a: '2.0', b: '1.0' });
    assert.deepEqual(await versions(h.zones.z3), { a: '2.0', b: '2.0' });
    const only = await pkg('update', '-R', h.parent, '--cache', h.cache, '-r', '-z', 'z2', '-n');
    assert.equal(only.code, 0, only.stderr);
    assert.match(only.stdout, /^zone:z2: update\n {2}update +b: 1\.0/m);
    assert.match(only.stdout, /^zone:z1: sync\nNo updates available/m);
  });

  it('-I updates the parent alone (pkg(5)\'s "ignore children"); -I with -r is refused', async () => {
    const h = await host();
    assert.equal((await pkg('update', '-R', h.parent, '-r', '-I')).code, 2);
    const r = await pkg('update', '-R', h.parent, '--cache', h.cache, '-I');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await versions(h.parent), { a: '2.0' });
    assert.deepEqual(await versions(h.zones.z1), { a: '1.0', b: '1.0' });
    assert.equal((await pkg('audit-linked', '-R', h.parent)).code, 52);
  });

  it("refuses pkg(5)'s bad option combinations with exit 2", async () => {
    const h = await host();
    const noR = await pkg('update', '-R', h.parent, '-z', 'zone:z1');
    assert.equal(noR.code, 2);
    assert.match(noR.stderr, /'-z' may only be used with '-r'/);
    assert.equal((await pkg('update', '-R', h.parent, '-Z', 'zone:z1')).code, 2);
    const both = await pkg('update', '-R', h.parent, '-r', '-z', 'zone:z1', '-Z', 'zone:z2');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /'-z' and '-Z' options may not be combined/);
    const unknown = await pkg('update', '-R', h.parent, '-r', '-z', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /invalid linked image or zone name 'nope'\./);
    assert.deepEqual(await versions(h.parent), { a: '1.0' }, 'a refused command changes nothing');
  });
});

describe('pkg sync-linked', () => {
  it('syncs the named children, a child itself, then all; -n changes nothing; exit 4 when all are in step', async () => {
    const h = await host();
    // The parent moves alone (the image model, no children pass): its zones diverge.
    await update(await Image.open(h.parent), await makeCache(), { update: ['a'] });
    assert.equal((await pkg('audit-linked', '-R', h.parent)).code, 52);

    const dry = await pkg('sync-linked', '-R', h.parent, '-a', '-n', '--cache', h.cache);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /update +a: 1\.0/);
    assert.doesNotMatch(dry.stdout, /b: 1\.0/);
    assert.deepEqual(await versions(h.zones.z1), { a: '1.0', b: '1.0' });

    const one = await pkg('sync-linked', '-R', h.parent, '-l', 'zone:z1', '--cache', h.cache);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(await versions(h.zones.z1), { a: '2.0', b: '1.0' });
    assert.deepEqual(await versions(h.zones.z2), { a: '1.0', b: '1.0' });

    const self = await pkg('sync-linked', '-R', h.zones.z2, '--cache', h.cache);
    assert.equal(self.code, 0, self.stderr);
    assert.deepEqual(await versions(h.zones.z2), { a: '2.0', b: '1.0' });

    const all = await pkg('sync-linked', '-R', h.parent, '-a', '--cache', h.cache);
    assert.equal(all.code, 0, all.stderr); // z3 changed, z1 and z2 had nothing to do
    assert.deepEqual(await versions(h.zones.z3), { a: '2.0', b: '1.0' });
    assert.equal((await pkg('sync-linked', '-R', h.parent, '-a', '--cache', h.cache)).code, 4);
    assert.equal((await pkg('sync-linked', '-R', h.zones.z3, '--cache', h.cache)).code, 4);
  });

  it('exit codes: 53 on an image that is not a child, 1 for an unknown child, 2 for -a with -l', async () => {
    const h = await host();
    const notChild = await pkg('sync-linked', '-R', h.parent, '--cache', h.cache);
    assert.equal(notChild.code, 53);
    assert.match(notChild.stderr, /^pkg: NOT_LINKED: .*not a linked child/);
    const unknown = await pkg('sync-linked', '-R', h.parent, '-l', 'zone:nope', '--cache', h.cache);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^pkg: NO_SUCH_CHILD: .*no child named "zone:nope"; attached children: zone:z1/);
    assert.equal((await pkg('sync-linked', '-R', h.parent, '-a', '-l', 'zone:z1')).code, 2);
  });

  it('reports a child that fails and still syncs the others: exit 3 (EXIT_PARTIAL)', async () => {
    const h = await host();
    await update(await Image.open(h.parent), await makeCache(), { update: ['a'] });
    await fs.rename(h.zones.z2, h.zones.z2 + '.gone');
    const r = await pkg('sync-linked', '-R', h.parent, '-a', '--cache', h.cache);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^pkg: zone:z2: BAD_IMAGE: /m);
    assert.deepEqual(await versions(h.zones.z1), { a: '2.0', b: '1.0' });
    assert.deepEqual(await versions(h.zones.z3), { a: '2.0', b: '1.0' });
  });
});

describe('audit-linked and pubcheck-linked', () => {
  it('audit-linked reports every child, a missing root with its error, and exits 3 when some failed', async () => {
    const h = await host();
    await update(await Image.open(h.parent), await makeCache(), { update: ['a'] });
    await fs.rename(h.zones.z1, h.zones.z1 + '.gone');
    const r = await pkg('audit-linked', '-R', h.parent);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^pkg: zone:z1: BAD_IMAGE: /m);
    assert.match(r.stdout, /^zone:z2\tdiverged$/m);
    assert.match(r.stdout, /^zone:z3\tdiverged$/m);
    const one = await pkg('audit-linked', '-R', h.parent, '-l', 'zone:z2');
    assert.equal(one.code, 52);
    assert.doesNotMatch(one.stdout, /zone:z3/);
  });

  it('act on the image itself when it is a child', async () => {
    const h = await host();
    assert.deepEqual(await pkg('audit-linked', '-R', h.zones.z1), { code: 0, stdout: 'zone:z1\tsynced\n', stderr: '' });
    await update(await Image.open(h.parent), await makeCache(), { update: ['a'] });
    const diverged = await pkg('audit-linked', '-R', h.zones.z1);
    assert.equal(diverged.code, 52);
    assert.match(diverged.stdout, /^zone:z1\tdiverged\n {2}.*Parent has newer version a@2\.0/);
    assert.deepEqual(await pkg('pubcheck-linked', '-R', h.zones.z1), { code: 0, stdout: 'zone:z1\tok\n', stderr: '' });
  });
});

describe('publisher check on a child, attach-linked', () => {
  it('checks a child against its parent before any operation run on it; use-system-repo skips the check', async () => {
    const h = await host();
    const z1 = await Image.open(h.zones.z1);
    await z1.setPublishers(z1.publishers().map((p) => ({ ...p, sticky: false }))); // the parent's is sticky
    const r = await pkg('update', '-R', h.zones.z1, '--cache', h.cache);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pkg: PUBLISHER_MISMATCH: Invalid child image publisher configuration for zone:z1\./);
    assert.equal((await pkg('pubcheck-linked', '-R', h.zones.z1)).code, 1);
    await z1.setProperty('use-system-repo', 'true');
    const skipped = await pkg('update', '-R', h.zones.z1, '--cache', h.cache, '-n');
    assert.equal(skipped.code, 0, skipped.stderr + skipped.stdout);
  });

  it('update/install/uninstall of a parent check every child first: any mismatch changes nothing (exit 1); -I skips it', async () => {
    const h = await host();
    const extra = await makeRepo('extra');
    const added = await pkg('set-publisher', '-R', h.parent, 'extra', '--origin', extra);
    assert.equal(added.code, 0, added.stderr);
    const before = { parent: await versions(h.parent), z1: await versions(h.zones.z1) };
    for (const args of [['update'], ['install', 'b@1.0'], ['uninstall', 'a'], ['update', '-n']]) {
      const r = await pkg(args[0], '-R', h.parent, '--cache', h.cache, ...args.slice(1));
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      for (const z of ['z1', 'z2', 'z3'])
        assert.match(r.stderr, new RegExp(`^pkg: zone:${z}: PUBLISHER_MISMATCH: Invalid child image publisher`, 'm'));
      assert.match(r.stderr, /nothing was changed: 3 of 3 children fail the publisher check/);
      assert.doesNotMatch(r.stdout, /Packages to change|zone:z\d: sync/, 'the parent was not even planned');
    }
    assert.deepEqual({ parent: await versions(h.parent), z1: await versions(h.zones.z1) }, before);
    const ignored = await pkg('update', '-R', h.parent, '--cache', h.cache, '-I');
    assert.equal(ignored.code, 0, ignored.stderr);
    assert.deepEqual(await versions(h.parent), { a: '2.0' }, 'with -I the children are not checked');
  });

  it('attach-linked syncs the new child; --linked-md-only only links it; a publisher mismatch attaches nothing', async () => {
    const h = await host();
    await update(await Image.open(h.parent), await makeCache(), { update: ['a'] });
    const make = async (z: string) => {
      const img = await makeImage(fileUrl(h.repo), { zone: 'nonglobal', root: path.join(h.dir, z) });
      await update(img, await makeCache(), { install: ['b@1.0'] });
      return img.root;
    };
    const z4 = await make('z4');
    // a@1.0 cannot be installed beside the parent's a@2.0 once linked; b is free. Sync has nothing to move.
    const attached = await pkg('attach-linked', '-R', h.parent, '--cache', h.cache, 'zone:z4', z4);
    assert.equal(attached.code, 0, attached.stderr);
    assert.deepEqual(await versions(z4), { b: '1.0' }, 'sync moves no free package');

    // A zone with a@1.0 installed before it is attached: the attach brings it in step.
    const z5 = await make('z5');
    await update(await Image.open(z5), await makeCache(), { install: ['a@1.0'], update: [] });
    assert.equal((await pkg('attach-linked', '-R', h.parent, '--cache', h.cache, 'zone:z5', z5)).code, 0);
    assert.deepEqual(await versions(z5), { a: '2.0', b: '1.0' });

    const z6 = await make('z6');
    await update(await Image.open(z6), await makeCache(), { install: ['a@1.0'], update: [] });
    assert.equal((await pkg('attach-linked', '-R', h.parent, '--linked-md-only', 'zone:z6', z6)).code, 0);
    assert.deepEqual(await versions(z6), { a: '1.0', b: '1.0' });
    assert.equal((await pkg('audit-linked', '-R', z6)).code, 52);

    const z7 = await make('z7');
    await (await Image.open(z7)).setPublishers([]);
    const refused = await pkg('attach-linked', '-R', h.parent, '--cache', h.cache, 'zone:z7', z7);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^pkg: PUBLISHER_MISMATCH: Invalid child image publisher configuration for zone:z7\./);
    assert.equal((await Image.open(z7)).config().linked, null, 'nothing was attached');
  });
});

describe('set-property, unset-property, set-publisher --nochild', () => {
  it('set-property refuses malformed values of the known properties (exit 2); unset-property removes them', async () => {
    const h = await host();
    const props = async () => (await Image.open(h.parent)).config().properties;
    const bad = await pkg('set-property', '-R', h.parent, 'recursion-concurrency', 'four');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /value 'four' of property 'recursion-concurrency' is invalid\. Expected an integer/);
    const badBool = await pkg('set-property', '-R', h.parent, 'use-system-repo', 'yes');
    assert.equal(badBool.code, 2);
    assert.match(badBool.stderr, /property 'use-system-repo' is invalid\. Expected true or false/);
    assert.equal((await pkg('set-property', '-R', h.parent, 'bad name', 'x')).code, 2);
    assert.deepEqual(await props(), {}, 'nothing was written');
    assert.equal((await pkg('set-property', '-R', h.parent, 'recursion-concurrency', '3')).code, 0);
    assert.equal((await pkg('set-property', '-R', h.parent, 'use-system-repo', 'True')).code, 0);
    assert.equal((await pkg('set-property', '-R', h.parent, 'site.note', 'any text')).code, 0);
    assert.deepEqual(await props(), {
      'recursion-concurrency': '3',
      'use-system-repo': 'True',
      'site.note': 'any text',
    });
    assert.equal(recursionConcurrency(await Image.open(h.parent), undefined, {}, 8), 3);
    const unset = await pkg('unset-property', '-R', h.parent, 'recursion-concurrency', 'site.note');
    assert.equal(unset.code, 0, unset.stderr);
    assert.deepEqual(await props(), { 'use-system-repo': 'True' });
    const missing = await pkg('unset-property', '-R', h.parent, 'use-system-repo', 'recursion-concurrency');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND: .*no property 'recursion-concurrency'/);
    assert.deepEqual(await props(), { 'use-system-repo': 'True' }, 'nothing removed when one is missing');
  });

  it('set-publisher --nochild leaves a publisher out of the children check; publisher shows it; --no-nochild undoes it', async () => {
    const h = await host();
    const extra = await makeRepo('extra');
    assert.equal((await pkg('set-publisher', '-R', h.parent, 'extra', '--origin', extra)).code, 0);
    assert.equal((await pkg('pubcheck-linked', '-R', h.parent)).code, 1);
    assert.equal((await pkg('set-publisher', '-R', h.parent, 'extra', '--nochild')).code, 0);
    assert.equal((await pkg('pubcheck-linked', '-R', h.parent)).code, 0);
    const list = await pkg('publisher', '-R', h.parent);
    assert.match(list.stdout, /^PUBLISHER +STICKY +ENABLED +NOCHILD +ORIGINS$/m);
    assert.match(list.stdout, /^extra +true +true +true +file:\/\//m);
    assert.match(list.stdout, /^test +true +true +false +file:\/\//m);
    assert.equal((await pkg('set-publisher', '-R', h.parent, 'extra', '--origin', extra)).code, 0);
    assert.equal((await pkg('pubcheck-linked', '-R', h.parent)).code, 0, 'a change without the flag keeps nochild');
    assert.equal((await pkg('set-publisher', '-R', h.parent, 'extra', '--no-nochild')).code, 0);
    assert.equal((await pkg('pubcheck-linked', '-R', h.parent)).code, 1);
    assert.equal((await Image.open(h.parent)).publishers()[1].nochild, undefined);
  });
});

describe('package arguments', () => {
  it('a malformed FMRI given to update or uninstall is BAD_FMRI naming it, not UNKNOWN_PACKAGE', async () => {
    const h = await host();
    for (const cmd of ['update', 'uninstall']) {
      const r = await pkg(cmd, '-R', h.parent, '--cache', h.cache, '-n', 'bad@@fmri');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^pkg: BAD_FMRI: Invalid FMRI 'bad@@fmri': /, `${cmd}: ${r.stderr}`);
    }
    const unknown = await pkg('update', '-R', h.parent, '--cache', h.cache, '-n', 'nosuch');
    assert.match(
      unknown.stderr,
      /^pkg: UNKNOWN_PACKAGE: /,
      'a well-formed name that is not installed stays UNKNOWN_PACKAGE',
    );
  });
});

describe('installed', () => {
  it('lists the packages sorted by name, as pkg(5), whatever order they were installed in', async () => {
    const repo = await makeRepo();
    await publishPkg(repo, 'zeta@1.0', { 'z/v': '1' });
    await publishPkg(repo, 'alpha@1.0', { 'a/v': '1' });
    await publishPkg(repo, 'mid@1.0', { 'm/v': '1' });
    const image = await makeImage(fileUrl(repo));
    const cache = await makeCache();
    for (const p of ['zeta', 'mid', 'alpha']) await update(image, cache, { install: [p] });
    const r = await pkg('installed', '-R', image.root);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.replace(/^pkg:\/\/test\/([^@]+)@.*$/, '$1')),
      ['alpha', 'mid', 'zeta'],
    );
  });
});

describe('concurrency and exit codes of multi-child commands', () => {
  it('takes -C, then PKG_CONCURRENCY, then the recursion-concurrency property, else 1; <= 0 is CPUs minus that', async () => {
    const img = await Image.create(path.join(await tempDir('cc'), 'img'), { publishers: [] });
    assert.equal(recursionConcurrency(img, undefined, {}, 8), 1);
    await img.setProperty('recursion-concurrency', '3');
    assert.equal(recursionConcurrency(img, undefined, {}, 8), 3);
    assert.equal(recursionConcurrency(img, undefined, { PKG_CONCURRENCY: '5' }, 8), 5);
    assert.equal(recursionConcurrency(img, 2, { PKG_CONCURRENCY: '5' }, 8), 2);
    assert.equal(recursionConcurrency(img, 0, {}, 8), 8);
    assert.equal(recursionConcurrency(img, -2, {}, 8), 6);
    assert.equal(recursionConcurrency(img, -20, {}, 8), 1);
    const negative = await pkg('sync-linked', '-R', img.root, '-a', '-C', '-1');
    assert.equal(negative.code, 4, negative.stderr); // accepted; no children, nothing to do
  });

  it('refuses a PKG_CONCURRENCY (exit 2) or a recursion-concurrency property (BAD_IMAGE) that is not an integer', async () => {
    const h = await host();
    const parent = await Image.open(h.parent);
    assert.throws(() => recursionConcurrency(parent, undefined, { PKG_CONCURRENCY: 'many' }, 8), {
      name: 'UsageError',
      message: /^PKG_CONCURRENCY='many' is invalid\. Expected an integer/,
    });
    assert.equal(
      recursionConcurrency(parent, 2, { PKG_CONCURRENCY: 'many' }, 8),
      2,
      '-C wins; the variable is not read',
    );
    const saved = process.env.PKG_CONCURRENCY;
    process.env.PKG_CONCURRENCY = 'abc';
    try {
      const withCache = ['--cache', h.cache];
      for (const args of [['sync-linked', '-a', '-n', ...withCache], ['update', ...withCache], ['audit-linked']]) {
        const res = await pkg(args[0], '-R', h.parent, ...args.slice(1));
        assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
        assert.match(res.stderr, /PKG_CONCURRENCY='abc' is invalid\. Expected an integer/);
      }
    } finally {
      if (saved === undefined) delete process.env.PKG_CONCURRENCY;
      else process.env.PKG_CONCURRENCY = saved;
    }
    assert.deepEqual(await versions(h.parent), { a: '1.0' }, 'the parent was not updated before the refusal');

    // A hand-edited property (set-property refuses it) is refused where it is read, naming it and the image.
    await parent.setProperty('recursion-concurrency', 'four');
    for (const args of [
      ['sync-linked', '-a', '-n', '--cache', h.cache],
      ['update', '--cache', h.cache],
    ]) {
      const bad = await pkg(args[0], '-R', h.parent, ...args.slice(1));
      assert.equal(bad.code, 1, `${args[0]}: ${bad.stdout}${bad.stderr}`);
      assert.match(
        bad.stderr,
        /^pkg: BAD_IMAGE: .*field 'properties\.recursion-concurrency': expected an integer, got "four"/,
      );
      assert.match(bad.stderr, new RegExp(h.parent));
    }
    assert.deepEqual(await versions(h.parent), { a: '1.0' }, 'the parent was not updated before the refusal');
  });

  it("combines children's codes as pkg(5): OK/NOP, same failure, PARTIAL, OOPS", () => {
    assert.equal(combineExits([0, 4, 4]), 0);
    assert.equal(combineExits([4, 4]), 4);
    assert.equal(combineExits([]), 4);
    assert.equal(combineExits([], 0), 0);
    assert.equal(combineExits([52, 52]), 52);
    assert.equal(combineExits([1, 52]), 1);
    assert.equal(combineExits([0, 1]), 3);
    assert.equal(combineExits([4, 7]), 3);
  });
});
