/**
 * Records the workflow histories that test/workflow-replay.test.ts replays (test/histories/*.json).
 *
 * Regenerate (only after a deliberate, incompatible change to the workflow, which running
 * workflows would not survive either — prefer `patched()`; see README):
 *
 *   node --require ts-node/register test/helpers/record-history.ts [--force]
 *
 * Only histories not yet on disk are recorded, unless --force: old histories are kept on purpose.
 *
 * It starts its own dev server (the temporal CLI is found or installed like in the tests), runs
 * each scenario below on a fresh demo host in a temp dir, and saves `temporal workflow show
 * --output json` of the run, the same format an operator would attach to a bug report.
 */
import { promises as fs } from 'fs';
import { Command } from 'commander';
import { parseCommandLine } from '../../src/command-line/parse-command-line';
import * as path from 'path';
import type { Client } from '@temporalio/client';
import type { UpdateResult } from '../../src/contract/run-types';
import { cliRunner, parseJson } from './cli-runner';
import {
  approveUpdate,
  controlsQuery,
  pauseUpdate,
  resumeUpdate,
  setConcurrencyUpdate,
  skipChildUpdate,
} from '../../src/contract/controls';
import { startTemporalEnv, type TemporalEnv } from './temporal-env';
import { cleanup } from './tree';
import { emptyOriginFor, Host, makeHost, setZonePublishers } from './workflow-fixture';

export const HISTORY_DIR = path.join(__dirname, '..', 'histories');

/** One execution of a recorded run (a run ID of its continue-as-new chain, or one of its partitions). */
interface Execution {
  workflowId: string;
  runId: string;
}

interface Scenario {
  file: string;
  /** @default 'updateLinkedImages' */
  workflow?: 'updateLinkedImages' | 'auditLinkedImages' | 'updateFleet';
  zones: number;
  /** The run's input besides `image` (and `host`, added for runs since host task queues); a function: made at recording time. */
  input: Record<string, unknown> | (() => Record<string, unknown>);
  /** Runs since host task queues name their host; the older ones must not (their schema refuses it). */
  host?: boolean;
  /** The dev server of this scenario lowers limits (continue-as-new after 40 events). */
  lowLimits?: boolean;
  /** Breaks the host before the run. */
  prepare?: (host: Host) => Promise<void>;
  /** The result status the scenario must end with, or the recording is refused. */
  expect: UpdateResult['status'] | 'synced';
  /**
   * Which executions to save besides the run's latest one: `extra[file] = pick(executions)`,
   * each saved as its own history file (e.g. the first of a continue-as-new chain).
   */
  extra?: Record<string, (all: Execution[]) => Execution>;
  /** What an operator does while the run goes (controls), before its result is awaited. */
  during?: (client: Client, workflowId: string) => Promise<void>;
}

