import { createHash } from 'crypto';
import { createReadStream, createWriteStream, promises as fs } from 'fs';
import { Readable, Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { createGunzip, gunzipSync } from 'zlib';
import { ContentCache } from './content-cache';
import { ImageError, isImageError } from '../model/errors';
import { payloadHashAlgorithm } from '../model/manifest';

export interface ContentNeed {
  hash: string; // SHA-256 of the uncompressed bytes
  size: number; // uncompressed size (pkg.size), 0 when unknown
  csize: number; // compressed size (pkg.csize), 0 when unknown
  chash?: string; // SHA-256 of the compressed bytes, when the manifest records it
  publisher: string;
}

/** Counts (and optionally hashes) bytes as they pass; `onBytes` may throw to stop the stream. */
function tap(onBytes: (n: number) => void, hash?: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        onBytes(chunk.length);
      } catch (e) {
        return cb(e as Error);
      }
      hash?.update(chunk);
      cb(null, chunk);
    },
  });
}

function verificationFailed(need: ContentNeed, why: string): ImageError {
  return new ImageError('HASH_MISMATCH', `Content from publisher '${need.publisher}' failed verification: ${why}`, {
    hash: need.hash,
  });
}

/**
 * Decompresses one content file into a temp file while hashing it, and admits it to the cache
 * only when the SHA-256 (and size) match the manifest. Nothing unverified is ever admitted.
 */
async function gunzipVerifyAdmit(
  cache: ContentCache,
  need: ContentNeed,
  source: Readable,
  onCompressed: (n: number) => void,
): Promise<void> {
  const tmp = await cache.contentTmpPath();
  const chash = createHash('sha256');
  // Published here: SHA-256; manifests pkg(5) itself published carry SHA-1 payload hashes.
  const hash = createHash(payloadHashAlgorithm(need.hash));
  let size = 0;
  try {
    // Stopped at the recorded size, as verifyBuffer is: a small download must not fill the disk.
    const inflated = (n: number) => {
      size += n;
      if (need.size && size > need.size)
        throw verificationFailed(need, `more than ${need.size} bytes, expected ${need.size}`);
    };
    await pipeline(source, tap(onCompressed, chash), createGunzip(), tap(inflated, hash), createWriteStream(tmp));
  } catch (e) {
    await fs.rm(tmp, { force: true });
    if (isImageError(e)) throw e;
    if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new ImageError(
        'HASH_MISMATCH',
        `Content ${need.hash} from publisher '${need.publisher}' is not valid gzip data (${(e as Error).message})`,
        { hash: need.hash },
      );
    }
    throw e;
  }
  const gotC = chash.digest('hex');
  const got = hash.digest('hex');
  const problem =
    need.chash && gotC !== need.chash
      ? `compressed SHA-256 ${gotC}, expected ${need.chash}`
      : got !== need.hash
        ? `${payloadHashAlgorithm(need.hash).toUpperCase()} ${got}, expected ${need.hash}`
        : need.size && size !== need.size
          ? `${size} bytes, expected ${need.size}`
          : null;
  if (problem) {
    await fs.rm(tmp, { force: true });
    throw verificationFailed(need, problem);
  }
  await cache.admitFile(need.hash, tmp);
}

/** Reads a (small) batch frame whole, counting bytes as they arrive. */
export async function readFrame(stream: Readable, onBytes: (n: number) => void): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return Buffer.concat(chunks);
}

/**
 * Verifies one small file held in memory and returns its content. Small files dominate updates
 * (tens of thousands per image), so they skip the per-file stream pipeline and the thread pool:
 * one gunzip (capped at the recorded size) and two hashes, on the event loop.
 */
export function verifyBuffer(need: ContentNeed, gz: Buffer): Buffer {
  const problem = (why: string) => verificationFailed(need, why);
  if (need.chash) {
    const gotC = createHash('sha256').update(gz).digest('hex');
    if (gotC !== need.chash) throw problem(`compressed SHA-256 ${gotC}, expected ${need.chash}`);
  }
  let data: Buffer;
  try {
    // Capped at the recorded size: a few KiB of gzip must not inflate into gigabytes here.
    // Its output buffer sized to the file: zlib's default 16 KiB chunk, allocated per call, was
    // most of the memory a prepare churned through (files average a few KiB).
    data = gunzipSync(
      gz,
      need.size ? { maxOutputLength: need.size + 1, chunkSize: Math.min(Math.max(64, need.size + 1), 1 << 20) } : {},
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw problem(`more than ${need.size} bytes, expected ${need.size}`);
    throw new ImageError(
      'HASH_MISMATCH',
      `Content ${need.hash} from publisher '${need.publisher}' is not valid gzip data (${(e as Error).message})`,
      { hash: need.hash },
    );
  }
  const algorithm = payloadHashAlgorithm(need.hash);
  const got = createHash(algorithm).update(data).digest('hex');
  if (got !== need.hash) throw problem(`${algorithm.toUpperCase()} ${got}, expected ${need.hash}`);
  if (need.size && data.length !== need.size) throw problem(`${data.length} bytes, expected ${need.size}`);
  return data;
}

/** Bytes of `partial/<hash>.gz` already on disk (0 when there is none): where the next attempt's Range starts. */
export async function partialSize(cache: ContentCache, hash: string): Promise<number> {
  try {
    return (await fs.stat(cache.partialPath(hash))).size;
  } catch {
    return 0;
  }
}

/**
 * Receives one large file into `partial/<hash>.gz`, appending from where an earlier attempt
 * stopped (`opened.offset`: the caller asked the server for a Range starting at `partialSize`;
 * 0 rewrites the file). Bytes already on disk survive a failure, so the next attempt only
 * fetches the rest. Once all `opened.size` bytes are there, the file is decompressed, verified and
 * admitted to the cache, and the partial file is removed either way. Throws TRUNCATED_CONTENT
 * (retryable) when the stream ended early, HASH_MISMATCH for a damaged file.
 */
export async function appendPartial(
  cache: ContentCache,
  need: ContentNeed,
  opened: { stream: Readable; offset: number; size: number },
  onBytes: (n: number) => void,
): Promise<void> {
  const partial = cache.partialPath(need.hash);
  // A server that ignored Range sends from 0: start the partial file again rather than append.
  const start = opened.offset;
  await pipeline(opened.stream, tap(onBytes), createWriteStream(partial, { flags: start === 0 ? 'w' : 'r+', start }));
  const have = (await fs.stat(partial)).size;
  if (have < opened.size) {
    throw new ImageError(
      'TRUNCATED_CONTENT',
      `Download of ${need.hash} stopped at ${have} of ${opened.size} bytes; it resumes from there`,
      { hash: need.hash, have, size: opened.size },
    );
  }
  try {
    await gunzipVerifyAdmit(cache, need, createReadStream(partial), () => undefined);
  } finally {
    // Verified content is admitted; damaged content must not be resumed from, so it goes too.
    await fs.rm(partial, { force: true });
  }
}
