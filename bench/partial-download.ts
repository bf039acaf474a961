import { promises as fs } from 'fs';
import * as path from 'path';

/** How often waitForPartialDownload looks at the cache's partial/ directory, in ms. */
const POLL_MS = 50;

/**
 * Waits until the content cache at `cacheDir` holds a partial download (`partial/<hash>.gz`,
 * what prepare writes while a large file comes in) of at least `minBytes` bytes, and resolves
 * with every partial download's hash and size in bytes at that moment. Rejects once `ended`
 * resolves first (the run finished without such a download) or after `timeoutMs`.
 */
export async function waitForPartialDownload(
  cacheDir: string,
  minBytes: number,
  ended: Promise<void>,
  timeoutMs = 120_000,
): Promise<Map<string, number>> {
  const dir = path.join(cacheDir, 'partial');
  let over = false;
  void ended.then(() => (over = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sizes = new Map<string, number>();
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith('.gz')) continue;
      const st = await fs.stat(path.join(dir, name)).catch(() => null);
      if (st) sizes.set(name.slice(0, -'.gz'.length), st.size);
    }
    if ([...sizes.values()].some((s) => s >= minBytes)) return sizes;
    if (over) throw new Error(`The run ended before a download of ${minBytes} bytes or more was in progress in ${dir}`);
    if (Date.now() > deadline)
      throw new Error(
        `No partial download of ${minBytes} bytes or more appeared in ${dir} within ${timeoutMs / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
