/**
 * `npm run bench:scale -- --zones N --packages P --concurrency C [--json FILE] [--keep]`
 *
 * One update of a host of N zones with P packages each (built by cloning: src/dev/clone-zones.ts)
 * on a local dev server with the server's default limits, by the project's own worker in its own
 * process (`npm run worker`). Prints what decides whether runs of this size are healthy: wall
 * time, workflow executions, the largest execution (events, history bytes), the largest payload,
 * the worker's peak RSS and the server's history/blob warnings. Not a test: nothing is asserted.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { buildDemoHost } from '../src/dev/demo-host';
import { SEARCH_ATTRIBUTES, startDevServer } from '../src/dev/dev-server';
import { updateLinkedImages } from '../src/workflows';
import { parseCommandLine } from '../src/command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../src/command-line/usage-error';
import { anyInteger, integerIn, nonEmpty } from '../src/command-line/value-parsers';
import { probeFileCreation } from './machine';
import { samplePeakRss } from './peak-rss';
import { collectRunStats } from './run-stats';
import { serverWarningArgs, ServerWarnings } from './server-warnings';
import { startWorkerProcess } from './worker-process';

/** The command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function scaleCommand(): Command {
  return new Command('npm run bench:scale --')
    .usage('[--zones N] [--packages P] [--concurrency C] [--json FILE] [--keep]')
    .option('--zones <N>', 'zones on the host', integerIn(1), 1000)
    .option('--packages <P>', 'packages per image, all updated', integerIn(1), 5)
    .option('--concurrency <C>', "the run's concurrency, <= 0 no limit", anyInteger, 16)
    .option('--json <FILE>', 'also write the figures as JSON', nonEmpty)
    .option('--keep', 'keep the host in .bench-cache/ afterwards')
    .helpOption('-h, --help', 'this text');
}

interface ScaleOptions {
  zones: number;
  packages: number;
  concurrency: number;
  json?: string;
  keep?: boolean;
}

/** The figures of one scale run (the JSON written with --json). */
export interface ScaleFigures {
  zones: number;
  packages: number;
  concurrency: number;
  status: string;
  /** From start to result, in seconds (the host build and worker start are not counted). */
  wallSeconds: number;
  executions: number;
  partitions: number;
  maxEventsPerExecution: number;
  maxHistoryBytesPerExecution: number;
  totalEvents: number;
  /** Workflow tasks that failed or timed out (FORCE_CLOSE_COMMAND, PayloadsTooLarge, a slow task): 0 in a healthy run. */
  workflowTaskFailures: number;
  maxPayloadBytes: number;
  /** Where the largest payload sits, e.g. `ActivityTaskCompleted activityTaskCompletedEventAttributes.result.payloads[0]`. */
  maxPayloadAt: string | null;
  workerPeakRssBytes: number | null;
  /** Server log lines about history count, history size and blob size (warn or error level). */
  serverWarnings: { 'history-count': number; 'history-size': number; 'blob-size': number };
  serverWarningLines: string[];
  buildSeconds: number;
  fileCreateMicros: number;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine<ScaleOptions>(scaleCommand(), process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run bench:scale -- --help" for the options.\n`);
    process.exitCode = USAGE_EXIT_CODE;
    return;
  }
  if (parsed.help !== null) return void process.stdout.write(parsed.help);
  const values = parsed.opts;
  const { zones, packages, concurrency } = values;

