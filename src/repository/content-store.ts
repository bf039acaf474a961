import { Hash, createHash, randomBytes } from 'crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'fs';
import * as path from 'path';
import { Transform, Writable } from 'stream';
import { pipeline } from 'stream/promises';
import { createGunzip, createGzip } from 'zlib';
import { ImageError, ioError } from '../model/errors';
import { syncDir } from '../image/atomic-write';
import { assertContentHash, contentPath, contentRoot } from './layout';

/** What a file action records about its payload (pkg.size, pkg.csize, chash). */
export interface StoredContent {
  /** SHA-256 hex of the uncompressed bytes. */
  hash: string;
  /** Uncompressed size (pkg.size). */
  size: number;
  /** Size of the stored gzip bytes (pkg.csize). */
  csize: number;
  /** SHA-256 hex of the stored gzip bytes. */
  chash: string;
}

export async function hasContent(root: string, publisher: string, hash: string): Promise<boolean> {
  return exists(contentPath(root, publisher, hash));
}

/**
 * Stores the file at `source` as `file/<hh>/<sha256>` (gzip), hashing and compressing in one
 * streaming pass. With `expectedHash` (64 hex digits: SHA-256; 40: SHA-1, as in manifests pkg(5)
 * wrote), content that hashes differently is refused with HASH_MISMATCH naming `what`. Content
 * is always stored, and its `hash` returned, by SHA-256: the store, the depot and the origins
 * know content by that name only. The stored file appears only once complete and verified:
 * it is written to a temp name and then hard-linked into place, which fails rather than
 * replacing a file another publisher stored meanwhile (whose gzip bytes, and so chash,
 * readers may already be resuming against).
 * @throws ImageError HASH_MISMATCH; BAD_REQUEST for an `expectedHash` that is no hash; IO_ERROR.
 */
export async function storeContent(
  root: string,
  publisher: string,
  source: string,
  opts: { expectedHash?: string; what?: string } = {},
): Promise<StoredContent> {
  const what = opts.what ?? source;
  const expected = opts.expectedHash;
  const sha1 = expected !== undefined && SHA1_RE.test(expected);
  if (expected !== undefined && !sha1) {
    assertContentHash(expected, `the hash of ${what}`);
    const final = contentPath(root, publisher, expected);
    if (await exists(final)) {
      // Already stored: only the source needs checking, not compressing again.
      const src = await digestFile(source, what);
      checkHash(expected, src.hash, what);
      return { hash: src.hash, size: src.size, ...(await compressedDigest(final)) };
    }
  }
  const dir = contentRoot(root, publisher);
  await fsp.mkdir(dir, { recursive: true }).catch((e) => {
    throw ioError('Cannot create', dir, e);
  });
  const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const plain = tap(createHash('sha256'));
    const packed = tap(createHash('sha256'));
    // The SHA-1 a pkg(5) manifest names its payload by, checked on the same pass.
    const named = sha1 ? tap(createHash('sha1')) : null;
    try {
      await pipeline([
        createReadStream(source),
        plain.stream,
        ...(named ? [named.stream] : []),
        createGzip(),
        packed.stream,
        createWriteStream(tmp, { flags: 'wx' }),
      ]);
    } catch (e) {
      throw ioError(`Cannot store content of ${what} from`, source, e);
    }
    const hash = plain.hash.digest('hex');
    if (expected !== undefined) checkHash(expected, named ? named.hash.digest('hex') : hash, what);
    await syncFile(tmp);
    const final = contentPath(root, publisher, hash);
    await fsp.mkdir(path.dirname(final), { recursive: true });
    try {
      await fsp.link(tmp, final);
      await syncDir(path.dirname(final));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('Cannot store content at', final, e);
      return { hash, size: plain.bytes(), ...(await compressedDigest(final)) };
    }
    return { hash, size: plain.bytes(), csize: packed.bytes(), chash: packed.hash.digest('hex') };
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
}

/**
 * Describes content already in the repository, decompressing it to learn (and verify)
 * its uncompressed size and hash: a corrupt store must not be published against.
 */
export async function describeStoredContent(root: string, publisher: string, hash: string): Promise<StoredContent> {
  const file = contentPath(root, publisher, hash);
  const plain = tap(createHash('sha256'));
  const packed = tap(createHash('sha256'));
  try {
    await pipeline(createReadStream(file), packed.stream, createGunzip(), plain.stream, sink());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ImageError('NOT_FOUND', `Content ${hash} is not in repository ${root}`, { hash, path: file });
    }
    if ((e as { errno?: number }).errno !== undefined && String((e as NodeJS.ErrnoException).code).startsWith('Z_')) {
      throw new ImageError('BAD_REPOSITORY', `Stored content ${file} is not valid gzip data: ${(e as Error).message}`, {
        path: file,
      });
    }
    throw ioError('Cannot read', file, e);
  }
  const actual = plain.hash.digest('hex');
  if (actual !== hash) {
    throw new ImageError('HASH_MISMATCH', `Stored content ${file} is corrupt: expected hash ${hash}, got ${actual}`, {
      path: file,
      expected: hash,
      actual,
    });
  }
  return { hash, size: plain.bytes(), csize: packed.bytes(), chash: packed.hash.digest('hex') };
}

const SHA1_RE = /^[0-9a-f]{40}$/;

function checkHash(expected: string, actual: string, what: string): void {
  if (expected !== actual) {
    const algorithm = SHA1_RE.test(expected) ? 'SHA-1' : 'SHA-256';
    throw new ImageError(
      'HASH_MISMATCH',
      `Content of ${what} does not match its manifest hash: expected ${algorithm} ${expected}, got ${actual}`,
      {
        path: what,
        expected,
        actual,
      },
    );
  }
}

async function digestFile(file: string, what: string): Promise<{ hash: string; size: number }> {
  const t = tap(createHash('sha256'));
  try {
    await pipeline(createReadStream(file), t.stream, sink());
  } catch (e) {
    throw ioError(`Cannot read content of ${what} from`, file, e);
  }
  return { hash: t.hash.digest('hex'), size: t.bytes() };
}

async function compressedDigest(file: string): Promise<{ csize: number; chash: string }> {
  const d = await digestFile(file, 'stored content');
  return { csize: d.size, chash: d.hash };
}

function tap(hash: Hash): { stream: Transform; hash: Hash; bytes: () => number } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, hash, bytes: () => n };
}

function sink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

async function syncFile(file: string): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
