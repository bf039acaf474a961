import { promises as fs } from 'fs';
import * as os from 'os';
import { ContentCache } from './content-cache';
import { ImageError } from '../model/errors';

/** How often a process waiting for another one's download looks again. */
const POLL_MS = 200;

/**
 * Two workers on one host share the content cache. Within a process, claims keep a file from
 * being fetched twice; across processes, this lock keeps two of them from appending to the same
 * partial download (which would corrupt it). A lock whose holder died (same host, pid gone) is
 * taken over, so a SIGKILLed worker never blocks the next one.
 * Resolves with a release function, or with null once the other process has admitted the file.
 */
export async function lockPartial(
  cache: ContentCache,
  hash: string,
  signal?: AbortSignal,
): Promise<(() => Promise<void>) | null> {
  const lock = cache.partialPath(hash) + '.lock';
  const me = JSON.stringify({ pid: process.pid, host: os.hostname() });
  for (;;) {
    if (signal?.aborted)
      throw new ImageError('CANCELLED', `Waiting for another process's download of ${hash} was cancelled`, { hash });
    try {
      const fh = await fs.open(lock, 'wx');
      await fh.writeFile(me);
      await fh.close();
      return async () => {
        await fs.rm(lock, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await cache.hasFile(hash)) return null;
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(await fs.readFile(lock, 'utf8'));
    } catch {
      // Being written right now, or already gone: look again.
    }
    if (holder.pid && holder.host === os.hostname() && !alive(holder.pid)) {
      await fs.rm(lock, { force: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
