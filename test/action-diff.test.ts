import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionChange, actionCsize, actionSize, diffActions, OwnedManifest } from '../src/model/action-diff';
import { parseAction, parseManifest } from '../src/model/manifest';
import { isCode } from './helpers/expect-error';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);

const pkg = (fmri: string, ...lines: string[]): OwnedManifest => ({ fmri, manifest: parseManifest(lines.join('\n')) });

function diff(o: {
  old?: OwnedManifest[];
  next?: OwnedManifest[];
  kept?: OwnedManifest[];
  variants?: Record<string, string>;
}): ActionChange[] {
  return diffActions({ old: o.old ?? [], next: o.next ?? [], kept: o.kept ?? [], variants: o.variants ?? {} });
}

/** `kind path` for each change, in the order returned. */
const kinds = (cs: ActionChange[]) => cs.map((c) => `${c.kind} ${c.path}`);

const A1 = 'pkg://test/a@1.0';
const A2 = 'pkg://test/a@2.0';
const B1 = 'pkg://test/b@1.0';

describe('diffActions: what changes', () => {
  it('adds every file-system action of a newly installed package, owned by it', () => {
    const cs = diff({
      next: [
        pkg(
          A1,
          'dir path=opt mode=0755',
          `file ${H1} path=opt/a mode=0644`,
          'set name=pkg.summary value=x',
          'depend type=require fmri=b',
        ),
      ],
    });
    assert.deepEqual(kinds(cs), ['add opt', 'add opt/a']);
    assert.ok(cs.every((c) => c.owner === A1 && c.from === null && c.to !== null));
  });

  it('removes every file-system action of a package no longer installed, owned by the old one', () => {
    const cs = diff({ old: [pkg(A1, 'dir path=opt', `file ${H1} path=opt/a`)] });
    assert.deepEqual(kinds(cs), ['remove opt/a', 'remove opt']);
    assert.ok(cs.every((c) => c.owner === A1 && c.to === null && c.from !== null));
  });

  it("keeps a removed package's directory while a remaining package's path lies beneath it (pkg(5)'s implicit directories)", () => {
    // b delivers usr/bin/app without dir actions of its own; a, which delivered usr and usr/bin, goes.
    const a = pkg(A1, 'dir path=usr', 'dir path=usr/bin', `file ${H1} path=usr/bin/kern`, 'dir path=opt');
    const b = pkg(B1, `file ${H2} path=usr/bin/app`);
    assert.deepEqual(kinds(diff({ old: [a], kept: [b] })), ['remove usr/bin/kern', 'remove opt']);
    // Likewise when b is updated in the same change, and when nothing stays beneath: removed.
    const b2 = pkg('pkg://test/b@2.0', `file ${H1} path=usr/bin/app`);
    assert.deepEqual(kinds(diff({ old: [a, b], next: [b2] })), [
      'remove usr/bin/kern',
      'remove opt',
      'update usr/bin/app',
    ]);
    assert.deepEqual(kinds(diff({ old: [a, b] })), [
      'remove usr/bin/app',
      'remove usr/bin/kern',
      'remove usr/bin',
      'remove opt',
      'remove usr',
    ]);
  });

  it('lists nothing for a package whose version changed but whose actions did not', () => {
    assert.deepEqual(
      diff({
        old: [pkg(A1, 'dir path=opt', `file ${H1} path=opt/a mode=0644`)],
        next: [pkg(A2, 'dir path=opt', `file ${H1} path=opt/a mode=0644`)],
      }),
      [],
    );
  });

  it('updates a file whose payload hash changed, carrying both actions', () => {
    const [c, ...rest] = diff({ old: [pkg(A1, `file ${H1} path=opt/a`)], next: [pkg(A2, `file ${H2} path=opt/a`)] });
    assert.deepEqual(rest, []);
    assert.equal(c.kind, 'update');
    assert.equal(c.owner, A2);
    assert.equal(c.from!.hash, H1);
    assert.equal(c.to!.hash, H2);
  });

  it('updates a file whose mode alone changed', () => {
    assert.deepEqual(
      kinds(
        diff({ old: [pkg(A1, `file ${H1} path=opt/a mode=0644`)], next: [pkg(A2, `file ${H1} path=opt/a mode=0755`)] }),
      ),
      ['update opt/a'],
    );
  });

  it('updates a directory whose mode changed', () => {
    assert.deepEqual(
      kinds(diff({ old: [pkg(A1, 'dir path=opt mode=0755')], next: [pkg(A2, 'dir path=opt mode=0700')] })),
      ['update opt'],
    );
  });

  it('updates a path whose action type changed (file to symlink)', () => {
    const cs = diff({ old: [pkg(A1, `file ${H1} path=opt/a`)], next: [pkg(A2, 'link path=opt/a target=b')] });
    assert.deepEqual(kinds(cs), ['update opt/a']);
    assert.equal(cs[0].from!.type, 'file');
    assert.equal(cs[0].to!.type, 'link');
  });

  it('treats a file moved to another path as a removal of the old path and an add of the new one', () => {
    assert.deepEqual(
      kinds(diff({ old: [pkg(A1, `file ${H1} path=opt/old`)], next: [pkg(A2, `file ${H1} path=opt/new`)] })),
      ['remove opt/old', 'add opt/new'],
    );
  });

  it('lists nothing when a path moves unchanged from one changed package to another', () => {
    assert.deepEqual(
      diff({
        old: [pkg(A1, `file ${H1} path=opt/f`), pkg(B1, 'dir path=opt')],
        next: [pkg(A2, 'dir path=opt'), pkg('pkg://test/b@2.0', `file ${H1} path=opt/f`)],
      }),
      [],
    );
  });

  it('keeps a directory an unchanged package also delivers when the changed package drops it', () => {
    const cs = diff({
      old: [pkg(A1, 'dir path=opt', `file ${H1} path=opt/a`)],
      kept: [pkg(B1, 'dir path=opt', `file ${H2} path=opt/b`)],
    });
    assert.deepEqual(kinds(cs), ['remove opt/a']);
  });

  it('adds nothing for a directory an unchanged package already delivers identically', () => {
    assert.deepEqual(
      kinds(
        diff({
          next: [pkg(A1, 'dir path=opt mode=0755', `file ${H1} path=opt/a`)],
          kept: [pkg(B1, 'dir path=opt mode=0755')],
        }),
      ),
      ['add opt/a'],
    );
  });

  it('skips actions tagged for another variant value, and keeps those for the image’s', () => {
    const cs = diff({
      next: [
        pkg(
          A1,
          `file ${H1} path=sparc variant.arch=sparc`,
          `file ${H1} path=i386 variant.arch=i386`,
          `file ${H1} path=dbg variant.debug.a=true`,
        ),
      ],
      variants: { 'variant.arch': 'i386' },
    });
    assert.deepEqual(kinds(cs), ['add i386']);
  });
});

