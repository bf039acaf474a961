import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import { isImageError } from '../src/model/errors';
import { acrossDirectories, execute, recover } from '../src/stages/execute';
import { FsLayer, realFs } from '../src/image/fs-layer';
import { Image } from '../src/image/image';
import { currentBootId, Journal } from '../src/stages/journal';
import { readHistory } from '../src/image/history';
import { plan, Plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { fileUrl, makeCache, makeImage, makeRepo, publishPkg, update } from './helpers/fixture';
import { cleanup, snapshot, tempDir } from './helpers/tree';

after(cleanup);

/** Everything of the image, its metadata included, except its history log (which records the failure). */
const HISTORY = ['var/pkg/history.jsonl'];

/** An installed app@1.0 and a prepared plan to app@2.0 that changes, adds and removes files. */
async function pendingUpdate(): Promise<{ image: Image; cache: ContentCache; p: Plan; repo: string }> {
  const repo = await makeRepo();
  const v1: Record<string, string | null> = { 'etc/': null, 'etc/conf': 'c1' };
  for (let i = 0; i < 20; i++) v1[`data/f${i}`] = `one ${i}`;
  await publishPkg(repo, 'app@1.0', v1);
  const image = await makeImage(fileUrl(repo));
  const cache = await makeCache();
  await update(image, cache, { install: ['app'] });
  const v2: Record<string, string | null> = { 'etc/': null, 'etc/conf': 'c2', 'new/': null };
  for (let i = 0; i < 20; i++) v2[`data/f${i}`] = `two ${i}`;
  for (let i = 0; i < 10; i++) v2[`new/g${i}`] = `fresh ${i}`;
  await publishPkg(repo, 'app@2.0', v2);
  const p = await plan(image, {}, null, { cache });
  await prepare(image, p, cache);
  return { image, cache, p, repo };
}

/** An fs layer that throws EIO from `op` on its `n`th call. */
function failingFs(op: keyof FsLayer, n: number): FsLayer & { calls: number } {
  const layer = { ...realFs, calls: 0 } as FsLayer & { calls: number };
  const real = realFs[op] as (...a: unknown[]) => Promise<unknown>;
  (layer as unknown as Record<string, unknown>)[op] = async (...args: unknown[]) => {
    if (++layer.calls === n) throw Object.assign(new Error(`EIO: i/o error, ${op} '${args[0]}'`), { code: 'EIO' });
    return real(...args);
  };
  return layer;
}

describe('execute', () => {
  it('rolls back to a byte-identical image when the disk fails in the middle', async () => {
    for (const [op, n] of [
      ['copyFile', 15],
      ['chmod', 12],
      ['rename', 30],
      ['mkdir', 1],
      ['mkdir', 4],
      ['writeDurable', 3],
    ] as const) {
      const { image, cache, p } = await pendingUpdate();
      const before = await snapshot(image.root, HISTORY);
      await assert.rejects(execute(image, p, cache, { fs: failingFs(op, n) }), (e: unknown) => {
        assert.ok(isImageError(e, 'IO_ERROR'), `${op}: ${e}`);
        // The first mkdir creates the journal: it fails before any change, so nothing is rolled back.
        assert.match((e as Error).message, op === 'mkdir' && n === 1 ? /cannot write journal/ : /rolled back/);
        return true;
      });
      assert.deepEqual(await snapshot(image.root, HISTORY), before, `image after a failing ${op} #${n}`);
      // The same plan still applies once the disk is healthy again.
      assert.equal((await execute(image, p, cache)).status, 'applied');
      assert.match((await image.installed()).get('app')!.fmri.toString(), /app@2\.0/);
    }
  });

  it('refuses a stale plan when the image changed after planning', async () => {
    const { image, cache, p } = await pendingUpdate();
    await image.setProperty('touched', 'yes');
    await assert.rejects(
      execute(image, p, cache),
      (e: unknown) =>
        isImageError(e, 'STALE_PLAN') && /modified after this plan was made.*plan again/.test((e as Error).message),
    );
    await assert.rejects(prepare(image, p, cache), (e: unknown) => isImageError(e, 'STALE_PLAN'));
  });

  it('refuses a plan from another host, another format, or altered after planning', async () => {
    const { image, cache, p } = await pendingUpdate();
    await assert.rejects(
      execute(image, { ...p, host: 'elsewhere' }, cache),
      (e: unknown) => isImageError(e, 'FOREIGN_PLAN') && /elsewhere/.test((e as Error).message),
    );
    await assert.rejects(
      execute(image, { ...p, format: 99 }, cache),
      (e: unknown) => isImageError(e, 'FOREIGN_PLAN') && /format 99/.test((e as Error).message),
    );
    const altered = { ...p, changes: p.changes.map((c) => ({ ...c, to: c.from })) };
    await assert.rejects(
      execute(image, altered, cache),
      (e: unknown) => isImageError(e, 'BAD_PLAN') && /digest/.test((e as Error).message),
    );
  });

  it('refuses an unprepared plan without touching the image', async () => {
    const { image, p } = await pendingUpdate();
    const before = await snapshot(image.root, HISTORY);
    await assert.rejects(
      execute(image, p, await makeCache()),
      (e: unknown) => isImageError(e, 'NOT_PREPARED') && /prepare/.test((e as Error).message),
    );
    assert.deepEqual(await snapshot(image.root, HISTORY), before);
  });

  it('gives LOCKED while another operation holds the image', async () => {
    const { image, cache, p } = await pendingUpdate();
    let release!: () => void;
    const held = image.withLock('test-holder', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    const other = await Image.open(image.root);
    await assert.rejects(
      execute(other, p, cache),
      (e: unknown) =>
        isImageError(e, 'LOCKED') && /locked/.test((e as Error).message) && (e as { exitCode: number }).exitCode === 7,
    );
    release();
    await held;
    assert.equal((await execute(other, p, cache)).status, 'applied');
  });

  it('never writes through a symlink the child planted where a directory should be', async () => {
    const { image, cache, p } = await pendingUpdate();
    const outside = await tempDir('outside');
    await fs.rm(path.join(image.root, 'data'), { recursive: true });
    await fs.symlink(outside, path.join(image.root, 'data'));
    // The plan was made before the symlink appeared; the state token is unchanged (a child
    // process, not pkg, planted it), so only the execute-time check can catch it.
    const before = await snapshot(image.root, HISTORY);
    await assert.rejects(
      execute(image, p, cache),
      (e: unknown) => isImageError(e, 'PATH_OUTSIDE_IMAGE') && /'data' is a symlink/.test((e as Error).message),
    );
    assert.deepEqual(await fs.readdir(outside), []);
    assert.deepEqual(await snapshot(image.root, HISTORY), before);
  });

  it('replaces a symlink planted at a file path instead of following it', async () => {
    const { image, cache, p } = await pendingUpdate();
    const outside = path.join(await tempDir('outside'), 'victim');
    await fs.writeFile(outside, 'host file');
    await fs.rm(path.join(image.root, 'etc/conf'));
    await fs.symlink(outside, path.join(image.root, 'etc/conf'));
    await execute(image, p, cache);
    assert.equal(await fs.readFile(outside, 'utf8'), 'host file');
    assert.equal(await fs.readFile(path.join(image.root, 'etc/conf'), 'utf8'), 'c2');
    assert.ok(!(await fs.lstat(path.join(image.root, 'etc/conf'))).isSymbolicLink());
  });

  it('never writes through a symlink planted where it builds a temp file, and leaves no temp file', async () => {
    const { image, cache, p } = await pendingUpdate();
    const outside = path.join(await tempDir('outside'), 'victim');
    await fs.writeFile(outside, 'host file');
    // Temp files are built beside their path as .li-tmp.<step>: plant one at every step number.
    for (let i = 0; i < 60; i++) await fs.symlink(outside, path.join(image.root, `data/.li-tmp.${i}`));
    await execute(image, p, cache);
    assert.equal(await fs.readFile(outside, 'utf8'), 'host file');
    for (let i = 0; i < 20; i++)
      assert.equal(await fs.readFile(path.join(image.root, `data/f${i}`), 'utf8'), `two ${i}`);
    for (const n of (await fs.readdir(path.join(image.root, 'data'))).filter((x) => x.startsWith('.li-tmp'))) {
      assert.ok(
        (await fs.lstat(path.join(image.root, 'data', n))).isSymbolicLink(),
        `${n}: only untouched planted links remain, no temp file`,
      );
    }
  });

  it('rolls back and reports CANCELLED when cancelled mid-way', async () => {
    const { image, cache, p } = await pendingUpdate();
    const before = await snapshot(image.root, HISTORY);
    const ac = new AbortController();
    const fsl: FsLayer = {
      ...realFs,
      copyFile: async (a, b) => {
        await realFs.copyFile(a, b);
        ac.abort();
      },
    };
    await assert.rejects(execute(image, p, cache, { fs: fsl, signal: ac.signal }), (e: unknown) =>
      isImageError(e, 'CANCELLED'),
    );
    assert.deepEqual(await snapshot(image.root, HISTORY), before);
  });

  it('resumes an interrupted execute of the same plan, or rolls it back for anything else', async () => {
    // Simulate the state a SIGKILL leaves: steps applied, no commit, the process gone.
    for (const mode of ['resume', 'recover'] as const) {
      const { image, cache, p } = await pendingUpdate();
      const before = await snapshot(image.root, HISTORY);
      const crash = {
        ...realFs,
        syncFs: async () => {
          throw Object.assign(new Error('killed'), { code: 'EKILLED' });
        },
        rmTree: async () => undefined,
        rmdir: async () => undefined,
        unlink: async () => undefined,
        rename: realFs.rename,
      };
      // A layer whose rollback does nothing leaves the half-applied journal exactly as a kill would.
      const noRollback: FsLayer = {
        ...crash,
        rename: async (a, b) => {
          if (a.includes('/journal/backup/')) throw new Error('no rollback');
          return realFs.rename(a, b);
        },
      };
      await assert.rejects(execute(image, p, cache, { fs: noRollback }));
      await fs.access(path.join(image.root, 'var/pkg/journal/intent.json'));
      if (mode === 'resume') {
        const r = await execute(image, p, cache);
        assert.equal(r.resumed, true);
        assert.equal(r.status, 'applied');
        assert.match((await image.installed()).get('app')!.fmri.toString(), /app@2\.0/);
      } else {
        assert.equal(await recover(image, cache), 'rolled-back');
        assert.deepEqual(await snapshot(image.root, HISTORY), before);
      }
      await assert.rejects(fs.stat(path.join(image.root, 'var/pkg/journal')), { code: 'ENOENT' });
    }
  });
});

describe('image history', () => {
  it('records one applied execute per plan, rollbacks, and no-op repeats', async () => {
    const { image, cache, p } = await pendingUpdate();
    await assert.rejects(execute(image, p, cache, { fs: failingFs('copyFile', 3) }));
    await execute(image, p, cache);
    await execute(image, p, cache);
    const h = (await readHistory(image.root)).filter((e) => e.plan === p.digest);
    assert.deepEqual(
      h.map((e) => e.outcome),
      ['rolled-back', 'applied', 'already-applied'],
    );
    assert.equal(h[0].error?.code, 'IO_ERROR');
  });
});

describe('acrossDirectories (the order parallel writes start in)', () => {
  it('takes each directory in turn, keeps journal order within a directory, and covers exactly the range', () => {
    const w = (p: string) => ({ op: 'write' as const, path: p, hash: 'h', mode: 0o644, existed: null });
    const steps = [w('x/skip'), w('a/1'), w('a/2'), w('a/3'), w('b/1'), w('b/2'), w('top'), w('c/d/1'), w('x/skip2')];
    const order = acrossDirectories(steps, 1, 8);
    assert.deepEqual(
      order.map((i) => steps[i].path),
      ['a/1', 'b/1', 'top', 'c/d/1', 'a/2', 'b/2', 'a/3'],
    );
  });
});

describe('the journal after a host crash', () => {
  it('trusts its done log on the boot that wrote it and forgets it on another boot', async () => {
    const root = await tempDir('journal');
    await fs.mkdir(path.join(root, 'var/pkg'), { recursive: true });
    const steps = [
      { op: 'remove' as const, path: 'a', existed: 'file' as const },
      { op: 'remove' as const, path: 'b', existed: 'file' as const },
    ];
    const boot = currentBootId();
    const j = await Journal.begin(root, realFs, {
      plan: 'p',
      steps,
      createdDirs: [],
      ...(boot ? { bootId: boot } : {}),
    });
    await j.markDone(0, 1);
    assert.deepEqual([...(await Journal.load(root, realFs))!.done], [0], 'same boot: step 0 stays done');
    const intent = path.join(Journal.path(root), 'intent.json');
    await fs.writeFile(
      intent,
      JSON.stringify({ ...JSON.parse(await fs.readFile(intent, 'utf8')), bootId: 'an-earlier-boot' }),
    );
    assert.deepEqual(
      [...(await Journal.load(root, realFs))!.done],
      boot ? [] : [0],
      'another boot: every step is redone',
    );
  });
});
