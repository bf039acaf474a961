import { createHash, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from './errors';

/**
 * The host-wide content cache shared by all images on a host:
 *   file/<hh>/<sha256>        uncompressed content, present only after its SHA-256 was verified
 *   manifest/<hh>/<sha256>    manifest text by digest
 *   partial/<sha256>.gz       an interrupted download of compressed content, resumed with Range
 *   tmp/                      files being verified; never read as content
 * Everything enters by rename from tmp/, so a reader never sees a half-written file.
 */
export class ContentCache {
  private readonly dirs = new Set<string>();

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<ContentCache> {
    if (!path.isAbsolute(root)) throw new ImageError('BAD_REQUEST', `Content cache path must be absolute, got '${root}'`, { root });
    const cache = new ContentCache(path.resolve(root));
    try {
      for (const d of ['file', 'manifest', 'partial', 'tmp']) await fs.mkdir(path.join(cache.root, d), { recursive: true });
    } catch (e) {
      throw ioError('cannot create content cache', root, e);
    }
    return cache;
  }

  filePath(hash: string): string {
    return path.join(this.root, 'file', hash.slice(0, 2), hash);
  }

  partialPath(hash: string): string {
    return path.join(this.root, 'partial', `${hash}.gz`);
  }

  tmpPath(tag: string): string {
    return path.join(this.root, 'tmp', `${tag}.${process.pid}.${randomBytes(6).toString('hex')}`);
  }

  async hasFile(hash: string): Promise<boolean> {
    return exists(this.filePath(hash));
  }

  /** Moves a verified temp file into the cache (a concurrent identical rename is harmless). */
  async admitFile(hash: string, verifiedTmp: string): Promise<void> {
    const dest = this.filePath(hash);
    const dir = path.dirname(dest);
    // 256 fan-out directories at most: create each once per process, not once per file.
    if (!this.dirs.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      this.dirs.add(dir);
    }
    try {
      await fs.rename(verifiedTmp, dest);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fs.mkdir(dir, { recursive: true }); // the cache was cleared under us
      await fs.rename(verifiedTmp, dest);
    }
  }

  async getManifest(digest: string): Promise<string | null> {
    const p = this.manifestPath(digest);
    let text: string;
    try {
      text = await fs.readFile(p, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw ioError('cannot read cached manifest', p, e);
    }
    if (sha256(text) !== digest) {
      // A damaged entry is dropped rather than trusted; the caller fetches it again.
      await fs.rm(p, { force: true });
      return null;
    }
    return text;
  }

  async putManifest(text: string): Promise<string> {
    const digest = sha256(text);
    const p = this.manifestPath(digest);
    if (await exists(p)) return digest;
    const tmp = this.tmpPath('manifest');
    try {
      await fs.writeFile(tmp, text);
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.rename(tmp, p);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw ioError('cannot store manifest in the content cache', p, e);
    }
    return digest;
  }

  private manifestPath(digest: string): string {
    return path.join(this.root, 'manifest', digest.slice(0, 2), digest);
  }

  /**
   * Claims the fetching of one content file for this process. Two children that need the same
   * file while prepared together fetch it once: the first claim owns the download, later ones
   * get a promise that settles when the owner admits the file (or fails).
   */
  claim(hash: string): { mine: true; settle: (err?: unknown) => void } | { mine: false; wait: Promise<void> } {
    let claims = inFlight.get(this.root);
    if (!claims) inFlight.set(this.root, (claims = new Map()));
    const running = claims.get(hash);
    if (running) return { mine: false, wait: running.promise };
    let settleFn!: (err?: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => {
      settleFn = (err?: unknown) => {
        claims!.delete(hash);
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    promise.catch(() => undefined); // a claim nobody waits on must not be an unhandled rejection
    claims.set(hash, { promise });
    return { mine: true, settle: settleFn };
  }
}

const inFlight = new Map<string, Map<string, { promise: Promise<void> }>>();

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw ioError('cannot stat', p, e);
  }
}
