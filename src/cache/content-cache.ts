import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { writeToCache } from './cache-writer';
import { ImageError, ioError } from '../model/errors';

/**
 * The host-wide content cache shared by all images on a host:
 *   file/<hh>/<sha256>        uncompressed content, present only after its SHA-256 was verified
 *   manifest/<hh>/<sha256>    manifest text by digest
 *   partial/<sha256>.gz       an interrupted download of compressed content, resumed with Range
 *   file/.tmp, manifest/.tmp  staging: files being written, named .tmp.<pid>.<n>
 * Everything enters by rename from staging, so a reader never sees a half-written file.
 * A temp file left by a crash is swept by the next open once nobody has written it for an hour.
 */
export class ContentCache {
  private readonly dirs = new Set<string>();

  private constructor(readonly root: string) {}

  static async open(root: string): Promise<ContentCache> {
    if (!path.isAbsolute(root))
      throw new ImageError('BAD_REQUEST', `Content cache path must be absolute, got '${root}'`, { root });
    const cache = new ContentCache(path.resolve(root));
    try {
      for (const d of ['file', 'manifest', 'partial']) await fs.mkdir(path.join(cache.root, d), { recursive: true });
      for (const d of ['file', 'manifest'] as const) await fs.mkdir(cache.staging(d), { recursive: true });
    } catch (e) {
      throw ioError('cannot create content cache', root, e);
    }
    for (const d of ['file', 'manifest'] as const) await sweepStale(cache.staging(d));
    return cache;
  }

  filePath(hash: string): string {
    return path.join(this.root, 'file', hash.slice(0, 2), hash);
  }

  partialPath(hash: string): string {
    return path.join(this.root, 'partial', `${hash}.gz`);
  }

  /** Where files of an area (`file`, `manifest`) are written before their rename into place. */
  staging(area: 'file' | 'manifest'): string {
    return path.join(this.root, area, '.tmp');
  }

  /** A fresh temp file name in the content staging directory (see admitFile); made again if the cache was cleared meanwhile. */
  async contentTmpPath(): Promise<string> {
    await fs.mkdir(this.staging('file'), { recursive: true }); // once per large file: not worth remembering
    return path.join(this.staging('file'), tmpName());
  }

  /** 256 fan-out directories at most: each is created once per process, not once per file. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    this.dirs.add(dir);
  }

  async hasFile(hash: string): Promise<boolean> {
    return exists(this.filePath(hash));
  }

  /**
   * Which of these content files the cache holds. Many at once are answered by listing the
   * fan-out directories (at most 256 readdirs) instead of one lstat per file: 40,000 lstats were
   * a second of a 1,000-package prepare. Files only ever enter by rename, so a listed one is whole.
   */
  async presentFiles(hashes: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    if (hashes.length < LIST_FROM) {
      const found = await Promise.all(hashes.map((h) => this.hasFile(h)));
      hashes.forEach((h, i) => found[i] && present.add(h));
      return present;
    }
    const wanted = new Set(hashes);
    const prefixes = [...new Set(hashes.map((h) => h.slice(0, 2)))];
    await Promise.all(
      prefixes.map(async (pre) => {
        const dir = path.join(this.root, 'file', pre);
        let names: string[];
        try {
          names = await fs.readdir(dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw ioError('cannot list content cache directory', dir, e);
        }
        for (const n of names) if (wanted.has(n)) present.add(n);
      }),
    );
    return present;
  }

  /** Moves a verified temp file (from contentTmpPath) into the cache; a concurrent identical rename is harmless. */
  async admitFile(hash: string, verifiedTmp: string): Promise<void> {
    const dest = this.filePath(hash);
    await this.ensureDir(path.dirname(dest));
    await fs.rename(verifiedTmp, dest);
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

  /** Stores a manifest text through the cache writer thread, like content (a cold plan stores a thousand). */
  async putManifest(text: string): Promise<string> {
    const digest = sha256(text);
    const p = this.manifestPath(digest);
    try {
      // An identical manifest already there is simply replaced: cheaper than looking first.
      await writeToCache(this.staging('manifest'), [{ dest: p, data: Buffer.from(text) }]);
    } catch (e) {
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

/** A temp file unchanged for this long has no writer left: a small file is renamed within milliseconds, and a large one is written continuously. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** Best effort: a sweep that fails (say, a read-only cache) leaves only disk space behind. */
async function sweepStale(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const cutoff = Date.now() - STALE_TMP_MS;
  for (const n of names) {
    const p = path.join(dir, n);
    try {
      if ((await fs.lstat(p)).mtimeMs < cutoff) await fs.rm(p, { force: true });
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

let tmpCount = 0;
/** Unique within this process (pid) and call (counter); random bytes per file cost 3 µs each. */
function tmpName(): string {
  return `.tmp.${process.pid}.${++tmpCount}`;
}

/** From this many files on, presentFiles lists directories rather than stat each file. */
const LIST_FROM = 512;

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
