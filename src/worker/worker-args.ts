import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseCommandLine } from '../command-line/parse-command-line';
import { UsageError } from '../command-line/usage-error';
import { integerIn } from '../command-line/value-parsers';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { hostTaskQueue } from '../contract/input';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';
import { DEFAULT_ADDRESS } from '../client/connection-settings';
import { DEFAULT_MAX_ACTIVITIES } from '../plugin/linked-images-plugin';

export { DEFAULT_TASK_QUEUE };
export const DEFAULT_GRACE_MS = 30_000;

export interface WorkerArgs {
  help: boolean;
  /** The shared workflow task queue. */
  taskQueue: string;
  /** This host's name, as runs name it in their input. */
  host: string;
  /** This host's activity task queue. */
  hostTaskQueue: string;
  cacheDir: string;
  recordFile?: string;
  maxActivities: number;
  graceMs: number;
}

// One UsageError for every command line; main.ts catches it from here.
export { UsageError };

const CONNECTION_HELP = `
Flags win over environment variables.

Connection (as the temporal CLI): TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE
(default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE
(default ~/.config/temporalio/temporal.toml).`;

/** The worker's command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function workerCommand(): Command {
  return new Command('npm run worker --')
    .usage('[options]')
    .description(
      "Runs this host's Temporal workers: workflow tasks of updateLinkedImages from the shared task " +
        "queue, and the activities that touch this host's images and content cache from its own queue.",
    )
    .option(
      '--host <name>',
      `this host's name; runs name it in their input "host" (env LINKED_IMAGES_HOST; default ${os.hostname()})`,
    )
    .option(
      '--host-task-queue <q>',
      `this host's activity queue (env LINKED_IMAGES_HOST_TASK_QUEUE; default ${hostTaskQueue('<host>')})`,
    )
    .option(
      '--task-queue <name>',
      `the shared workflow task queue (env LINKED_IMAGES_TASK_QUEUE; default ${DEFAULT_TASK_QUEUE})`,
    )
    .option('--cache <dir>', `host-wide content cache (env LINKED_IMAGES_CACHE; default ${defaultCacheDir()})`)
    .option('--record <file>', 'append one JSON line per activity start/end to <file> (env LINKED_IMAGES_RECORD)')
    .option(
      '--max-activities <n>',
      `activities run at once on this worker (default ${DEFAULT_MAX_ACTIVITIES})`,
      integerIn(1),
    )
    .option(
      '--grace <duration>',
      `on SIGINT/SIGTERM, how long in-flight activities may finish before they are cancelled and roll back, e.g. 30s, 2m, 500ms (default ${DEFAULT_GRACE_MS / 1000}s)`,
      durationMs,
    )
    .helpOption('-h, --help', 'this text')
    .addHelpText('after', CONNECTION_HELP);
}

/** `npm run worker -- --help`: the options, their environment variables and defaults, and the connection settings. */
export const WORKER_USAGE = (() => {
  const parsed = parseCommandLine(workerCommand(), ['--help']);
  return parsed.help ?? '';
})().trimEnd();

interface WorkerOptions {
  host?: string;
  hostTaskQueue?: string;
  taskQueue?: string;
  cache?: string;
  record?: string;
  maxActivities?: number;
  grace?: number;
}

/**
 * Parses `npm run worker -- …` (argv without node and the script); a setting not given as a
 * flag comes from its LINKED_IMAGES_* variable in `env`, then its default.
 * @throws UsageError naming the flag (or variable) and what was expected: an unknown option, a
 *         missing value, an empty value, --max-activities below 1, a malformed --grace or --host,
 *         --host-task-queue equal to --task-queue.
 */
export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerArgs {
  const parsed = parseCommandLine<WorkerOptions>(workerCommand(), argv);
  if (parsed.help !== null)
    return { help: true, taskQueue: '', host: '', hostTaskQueue: '', cacheDir: '', maxActivities: 0, graceMs: 0 };
  const { opts } = parsed;
  const str = (flag: string, value: string | undefined, envName?: string): string | undefined => {
    const v = value ?? (envName ? env[envName] : undefined);
    if (v !== undefined && v.trim() === '')
      throw new UsageError(`Expected --${flag}${envName ? ` (or ${envName})` : ''} to be non-empty, got ""`);
    return v;
  };
  const record = str('record', opts.record, 'LINKED_IMAGES_RECORD');
  const host = str('host', opts.host, 'LINKED_IMAGES_HOST') ?? os.hostname();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(host))
    throw new UsageError(`Expected --host to be a host name (letters, digits, . _ -), got ${JSON.stringify(host)}`);
  const taskQueue = str('task-queue', opts.taskQueue, 'LINKED_IMAGES_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE;
  const hostQueue = str('host-task-queue', opts.hostTaskQueue, 'LINKED_IMAGES_HOST_TASK_QUEUE') ?? hostTaskQueue(host);
  if (hostQueue === taskQueue)
    throw new UsageError(
      `Expected --host-task-queue to differ from --task-queue (workflows and this host's activities need their own queues), got '${hostQueue}' for both`,
    );
  return {
    help: false,
    taskQueue,
    host,
    hostTaskQueue: hostQueue,
    cacheDir: path.resolve(str('cache', opts.cache) ?? defaultCacheDir()),
    recordFile: record === undefined ? undefined : path.resolve(record),
    maxActivities: opts.maxActivities ?? DEFAULT_MAX_ACTIVITIES,
    graceMs: opts.grace ?? DEFAULT_GRACE_MS,
  };
}

/** `30s`, `2m`, `500ms`, `1h`, or a bare number of seconds, in milliseconds; a commander argParser. */
export function durationMs(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError('Expected a duration like 30s, 2m or 500ms.');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
