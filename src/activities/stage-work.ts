import { createReadStream, createWriteStream, promises as fsp } from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { cancellationSignal } from '@temporalio/activity';
import { execute, type ExecuteResult } from '../stages/execute';
import type { Image } from '../image/image';
import { realFs, type FsLayer } from '../image/fs-layer';
import type { Plan } from '../stages/plan';
import { prepare } from '../stages/prepare';
import type { ActivityContext } from './activity-context';
import type { Heartbeater } from './heartbeater';
import type { PrepareOutput } from '../contract/activity-types';

/** Prepare of one image with its progress heartbeated (bytes), and pkg(5)'s download line: what both shapes of the prepare activity run. */
export async function prepareWithProgress(
  ctx: ActivityContext,
  image: Image,
  plan: Plan,
  beat: Heartbeater | null,
): Promise<PrepareOutput> {
  const r = await prepare(image, plan, await ctx.getCache(), {
    origins: ctx.origins,
    signal: cancellationSignal(),
    onProgress: (p) => beat?.push({ stage: 'prepare', done: p.bytesDone, total: p.bytesTotal, unit: 'bytes' }),
  });
  const lines = [
    `Download: ${r.filesDone}/${r.filesTotal} files, ${r.bytesDone}/${r.bytesTotal} bytes (${r.fetchedFiles} files fetched now, the rest already in the host cache)`,
  ];
  return {
    files: r.filesTotal,
    bytes: r.bytesTotal,
    fetchedFiles: r.fetchedFiles,
    fetchedBytes: r.fetchedBytes,
    lines,
  };
}

/**
 * Execute of one image with its progress heartbeated, through the worker's fs layer: what both
 * shapes of the execute activity run. The details carry steps (done/total) and, since the watch
 * view, the bytes of content written (bytesDone of the plan's installBytes), so a run whose one
 * big file is most of the work does not sit at "1 of 26 steps": the bytes are counted as each
 * file is copied from the content cache (a file counts when its copy is done), and restart at
 * 0 in an attempt that resumes an interrupted execute.
 */
export async function executeWithProgress(
  ctx: ActivityContext,
  image: Image,
  plan: Plan,
  beat: Heartbeater | null,
): Promise<ExecuteResult> {
  const cache = await ctx.getCache();
  let bytesDone = 0;
  let steps = { done: 0, total: 0 };
  const push = () =>
    beat?.push({
      stage: 'execute',
      done: steps.done,
      total: steps.total,
      unit: 'steps',
      bytesDone,
      bytesTotal: plan.sizes.installBytes,
    });
  const fs = beat
    ? countingContentWrites(ctx.deps.fs ?? realFs, path.join(cache.root, 'file') + path.sep, (n) => {
        bytesDone += n;
        push();
      })
    : ctx.deps.fs;
  return execute(image, plan, cache, {
    origins: ctx.origins,
    fs,
    signal: cancellationSignal(),
    onProgress: (x) => {
      steps = { done: x.stepsDone, total: x.stepsTotal };
      push();
    },
  });
}

/**
 * Files at least this big are copied out of the content cache as a stream, reporting their bytes
 * as they go: a 400 MB file is a moving bar instead of a bar stuck at one step, and the event loop
 * stays free for heartbeats (a synchronous copy of it would hold them back for seconds).
 */
export const STREAM_COPY_BYTES = 8 * 1024 * 1024;

/**
 * `fs` whose copies out of the content cache (paths under `cacheFiles`) report the bytes copied:
 * a big file on the real file system as it streams (STREAM_COPY_BYTES), any other once copied.
 * An injected fs layer (tests failing its calls) keeps its own copyFile.
 */
function countingContentWrites(fs: FsLayer, cacheFiles: string, wrote: (bytes: number) => void): FsLayer {
  return {
    ...fs,
    async copyFile(from, to, exclusive) {
      if (!from.startsWith(cacheFiles)) return fs.copyFile(from, to, exclusive);
      if (fs === realFs && (await fsp.stat(from)).size >= STREAM_COPY_BYTES) {
        const source = createReadStream(from);
        source.on('data', (chunk) => wrote(chunk.length));
        // 'wx' fails with EEXIST like copyFile's COPYFILE_EXCL: the step runner removes a leftover and retries.
        await pipeline(source, createWriteStream(to, { flags: exclusive ? 'wx' : 'w' }));
        return;
      }
      await fs.copyFile(from, to, exclusive);
      wrote((await fs.lstat(to)).size);
    },
  };
}

/** `Execute: applied, 22 steps` (or already applied, resumed). */
export function executeLine(r: ExecuteResult): string {
  const how =
    r.status === 'already-applied'
      ? 'already applied'
      : r.resumed
        ? 'applied (resumed an interrupted execute)'
        : r.status;
  return `Execute: ${how}, ${r.steps} steps`;
}
