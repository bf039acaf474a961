import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionChange } from '../src/model/action-diff';
import { parseAction } from '../src/model/manifest';
import { OnDisk, Step, stepsFor } from '../src/model/steps';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const EDITED = 'e'.repeat(64);

const add = (line: string): ActionChange => {
  const to = parseAction(line);
  return { kind: 'add', path: to.attrs.path as string, owner: 'pkg://test/p@2', from: null, to };
};
const update = (from: string, to: string): ActionChange => {
  const t = parseAction(to);
  return { kind: 'update', path: t.attrs.path as string, owner: 'pkg://test/p@2', from: parseAction(from), to: t };
};
const remove = (line: string): ActionChange => {
  const from = parseAction(line);
  return { kind: 'remove', path: from.attrs.path as string, owner: 'pkg://test/p@1', from, to: null };
};

/**
 * A disk described by path: what lies there, its mode, and (for files) the hash of its content.
 * Records every path asked about and every hash algorithm requested.
 */
function disk(paths: Record<string, { existed: 'dir' | 'file' | 'link'; mode?: number; hash?: string }> = {}) {
  const asked: string[] = [];
  const algorithms: string[] = [];
  const onDisk = async (p: string): Promise<OnDisk> => {
    asked.push(p);
    const d = paths[p];
    if (!d) return { existed: null };
    return {
      existed: d.existed,
      ...(d.mode !== undefined ? { mode: d.mode } : {}),
      hash: async (alg) => {
        algorithms.push(alg);
        return d.hash ?? null;
      },
    };
  };
  return { onDisk, asked, algorithms };
}

describe('stepsFor: one step per change, in the order given', () => {
  it('keeps the order of the changes (diffActions has already ordered them for execution)', async () => {
    const { onDisk } = disk({ 'old/f': { existed: 'file' } });
    const steps = await stepsFor(
      [remove(`file ${OLD} path=old/f`), add('dir path=n'), add(`file ${NEW} path=n/f`), add('link path=n/l target=f')],
      onDisk,
    );
    assert.deepEqual(
      steps.map((s) => `${s.op} ${s.path}`),
      ['remove old/f', 'mkdir n', 'write n/f', 'symlink n/l'],
    );
  });

  it('returns no steps for no changes', async () => {
    assert.deepEqual(await stepsFor([], disk().onDisk), []);
  });
});