/** Polls `fn` every 100 ms until it is true (queries fail while a run starts: asked again). */
async function until(fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Approves the plans once the run waits for approval, after a refused approve (which must leave no trace). */
async function approveWhenAsked(client: Client, workflowId: string): Promise<void> {
  const h = client.workflow.getHandle(workflowId);
  await until(async () => (await h.query(controlsQuery)).approval === 'waiting');
  await h.executeUpdate(approveUpdate, { args: [{ digest: '0'.repeat(64) }] }).catch(() => undefined);
  await h.executeUpdate(approveUpdate, { args: [{ digest: (await h.query(controlsQuery)).setDigest! }] });
}

export const SCENARIOS: Scenario[] = [
  { file: 'update-3-children.json', zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  { file: 'dry-run-3-children.json', zones: 3, input: { concurrency: 0, dryRun: true }, expect: 'ok' },
  {
    file: 'publisher-mismatch.json',
    zones: 3,
    input: { concurrency: 1 },
    prepare: (h) =>
      setZonePublishers(h.children[1].path, (pubs) => [
        { name: 'other', origins: ['file:///nonexistent'], sticky: true, enabled: true },
        ...pubs,
      ]),
    expect: 'failed',
  },
  {
    file: 'plan-failure.json',
    zones: 3,
    input: { concurrency: 0 },
    prepare: async (h) => void (await emptyOriginFor(h.children[1].path)),
    expect: 'failed',
  },
  // Recorded after the 'search-attributes' patch: the shape runs started by today's code have.
  // The four above predate it and must keep replaying (patched() is false in them).
  { file: 'update-3-children-search-attributes.json', zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  { file: 'audit-3-children.json', workflow: 'auditLinkedImages', zones: 3, input: {}, expect: 'synced' },
  // Since host task queues and bounded runs (patches 'bounded-runs', 'audit-host-queues').
  { file: 'v2-update-3-children.json', host: true, zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  { file: 'v2-dry-run-3-children.json', host: true, zones: 3, input: { concurrency: 0, dryRun: true }, expect: 'ok' },
  {
    file: 'v2-publisher-mismatch.json',
    host: true,
    zones: 3,
    input: { concurrency: 1 },
    prepare: (h) =>
      setZonePublishers(h.children[1].path, (pubs) => [
        { name: 'other', origins: ['file:///nonexistent'], sticky: true, enabled: true },
        ...pubs,
      ]),
    expect: 'failed',
  },
  {
    file: 'v2-plan-failure.json',
    host: true,
    zones: 3,
    input: { concurrency: 0 },
    prepare: async (h) => void (await emptyOriginFor(h.children[1].path)),
    expect: 'failed',
  },
  {
    // The last execution of a continue-as-new chain; the first and a middle one too.
    file: 'v2-continue-as-new-last.json',
    host: true,
    lowLimits: true,
    zones: 6,
    input: { concurrency: 2 },
    expect: 'ok',
    extra: {
      'v2-continue-as-new-first.json': (all) => all[0],
      'v2-continue-as-new-middle.json': (all) => all[Math.floor(all.length / 2)],
    },
  },
  {
    // A run split into partitions: the run itself, and the first execution of its first partition.
    file: 'v2-partitioned-run.json',
    host: true,
    zones: 4,
    input: { concurrency: 2, partitionSize: 2 },
    expect: 'ok',
    extra: { 'v2-partition-1.json': (all) => all.find((e) => e.workflowId.endsWith('/children-1'))! },
  },
  {
    file: 'v2-audit-3-children.json',
    host: true,
    workflow: 'auditLinkedImages',
    zones: 3,
    input: {},
    expect: 'synced',
  },
  // Since the live controls (patch 'run-controls').
  {
    file: 'v3-approval.json',
    host: true,
    zones: 3,
    input: { concurrency: 2, approval: true },
    during: approveWhenAsked,
    expect: 'ok',
  },
  {
    // Pause, caps, skip and a failure budget: zone:z2 cannot be planned, the others go on.
    file: 'v3-controls.json',
    host: true,
    zones: 4,
    input: { concurrency: 1, maxFailures: 1, stageConcurrency: { prepare: 2 } },
    prepare: async (h) => void (await emptyOriginFor(h.children[1].path)),
    during: async (client, workflowId) => {
      const h = client.workflow.getHandle(workflowId);
      await until(
        async () =>
          (await h.query(controlsQuery)).concurrency === 1 &&
          (await h.query<{ stage: string }, []>('progress')).stage !== 'starting',
      );
      await h.executeUpdate(pauseUpdate);
      await h.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 2 }] });
      await h.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:z4' }] }).catch(() => undefined);
      await h.executeUpdate(resumeUpdate);
    },
    expect: 'partial',
  },
  {
    // A run in partitions with approval: the run, and its first partition.
    file: 'v3-partitioned-approval.json',
    host: true,
    zones: 4,
    input: { concurrency: 2, partitionSize: 2, approval: true },
    during: approveWhenAsked,
    expect: 'ok',
    extra: { 'v3-partition-1.json': (all) => all.find((e) => e.workflowId.endsWith('/children-1'))! },
  },
  {
    // A fleet of one host (the recording's worker), in two waves of hosts: its run is a child workflow.
    file: 'v3-fleet.json',
    host: true,
    workflow: 'updateFleet',
    zones: 2,
    input: { waves: [1], update: { concurrency: 2 } },
    expect: 'ok',
  },
  {
    // A maintenance window that opens 3 s after the run starts: its timer is in the history.
    file: 'v3-window.json',
    host: true,
    zones: 2,
    input: () => ({
      window: {
        notBefore: new Date(Date.now() + 3000).toISOString(),
        notAfter: new Date(Date.now() + 3_600_000).toISOString(),
      },
    }),
    expect: 'ok',
  },
  // Since sync versus update (patch 'sync-children'): pkg(5)'s default syncs every child.
  { file: 'v4-sync.json', host: true, zones: 3, input: { concurrency: 2 }, expect: 'ok' },
  {
    // -r -Z in partitions: zone:z2 is synced, the others updated; a partition lists all but the ignored.
    file: 'v4-recursive-partitioned.json',
    host: true,
    zones: 4,
    input: { concurrency: 2, partitionSize: 2, recursive: true, exclude: ['zone:z2'], ignore: ['zone:z4'] },
    expect: 'ok',
    extra: { 'v4-partition-1.json': (all) => all.find((e) => e.workflowId.endsWith('/children-1'))! },
  },
  // Since lanes (patches 'lanes' and 'prepared-with-parent'): the zones are planned and executed
  // several to an activity, and prepared with the parent (their files are all in its plan).
  { file: 'v5-lanes.json', host: true, zones: 6, input: { concurrency: 2, recursive: true }, expect: 'ok' },
];

