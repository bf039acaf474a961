import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import type { DemoHost } from '../src/dev/demo-host';
import type { DirectUpdateResult } from './direct-update';

const run = promisify(execFile);

/**
 * runDirectUpdate of `host` in a fresh Node process (bench/direct-update-main.ts, TypeScript
 * transpiled as the bench's workers are), resolving with its result; `wallSeconds` is measured
 * inside that process, from the first publisher check to the last stage (the process's start
 * and module loading are not counted, as the workflow's worker start is not).
 *
 * Why a process of its own: the workflow side runs each update on a fresh worker process, so its
 * image-model code runs cold (V8 has not compiled it yet, no manifest parsed). Run in the bench's
 * own process, the direct side was warm from every earlier round (the same packages' manifests
 * parsed, the same functions optimized): at 50 zones and ~0 ms of stage work it took 0.56–0.85 s
 * warm against 0.85–1.02 s in a fresh process, a difference charged to orchestration. Rejects when the process fails
 * (its stderr in the message).
 */
export async function runDirectUpdateProcess(
  host: DemoHost,
  opts: { concurrency: number; stageDelayMs?: number },
): Promise<DirectUpdateResult> {
  const entry = path.join(__dirname, 'direct-update-main.ts');
  const args = [
    '--require',
    'ts-node/register',
    entry,
    JSON.stringify(host),
    String(opts.concurrency),
    String(opts.stageDelayMs ?? 0),
  ];
  const { stdout } = await run(process.execPath, args, {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: Error & { stderr?: string }) => {
    throw new Error(
      `The direct update of ${host.parent} failed in its process: ${e.stderr?.slice(-2000) ?? e.message}`,
    );
  });
  return JSON.parse(stdout) as DirectUpdateResult;
}

/**
 * Seconds the direct update of `host` took (runDirectUpdateProcess's `wallSeconds`). Throws when
 * it did not end `ok` (its time would mean nothing), with the failures.
 */
export async function directUpdateSeconds(
  host: DemoHost,
  opts: { concurrency: number; stageDelayMs?: number },
): Promise<number> {
  const r = await runDirectUpdateProcess(host, opts);
  if (r.status !== 'ok')
    throw new Error(
      `The direct update of ${host.parent} ended ${r.status}: ${JSON.stringify(r.failures).slice(0, 2000)}`,
    );
  return r.wallSeconds;
}
