import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { ContentCache } from '../src/cache/content-cache';
import { isImageError } from '../src/model/errors';
import { FetchProgress } from '../src/cache/fetch-content';
import { verifyBuffer } from '../src/cache/receive-content';
import { writeToCache } from '../src/cache/cache-writer';
import { Image } from '../src/image/image';
import { plan, planActions } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';
import { startDepot } from '../src/repository';
import { CuttingProxy } from './helpers/cutting-proxy';
import { makeCache, makeImage, makeRepo, publishPkg } from './helpers/fixture';
import { cleanup } from './helpers/tree';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.splice(0)) await c();
  await cleanup();
});

/** Incompressible bytes, so the compressed file is as large as the content. */
const noise = (n: number, seed: string) => {
  const out = Buffer.alloc(n);
  for (let off = 0, i = 0; off < n; i++) off += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
};

async function served(tree: Record<string, string | Buffer>) {
  const repo = await makeRepo();
  await publishPkg(repo, 'app@1.0', tree);
  const depot = await startDepot(repo);
  closers.push(() => depot.close());
  return { repo, depot };
}

async function contentFiles(cache: ContentCache): Promise<string[]> {
  const out: string[] = [];
  for (const d of await fs.readdir(path.join(cache.root, 'file')))
    out.push(...(await fs.readdir(path.join(cache.root, 'file', d))));
  return out.sort();
}

