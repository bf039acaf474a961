import type { FleetRequest } from '../src/contract/fleet';
import { hostTaskQueue } from '../src/contract/input';
import type { ExecutionStats, RunStats } from './run-stats';
import type { ServerWarningKind } from './server-warnings';

/** The host name of worker group `k` (1-based): its activities come from `linked-images@bench-w<k>`. */
export function groupHost(k: number): string {
  return `bench-w${k}`;
}

/**
 * The fleet input's host entries: host i (0-based) served by worker group `i % groups + 1`
 * through its entry's `taskQueue` (round-robin, so every group gets every wave's hosts in turn).
 * Throws RangeError when `groups` is not an integer >= 1.
 */
export function fleetHostEntries(
  hosts: readonly { name: string; parent: string }[],
  groups: number,
): FleetRequest['hosts'] {
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`Expected groups >= 1, got ${groups}`);
  return hosts.map((h, i) => ({
    name: h.name,
    image: h.parent,
    taskQueue: hostTaskQueue(groupHost((i % groups) + 1)),
  }));
}

/** Which part of a fleet an execution belongs to. */
export type ExecutionKind = 'fleet' | 'host' | 'partition';

/**
 * `fleet`: a run of the fleet workflow itself (`fleetId`, any run of its continue-as-new
 * chain); `host`: a run of a host's update, `<fleetId>/<host>`; `partition`: anything those
 * started (the partition children of a host's run, and their chains).
 */
export function executionKind(e: Pick<ExecutionStats, 'workflowId'>, fleetId: string): ExecutionKind {
  if (e.workflowId === fleetId) return 'fleet';
  const rest = e.workflowId.startsWith(`${fleetId}/`) ? e.workflowId.slice(fleetId.length + 1) : null;
  return rest !== null && !rest.includes('/') ? 'host' : 'partition';
}

/** The largest execution by one measure: its value and which execution (workflow ID, run ID, type). */
export interface Largest {
  value: number;
  workflowId: string | null;
  runId: string | null;
  workflowType: string | null;
}

/** What collectRunStats found, split by part of the fleet. */
export interface FleetExecutionSummary {
  executions: Record<ExecutionKind, number> & { total: number };
  /** Executions that ended with continue-as-new, per part. */
  continuedAsNew: Record<ExecutionKind, number>;
  /** History events per part (the fleet's own, its host runs', their partitions'). */
  events: Record<ExecutionKind, number>;
  maxEvents: Largest;
  maxHistoryBytes: Largest;
  /** The largest events and bytes of any one fleet execution (the one that holds a line per host). */
  fleetMaxEvents: number;
  fleetMaxHistoryBytes: number;
  /** Executions still running (none once the fleet returned). */
  running: number;
}

/** Splits `stats` (collectRunStats of the fleet) into fleet, host and partition executions, and names the largest. */
export function summarizeExecutions(stats: Pick<RunStats, 'executions'>, fleetId: string): FleetExecutionSummary {
  const zero = (): Record<ExecutionKind, number> => ({ fleet: 0, host: 0, partition: 0 });
  const executions = { ...zero(), total: 0 };
  const continuedAsNew = zero();
  const events = zero();
  const none: Largest = { value: 0, workflowId: null, runId: null, workflowType: null };
  let maxEvents = none;
  let maxHistoryBytes = none;
  let fleetMaxEvents = 0;
  let fleetMaxHistoryBytes = 0;
  let running = 0;
  for (const e of stats.executions) {
    const kind = executionKind(e, fleetId);
    executions[kind]++;
    executions.total++;
    events[kind] += e.events;
    if (e.status === 'WorkflowExecutionContinuedAsNew') continuedAsNew[kind]++;
    if (e.status === 'running') running++;
    const at = { workflowId: e.workflowId, runId: e.runId, workflowType: e.workflowType };
    if (e.events > maxEvents.value) maxEvents = { value: e.events, ...at };
    if (e.historyBytes > maxHistoryBytes.value) maxHistoryBytes = { value: e.historyBytes, ...at };
    if (kind === 'fleet') {
      fleetMaxEvents = Math.max(fleetMaxEvents, e.events);
      fleetMaxHistoryBytes = Math.max(fleetMaxHistoryBytes, e.historyBytes);
    }
  }
  return {
    executions,
    continuedAsNew,
    events,
    maxEvents,
    maxHistoryBytes,
    fleetMaxEvents,
    fleetMaxHistoryBytes,
    running,
  };
}

