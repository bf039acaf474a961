/**
 * Benchmark of the image model at scale (npm run bench:images): plan, prepare (from an HTTP depot
 * in its own process) and execute on a generated repository of N packages × M actions, each phase
 * against a local baseline. Progress goes to stderr; the table (or --json) to stdout.
 *
 *   --packages N               default 1000
 *   --actions-per-package M    default 50 (~10% dirs, ~80% files, ~10% symlinks)
 *   --json                     numbers as JSON instead of the table
 *   --profile                  time every file-system call execute makes (adds a little overhead)
 *   --shared-origins           one OriginPool for all phases (default: a fresh one per phase)
 *   --rounds R                 run everything R times on fresh images and caches; each cell
 *                              shows its fastest round (default 1)
 */
import { rmSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { parseCommandLine } from '../src/command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../src/command-line/usage-error';
import { integerIn } from '../src/command-line/value-parsers';
import { ContentCache } from '../src/cache/content-cache';
import { Image } from '../src/image/image';
import { OriginPool } from '../src/origins/origin-pool';
import { DepotProcess, startDepotProcess } from './depot-process';
import { ensureRepo } from './generate-repo';
import { machineInfo, probeFileCreation } from './machine';
import { peakRss, timed } from './measure';
import { Ctx, measureExecute, measurePlan, measurePrepare } from './phases';
import { buildReport } from './report';
import { fastest, Stage } from './rounds';

/** The command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function imagesCommand(): Command {
  return new Command('npm run bench:images --')
    .usage('[--packages N] [--actions-per-package M] [--rounds R] [--profile] [--shared-origins] [--json]')
    .option('--packages <N>', 'packages in the generated repository', integerIn(1), 1000)
    .option('--actions-per-package <M>', 'actions per package (~10% dirs, ~80% files, ~10% symlinks)', integerIn(1), 50)
    .option('--json', 'numbers as JSON instead of the table')
    .option('--profile', 'time every file-system call execute makes (adds a little overhead)')
    .option('--shared-origins', 'one OriginPool for all phases (default: a fresh one per phase)')
    .option(
      '--rounds <R>',
      'run everything R times on fresh images and caches; each cell shows its fastest round',
      integerIn(1),
      1,
    )
    .helpOption('-h, --help', 'this text');
}

interface ImagesOptions {
  packages: number;
  actionsPerPackage: number;
  json?: boolean;
  profile?: boolean;
  sharedOrigins?: boolean;
  rounds: number;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine<ImagesOptions>(imagesCommand(), process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run bench:images -- --help" for the options.\n`);
    process.exitCode = USAGE_EXIT_CODE;
    return;
  }
  if (parsed.help !== null) return void process.stdout.write(parsed.help);
  const values = parsed.opts;
  const { packages, actionsPerPackage, rounds } = values;
  const log = (line: string) => process.stderr.write(line + '\n');
  const projectRoot = path.resolve(__dirname, '..');
  const loadStart = os.loadavg()[0];

  log(`repository: ${packages} packages × ${actionsPerPackage} actions, versions 1.0 and 2.0`);
  const gen = await timed(() => ensureRepo(path.join(projectRoot, '.bench-cache'), packages, actionsPerPackage, log));
  const repo = gen.value;
  log(
    repo.cached
      ? `  reused ${repo.root} (generated earlier in ${(repo.shape.generationMs / 1000).toFixed(1)} s)`
      : `  generated in ${(gen.ms / 1000).toFixed(1)} s`,
  );

  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'li-bench-'));
  const onSignal = () => {
    rmSync(work, { recursive: true, force: true }); // the depot is killed by its exit hook
    process.exit(130);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const sharedOrigins = values.sharedOrigins ? new OriginPool() : null;
  let depot: DepotProcess | null = null;
  let depotRss: number | null = null;
  try {
    const createMicros = await probeFileCreation(work);
    depot = await startDepotProcess(projectRoot, repo.root);
    log(`depot: pid ${depot.pid} at ${depot.url}`);
    let install: Stage | null = null;
    let update: Stage | null = null;
    for (let round = 1; round <= rounds; round++) {
      const tag = rounds > 1 ? ` [round ${round} of ${rounds}]` : '';
      const image = await Image.create(path.join(work, `image-${round}`), {
        publishers: [{ name: repo.publisher, origins: [depot.url], sticky: true, enabled: true }],
      });
      const cache = await ContentCache.open(path.join(work, `cache-${round}`));
      const ctx: Ctx = {
        image,
        cache,
        repo: repo.root,
        publisher: repo.publisher,
        work,
        profile: !!values.profile,
        sharedOrigins,
      };

      log(`(a) install every package at 1.0: plan${tag}`);
      const planInstall = await measurePlan(ctx, { install: repo.stems.map((s) => `${s}@1.0`) });
      log('    prepare');
      const prepInstall = await measurePrepare(ctx, planInstall.plan);
      log('    execute');
      const execInstall = await measureExecute(ctx, planInstall.plan, true);

      log(`(b) update every package to 2.0: plan${tag}`);
      const planUpdate = await measurePlan(ctx, {});
      log('    prepare');
      const prepUpdate = await measurePrepare(ctx, planUpdate.plan);
      log('    execute');
      const execUpdate = await measureExecute(ctx, planUpdate.plan, false);
      const a: Stage = { plan: planInstall, prepare: prepInstall, execute: execInstall };
      const b: Stage = { plan: planUpdate, prepare: prepUpdate, execute: execUpdate };
      install = install ? fastest(install, a) : a;
      update = update ? fastest(update, b) : b;
    }
    depotRss = depot.peakRss();

    const report = buildReport({
      machine: await machineInfo(work, loadStart, createMicros),
      repo,
      generationMs: repo.cached ? null : gen.ms,
      install: install!,
      update: update!,
      rounds,
      peakRss: peakRss(),
      depotPeakRss: depotRss,
      sharedOrigins: sharedOrigins !== null,
    });
    process.stdout.write(values.json ? JSON.stringify(report.json, null, 2) + '\n' : report.text + '\n');
  } finally {
    sharedOrigins?.close();
    await depot?.stop();
    await fs.rm(work, { recursive: true, force: true });
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 2;
});
