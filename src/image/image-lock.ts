import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';

export const LOCK_FILE = 'var/pkg/lock';

/** What the lock file holds: who took the lock, for which operation, and when. */
export interface LockInfo {
  pid: number;
  host: string;
  op: string;
  /** ISO-8601 time the lock was taken. */
  since: string;
  /** Random; tells this lock apart from a later one taken by a process with the same pid. */
  nonce: string;
}

/**
 * A lock file whose content cannot be read as a LockInfo is left alone for this long.
 * The holder creates the file (O_EXCL) and writes its JSON in a second step, so for a few
 * microseconds every live lock is empty: breaking such a lock at once would let two writers in.
 * A file still unreadable after an hour is debris of a holder killed inside that window (or of
 * a disk that lost the write); no write of ~100 bytes takes that long, and an hour is short
 * enough that an unattended host recovers the same day without an operator.
 */
export const UNREADABLE_LOCK_GRACE_MS = 60 * 60 * 1000;

export class ImageLock {
  private released = false;

  constructor(
    readonly path: string,
    readonly info: LockInfo,
  ) {}

  /**
   * Removes the lock file if it is still ours (same nonce). Idempotent: `withLock` calls it in
   * `finally`, and a second call must not remove a lock someone else took in between.
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const text = await fs.readFile(this.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw ioError('Cannot read lock file', this.path, e);
    });
    if (text === null || parseLock(text)?.nonce !== this.info.nonce) return;
    await fs.unlink(this.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw ioError('Cannot remove lock file', this.path, e);
    });
  }
}

/**
 * Takes the image's exclusive lock for `op` (e.g. 'install', 'attach-linked').
 * Throws LOCKED when another live process holds it, and also when THIS process holds it: the
 * lock is not re-entrant, so two concurrent operations in one worker exclude each other too.
 * A lock left by a dead process on this host (SIGKILL, OOM, crash) is taken over, once.
 */
export async function acquireImageLock(root: string, op: string): Promise<ImageLock> {
  const lockPath = path.join(root, LOCK_FILE);
  let brokeStale = false;
  for (let attempt = 0; ; attempt++) {
    const info: LockInfo = {
      pid: process.pid,
      host: os.hostname(),
      op,
      since: new Date().toISOString(),
      nonce: randomBytes(12).toString('hex'),
    };
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(lockPath, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new ImageError(
          'BAD_IMAGE',
          `Cannot lock ${root}: it is not an image (missing ${path.dirname(LOCK_FILE)}/)`,
          { root, missing: path.dirname(LOCK_FILE) },
        );
      }
      if (code !== 'EEXIST') throw ioError('Cannot create lock file', lockPath, e);
      const held = await inspect(lockPath);
      // Released between our open and read: try again, but not forever under heavy contention.
      if (held.kind === 'gone' && attempt < 3) continue;
      if (held.kind === 'stale' && !brokeStale) {
        brokeStale = true;
        await breakStale(lockPath, held.text);
        continue;
      }
      throw lockedError(root, held.kind === 'gone' ? null : held.info);
    }
    try {
      await handle.writeFile(JSON.stringify(info) + '\n');
      await handle.sync();
    } catch (e) {
      await handle.close().catch(() => undefined);
      await fs.unlink(lockPath).catch(() => undefined);
      throw ioError('Cannot write lock file', lockPath, e);
    }
    await handle.close();
    return new ImageLock(lockPath, info);
  }
}

type Holder =
  { kind: 'gone' } | { kind: 'held'; info: LockInfo | null } | { kind: 'stale'; info: LockInfo | null; text: string };

async function inspect(lockPath: string): Promise<Holder> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' }; // released meanwhile
    throw ioError('Cannot read lock file', lockPath, e);
  }
  const info = parseLock(text);
  if (!info)
    return Date.now() - mtimeMs > UNREADABLE_LOCK_GRACE_MS ? { kind: 'stale', info, text } : { kind: 'held', info };
  // A pid is only meaningful on its own host; a lock from another host (shared storage) is
  // never broken automatically. A reused pid makes a dead holder look alive: that errs on the
  // safe side (LOCKED) and an operator removes the file.
  if (info.host === os.hostname() && !pidAlive(info.pid)) return { kind: 'stale', info, text };
  return { kind: 'held', info };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * A `lock.break` file older than this was left by a process that died while clearing a stale
 * lock; clearing takes one read and one unlink, so a minute is generous.
 */
const BREAK_GRACE_MS = 60 * 1000;

/**
 * Removes a stale lock without ever removing a fresh one. Several processes may find the same
 * stale lock; if each simply unlinked it, a slow one could delete the lock a fast one had
 * just created, and both would run. So clearing is itself exclusive: only the creator of
 * `lock.break` may remove the lock file, and only if it still holds the very text judged
 * stale. While `lock.break` exists nothing else removes the lock (its dead holder cannot
 * release it), so that compare-then-unlink cannot race. Losers simply report LOCKED.
 */
async function breakStale(lockPath: string, staleText: string): Promise<void> {
  const breakPath = `${lockPath}.break`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // Empty: its existence is the whole message, so there is no content to lose in a crash.
      await (await fs.open(breakPath, 'wx', 0o644)).close();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('Cannot create', breakPath, e);
      const st = await fs.stat(breakPath).catch(() => null);
      if (attempt === 0 && (st === null || Date.now() - st.mtimeMs > BREAK_GRACE_MS)) {
        await fs.unlink(breakPath).catch(() => undefined);
        continue;
      }
      return; // someone else is clearing it right now
    }
    try {
      const text = await fs.readFile(lockPath, 'utf8').catch(() => null);
      if (text === staleText) await fs.unlink(lockPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('Cannot remove stale lock file', lockPath, e);
    } finally {
      await fs.unlink(breakPath).catch(() => undefined);
    }
    return;
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (!v || typeof v !== 'object') return null;
    // pid 0 or negative would make process.kill() signal a process group, never a holder.
    if (!Number.isSafeInteger(v.pid) || (v.pid as number) <= 0) return null;
    if (
      typeof v.host !== 'string' ||
      typeof v.op !== 'string' ||
      typeof v.since !== 'string' ||
      typeof v.nonce !== 'string'
    )
      return null;
    return v as LockInfo;
  } catch {
    return null;
  }
}

function lockedError(root: string, holder: LockInfo | null): ImageError {
  const who = holder
    ? `'${holder.op}' by pid ${holder.pid} on host ${holder.host} since ${holder.since}`
    : 'by an unknown holder (the lock file is empty or unreadable)';
  return new ImageError('LOCKED', `Image ${root} is locked: ${who}; retry when it finishes (pkg exit 7)`, {
    root,
    holder,
  });
}
