/**
 * `updateFleet`: one update of many hosts, each host's run (`updateLinkedImages`) a child
 * workflow `<fleet workflow ID>/<host>` whose activities go to that host's own task queue, in
 * waves like Ansible's `serial: [1, 5, "20%"]`. The input schema, result, queries and updates.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { HOST_NAME, hostTaskQueueField, maxFailuresField, MAX_FAILURES_PERCENT, parentImageField } from './input';
import { inputProblems, invalidInput } from './invalid-input';
import type { RunStatus } from './run-types';

/**
 * Hosts one fleet run takes. The input (about 100 bytes a host) and the per-host state (about
 * 30 bytes) are carried through each continue-as-new, and every payload must stay under Temporal's
 * 256 KB warning: more hosts, more fleet runs (e.g. one per site).
 */
export const MAX_FLEET_HOSTS = 1000;

/** Bytes of JSON the hosts may take: the input is carried by every continue-as-new, under the 256 KB payload warning with room for the rest. */
export const MAX_FLEET_HOSTS_BYTES = 200_000;

const waveSize = z.union(
  [
    z.number().int('expected an integer >= 1').min(1, 'expected an integer >= 1'),
    z.string().regex(MAX_FAILURES_PERCENT, 'expected a percentage of the hosts like "20%"'),
  ],
  { errorMap: () => ({ message: 'expected a number of hosts (>= 1) or a percentage like "20%"' }) },
);

const hostEntry = z
  .object({
    name: z
      .string({ required_error: 'required: the host name', invalid_type_error: 'expected a host name' })
      .regex(HOST_NAME, 'expected a host name (letters, digits, . _ -)'),
    image: parentImageField(),
    taskQueue: hostTaskQueueField(),
  })
  .strict();

/**
 * The per-host update options: what `updateLinkedImages` takes besides `image`, `host` and
 * `hostTaskQueue` (validated again by each host's run, so a bad value fails at once here, by name).
 */
const hostUpdate = z.record(z.unknown(), { invalid_type_error: 'expected an object of update options' }).default({});

export const FleetInputSchema = z
  .object({
    hosts: z
      .array(hostEntry, { required_error: 'required: the hosts', invalid_type_error: 'expected a list of hosts' })
      .min(1, 'expected at least one host')
      .max(MAX_FLEET_HOSTS, `expected at most ${MAX_FLEET_HOSTS} hosts: start several fleet runs`)
      .refine((hs) => new Set(hs.map((h) => h.name)).size === hs.length, 'expected each host once (a name is repeated)')
      .refine(
        (hs) => JSON.stringify(hs).length <= MAX_FLEET_HOSTS_BYTES,
        `expected the hosts to take at most ${MAX_FLEET_HOSTS_BYTES / 1000} KB of JSON (they are carried by every continue-as-new, and a payload must stay under 256 KB): shorter paths, or more fleet runs`,
      ),
    /** Update options applied to each host: children, ignore, concurrency, dryRun, packages, approval, maxFailures, window, hostTimeout... */
    update: hostUpdate,
    /** Hosts updated at once within a wave. */
    hostConcurrency: z
      .number({ invalid_type_error: 'expected an integer >= 1' })
      .int('expected an integer >= 1')
      .min(1, 'expected an integer >= 1')
      .default(1),
    /** Wave sizes, like Ansible's serial: each wave finishes before the next starts; the last size repeats. Default: one wave of every host. */
    waves: z.array(waveSize, { invalid_type_error: 'expected a list like [1, 5, "20%"]' }).min(1).optional(),
    /** Failed hosts tolerated over the fleet run (count or percentage); default 0: stop after the first failed host. */
    maxHostFailures: maxFailuresField('hosts'),
    /** Wait for the Update `approveWave` before each wave after the first (the canary's result reviewed by a person). */
    waveApproval: z.boolean({ invalid_type_error: 'expected true or false' }).default(false),
  })
  .strict();

export type FleetInput = z.infer<typeof FleetInputSchema>;
export type FleetRequest = z.input<typeof FleetInputSchema>;
export type FleetHost = FleetInput['hosts'][number];

const FLEET_FIELDS = Object.keys(FleetInputSchema.shape).join(', ');

/** Validates a fleet input or throws a non-retryable `InvalidInput` naming every bad field. */
export function parseFleetInput(raw: unknown): FleetInput {
  const r = FleetInputSchema.safeParse(raw);
  if (r.success) return r.data;
  throw invalidInput(inputProblems(raw, r.error.issues as Parameters<typeof inputProblems>[1], FLEET_FIELDS));
}

/** What parseFleetInput would refuse, one problem per line (`[]` when valid): for clients, before starting. */
export function fleetInputProblems(raw: unknown): string[] {
  const r = FleetInputSchema.safeParse(raw);
  return r.success ? [] : inputProblems(raw, r.error.issues as Parameters<typeof inputProblems>[1], FLEET_FIELDS);
}

/**
 * The waves of `hosts` hosts from `sizes` (Ansible's `serial`): a number of hosts or a
 * percentage (rounded down, at least 1); the last size repeats until every host has a wave.
 * Returns each wave's host count, e.g. (10, [1, "20%"]) -> [1, 2, 2, 2, 2, 1].
 */
