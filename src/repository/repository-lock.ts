import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';
import { lockPath } from './layout';

export interface LockOptions {
  /**
   * How long to wait for another process's lock before failing with LOCKED.
   * @default 5000
   */
  waitMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

const POLL_MS = 50;

/** Same-process callers queue here, so they never see their own process's lock as foreign. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` holding `<root>/lock`. The lock file is created exclusively and names its owner
 * (pid, host); a lock whose pid is dead on this host is taken over, since its publisher
 * crashed. A lock from another host cannot be checked and is always respected.
 */
export async function withRepositoryLock<T>(root: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const key = path.resolve(root);
  const prev = queues.get(key) ?? Promise.resolve();
  const run = prev
    .catch(() => undefined)
    .then(async () => {
      await acquire(root, opts.waitMs ?? 5000);
      try {
        return await fn();
      } finally {
        await fsp.rm(lockPath(root), { force: true }).catch(() => undefined);
      }
    });
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

async function acquire(root: string, waitMs: number): Promise<void> {
  const file = lockPath(root);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await fsp.writeFile(file, JSON.stringify(me) + '\n', { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('Cannot create lock', file, e);
    }
    const owner = await readOwner(file);
    if (owner === 'gone') continue;
    if (owner && isStale(owner)) {
      await takeOver(file, owner);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = owner ? `process ${owner.pid} on ${owner.host} since ${owner.since}` : 'an unknown process';
      throw new ImageError(
        'LOCKED',
        `Repository ${root} is locked by ${who}; retry later, or remove ${file} if no publisher is running`,
        {
          path: file,
          ...(owner ? { pid: owner.pid, host: owner.host } : {}),
        },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The lock's owner; null when unreadable (half-written by its creator: treat as held); 'gone' when released meanwhile. */
async function readOwner(file: string): Promise<LockOwner | null | 'gone'> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw ioError('Cannot read lock', file, e);
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Removes a dead owner's lock. Two processes may find the same stale lock; without care the
 * slower one would unlink the lock the faster one has just created. So the removal happens
 * under a second, short-lived lock, and only if the file still names the same dead owner.
 */
async function takeOver(file: string, stale: LockOwner): Promise<void> {
  const guard = file + '.takeover';
  try {
    await fsp.writeFile(
      guard,
      JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }),
      { flag: 'wx' },
    );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('Cannot create lock', guard, e);
    // Someone else is taking over; if they died inside that window, clear their guard.
    const other = await readOwner(guard);
    if (other && other !== 'gone' && isStale(other)) await fsp.rm(guard, { force: true });
    return;
  }
  try {
    const now = await readOwner(file);
    if (now && now !== 'gone' && now.pid === stale.pid && now.host === stale.host && now.since === stale.since)
      await fsp.rm(file, { force: true });
  } finally {
    await fsp.rm(guard, { force: true });
  }
}