/** The figures of one fleet bench run (the JSON written with --json). */
export interface FleetFigures {
  hosts: number;
  zones: number;
  /** Zones over all hosts. */
  totalZones: number;
  workers: number;
  hostConcurrency: number;
  /** Each host's update concurrency (its zones at once). */
  concurrency: number;
  waves: (number | string)[] | null;
  status: string;
  /** Hosts per outcome, from the fleet's result. */
  hostCounts: Record<string, number>;
  zonesUpdated: number;
  /** From the fleet's start to its result, in seconds (host build and worker start not counted). */
  wallSeconds: number;
  executions: FleetExecutionSummary['executions'];
  continuedAsNew: FleetExecutionSummary['continuedAsNew'];
  maxEventsPerExecution: number;
  /** `<workflow ID> (<type>)` of the execution with the most events. */
  maxEventsAt: string | null;
  maxHistoryBytesPerExecution: number;
  maxHistoryBytesAt: string | null;
  fleetMaxEventsPerExecution: number;
  fleetMaxHistoryBytesPerExecution: number;
  totalEvents: number;
  /** Events of the fleet's executions, of the host runs and of the partitions. */
  eventsByPart: FleetExecutionSummary['events'];
  totalHistoryBytes: number;
  maxPayloadBytes: number;
  /** `<workflow ID>: <event type> <field>` of the largest payload. */
  maxPayloadAt: string | null;
  /** WorkflowTaskFailed + WorkflowTaskTimedOut events over every execution: 0 in a healthy run. */
  workflowTaskFailures: number;
  /** Server log lines about history count, history size and blob size (warn or error level). */
  serverWarnings: Record<ServerWarningKind, number>;
  serverWarningLines: string[];
  /** Other WARN/ERROR lines of the server (not about limits): how many, and the first few. */
  otherServerLines: { count: number; firstLines: string[] };
  /** Peak resident set of this process (every worker group, the client), from the workers' start to the fleet's end; null without /proc. */
  workerPeakRssBytes: number | null;
  /** This process's RSS just before the worker groups were created (client, server connection, the bench's own code). */
  rssBeforeWorkersBytes: number | null;
  /** CPUs of this machine, and its 1-minute load average when the fleet started and ended (other processes' work slows the figures). */
  machine: { cpus: number; loadAtStart: number; loadAtEnd: number };
  /** Building the hosts (bench/fleet-hosts.ts), in seconds. */
  buildSeconds: number;
  fileCreateMicros: number;
}

/** `<workflow ID> (<type>)`, or null when nothing was found. */
export function where(l: Largest): string | null {
  return l.workflowId === null ? null : `${l.workflowId} (${l.workflowType})`;
}

const n = (x: number) => x.toLocaleString('en-US');
const mb = (x: number | null) => (x === null ? '?' : `${(x / 1e6).toFixed(1)} MB`);

/** The figures as a two-column plain-text table (figure | value), columns padded. */
export function formatFleetTable(f: FleetFigures): string {
  const w = f.serverWarnings;
  const rows: [string, string][] = [
    ['hosts x zones', `${n(f.hosts)} x ${n(f.zones)} = ${n(f.totalZones)} zones`],
    [
      'setup',
      `${f.workers} worker groups in one process; hostConcurrency ${f.hostConcurrency}; concurrency ${f.concurrency} per host; waves ${f.waves ? JSON.stringify(f.waves) : 'one'}`,
    ],
    [
      'status',
      `${f.status}: ${Object.entries(f.hostCounts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; ${n(f.zonesUpdated)} zones updated`,
    ],
    ['wall time', `${f.wallSeconds.toFixed(1)} s`],
    [
      'executions',
      `${n(f.executions.total)}: fleet ${f.executions.fleet} + host runs ${n(f.executions.host)} + partitions ${n(f.executions.partition)}`,
    ],
    [
      'continued as new',
      `fleet ${f.continuedAsNew.fleet}, host runs ${f.continuedAsNew.host}, partitions ${f.continuedAsNew.partition}`,
    ],
    ['max events per execution', `${n(f.maxEventsPerExecution)} (${f.maxEventsAt ?? '-'}) (server warns at 10,240)`],
    [
      'max history per execution',
      `${mb(f.maxHistoryBytesPerExecution)} (${f.maxHistoryBytesAt ?? '-'}) (warns at 10 MB)`,
    ],
    ['largest fleet execution', `${n(f.fleetMaxEventsPerExecution)} events, ${mb(f.fleetMaxHistoryBytesPerExecution)}`],
    ['max payload', `${(f.maxPayloadBytes / 1000).toFixed(1)} KB (${f.maxPayloadAt ?? '-'}) (warns at 256 KB)`],
    [
      'events in all',
      `${n(f.totalEvents)} (${mb(f.totalHistoryBytes)}): fleet ${n(f.eventsByPart.fleet)}, host runs ${n(f.eventsByPart.host)} (${n(Math.round(f.eventsByPart.host / Math.max(1, f.executions.host)))} per run), partitions ${n(f.eventsByPart.partition)}`,
    ],
    ['workflow task failures', n(f.workflowTaskFailures)],
    [
      'server warnings',
      `history count ${w['history-count']}, history size ${w['history-size']}, blob size ${w['blob-size']}; other WARN/ERROR lines ${f.otherServerLines.count}`,
    ],
    [
      'worker peak RSS',
      `${mb(f.workerPeakRssBytes)} (this process; ${mb(f.rssBeforeWorkersBytes)} before the workers)`,
    ],
    [
      'machine',
      `${f.machine.cpus} cores; load average (1 min) ${f.machine.loadAtStart.toFixed(1)} at the start, ${f.machine.loadAtEnd.toFixed(1)} at the end`,
    ],
    ['host build', `${f.buildSeconds.toFixed(1)} s (file creation ${f.fileCreateMicros.toFixed(0)} µs)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)} | ${v}`).join('\n');
}
