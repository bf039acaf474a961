/**
 * What a fleet run keeps per host, compact enough to be carried by continue-as-new (about 30
 * bytes a host besides its name, which is in the input): a status character, its run's status,
 * its zone counts, and an error for the failed ones. Pure: no Temporal calls.
 */
import { hostResultLine, type FleetResult, type HostLine, type HostOutcome } from '../contract/fleet';
import type { RunStatus } from '../contract/run-types';
import { EXIT } from './run-result';
import { trimMessage } from './segment-state';

/** `.` waiting, `w` working (its run started), `u` updated, `n` nothing to do, `f` failed, `s` skipped. */
export const HOST = { waiting: '.', working: 'w', updated: 'u', nothing: 'n', failed: 'f', skipped: 's' } as const;

export interface FleetState {
  status: string;
  /** Each host's run status once it returned, else null. */
  runStatus: (RunStatus | null)[];
  updated: (number | null)[];
  children: (number | null)[];
  /** Errors of failed hosts, by host index (messages cut to 500 characters). */
  errors: Record<number, { code: string; message: string }>;
  /** The wave being worked on (0-based). */
  wave: number;
  paused: boolean;
  /** With waveApproval: the highest wave (1-based) approved so far (wave 1 needs none). */
  approvedWave?: number;
  hostConcurrency: number;
  /** Failed hosts so far, and the budget as a count. */
  failures: number;
  maxFailures: number;
  execution: number;
}

export function newFleetState(hosts: number, hostConcurrency: number, maxFailures: number): FleetState {
  return {
    status: HOST.waiting.repeat(hosts),
    runStatus: Array.from({ length: hosts }, () => null),
    updated: Array.from({ length: hosts }, () => null),
    children: Array.from({ length: hosts }, () => null),
    errors: {},
    wave: 0,
    paused: false,
    hostConcurrency,
    failures: 0,
    maxFailures,
    execution: 1,
  };
}

export function setHost(s: FleetState, i: number, st: string): void {
  s.status = s.status.slice(0, i) + st + s.status.slice(i + 1);
}

const OUTCOME: Record<string, HostOutcome | 'pending' | 'working'> = {
  '.': 'pending',
  w: 'working',
  u: 'updated',
  n: 'nothing-to-do',
  f: 'failed',
  s: 'skipped',
};

/** Host i as the `hosts` query shows it (`final`: the fleet run is over: waiting hosts are skipped). */
export function hostLine(
  s: FleetState,
  i: number,
  name: string,
  workflowId: string,
  wave: number,
  final: boolean,
): HostLine {
  const o = OUTCOME[s.status[i]];
  return {
    name,
    workflowId,
    outcome: final && (o === 'pending' || o === 'working') ? 'skipped' : o,
    status: s.runStatus[i],
    wave,
    updated: s.updated[i],
    children: s.children[i],
    error: s.errors[i] ?? null,
  };
}

/** The fleet's bounded result: counts, at most 100 failures, a line per host (names and workflow IDs from the caller). */
export function fleetResult(
  s: FleetState,
  names: string[],
  workflowIdOf: (name: string) => string,
  waveOf: (i: number) => number,
  waves: number,
  cancelled: boolean,
): FleetResult {
  const counts: Record<HostOutcome, number> = { updated: 0, 'nothing-to-do': 0, failed: 0, skipped: 0 };
  const zones = { updated: 0, selected: 0 };
  const failures: FleetResult['failures'] = [];
  const hosts: string[] = [];
  names.forEach((name, i) => {
    const l = hostLine(s, i, name, workflowIdOf(name), waveOf(i), true);
    const outcome = l.outcome as HostOutcome;
    counts[outcome]++;
    zones.updated += l.updated ?? 0;
    zones.selected += l.children ?? 0;
    if (outcome === 'failed' && failures.length < 100)
      failures.push({ name, workflowId: l.workflowId, error: l.error ?? { code: 'FAILED', message: '' } });
    hosts.push(hostResultLine(l));
  });
  const done = counts.updated + counts['nothing-to-do'];
  const status: RunStatus = cancelled
    ? 'cancelled'
    : counts.failed + counts.skipped === 0
      ? counts.updated === 0
        ? 'nothing-to-do'
        : 'ok'
      : done > 0 && counts.updated > 0
        ? 'partial'
        : 'failed';
  return {
    fleetResultVersion: 1,
    status,
    exitCode: EXIT[status],
    counts,
    zones,
    waves,
    executions: s.execution,
    failures,
    hosts,
  };
}

/** Records what host i's run returned: its status and zone counts; a run that did not end ok or nothing-to-do fails the host. */
export function recordHostResult(
  s: FleetState,
  i: number,
  r: { status: RunStatus; counts: Record<string, number>; failures: { name: string; code: string; message: string }[] },
): 'ok' | 'failed' {
  s.runStatus[i] = r.status;
  s.updated[i] = r.counts.updated ?? 0;
  s.children[i] = Object.values(r.counts).reduce((a, b) => a + b, 0);
  if (r.status === 'ok' || r.status === 'nothing-to-do') {
    setHost(s, i, r.status === 'ok' ? HOST.updated : HOST.nothing);
    return 'ok';
  }
  const f = r.failures[0];
  recordHostFailure(s, i, {
    code: f ? f.code : `RUN_${r.status.toUpperCase().replace(/-/g, '_')}`,
    message: f ? `${f.name}: ${f.message}` : `the host's run ended ${r.status}`,
  });
  return 'failed';
}

export function recordHostFailure(s: FleetState, i: number, error: { code: string; message: string }): void {
  setHost(s, i, HOST.failed);
  s.errors[i] = { code: error.code, message: trimMessage(error.message) };
  s.failures++;
}
