import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from '../src/image/atomic-write';
import { isImageError } from '../src/model/errors';
import { Fmri } from '../src/model/fmri';
import { CONFIG_FILE, Image, ImageState, manifestRelPath, nextState, STATE_FILE } from '../src/image/image';
import { acquireImageLock, LOCK_FILE } from '../src/image/image-lock';

let tmp: string;
let n = 0;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'li-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});
const fresh = () => path.join(tmp, `img${++n}`);

const omnios = { name: 'omnios', origins: ['https://pkg.omnios.org/r151054/core/'], sticky: true, enabled: true };

/** Rejects with an ImageError of `code` whose message contains every one of `parts`. */
async function rejectsWith(p: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isImageError(e), `expected an ImageError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const s of parts)
      assert.ok(e.message.includes(s), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(s)}`);
    return true;
  });
}

/** Installs `text` as the manifest of `fmri` by hand, as execute would, and records it. */
async function installByHand(img: Image, fmri: string, text: string): Promise<string> {
  const f = Fmri.parse(fmri);
  const file = path.join(img.root, manifestRelPath(f));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  const state = await img.readState();
  const digest = createHash('sha256').update(text).digest('hex');
  const next = nextState(state, { packages: { ...state.packages, [f.stem]: { fmri, manifest: digest } } });
  await fs.writeFile(path.join(img.root, STATE_FILE), JSON.stringify(next));
  return file;
}

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid!;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
}

describe('Image', () => {
  it('creates an image that opens with the same configuration', async () => {
    const root = fresh();
    const created = await Image.create(root, { publishers: [omnios], properties: { 'be-policy': 'default' } });
    const opened = await Image.open(root + '/');
    assert.equal(opened.root, root);
    assert.deepEqual(opened.config(), created.config());
    assert.deepEqual(opened.publishers(), [omnios]);
    assert.deepEqual(opened.variants(), { 'variant.opensolaris.zone': 'global' });
    assert.deepEqual(opened.config().children, []);
    assert.equal(opened.config().linked, null);
    const state = await opened.readState();
    assert.equal(state.generation, 0);
    assert.deepEqual(state.packages, {});
    assert.equal((await opened.installed()).size, 0);
  });

  it('refuses to create an image over an existing one', async () => {
    const root = fresh();
    await Image.create(root);
    await rejectsWith(Image.create(root), 'BAD_REQUEST', root, CONFIG_FILE);
  });

  it('refuses a relative root', async () => {
    await rejectsWith(Image.create('relative/img'), 'BAD_REQUEST', 'relative/img', 'absolute');
    await rejectsWith(Image.open('relative/img'), 'BAD_REQUEST', 'absolute');
  });

  it('refuses invalid publishers at create naming the field', async () => {
    await rejectsWith(
      Image.create(fresh(), { publishers: [{ ...omnios, origins: ['ftp://x/'] }] }),
      'BAD_REQUEST',
      "'publishers[0].origins[0]'",
      'ftp://x/',
    );
  });

  it('reports a directory that is not an image, naming the path and the missing file', async () => {
    const root = fresh();
    await fs.mkdir(root);
    await rejectsWith(Image.open(root), 'BAD_IMAGE', root, 'var/pkg/image.json');
  });

  it('reports a malformed image.json naming the field', async () => {
    const root = fresh();
    await Image.create(root, { publishers: [omnios] });
    const file = path.join(root, CONFIG_FILE);
    const cfg = JSON.parse(await fs.readFile(file, 'utf8'));
    cfg.publishers[0].sticky = 'yes';
    await fs.writeFile(file, JSON.stringify(cfg));
    await rejectsWith(Image.open(root), 'BAD_IMAGE', file, "'publishers[0].sticky'", 'boolean', '"yes"');
    await fs.writeFile(file, '{"format": 1,');
    await rejectsWith(Image.open(root), 'BAD_IMAGE', file, 'JSON');
    await fs.writeFile(file, JSON.stringify({ ...cfg, publishers: [omnios], format: 2 }));
    await rejectsWith(Image.open(root), 'BAD_IMAGE', "'format'", 'expected 1, got 2');
  });

  it('changes the state token and bumps the generation on every mutation', async () => {
    const img = await Image.create(fresh());
    const tokens = [await img.stateToken()];
    const generations = [(await img.readState()).generation];
    const record = async () => {
      tokens.push(await img.stateToken());
      generations.push((await img.readState()).generation);
    };
    await img.setPublishers([omnios]);
    await record();
    await img.setProperty('be-policy', 'always-new');
    await record();
    await img.setVariant('variant.arch', 'i386');
    await record();
    await img.setProperty('be-policy', null);
    await record();
    assert.equal(new Set(tokens).size, 5);
    assert.deepEqual(generations, [0, 1, 2, 3, 4]);
    const reopened = await Image.open(img.root);
    assert.deepEqual(reopened.config().properties, {});
    assert.equal(reopened.variants()['variant.arch'], 'i386');
    assert.deepEqual(reopened.publishers(), [omnios]);
  });

  it('refuses duplicate publisher names and bad origins', async () => {
    const img = await Image.create(fresh());
    await rejectsWith(img.setPublishers([omnios, { ...omnios }]), 'BAD_REQUEST', "'publishers[1].name'", 'omnios');
    await rejectsWith(
      img.setPublishers([{ ...omnios, origins: ['not a url'] }]),
      'BAD_REQUEST',
      "'publishers[0].origins[0]'",
    );
    await rejectsWith(img.setPublishers([{ ...omnios, name: 'bad name' }]), 'BAD_REQUEST', "'publishers[0].name'");
    await rejectsWith(img.setVariant('arch', 'i386'), 'BAD_REQUEST', 'variant.');
    assert.equal((await img.readState()).generation, 0);
  });

  it('computes the next state with a new token and one more generation', () => {
    const prev: ImageState = { token: 't', generation: 7, lastPlan: 'p', packages: {} };
    const next = nextState(prev, { lastPlan: null });
    assert.notEqual(next.token, 't');
    assert.equal(next.generation, 8);
    assert.equal(next.lastPlan, null);
    assert.equal(next.packages, prev.packages);
  });

  it('returns an installed manifest only while it matches its recorded digest', async () => {
    const img = await Image.create(fresh());
    const fmri = 'pkg://omnios/web/curl@8.5.0,5.11-151054.0:20260101T120000Z';
    const text = 'set name=pkg.fmri value=' + fmri + '\ndir path=usr owner=root group=sys mode=0755\n';
    const file = await installByHand(img, fmri, text);
    assert.equal(file, path.join(img.root, 'var/pkg/pkg/web%2Fcurl/8.5.0%2C5.11-151054.0%3A20260101T120000Z/manifest'));
    assert.equal(await img.installedManifest('web/curl'), text);
    assert.equal((await img.installed()).get('web/curl')!.fmri.toString(), fmri);
    await fs.writeFile(file, text + 'dir path=etc owner=root group=sys mode=0755\n');
    await rejectsWith(img.installedManifest('web/curl'), 'HASH_MISMATCH', file);
    await rejectsWith(img.installedManifest('web/wget'), 'NOT_FOUND', 'web/wget');
  });

  it('reports a malformed state.json naming the field', async () => {
    const img = await Image.create(fresh());
    const file = path.join(img.root, STATE_FILE);
    await fs.writeFile(
      file,
      JSON.stringify({
        token: 'x',
        generation: 1,
        lastPlan: null,
        packages: { a: { fmri: 'pkg:/a@1', manifest: 'f'.repeat(64) } },
      }),
    );
    await rejectsWith(img.readState(), 'BAD_IMAGE', file, `'packages["a"].fmri'`);
  });
});