describe('stepsFor: each kind of action', () => {
  it('makes a directory with its octal mode, 0755 when none is given', async () => {
    const steps = await stepsFor([add('dir path=a mode=0700'), add('dir path=b')], disk().onDisk);
    assert.deepEqual(steps, [
      { op: 'mkdir', path: 'a', mode: 0o700, existed: null },
      { op: 'mkdir', path: 'b', mode: 0o755, existed: null },
    ]);
  });

  it('records the old mode of a directory already on disk, so a rollback can restore it', async () => {
    const steps = await stepsFor(
      [update('dir path=a mode=0755', 'dir path=a mode=0700')],
      disk({ a: { existed: 'dir', mode: 0o755 } }).onDisk,
    );
    assert.deepEqual(steps, [{ op: 'mkdir', path: 'a', mode: 0o700, existed: 'dir', oldMode: 0o755 }]);
  });

  it('writes a file by its payload hash with its octal mode, 0644 when none is given', async () => {
    const steps = await stepsFor(
      [add(`file ${NEW} path=bin/x mode=0555`), add(`file ${OLD} path=etc/y`)],
      disk().onDisk,
    );
    assert.deepEqual(steps, [
      { op: 'write', path: 'bin/x', hash: NEW, mode: 0o555, existed: null },
      { op: 'write', path: 'etc/y', hash: OLD, mode: 0o644, existed: null },
    ]);
  });

  it('makes a symlink with its target as given', async () => {
    assert.deepEqual(await stepsFor([add('link path=usr/lib/l target=../../lib/x')], disk().onDisk), [
      { op: 'symlink', path: 'usr/lib/l', target: '../../lib/x', existed: null },
    ]);
  });

  it('makes a hardlink whose relative target is resolved against the link’s directory', async () => {
    assert.deepEqual(await stepsFor([add('hardlink path=usr/bin/h target=../lib/x')], disk().onDisk), [
      { op: 'hardlink', path: 'usr/bin/h', target: 'usr/lib/x', existed: null },
    ]);
  });

  it('records what lay at the path before the step (a file replaced by a symlink)', async () => {
    const steps = await stepsFor(
      [update(`file ${OLD} path=l`, 'link path=l target=x')],
      disk({ l: { existed: 'file' } }).onDisk,
    );
    assert.deepEqual(steps, [{ op: 'symlink', path: 'l', target: 'x', existed: 'file' }]);
  });

  it('removes what is on disk, recording its kind', async () => {
    const steps = await stepsFor(
      [remove(`file ${OLD} path=f`), remove('dir path=d'), remove('link path=l target=f')],
      disk({ f: { existed: 'file' }, d: { existed: 'dir' }, l: { existed: 'link' } }).onDisk,
    );
    assert.deepEqual(steps, [
      { op: 'remove', path: 'f', existed: 'file' },
      { op: 'remove', path: 'd', existed: 'dir' },
      { op: 'remove', path: 'l', existed: 'link' },
    ]);
  });

  it('skips the removal of a path that is already gone', async () => {
    assert.deepEqual(await stepsFor([remove(`file ${OLD} path=f`)], disk().onDisk), []);
  });

  it('leaves a removed preserve=abandon file on disk', async () => {
    assert.deepEqual(
      await stepsFor([remove(`file ${OLD} path=f preserve=abandon`)], disk({ f: { existed: 'file' } }).onDisk),
      [],
    );
  });
});