describe('prepare over HTTP', () => {
  it('fetches every needed file once, verified, with progress, and nothing on a second call', async () => {
    const tree: Record<string, string | Buffer> = { big: noise(1_200_000, 'big') };
    for (let i = 0; i < 40; i++) tree[`small/f${i}`] = `file ${i}\n`.repeat(i + 1);
    tree['small/dup'] = 'file 3\n'.repeat(4); // same content as small/f3: fetched once
    const { depot } = await served(tree);
    const image = await makeImage(depot.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    const seen: FetchProgress[] = [];
    const r = await prepare(image, p, cache, { onProgress: (x) => seen.push(x) });
    assert.equal(r.filesTotal, 41);
    assert.equal(r.fetchedFiles, 41);
    assert.equal(r.bytesDone, r.bytesTotal);
    assert.equal(r.bytesTotal, p.sizes.downloadBytes);
    assert.deepEqual(seen.at(-1), { bytesDone: r.bytesTotal, bytesTotal: r.bytesTotal, filesDone: 41, filesTotal: 41 });
    assert.ok(
      seen.every((s, i) => i === 0 || s.bytesDone >= seen[i - 1].bytesDone),
      'progress never goes backwards',
    );
    const hashes = new Set(
      (await planActions(image, p, cache)).filter((c) => c.to?.type === 'file').map((c) => c.to!.hash!),
    );
    assert.deepEqual(await contentFiles(cache), [...hashes].sort());
    for (const h of hashes)
      assert.equal(
        createHash('sha256')
          .update(await fs.readFile(cache.filePath(h)))
          .digest('hex'),
        h,
      );

    const requestsBefore = depot.stats.log.filter((l) => /\/file(list)?\/0\//.test(l.path)).length;
    const again = await prepare(image, p, cache);
    assert.equal(again.fetchedFiles, 0);
    assert.equal(again.filesDone, 41);
    assert.equal(depot.stats.log.filter((l) => /\/file(list)?\/0\//.test(l.path)).length, requestsBefore);
  });

  it('fetches a file two children need only once, even when they are prepared at the same time', async () => {
    const tree: Record<string, string | Buffer> = { big: noise(800_000, 'shared-big') };
    for (let i = 0; i < 30; i++) tree[`f${i}`] = `shared ${i}`;
    const { depot } = await served(tree);
    const cache = await makeCache();
    const zones = await Promise.all([0, 1, 2].map(() => makeImage(depot.url, { zone: 'nonglobal' })));
    const plans = await Promise.all(zones.map((z) => plan(z, { install: ['app'] }, null, { cache })));
    const results = await Promise.all(zones.map((z, i) => prepare(z, plans[i], cache)));
    assert.equal(
      results.reduce((n, r) => n + r.fetchedFiles, 0),
      31,
    );
    assert.ok(results.every((r) => r.filesDone === 31));
    const fileBytes = depot.stats.log.filter((l) => /\/file(list)?\/0\//.test(l.path)).reduce((n, l) => n + l.bytes, 0);
    assert.ok(
      fileBytes < plans[0].sizes.downloadBytes + 31 * 100,
      `served ${fileBytes} bytes for ${plans[0].sizes.downloadBytes} of content`,
    );
  });

  it('refuses content whose hash does not match and keeps it out of the cache', async () => {
    const { repo, depot } = await served({ good: 'good content', bad: 'original content' });
    const image = await makeImage(depot.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    const badHash = createHash('sha256').update('original content').digest('hex');
    await fs.writeFile(
      path.join(repo, 'publisher/test/file', badHash.slice(0, 2), badHash),
      gzipSync('tampered content'),
    );
    await assert.rejects(
      prepare(image, p, cache),
      (e: unknown) => isImageError(e, 'HASH_MISMATCH') && !(e as { retryable: boolean }).retryable,
    );
    assert.equal(await cache.hasFile(badHash), false);
    assert.deepEqual(
      (await contentFiles(cache)).filter((n) => n.startsWith('.tmp')),
      [],
      'no temp file left',
    );
  });

  it('stops inflating a large download at its recorded size (a gzip bomb is refused, not written out)', async () => {
    const { repo, depot } = await served({ big: noise(600_000, 'big') });
    const image = await makeImage(depot.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    const hash = createHash('sha256').update(noise(600_000, 'big')).digest('hex');
    const bomb = gzipSync(Buffer.concat([noise(600_000, 'big'), Buffer.alloc(200_000_000)]));
    await fs.writeFile(path.join(repo, 'publisher/test/file', hash.slice(0, 2), hash), bomb);
    await assert.rejects(
      prepare(image, p, cache),
      (e: unknown) =>
        isImageError(e, 'HASH_MISMATCH') && /more than 600000 bytes, expected 600000/.test((e as Error).message),
    );
    assert.equal(await cache.hasFile(hash), false);
    assert.deepEqual(await contentFiles(cache), [], 'no temp file left');
    await assert.rejects(fs.stat(cache.partialPath(hash)), { code: 'ENOENT' });
  });

  it('treats a connection cut mid-body as truncated content, retryable, and admits nothing partial', async () => {
    const { depot } = await served({ a: noise(300_000, 'a'), b: noise(300_000, 'b') });
    const proxy = await new CuttingProxy(depot.port).start();
    closers.push(() => proxy.close());
    const image = await makeImage(proxy.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    proxy.cutAfter = 400_000;
    await assert.rejects(
      prepare(image, p, cache),
      (e: unknown) =>
        isImageError(e) && e.retryable && ['TRUNCATED_CONTENT', 'REPOSITORY_UNAVAILABLE'].includes(e.code),
    );
    const left = await contentFiles(cache);
    assert.ok(
      left.length <= 1 && !left.some((n) => n.startsWith('.tmp')),
      `at most one whole file admitted, no temp file: ${left}`,
    );
  });

  it('resumes a large download with a Range request after the server went down mid-file', async () => {
    const size = 3_000_000;
    const { repo, depot } = await served({ huge: noise(size, 'huge') });
    const proxy = await new CuttingProxy(depot.port).start();
    closers.push(() => proxy.close());
    const image = await makeImage(proxy.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    const hash = createHash('sha256').update(noise(size, 'huge')).digest('hex');

    proxy.cutAfter = 1_000_000;
    await assert.rejects(prepare(image, p, cache), (e: unknown) => isImageError(e) && e.retryable);
    const partial = (await fs.stat(cache.partialPath(hash))).size;
    assert.ok(partial > 500_000 && partial < 1_000_000, `partial download kept: ${partial} bytes`);

    await depot.close();
    const restarted = await startDepot(repo);
    closers.push(() => restarted.close());
    proxy.target = restarted.port;
    proxy.cutAfter = null;
    const r = await prepare(await Image.open(image.root), p, cache);
    assert.equal(r.fetchedFiles, 1);
    const fileReqs = restarted.stats.log.filter((l) => l.path.includes('/file/0/'));
    assert.deepEqual(
      fileReqs.map((l) => l.range),
      [`bytes=${partial}-`],
    );
    assert.equal(fileReqs[0].bytes, p.sizes.downloadBytes - partial, 'only the missing tail was sent');
    assert.equal(await cache.hasFile(hash), true);
    await assert.rejects(fs.stat(cache.partialPath(hash)), { code: 'ENOENT' });
  });
});

describe('a content cache shared by two processes', () => {
  it('waits for the other process to fetch a large file, and takes over a lock left by a dead one', async () => {
    const big = noise(900_000, 'locked');
    const { depot } = await served({ big });
    const image = await makeImage(depot.url);
    const cache = await makeCache();
    const p = await plan(image, { install: ['app'] }, null, { cache });
    const hash = createHash('sha256').update(big).digest('hex');
    const lock = cache.partialPath(hash) + '.lock';
    // A live holder (this test's parent process stands in for another worker): prepare waits, and
    // finishes without fetching once the "other process" has admitted the file.
    await fs.writeFile(lock, JSON.stringify({ pid: process.ppid, host: os.hostname() }));
    const waiting = prepare(image, p, cache);
    await new Promise((r) => setTimeout(r, 500));
    const other = await makeCache();
    const otherImage = await makeImage(depot.url);
    await prepare(otherImage, await plan(otherImage, { install: ['app'] }, null, { cache: other }), other);
    await fs.mkdir(path.dirname(cache.filePath(hash)), { recursive: true });
    await fs.copyFile(other.filePath(hash), cache.filePath(hash));
    const r = await waiting;
    assert.equal(r.fetchedFiles, 0);
    assert.equal(r.filesDone, 1);
    // A holder that died: its lock is taken over at once.
    const cache2 = await makeCache();
    await fs.writeFile(
      cache2.partialPath(hash) + '.lock',
      JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname() }),
    );
    const r2 = await prepare(image, await plan(image, { install: ['app'] }, null, { cache: cache2 }), cache2);
    assert.equal(r2.fetchedFiles, 1);
    await assert.rejects(fs.stat(cache2.partialPath(hash) + '.lock'), { code: 'ENOENT' });
  });
});

describe('verifyBuffer (one small file held in memory)', () => {
  const need = (data: Buffer, size = data.length) => ({
    hash: createHash('sha256').update(data).digest('hex'),
    size,
    csize: 0,
    publisher: 'test',
  });

  it('returns verified content, and refuses content that inflates past its recorded size or falls short of it', () => {
    const good = Buffer.from('hello\n');
    assert.equal(verifyBuffer(need(good), gzipSync(good)).toString(), 'hello\n');
    const bomb = Buffer.alloc(5_000_000);
    assert.throws(
      () => verifyBuffer(need(bomb, 100), gzipSync(bomb)),
      (e: unknown) =>
        isImageError(e, 'HASH_MISMATCH') && /more than 100 bytes, expected 100/.test((e as Error).message),
    );
    assert.throws(
      () => verifyBuffer(need(good, 7), gzipSync(good)),
      (e: unknown) => isImageError(e, 'HASH_MISMATCH') && /6 bytes, expected 7/.test((e as Error).message),
    );
    assert.throws(
      () => verifyBuffer(need(Buffer.from('other')), gzipSync(good)),
      (e: unknown) => isImageError(e, 'HASH_MISMATCH') && /SHA256 .*expected/.test((e as Error).message),
    );
  });
});

describe('content cache staging', () => {
  it('sweeps temp files nobody has written for an hour when the cache is opened, and keeps fresh ones', async () => {
    const cache = await makeCache();
    const stale = path.join(cache.staging('file'), '.tmp.999999.1');
    const fresh = path.join(cache.staging('manifest'), '.tmp.999999.2');
    const staleManifest = path.join(cache.staging('manifest'), '.tmp.999999.3');
    for (const f of [stale, fresh, staleManifest]) await fs.writeFile(f, 'left by a crash');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await fs.utimes(stale, twoHoursAgo, twoHoursAgo);
    await fs.utimes(staleManifest, twoHoursAgo, twoHoursAgo);
    await ContentCache.open(cache.root);
    await assert.rejects(fs.stat(stale), { code: 'ENOENT' });
    await assert.rejects(fs.stat(staleManifest), { code: 'ENOENT' });
    assert.equal(await fs.readFile(fresh, 'utf8'), 'left by a crash'); // may still be written
  });
});

describe('writeToCache (the cache writer thread)', () => {
  it('puts every file of a batch in place through a temp file, and rejects naming the file it could not write', async () => {
    const cache = await makeCache();
    const items = ['a', 'b', 'c'].map((x) => ({
      dest: cache.filePath(createHash('sha256').update(x).digest('hex')),
      data: Buffer.from(x),
    }));
    await writeToCache(cache.staging('file'), items);
    for (const it of items) assert.equal(await fs.readFile(it.dest, 'utf8'), it.data.toString());
    assert.deepEqual(
      (await contentFiles(cache)).filter((n) => n.startsWith('.tmp')),
      [],
    );
    // Packed into one moved buffer: empty files, slices of a shared pool slab and of one larger
    // buffer all land with exactly their own bytes, and the callers' buffers stay usable.
    const slab = Buffer.from('0123456789abcdef');
    const mixed = [
      Buffer.alloc(0),
      Buffer.from('x'),
      slab.subarray(3, 9),
      slab.subarray(0, 0),
      Buffer.alloc(70_000, 7),
    ].map((data, i) => ({ dest: path.join(cache.root, 'file', 'mx', `m${i}`), data }));
    await writeToCache(cache.staging('file'), mixed);
    for (const it of mixed) assert.deepEqual(await fs.readFile(it.dest), it.data);
    assert.equal(slab.toString(), '0123456789abcdef');
    await writeToCache(cache.staging('file'), [
      { dest: path.join(cache.root, 'file', 'mx', 'empty'), data: Buffer.alloc(0) },
    ]);
    assert.equal((await fs.stat(path.join(cache.root, 'file', 'mx', 'empty'))).size, 0);
    // The cache cleared under a running writer: its directories, staging included, are made again.
    await fs.rm(path.join(cache.root, 'file'), { recursive: true });
    await writeToCache(cache.staging('file'), [items[0]]);
    assert.equal(await fs.readFile(items[0].dest, 'utf8'), 'a');
    const blocker = path.join(cache.root, 'file', 'zz');
    await fs.writeFile(blocker, 'a file where a directory should be');
    await assert.rejects(
      writeToCache(cache.staging('file'), [{ dest: path.join(blocker, 'x'), data: Buffer.from('x') }]),
      (e: unknown) =>
        ['EEXIST', 'ENOTDIR'].includes((e as { code?: string }).code ?? '') &&
        /writing .*zz\/x\)/.test((e as Error).message),
    );
  });
});