describe('image lock', () => {
  it('refuses a second lock from the same process while the first is held', async () => {
    const img = await Image.create(fresh());
    let inner = 0;
    await img.withLock('install', async () => {
      await rejectsWith(
        img.withLock('update', async () => inner++),
        'LOCKED',
        'locked',
        "'install'",
        `pid ${process.pid}`,
        img.root,
      );
      await rejectsWith(img.setProperty('a', 'b'), 'LOCKED', "'install'");
      const other = await Image.open(img.root);
      await rejectsWith(
        other.withLock('update', async () => inner++),
        'LOCKED',
      );
    });
    assert.equal(inner, 0);
    assert.equal(await img.withLock('update', async () => 42), 42);
  });

  it('releases the lock when the operation throws', async () => {
    const img = await Image.create(fresh());
    await assert.rejects(
      img.withLock('install', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    await assert.rejects(fs.stat(path.join(img.root, LOCK_FILE)), { code: 'ENOENT' });
    await img.setProperty('a', 'b');
  });

  it('takes over a lock left by a process that died', async () => {
    const img = await Image.create(fresh());
    const pid = await deadPid();
    const lockFile = path.join(img.root, LOCK_FILE);
    await fs.writeFile(
      lockFile,
      JSON.stringify({ pid, host: os.hostname(), op: 'install', since: new Date().toISOString(), nonce: 'dead' }),
    );
    await img.setProperty('a', 'b');
    assert.equal(img.config().properties.a, 'b');
    await assert.rejects(fs.stat(lockFile), { code: 'ENOENT' });
    assert.deepEqual(
      (await fs.readdir(path.dirname(lockFile))).filter((f) => f.startsWith('lock')),
      [],
    );
  });

  it('does not take over a lock held by a live process or one on another host', async () => {
    const img = await Image.create(fresh());
    const lockFile = path.join(img.root, LOCK_FILE);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await fs.writeFile(
        lockFile,
        JSON.stringify({ pid: sleeper.pid, host: os.hostname(), op: 'update', since: 'then', nonce: 'n' }),
      );
      await rejectsWith(img.setProperty('a', 'b'), 'LOCKED', `'update' by pid ${sleeper.pid}`);
    } finally {
      sleeper.kill('SIGKILL');
    }
    await fs.writeFile(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: 'elsewhere.example', op: 'update', since: 'then', nonce: 'n' }),
    );
    await rejectsWith(img.setProperty('a', 'b'), 'LOCKED', 'on host elsewhere.example');
  });

  it('treats an unreadable lock file as held until it is an hour old', async () => {
    const img = await Image.create(fresh());
    const lockFile = path.join(img.root, LOCK_FILE);
    await fs.writeFile(lockFile, '');
    await rejectsWith(img.setProperty('a', 'b'), 'LOCKED', 'unreadable');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.utimes(lockFile, old, old);
    await img.setProperty('a', 'b');
    assert.equal((await Image.open(img.root)).config().properties.a, 'b');
  });

  it('lets exactly one of many concurrent lockers in', async () => {
    const img = await Image.create(fresh());
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => acquireImageLock(img.root, `op${i}`)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    assert.ok(results.every((r) => r.status === 'fulfilled' || isImageError(r.reason, 'LOCKED')));
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireImageLock>>>).value.release();
  });

  it("lets exactly one of many concurrent lockers take over a dead holder's lock", async () => {
    const img = await Image.create(fresh());
    const lockFile = path.join(img.root, LOCK_FILE);
    await fs.writeFile(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: os.hostname(), op: 'install', since: 'then', nonce: 'dead' }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => acquireImageLock(img.root, `op${i}`)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireImageLock>>>).value;
    assert.equal(JSON.parse(await fs.readFile(lockFile, 'utf8')).nonce, winner.info.nonce);
    await winner.release();
    assert.deepEqual((await fs.readdir(path.dirname(lockFile))).sort(), ['image.json', 'state.json']);
  });
  it('clears a stale lock even when an earlier clearer died and left lock.break behind', async () => {
    const img = await Image.create(fresh());
    const lockFile = path.join(img.root, LOCK_FILE);
    await fs.writeFile(
      lockFile,
      JSON.stringify({ pid: await deadPid(), host: os.hostname(), op: 'install', since: 'then', nonce: 'dead' }),
    );
    await fs.writeFile(lockFile + '.break', '');
    await rejectsWith(img.setProperty('a', 'b'), 'LOCKED', "'install'");
    const old = new Date(Date.now() - 5 * 60 * 1000);
    await fs.utimes(lockFile + '.break', old, old);
    await img.setProperty('a', 'b');
    assert.deepEqual((await fs.readdir(path.dirname(lockFile))).sort(), ['image.json', 'state.json']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp files', async () => {
    const dir = fresh();
    await fs.mkdir(dir);
    const file = path.join(dir, 'data.json');
    await writeFileAtomic(file, 'one');
    await Promise.all(Array.from({ length: 10 }, (_, i) => writeFileAtomic(file, `v${i}`)));
    assert.match(await fs.readFile(file, 'utf8'), /^v\d$/);
    assert.deepEqual(await fs.readdir(dir), ['data.json']);
  });

  it('fails without leaving a temp file when the directory is missing or the file exists', async () => {
    const dir = fresh();
    await rejectsWith(writeFileAtomic(path.join(dir, 'x'), 'data'), 'IO_ERROR', dir);
    await fs.mkdir(dir);
    await writeFileAtomic(path.join(dir, 'x'), 'first', { exclusive: true });
    await rejectsWith(writeFileAtomic(path.join(dir, 'x'), 'second', { exclusive: true }), 'IO_ERROR', 'EEXIST');
    assert.equal(await fs.readFile(path.join(dir, 'x'), 'utf8'), 'first');
    assert.deepEqual(await fs.readdir(dir), ['x']);
  });

  it('leaves no temp files in the metadata directory after image mutations', async () => {
    const img = await Image.create(fresh());
    await img.setProperty('a', 'b');
    await img.setVariant('variant.arch', 'sparc');
    assert.deepEqual((await fs.readdir(path.join(img.root, 'var/pkg'))).sort(), ['image.json', 'state.json']);
  });
});