describe('stepsFor: preserved files (pkg(5) preserve=true|renamenew|renameold|abandon)', () => {
  const PRESERVES = ['true', 'renamenew', 'renameold', 'abandon'];

  for (const p of PRESERVES) {
    it(`installs a preserve=${p} file that is not on disk`, async () => {
      assert.deepEqual(await stepsFor([add(`file ${NEW} path=etc/c preserve=${p}`)], disk().onDisk), [
        { op: 'write', path: 'etc/c', hash: NEW, mode: 0o644, existed: null },
      ]);
    });

    it(`keeps a file already on disk where a new preserve=${p} file is added (it is the operator's)`, async () => {
      const d = disk({ 'etc/c': { existed: 'file', hash: EDITED } });
      assert.deepEqual(await stepsFor([add(`file ${NEW} path=etc/c preserve=${p}`)], d.onDisk), []);
      assert.deepEqual(d.algorithms, [], 'no need to hash it');
    });
  }

  for (const p of ['true', 'renamenew', 'renameold']) {
    it(`replaces an unedited preserve=${p} file (its content is the old version's)`, async () => {
      const steps = await stepsFor(
        [update(`file ${OLD} path=etc/c preserve=${p}`, `file ${NEW} path=etc/c preserve=${p}`)],
        disk({ 'etc/c': { existed: 'file', hash: OLD } }).onDisk,
      );
      assert.deepEqual(steps, [{ op: 'write', path: 'etc/c', hash: NEW, mode: 0o644, existed: 'file' }]);
    });

    it(`rewrites a preserve=${p} file whose content already is the new version's (e.g. a mode change)`, async () => {
      const steps = await stepsFor(
        [update(`file ${OLD} path=etc/c preserve=${p}`, `file ${NEW} path=etc/c mode=0600 preserve=${p}`)],
        disk({ 'etc/c': { existed: 'file', hash: NEW } }).onDisk,
      );
      assert.deepEqual(steps, [{ op: 'write', path: 'etc/c', hash: NEW, mode: 0o600, existed: 'file' }]);
    });
  }

  it('keeps a locally edited preserve=true file as it is', async () => {
    const steps = await stepsFor(
      [update(`file ${OLD} path=etc/c preserve=true`, `file ${NEW} path=etc/c preserve=true`)],
      disk({ 'etc/c': { existed: 'file', hash: EDITED } }).onDisk,
    );
    assert.deepEqual(steps, []);
  });

  it('installs the new version beside a locally edited preserve=renamenew file as <path>.new', async () => {
    const steps = await stepsFor(
      [update(`file ${OLD} path=etc/c preserve=renamenew`, `file ${NEW} path=etc/c preserve=renamenew`)],
      disk({ 'etc/c': { existed: 'file', hash: EDITED } }).onDisk,
    );
    assert.deepEqual(steps, [{ op: 'write', path: 'etc/c.new', hash: NEW, mode: 0o644, existed: null }]);
  });

  it('records an existing <path>.new that the renamenew write will replace', async () => {
    const steps = await stepsFor(
      [update(`file ${OLD} path=etc/c preserve=renamenew`, `file ${NEW} path=etc/c preserve=renamenew`)],
      disk({ 'etc/c': { existed: 'file', hash: EDITED }, 'etc/c.new': { existed: 'file' } }).onDisk,
    );
    assert.equal((steps[0] as Extract<Step, { op: 'write' }>).existed, 'file');
  });

  it('copies a locally edited preserve=renameold file aside to <path>.old, then installs the new version', async () => {
    const steps = await stepsFor(
      [
        add('dir path=etc'),
        update(`file ${OLD} path=etc/c preserve=renameold`, `file ${NEW} path=etc/c preserve=renameold`),
      ],
      disk({ etc: { existed: 'dir', mode: 0o755 }, 'etc/c': { existed: 'file', hash: EDITED } }).onDisk,
    );
    assert.deepEqual(steps.slice(1), [
      // sourceStep: the index of the write that replaces the source (its backup holds the edit after a crash).
      { op: 'copy-aside', path: 'etc/c.old', source: 'etc/c', sourceStep: 2, existed: null },
      { op: 'write', path: 'etc/c', hash: NEW, mode: 0o644, existed: 'file' },
    ]);
  });

  it('leaves an installed preserve=abandon file alone on update, without hashing it', async () => {
    const d = disk({ 'etc/c': { existed: 'file', hash: EDITED } });
    assert.deepEqual(
      await stepsFor(
        [update(`file ${OLD} path=etc/c preserve=abandon`, `file ${NEW} path=etc/c preserve=abandon`)],
        d.onDisk,
      ),
      [],
    );
    assert.deepEqual(d.algorithms, []);
  });

  it('writes a preserved file when a directory or symlink lies at its path (only a file can hold an edit)', async () => {
    const steps = await stepsFor(
      [update(`file ${OLD} path=etc/c preserve=true`, `file ${NEW} path=etc/c preserve=true`)],
      disk({ 'etc/c': { existed: 'link' } }).onDisk,
    );
    assert.deepEqual(steps, [{ op: 'write', path: 'etc/c', hash: NEW, mode: 0o644, existed: 'link' }]);
  });

  it('hashes the file on disk with the algorithm of the old payload hash (SHA-1 for pkg(5)-published ones)', async () => {
    const sha1Old = 'c'.repeat(40);
    const d = disk({ 'etc/c': { existed: 'file', hash: sha1Old } });
    const steps = await stepsFor(
      [update(`file ${sha1Old} path=etc/c preserve=true`, `file ${NEW} path=etc/c preserve=true`)],
      d.onDisk,
    );
    assert.deepEqual(d.algorithms, ['sha1']);
    assert.deepEqual(
      steps.map((s) => s.op),
      ['write'],
      'the unedited file (same SHA-1) is replaced',
    );
  });
});