describe('diffActions: conflicts (CONFLICTING_ACTIONS)', () => {
  it('refuses a new package delivering a path an unchanged package owns', () => {
    assert.throws(
      () => diff({ next: [pkg(A1, `file ${H1} path=etc/x`)], kept: [pkg(B1, `file ${H2} path=etc/x`)] }),
      isCode(
        'CONFLICTING_ACTIONS',
        "Conflicting actions for path 'etc/x': delivered differently by pkg://test/b@1.0 and pkg://test/a@1.0",
      ),
    );
  });

  it('refuses a path an unchanged package owns even when delivered identically (files are not shared)', () => {
    assert.throws(
      () => diff({ next: [pkg(A1, `file ${H1} path=etc/x`)], kept: [pkg(B1, `file ${H1} path=etc/x`)] }),
      isCode('CONFLICTING_ACTIONS', 'etc/x'),
    );
  });

  it('refuses a directory delivered with different attributes by a kept package', () => {
    assert.throws(
      () => diff({ next: [pkg(A1, 'dir path=opt mode=0700')], kept: [pkg(B1, 'dir path=opt mode=0755')] }),
      isCode('CONFLICTING_ACTIONS', "'opt'"),
    );
  });

  it('refuses two new packages delivering one path differently, naming both', () => {
    assert.throws(
      () => diff({ next: [pkg(A1, `file ${H1} path=etc/x`), pkg(B1, `file ${H2} path=etc/x`)] }),
      (e: unknown) => {
        isCode('CONFLICTING_ACTIONS')(e);
        assert.deepEqual((e as { details: unknown }).details, { path: 'etc/x', packages: [A1, B1] });
        return true;
      },
    );
  });

  it('tolerates collisions already present among installed (old and kept) packages', () => {
    assert.deepEqual(
      kinds(
        diff({
          old: [pkg(A1, `file ${H1} path=x`), pkg(B1, `file ${H2} path=x`)],
          next: [pkg(A2, `file ${H1} path=x`)],
        }),
      ),
      [],
    );
  });
});

describe('diffActions: execution order', () => {
  it('orders removals before writes, files before their directories, deepest directories first', () => {
    const cs = diff({
      old: [
        pkg(
          A1,
          'dir path=a',
          'dir path=a/b',
          'dir path=a/b/c',
          `file ${H1} path=a/b/c/f`,
          `file ${H1} path=a/g`,
          'link path=a/l target=g',
        ),
      ],
      next: [pkg(A2, 'dir path=n', 'dir path=n/m', `file ${H1} path=n/m/f`)],
    });
    assert.deepEqual(kinds(cs), [
      'remove a/b/c/f',
      'remove a/g',
      'remove a/l',
      'remove a/b/c',
      'remove a/b',
      'remove a',
      'add n',
      'add n/m',
      'add n/m/f',
    ]);
  });

  it('orders writes as directories (shallowest first), then files and symlinks by path, then hardlinks', () => {
    const cs = diff({
      next: [
        pkg(
          A1,
          'hardlink path=z/h target=../y/f',
          `file ${H1} path=y/f`,
          'link path=x/l target=f',
          'dir path=z/deep/er',
          'dir path=z',
          'dir path=y',
          'dir path=x',
          'dir path=z/deep',
        ),
      ],
    });
    assert.deepEqual(kinds(cs), [
      'add x',
      'add y',
      'add z',
      'add z/deep',
      'add z/deep/er',
      'add x/l',
      'add y/f',
      'add z/h',
    ]);
  });

  it('places updates among the writes by their new type', () => {
    const cs = diff({
      old: [pkg(A1, 'dir path=d mode=0755', `file ${H1} path=d/f`)],
      next: [pkg(A2, 'dir path=d mode=0700', `file ${H2} path=d/f`, 'dir path=d/new')],
    });
    assert.deepEqual(kinds(cs), ['update d', 'add d/new', 'update d/f']);
  });
});

describe('actionSize and actionCsize', () => {
  it('reads pkg.size and pkg.csize, csize falling back to size, both 0 when absent', () => {
    assert.equal(actionSize(parseAction(`file ${H1} path=f pkg.size=120 pkg.csize=40`)), 120);
    assert.equal(actionCsize(parseAction(`file ${H1} path=f pkg.size=120 pkg.csize=40`)), 40);
    assert.equal(actionCsize(parseAction(`file ${H1} path=f pkg.size=120`)), 120);
    assert.equal(actionSize(parseAction(`file ${H1} path=f`)), 0);
    assert.equal(actionSize(null), 0);
  });
});