export function waveCounts(hosts: number, sizes: (number | string)[] | undefined): number[] {
  if (!sizes || sizes.length === 0) return [hosts];
  const size = (s: number | string) =>
    typeof s === 'number' ? s : Math.max(1, Math.floor((Number(MAX_FAILURES_PERCENT.exec(s)![1]) * hosts) / 100));
  const out: number[] = [];
  let left = hosts;
  for (let k = 0; left > 0; k++) {
    const n = Math.min(left, size(sizes[Math.min(k, sizes.length - 1)]));
    out.push(n);
    left -= n;
  }
  return out;
}

/** How a host ended in a fleet run. */
export type HostOutcome =
  /** Its run ended ok or nothing-to-do. */
  | 'updated'
  | 'nothing-to-do'
  /** Its run ended partial, failed, cancelled or rejected, or could not run (a failure of the child workflow, e.g. InvalidInput). */
  | 'failed'
  /** Never started: the fleet stopped before its wave (failure budget), was cancelled, or `skipHost`. */
  | 'skipped';

/** One host at the end of a fleet run (or while it goes: `pending`, `working`). */
export interface HostLine {
  name: string;
  /** The host's run: `<fleet workflow ID>/<host>` (drill down with npm run watch / report / query on it). */
  workflowId: string;
  outcome: HostOutcome | 'pending' | 'working';
  /** Its run's status when it returned one. */
  status: RunStatus | null;
  wave: number;
  /** Children updated / selected, from its result. */
  updated: number | null;
  children: number | null;
  /** Why it failed: the run's first failure, or the child workflow's failure. */
  error: { code: string; message: string } | null;
}

/** The result of `updateFleet`, bounded: counts, the failed hosts with their error, a compact line per host. */
export interface FleetResult {
  fleetResultVersion: 1;
  /** ok (every host updated or nothing to do), partial (some failed or skipped, some updated), failed, cancelled; exit codes as pkg(5). */
  status: RunStatus;
  exitCode: number;
  counts: Record<HostOutcome, number>;
  /** Zones over the hosts that returned a result. */
  zones: { updated: number; selected: number };
  waves: number;
  executions: number;
  /** Failed hosts with their run's workflow ID and error (at most 100; the `hosts` query has all). */
  failures: { name: string; workflowId: string; error: { code: string; message: string } }[];
  /** `<host> <outcome> <run status or -> <zones updated>/<zones selected> wave <n>`, e.g. `h1 updated ok 10/10 wave 1`, in input order; each host's run is `<fleet workflow ID>/<host>`. */
  hosts: string[];
}

/** A host's line in FleetResult.hosts: `<host> <outcome> <run status or -> <updated or ->/<selected or -> wave <n>`, e.g. `h1 updated ok 10/10 wave 1`. */
export function hostResultLine(l: HostLine): string {
  return `${l.name} ${l.outcome} ${l.status ?? '-'} ${l.updated ?? '-'}/${l.children ?? '-'} wave ${l.wave + 1}`;
}

/**
 * A FleetResult.hosts line back into a HostLine (the inverse of hostResultLine): the run's ID is
 * `<fleetId>/<host>`, the error comes from the result's failures.
 */
export function parseHostResultLine(line: string, fleetId: string, r: Pick<FleetResult, 'failures'>): HostLine {
  const [name, outcome, status, zones, , wave] = line.split(' ');
  const [updated, children] = zones.split('/').map((x) => (x === '-' ? null : Number(x)));
  return {
    name,
    workflowId: `${fleetId}/${name}`,
    outcome: outcome as HostLine['outcome'],
    status: status === '-' ? null : (status as HostLine['status']),
    wave: Number(wave) - 1,
    updated,
    children,
    error: r.failures.find((f) => f.name === name)?.error ?? null,
  };
}

/** The `progress` query of a fleet run: `hosts 12/40 done; 3 working: h13 h14 h15; zones 480/1600`. */
export interface FleetProgress {
  line: string;
  wave: number;
  waves: number;
  hosts: { done: number; working: number; waiting: number; failed: number; skipped: number; total: number };
  working: string[];
  zones: { updated: number; selected: number };
  paused: boolean;
  hostConcurrency: number;
  execution: number;
  /** The wave (1-based) waiting for `approveWave`, or null. */
  waitingForApproval: number | null;
}

export const fleetProgressQuery = defineQuery<FleetProgress>('progress');

/** `temporal workflow query -w <fleet> --name hosts --input '{"offset":0,"limit":100}'`: a page of hosts. */
export const fleetHostsQuery = defineQuery<
  { total: number; offset: number; hosts: HostLine[] },
  [{ offset?: number; limit?: number }?]
>('hosts');

/** Fleet controls (Updates with synchronous validators), answering with the fleet's progress. */
export const setHostConcurrencyUpdate = defineUpdate<FleetProgress, [{ hostConcurrency: number }]>(
  'setHostConcurrency',
);
export const pauseFleetUpdate = defineUpdate<FleetProgress, []>('pause');
export const resumeFleetUpdate = defineUpdate<FleetProgress, []>('resume');
export const skipHostUpdate = defineUpdate<FleetProgress, [{ host: string }]>('skipHost');
/** With `waveApproval`: let wave `wave` (1-based, the one waiting) start. */
export const approveWaveUpdate = defineUpdate<FleetProgress, [{ wave: number }]>('approveWave');
