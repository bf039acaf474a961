import { cancellationSignal } from '@temporalio/activity';
import { execute, type ExecuteResult } from '../stages/execute';
import type { Image } from '../image/image';
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

/** Execute of one image with its progress heartbeated (steps), through the worker's fs layer: what both shapes of the execute activity run. */
export async function executeWithProgress(
  ctx: ActivityContext,
  image: Image,
  plan: Plan,
  beat: Heartbeater | null,
): Promise<ExecuteResult> {
  return execute(image, plan, await ctx.getCache(), {
    origins: ctx.origins,
    fs: ctx.deps.fs,
    signal: cancellationSignal(),
    onProgress: (x) => beat?.push({ stage: 'execute', done: x.stepsDone, total: x.stepsTotal, unit: 'steps' }),
  });
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