  const dir = path.join(__dirname, '..', '.bench-cache', `scale-${zones}x${packages}-${process.pid}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const say = (s: string) => process.stdout.write(s + '\n');
  const fileCreateMicros = await probeFileCreation(dir);
  say(`file creation: ${fileCreateMicros.toFixed(0)} µs a file (about 100 on a quiet file system)`);
  const b0 = Date.now();
  const host = await buildDemoHost(path.join(dir, 'host'), zones, (l) => say(`  ${l}`), { packages, zones: 'clone' });
  const buildSeconds = (Date.now() - b0) / 1000;
  say(`host: ${zones} zones x ${packages} packages built in ${buildSeconds.toFixed(1)} s`);

  const warnings = new ServerWarnings(5);
  const server = await startDevServer({
    searchAttributes: SEARCH_ATTRIBUTES,
    log: warnings.log,
    extraArgs: serverWarningArgs(),
  });
  const taskQueue = `scale-${process.pid}`;
  const worker = startWorkerProcess({ address: server.address, taskQueue, host: 'bench', cacheDir: host.cacheDir });
  const connection = await Connection.connect({ address: server.address });
  try {
    await worker.ready;
    const rss = samplePeakRss(worker.pid, { intervalMs: 200 });
    const client = new Client({ connection, namespace: server.namespace });
    warnings.reset();
    const workflowId = `scale-${zones}x${packages}-c${concurrency}`;
    const t0 = Date.now();
    const handle = await client.workflow.start(updateLinkedImages, {
      taskQueue,
      workflowId,
      args: [{ image: host.parent, host: 'bench', concurrency, recursive: true }],
    });
    const tick = setInterval(
      () =>
        void handle.query('progress').then(
          (p) => say(`  ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s ${(p as { line: string }).line}`),
          () => undefined,
        ),
      10_000,
    );
    const result = await handle.result().finally(() => clearInterval(tick));
    const wallSeconds = (Date.now() - t0) / 1000;
    const mem = rss.stop();
    const stats = await collectRunStats(client, workflowId);
    const w = warnings.summary();
    const figures: ScaleFigures = {
      zones,
      packages,
      concurrency,
      status: result.status,
      wallSeconds,
      executions: stats.totals.executions,
      partitions: result.partitions,
      maxEventsPerExecution: stats.max.events,
      maxHistoryBytesPerExecution: stats.max.historyBytes,
      totalEvents: stats.totals.events,
      workflowTaskFailures: stats.totals.workflowTaskFailures,
      maxPayloadBytes: stats.max.payload?.bytes ?? 0,
      maxPayloadAt: stats.max.payload ? `${stats.max.payload.eventType} ${stats.max.payload.field}` : null,
      workerPeakRssBytes: mem.peakBytes,
      serverWarnings: w.counts,
      serverWarningLines: [
        ...w.firstLines['history-count'],
        ...w.firstLines['history-size'],
        ...w.firstLines['blob-size'],
      ],
      buildSeconds,
      fileCreateMicros,
    };
    const mb = (n: number | null) => (n === null ? '?' : `${(n / 1e6).toFixed(1)} MB`);
    say('');
    say(
      `update of ${zones} zones x ${packages} packages at concurrency ${concurrency}: ${result.status} (exit ${result.exitCode}), ${result.counts.updated} children updated`,
    );
    say(`  wall time                      ${wallSeconds.toFixed(1)} s`);
    say(`  workflow executions            ${figures.executions} (partitions: ${figures.partitions})`);
    say(
      `  largest execution              ${figures.maxEventsPerExecution.toLocaleString('en-US')} events, ${mb(figures.maxHistoryBytesPerExecution)} (server warns at 10,240 events, 10 MB)`,
    );
    say(
      `  events in all                  ${figures.totalEvents.toLocaleString('en-US')}; workflow task failures ${figures.workflowTaskFailures}`,
    );
    say(
      `  largest payload                ${(figures.maxPayloadBytes / 1000).toFixed(1)} KB (${figures.maxPayloadAt}) (warns at 256 KB)`,
    );
    say(`  worker peak RSS                ${mb(figures.workerPeakRssBytes)}`);
    say(
      `  server warnings                history count ${w.counts['history-count']}, history size ${w.counts['history-size']}, blob size ${w.counts['blob-size']}`,
    );
    for (const l of figures.serverWarningLines) say(`    ${l.slice(0, 300)}`);
    if (values.json) await fs.writeFile(values.json, JSON.stringify(figures, null, 2) + '\n');
  } finally {
    await worker.stop();
    await connection.close();
    await server.stop();
    if (!values.keep) await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:scale failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
