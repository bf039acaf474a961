/**
 * `npm run bench -- [--rounds R] [--only overhead,speedup,duplicates,legacy] [--zones-scale F] [--json FILE] [--keep]`
 *
 * One run on this machine that measures `updateLinkedImages` against its alternatives:
 *  (a) overhead: the workflow against the same update done with the image model's functions in a
 *      fresh process of its own (runDirectUpdateProcess), as the workflow's worker is fresh;
 *  (b) speed-up with concurrency 1, 2, 4, 8, 16;
 *  (c) duplicate work (plans per child, content bytes served against the unique bytes needed),
 *      without and with a worker SIGKILLed in the middle of prepare;
 *  (d) pkg(5)'s old serial, staged recursion (runLegacyUpdate) against the workflow.
 * Every measured update gets a fresh host of its own; hosts are removed only at the end.
 * Progress goes to stderr, the table to stdout, the figures (UpdateFigures) to --json FILE.
 */
import { promises as fs, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openBenchContext, type BenchContext } from './bench-context';
import { machineInfo, probeFileCreation } from './machine';
import { measureDuplicates } from './measure-duplicates';
import { measureLegacy } from './measure-legacy';
import { measureOverhead } from './measure-overhead';
import { measureSpeedup } from './measure-speedup';
import { formatTable } from './table';
import { parseUpdateArgs, UPDATE_USAGE, UsageError, type UpdateArgs } from './update-args';
import type { UpdateFigures } from './update-figures';
import { updateRows } from './update-rows';

async function main(): Promise<number> {
  let args: UpdateArgs;
  try {
    args = parseUpdateArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(UPDATE_USAGE + '\n');
    return 0;
  }
  const log = (line: string) => process.stderr.write(line + '\n');
  const t0 = performance.now();
  const loadStart = os.loadavg()[0];
  const root = path.join(__dirname, '..', '.bench-cache', `update-${process.pid}`);
  await fs.mkdir(root, { recursive: true });
  // Ctrl-C: exit through the 'exit' hooks, which kill the dev server and any worker still running.
  const onSignal = () => {
    if (!args.keep) rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  const createMicros = await probeFileCreation(root);
  log(
    `file creation: ${createMicros.toFixed(0)} µs a file (about 100 on a quiet file system; much more for minutes after many files were deleted)`,
  );
  log(`parts: ${args.only.join(', ')}; rounds: ${args.rounds}; zones scale: ${args.zonesScale}; hosts in ${root}`);
  let ctx: BenchContext | null = null;
  try {
    ctx = await openBenchContext(root, { rounds: args.rounds, zonesScale: args.zonesScale, log });
    const figures: Omit<UpdateFigures, 'machine' | 'totalSeconds'> = {
      overhead: [],
      speedup: [],
      duplicates: [],
      legacy: null,
      rounds: args.rounds,
      zonesScale: args.zonesScale,
    };
    for (const part of args.only) {
      if (part === 'overhead') figures.overhead = await measureOverhead(ctx);
      if (part === 'speedup') figures.speedup = await measureSpeedup(ctx);
      if (part === 'duplicates') figures.duplicates = await measureDuplicates(ctx);
      if (part === 'legacy') figures.legacy = await measureLegacy(ctx);
    }
    const all: UpdateFigures = {
      ...figures,
      machine: await machineInfo(root, loadStart, createMicros),
      totalSeconds: (performance.now() - t0) / 1000,
    };
    const m = all.machine;
    process.stdout.write(
      `\n${m.cores} cores (${m.cpu}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.tmpFs}; load ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd.toFixed(2)} at the end; file creation ${m.createMicros.toFixed(0)} µs\n`,
    );
    process.stdout.write(
      `${ctx.hosts.count} hosts, ${all.totalSeconds.toFixed(0)} s in all; each figure the fastest of ${args.rounds} round(s) (duplicates: the worst)\n\n`,
    );
    process.stdout.write(formatTable(updateRows(all)) + '\n');
    if (args.json) {
      await fs.writeFile(args.json, JSON.stringify(all, null, 2) + '\n');
      log(`figures written to ${args.json}`);
    }
    return 0;
  } finally {
    await ctx?.close();
    if (args.keep) log(`hosts kept in ${root}`);
    else await fs.rm(root, { recursive: true, force: true });
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
