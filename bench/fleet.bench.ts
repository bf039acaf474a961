/**
 * `npm run bench:fleet -- --hosts H --zones Z [--waves 1,5,20%] [--host-concurrency N] [--concurrency C]
 * [--workers W] [--json FILE] [--keep]`
 *
 * One `updateFleet` over H simulated hosts of Z zones each (directories under .bench-cache/, built
 * by bench/fleet-hosts.ts) on a local dev server with the server's default limits and its
 * history/blob warnings collected. The hosts' work is served by W worker groups in this process,
 * each a host's pair of Workers (createHostWorkers) named `bench-w<k>` with its activities on
 * `linked-images@bench-w<k>`, all on one shared workflow task queue; host i's entry names group
 * `i % W + 1` as its `taskQueue`. Prints what decides whether a fleet of this size is healthy:
 * wall time, executions (fleet, host runs, partitions), the largest execution, the largest
 * payload, workflow task failures, server warnings, this process's peak RSS. Not a test: nothing
 * is asserted.
 */
import { promises as fs, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { fleetInputProblems, type FleetRequest, type FleetResult } from '../src/contract/fleet';
import { SEARCH_ATTRIBUTES, startDevServer } from '../src/dev/dev-server';
import { LinkedImagesPlugin } from '../src/plugin/linked-images-plugin';
import { createHostWorkers, type HostWorkers } from '../src/worker/host-workers';
import { oneLineLogger } from '../src/worker/log-format';
import { bundleWorkflowsInChildProcess } from '../src/worker/workflow-bundle';
import { updateFleet } from '../src/workflows';
import { wavesValue } from '../src/client/fleet/waves-value';
import { parseCommandLine } from '../src/command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../src/command-line/usage-error';
import { anyInteger, integerIn, nonEmpty } from '../src/command-line/value-parsers';
import {
  fleetHostEntries,
  formatFleetTable,
  groupHost,
  summarizeExecutions,
  where,
  type FleetFigures,
} from './fleet-figures';
import { buildFleetHosts } from './fleet-hosts';
import { probeFileCreation } from './machine';
import { readMemoryStatus, samplePeakRss } from './peak-rss';
import { collectRunStats } from './run-stats';
import { serverWarningArgs, ServerWarnings } from './server-warnings';

/**
 * Hosts in flight unless --host-concurrency says otherwise. 20 gives each of the default 4 worker
 * groups 5 hosts at once, up to 20 zone activities at the default per-host concurrency 4, about
 * its 16 activity slots: the workers are kept busy without a queue of tasks waiting for them.
 * Measured on 100 hosts x 10 zones (fastest of three runs on the shared 2-core machine): 61, 52,
 * 45 and 53 s at 5, 10, 20 and 40. More also makes every continue-as-new of the fleet wait for
 * more hosts to drain, and lets more hosts go on after the first failure (the hosts already in
 * flight finish). README "Benchmark results: fleets".
 */
const DEFAULT_HOST_CONCURRENCY = 20;

/** The command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function fleetCommand(): Command {
  return new Command('npm run bench:fleet --')
    .usage(
      '[--hosts H] [--zones Z] [--waves 1,5,20%] [--host-concurrency N] [--concurrency C] [--workers W] [--json FILE] [--keep]',
    )
    .option('--hosts <H>', 'hosts in the fleet (at most 1000, the fleet workflow limit)', integerIn(1, 1000), 200)
    .option('--zones <Z>', 'zones on each host', integerIn(1), 10)
    .option('--waves <sizes>', 'wave sizes like npm run update --waves: 1,5,20% (default: one wave)', wavesValue)
    .option('--host-concurrency <N>', 'hosts updated at once', integerIn(1), DEFAULT_HOST_CONCURRENCY)
    .option('--concurrency <C>', "each host's update concurrency (zones at once), <= 0 no limit", anyInteger, 4)
    .option('--workers <W>', 'worker groups (a host name and activity queue each) in this process', integerIn(1), 4)
    .option('--json <FILE>', 'also write the figures as JSON', nonEmpty)
    .option('--keep', 'keep the hosts in .bench-cache/ afterwards')
    .helpOption('-h, --help', 'this text');
}

interface FleetOptions {
  hosts: number;
  zones: number;
  waves?: (number | string)[];
  hostConcurrency: number;
  concurrency: number;
  workers: number;
  json?: string;
  keep?: boolean;
}

/** Resets this process's VmHWM to its current RSS (Linux: clear_refs 5), so the peak read later is the workers'; false where unsupported. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function usage(message: string): void {
  process.stderr.write(`${message}\nRun "npm run bench:fleet -- --help" for the options.\n`);
  process.exitCode = USAGE_EXIT_CODE;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCommandLine<FleetOptions>(fleetCommand(), process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usage(e.message);
  }
  if (parsed.help !== null) return void process.stdout.write(parsed.help);
  const o = parsed.opts;
  // The fleet input's own checks (wave sizes), before anything is built; the image paths are placeholders here.
  const probe: FleetRequest = {
    hosts: [{ name: 'h1', image: '/probe' }],
    update: { concurrency: o.concurrency, recursive: true },
    hostConcurrency: o.hostConcurrency,
    ...(o.waves ? { waves: o.waves } : {}),
  };
  const problems = fleetInputProblems(probe);
  if (problems.length) return usage(problems.map((p) => `fleet input: ${p}`).join('\n'));

  const say = (s: string) => process.stdout.write(s + '\n');
  const dir = path.join(__dirname, '..', '.bench-cache', `fleet-${o.hosts}x${o.zones}-${process.pid}`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const fileCreateMicros = await probeFileCreation(dir);
  say(`file creation: ${fileCreateMicros.toFixed(0)} µs a file (about 100 on a quiet file system)`);

  Runtime.install({
    logger: oneLineLogger('WARN'),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
  const warnings = new ServerWarnings(5);
  const server = await startDevServer({
    searchAttributes: SEARCH_ATTRIBUTES,
    log: warnings.log,
    extraArgs: serverWarningArgs(),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const groups: { workers: HostWorkers; connection: NativeConnection; running: Promise<void> }[] = [];
  try {
    const b0 = Date.now();
    const fleet = await buildFleetHosts(path.join(dir, 'hosts'), o.hosts, o.zones, { log: (l) => say(`  ${l}`) });
    const buildSeconds = (Date.now() - b0) / 1000;
    say(
      `hosts: ${o.hosts} x ${o.zones} zones built in ${buildSeconds.toFixed(1)} s (${((buildSeconds * 1000) / o.hosts).toFixed(0)} ms a host)`,
    );

    // Bundled in a child process, once for every group: webpack would stay in this process's memory.
    const workflowBundle = await bundleWorkflowsInChildProcess();
    const resetOk = resetPeakRss();
    const rssBeforeWorkersBytes = readMemoryStatus(process.pid)?.rssBytes ?? null;
    const rss = samplePeakRss(process.pid, { intervalMs: 200 });
    const taskQueue = `fleet-bench-${process.pid}`;
    for (let k = 1; k <= o.workers; k++) {
      // A connection per group, as real hosts have (the SDK refuses two Workers of one queue on one connection).
      const native = await NativeConnection.connect({ address: server.address });
      const workers = await createHostWorkers({
        connection: native,
        namespace: server.namespace,
        plugin: new LinkedImagesPlugin({
          host: groupHost(k),
          taskQueue,
          cacheDir: path.join(dir, `cache-w${k}`),
          workflowBundle,
        }),
        shutdownGraceTime: '5 seconds',
      });
      groups.push({ workers, connection: native, running: workers.run() });
    }
    say(
      `${o.workers} worker groups polling '${taskQueue}' (workflows) and ${groups.map((g) => `'${g.workers.hostTaskQueue}'`).join(', ')}${resetOk ? '' : ' (peak RSS includes the host build: /proc/self/clear_refs not writable)'}`,
    );

    warnings.reset();
    const fleetId = `fleet-${o.hosts}x${o.zones}`;
    const input: FleetRequest = {
      hosts: fleetHostEntries(fleet.hosts, o.workers),
      update: { concurrency: o.concurrency, recursive: true },
      hostConcurrency: o.hostConcurrency,
      ...(o.waves ? { waves: o.waves } : {}),
    };
    const loadAtStart = os.loadavg()[0];
    const t0 = Date.now();
    const handle = await client.workflow.start(updateFleet, { taskQueue, workflowId: fleetId, args: [input] });
    const tick = setInterval(
      () =>
        void handle.query('progress').then(
          (p) => say(`  ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s ${(p as { line: string }).line}`),
          () => undefined,
        ),
      10_000,
    );
    let result: FleetResult;
    try {
      result = await handle.result();
    } finally {
      clearInterval(tick);
    }
    const wallSeconds = (Date.now() - t0) / 1000;
    const loadAtEnd = os.loadavg()[0];
    const mem = rss.stop();
    say(`fleet ${fleetId}: ${result.status} in ${wallSeconds.toFixed(1)} s; reading its histories...`);
    const stats = await collectRunStats(client, fleetId);
    const s = summarizeExecutions(stats, fleetId);
    const w = warnings.summary();
    const payload = stats.max.payload;
    const figures: FleetFigures = {
      hosts: o.hosts,
      zones: o.zones,
      totalZones: o.hosts * o.zones,
      workers: o.workers,
      hostConcurrency: o.hostConcurrency,
      concurrency: o.concurrency,
      waves: o.waves ?? null,
      status: result.status,
      hostCounts: result.counts,
      zonesUpdated: result.zones.updated,
      wallSeconds,
      executions: s.executions,
      continuedAsNew: s.continuedAsNew,
      maxEventsPerExecution: s.maxEvents.value,
      maxEventsAt: where(s.maxEvents),
      maxHistoryBytesPerExecution: s.maxHistoryBytes.value,
      maxHistoryBytesAt: where(s.maxHistoryBytes),
      fleetMaxEventsPerExecution: s.fleetMaxEvents,
      fleetMaxHistoryBytesPerExecution: s.fleetMaxHistoryBytes,
      totalEvents: stats.totals.events,
      eventsByPart: s.events,
      totalHistoryBytes: stats.totals.historyBytes,
      maxPayloadBytes: payload?.bytes ?? 0,
      maxPayloadAt: payload ? `${payload.workflowId}: ${payload.eventType} ${payload.field}` : null,
      workflowTaskFailures: stats.totals.workflowTaskFailures,
      serverWarnings: w.counts,
      serverWarningLines: [
        ...w.firstLines['history-count'],
        ...w.firstLines['history-size'],
        ...w.firstLines['blob-size'],
      ],
      otherServerLines: w.other,
      workerPeakRssBytes: mem.peakBytes,
      rssBeforeWorkersBytes,
      machine: { cpus: os.cpus().length, loadAtStart, loadAtEnd },
      buildSeconds,
      fileCreateMicros,
    };
    say('');
    say(formatFleetTable(figures));
    for (const l of figures.serverWarningLines) say(`  ${l.slice(0, 400)}`);
    for (const l of figures.otherServerLines.firstLines) say(`  other: ${l.slice(0, 400)}`);
    if (result.failures.length)
      for (const f of result.failures.slice(0, 5)) say(`  failed host ${f.name}: ${f.error.code} ${f.error.message}`);
    say('');
    const json = JSON.stringify(figures, null, 2) + '\n';
    say(json);
    if (o.json) await fs.writeFile(o.json, json);
  } finally {
    for (const g of groups) g.workers.shutdown();
    await Promise.allSettled(groups.map((g) => g.running));
    for (const g of groups) await g.connection.close().catch(() => undefined);
    await connection.close();
    await server.stop();
    if (!o.keep) await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench:fleet failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
