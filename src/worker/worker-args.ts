import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../pkg-cli/image-commands';
import { hostTaskQueue } from '../contract/input';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';
import { DEFAULT_ADDRESS } from '../client/connection-settings';

export { DEFAULT_TASK_QUEUE };
export const DEFAULT_MAX_ACTIVITIES = 16;
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

/** A bad command line; main prints the message and exits 2. */
export class UsageError extends Error {}

export const WORKER_USAGE = `Usage: npm run worker -- [options]

Runs this host's Temporal workers: workflow tasks of updateLinkedImages from the shared task
queue, and the activities that touch this host's images and content cache from its own queue.

Options (flags win over environment variables):
  --host <name>          this host's name; runs name it in their input "host" (env LINKED_IMAGES_HOST;
                         default ${os.hostname()})
  --host-task-queue <q>  this host's activity queue (env LINKED_IMAGES_HOST_TASK_QUEUE;
                         default ${hostTaskQueue('<host>')})
  --task-queue <name>    the shared workflow task queue (env LINKED_IMAGES_TASK_QUEUE; default ${DEFAULT_TASK_QUEUE})
  --cache <dir>          host-wide content cache (env LINKED_IMAGES_CACHE; default ${defaultCacheDir()})
  --record <file>        append one JSON line per activity start/end to <file> (env LINKED_IMAGES_RECORD)
  --max-activities <n>   activities run at once on this worker (default ${DEFAULT_MAX_ACTIVITIES})
  --grace <duration>     on SIGINT/SIGTERM, how long in-flight activities may finish before they are
                         cancelled and roll back, e.g. 30s, 2m, 500ms (default ${DEFAULT_GRACE_MS / 1000}s)
  -h, --help             this text

Connection (as the temporal CLI): TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE
(default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE
(default ~/.config/temporalio/temporal.toml).`;

export function parseWorkerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): WorkerArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'task-queue': { type: 'string' },
        host: { type: 'string' },
        'host-task-queue': { type: 'string' },
        cache: { type: 'string' },
        record: { type: 'string' },
        'max-activities': { type: 'string' },
        grace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const str = (flag: string, envName?: string): string | undefined => {
    const v = (values[flag] as string | undefined) ?? (envName ? env[envName] : undefined);
    if (v !== undefined && v.trim() === '') throw new UsageError(`Expected --${flag}${envName ? ` (or ${envName})` : ''} to be non-empty, got ""`);
    return v;
  };
  const record = str('record', 'LINKED_IMAGES_RECORD');
  const host = str('host', 'LINKED_IMAGES_HOST') ?? os.hostname();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(host)) throw new UsageError(`Expected --host to be a host name (letters, digits, . _ -), got ${JSON.stringify(host)}`);
  const taskQueue = str('task-queue', 'LINKED_IMAGES_TASK_QUEUE') ?? DEFAULT_TASK_QUEUE;
  const hostQueue = str('host-task-queue', 'LINKED_IMAGES_HOST_TASK_QUEUE') ?? hostTaskQueue(host);
  if (hostQueue === taskQueue) throw new UsageError(`Expected --host-task-queue to differ from --task-queue (workflows and this host's activities need their own queues), got '${hostQueue}' for both`);
  return {
    help: values.help === true,
    taskQueue,
    host,
    hostTaskQueue: hostQueue,
    cacheDir: path.resolve(str('cache') ?? defaultCacheDir()),
    recordFile: record === undefined ? undefined : path.resolve(record),
    maxActivities: positiveInt('--max-activities', str('max-activities')) ?? DEFAULT_MAX_ACTIVITIES,
    graceMs: duration('--grace', str('grace')) ?? DEFAULT_GRACE_MS,
  };
}

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`Expected ${flag} to be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return n;
}

/** `30s`, `2m`, `500ms`, or a bare number of seconds. */
export function duration(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new UsageError(`Expected ${flag} to be a duration like 30s, 2m or 500ms, got ${JSON.stringify(raw)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
