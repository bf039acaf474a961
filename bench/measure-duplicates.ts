import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import type { BenchContext } from './bench-context';
import { confirmPlansExecuted, contentNeeds, uniqueContent } from './content-needs';
import { waitForPartialDownload } from './partial-download';
import { maxPlansPerChild, readActivityRecord } from './plans-per-child';
import { startProxiedDepot } from './proxied-depot';
import { worstDuplicates, type DuplicateFigure } from './update-figures';
import { runWorkflowUpdate } from './workflow-update';

/**
 * Part (c): nominal zones (before --zones-scale); the run's concurrency; the size in bytes of
 * the zone-only file (buildDemoHost bigFileBytes; incompressible, so about as large on the
 * wire); the proxy's rate in bytes per second until the kill, so the kill lands mid-download;
 * and how many bytes of that file must be on disk (partial/) before the kill.
 */
export const DUPLICATES_CASE = {
  zones: 20,
  concurrency: 8,
  bigFileBytes: 3_000_000,
  slowBytesPerSecond: 400_000,
  killAtPartialBytes: 200_000,
} as const;

/**
 * Duplicate work of the workflow, without and with a worker SIGKILLed in the middle of
 * prepare: one figure each (the worst of `ctx.rounds` rounds, see worstDuplicates).
 */
export async function measureDuplicates(ctx: BenchContext): Promise<DuplicateFigure[]> {
  const zones = ctx.zones(DUPLICATES_CASE.zones);
  const runs: Record<'calm' | 'crash', DuplicateFigure[]> = { calm: [], crash: [] };
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const crash of [false, true]) {
      ctx.log(
        `(c) duplicates: ${zones} zones, C=${DUPLICATES_CASE.concurrency}, ${crash ? 'worker SIGKILLed mid-prepare' : 'no crash'}${ctx.rounds > 1 ? ` [round ${round} of ${ctx.rounds}]` : ''}`,
      );
      const d = await duplicateRun(ctx, zones, crash);
      ctx.log(
        `    plans per child at most ${d.maxPlansPerChild}; depot served ${d.downloadedBytes} content bytes; unique ${d.uniqueBytes} in ${d.uniqueFiles} files${crash ? `; in flight at the kill ${d.inFlightBytes}` : ''}`,
      );
      runs[crash ? 'crash' : 'calm'].push(d);
    }
  }
  return [worstDuplicates(runs.calm), worstDuplicates(runs.crash)];
}

/**
 * One workflow run on a fresh host whose images get their content from a real HTTP depot
 * through a CuttingProxy (startProxiedDepot), with a zone-only big file and the worker's
 * activity record. Before the run: what it will need (contentNeeds) and what of that the
 * host's cache lacks (uniqueBytes). With `crash`: the link is slowed, and once a partial
 * download of killAtPartialBytes is on disk the worker is SIGKILLed, the link restored and
 * another worker started; the run then finishes on it (after the killed activities' heartbeat
 * timeout). After the run: the plans executed are the ones the unique bytes came from, the
 * depot's content bytes, and plan starts per child from the record.
 */
async function duplicateRun(ctx: BenchContext, zones: number, crash: boolean): Promise<DuplicateFigure> {
  const { concurrency, bigFileBytes, slowBytesPerSecond, killAtPartialBytes } = DUPLICATES_CASE;
  const host = await ctx.hosts.build(`duplicates-${zones}z-${crash ? 'sigkill' : 'no-crash'}`, zones, { bigFileBytes });
  const served = await startProxiedDepot(host);
  try {
    const needs = await contentNeeds(host, path.join(host.dir, 'needs-cache'));
    const unique = await uniqueContent(await ContentCache.open(host.cacheDir), needs);
    const recordFile = path.join(host.dir, 'record.jsonl');
    const servedBefore = served.contentBytes();
    let inFlightBytes = 0;
    if (crash) served.proxy.bytesPerSecond = slowBytesPerSecond;
    await runWorkflowUpdate(ctx.server, host, {
      concurrency,
      recordFile,
      during: crash
        ? async (run) => {
            const partial = await waitForPartialDownload(host.cacheDir, killAtPartialBytes, run.ended);
            run.worker.child.kill('SIGKILL');
            await run.worker.exited;
            inFlightBytes = [...partial].reduce((n, [hash, size]) => n + (needs.files.get(hash) ?? size), 0);
            ctx.log(
              `    SIGKILLed worker ${run.worker.pid} with ${[...partial].map(([h, s]) => `${h.slice(0, 12)}… at ${s} bytes`).join(', ')} on disk; starting another`,
            );
            served.proxy.bytesPerSecond = null;
            await run.startAnotherWorker();
          }
        : undefined,
    });
    await confirmPlansExecuted(host, needs);
    return {
      crash,
      maxPlansPerChild: maxPlansPerChild(await readActivityRecord(recordFile)),
      downloadedBytes: served.contentBytes() - servedBefore,
      uniqueBytes: unique.bytes,
      uniqueFiles: unique.files,
      inFlightBytes,
      zones,
      concurrency,
    };
  } finally {
    await served.close();
  }
}
