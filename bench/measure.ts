import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { eachLimited } from '../src/model/each-limited';

/**
 * Local-copy baseline for prepare: copyFile calls kept this many in flight. libuv runs file
 * operations on 4 threads by default, so 8 keeps all 4 busy (more would only queue); prepare
 * itself downloads on 4 lanes (fetch-content.ts PARALLEL), so both sides get the same I/O
 * parallelism.
 */
export const COPY_CONCURRENCY = 8;

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** Frees garbage from the previous phase so it is not charged to the next (needs --expose-gc). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** This process's peak resident set so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Reads every file once so that the measured runs all start with a warm page cache. */
export async function warmPageCache(files: readonly string[]): Promise<void> {
  await eachLimited(files, COPY_CONCURRENCY, async (f) => {
    await fs.readFile(f);
  });
}

/** Copies each source into `<dest>/<hh>/<basename>`, the content cache's fan-out (directories included in the time). */
export async function copyContent(sources: readonly string[], dest: string): Promise<void> {
  const subdirs = new Set(sources.map((s) => path.basename(s).slice(0, 2)));
  for (const d of subdirs) await fs.mkdir(path.join(dest, d), { recursive: true });
  await eachLimited(sources, COPY_CONCURRENCY, async (src) => {
    const name = path.basename(src);
    await fs.copyFile(src, path.join(dest, name.slice(0, 2), name));
  });
}

/** `cp -a <entries...> <dest>/`; resolves when cp exits 0. */
export function cpA(entries: readonly string[], dest: string): Promise<void> {
  return run('cp', ['-a', ...entries, dest + '/']);
}

/** Flushes the file system holding `p`, as execute does once before its commit point. */
export function syncFs(p: string): Promise<void> {
  return run('sync', ['-f', p]);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${err.trim()}`)),
    );
  });
}