/**
 * The workflow ID each recorded history was recorded under (`record-<scenario>`), which replay
 * must use: a run names its partitions after its own ID. Extra files share their scenario's.
 */
export function recordedWorkflowIds(): Map<string, string> {
  const ids = new Map<string, string>();
  for (const s of SCENARIOS)
    for (const f of [s.file, ...Object.keys(s.extra ?? {})]) ids.set(f, `record-${path.basename(s.file, '.json')}`);
  return ids;
}

/** Every execution of a run: its continue-as-new chain, then its partitions' chains, oldest first. */
async function executions(client: Client, workflowId: string): Promise<Execution[]> {
  const out: Execution[] = [];
  const query = `WorkflowId = '${workflowId}' OR WorkflowId STARTS_WITH '${workflowId}/'`;
  for await (const w of client.workflow.list({ query }))
    out.push({ workflowId: w.workflowId, runId: w.runId, start: w.startTime.getTime() } as Execution & {
      start: number;
    });
  return (out as (Execution & { start: number })[]).sort((a, b) =>
    a.workflowId === b.workflowId
      ? a.start - b.start
      : a.workflowId.length - b.workflowId.length || a.workflowId.localeCompare(b.workflowId),
  );
}

/** Histories are kept once recorded: a history from older code is exactly what replay must still accept. */
async function exists(file: string): Promise<boolean> {
  return fs.stat(path.join(HISTORY_DIR, file)).then(
    () => true,
    () => false,
  );
}

/** `[--force]`, parsed like every command line of the project: a mistyped flag is refused, not ignored. */
function parseRecordArgs(argv: string[]): { force: boolean; help: string | null } {
  const cmd = new Command('node --require ts-node/register test/helpers/record-history.ts')
    .option('--force', 'record every scenario again, even those already on disk')
    .helpOption('-h, --help', 'this text');
  const parsed = parseCommandLine<{ force?: boolean }>(cmd, argv);
  return parsed.help !== null ? { force: false, help: parsed.help } : { force: parsed.opts.force === true, help: null };
}

async function main(): Promise<void> {
  const args = parseRecordArgs(process.argv.slice(2));
  if (args.help !== null) return void process.stdout.write(args.help);
  const envs: Partial<Record<'normal' | 'low', TemporalEnv>> = {};
  const envFor = async (low: boolean) =>
    (envs[low ? 'low' : 'normal'] ??= await startTemporalEnv(
      low ? { server: { extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'] } } : {},
    ));
  try {
    await fs.mkdir(HISTORY_DIR, { recursive: true });
    const force = args.force;
    for (const s of SCENARIOS) {
      if (!force && (await exists(s.file))) continue;
      const env = await envFor(s.lowLimits === true);
      const cli = cliRunner(env.server);
      const host = await makeHost(s.zones);
      await s.prepare?.(host);
      const workflowId = `record-${path.basename(s.file, '.json')}`;
      const result = await env.withWorker(
        { cacheDir: host.cacheDir, recordFile: host.recordFile },
        async (taskQueue, hostName) => {
          const input = typeof s.input === 'function' ? s.input() : s.input;
          const args =
            s.workflow === 'updateFleet'
              ? { hosts: [{ name: hostName, image: host.parent }], ...input }
              : { image: host.parent, ...(s.host ? { host: hostName } : {}), ...input };
          const run = await env.client.workflow.start<(i: unknown) => Promise<{ status: string }>>(
            s.workflow ?? 'updateLinkedImages',
            { taskQueue, workflowId, args: [args] },
          );
          await s.during?.(env.client, workflowId);
          return run.result();
        },
      );
      if (result.status !== s.expect)
        throw new Error(`${s.file}: expected status '${s.expect}', got '${result.status}': ${JSON.stringify(result)}`);
      const all = await executions(env.client, workflowId);
      const files: [string, Execution | null][] = [
        [s.file, null],
        ...Object.entries(s.extra ?? {}).map(([f, pick]) => [f, pick(all)] as [string, Execution]),
      ];
      for (const [file, e] of files) {
        const shown = await cli([
          'workflow',
          'show',
          '--workflow-id',
          e?.workflowId ?? workflowId,
          ...(e ? ['--run-id', e.runId] : []),
          '--output',
          'json',
        ]);
        const history = parseJson<{ events: unknown[] }>(shown, 'workflow show');
        await fs.writeFile(path.join(HISTORY_DIR, file), JSON.stringify(history, null, 2) + '\n');
        console.log(
          `${file}: ${history.events.length} events (run ${e?.runId ?? 'latest'} of ${all.length} executions), status ${result.status}`,
        );
      }
    }
  } finally {
    for (const env of Object.values(envs)) await env?.close();
    await cleanup();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
