import {
  allHandlersFinished,
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  setCurrentDetails,
  setHandler,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import {
  fleetHostsQuery,
  fleetProgressQuery,
  parseFleetInput,
  pauseFleetUpdate,
  resumeFleetUpdate,
  setHostConcurrencyUpdate,
  skipHostUpdate,
  approveWaveUpdate,
  waveCounts,
  type FleetInput,
  type FleetProgress,
  type FleetRequest,
  type FleetResult,
} from '../contract/fleet';
import { failureBudget, updateInputProblems } from '../contract/input';
import { invalidInput } from '../contract/invalid-input';
import type { UpdateResult } from '../contract/run-types';
import {
  fleetResult,
  HOST,
  hostLine,
  newFleetState,
  recordHostFailure,
  recordHostResult,
  setHost,
  type FleetState,
} from './fleet-state';
import { historyBudgetSpent } from './history-budget';
import { runWindow } from './run-window';
import { refuse } from './run-controls';
import { pageArgs } from './children-page';
import { updateLinkedImages } from './update-linked-images';

/**
 * Hosts in flight at most per execution, whatever `hostConcurrency`: each host's run result is an
 * event of the fleet's history, and an execution must be able to drain them before it continues as new.
 */
export const MAX_HOSTS_IN_FLIGHT = 100;

/** Bytes reserved per host in flight for its result (a host's run result is bounded near 100 KB; most are a few KB). */
const RESULT_BYTES_GUESS = 20_000;

/** What a fleet run carries into its next execution. */
export interface FleetResume {
  state: FleetState;
}

/**
 * Updates a fleet of hosts: each host's `updateLinkedImages` is a child workflow
 * `<fleet workflow ID>/<host>` (so one fleet run never updates a host twice) on the shared workflow
 * task queue, its activities on the host's own queue. Hosts go in waves (input `waves`, like
 * Ansible's `serial: [1, 5, "20%"]`: a canary first), each wave finishing before the next starts,
 * at most `hostConcurrency` hosts at once. A host whose run does not end ok or nothing-to-do counts
 * against `maxHostFailures` (default 0: stop after the first failed host, before the next host
 * starts); a host whose worker is down fails as its run's HOST_UNAVAILABLE after its hostTimeout.
 * The fleet continues as new between hosts when its history grows; its state is ~30 bytes a host.
 */
export async function updateFleet(raw: FleetRequest, resume?: FleetResume): Promise<FleetResult> {
  const input = parseFleetInput(raw);
  if (!resume) checkUpdateOptions(input);
  const info = workflowInfo();
  const names = input.hosts.map((h) => h.name);
  const idOf = (name: string) => `${info.workflowId}/${name}`;
  const counts = waveCounts(names.length, input.waves);
  const waveStart = counts.map((_, w) => counts.slice(0, w).reduce((a, b) => a + b, 0));
  const waveOf = (i: number) => {
    let w = 0;
    while (w + 1 < waveStart.length && i >= waveStart[w + 1]) w++;
    return w;
  };
  const st =
    resume?.state ??
    newFleetState(names.length, input.hostConcurrency, failureBudget(input.maxHostFailures, names.length));
  let maxResultBytes = RESULT_BYTES_GUESS;
  let finished = false;
  let waiting: number | null = null;

  const progress = (): FleetProgress => {
    const c = { done: 0, working: 0, waiting: 0, failed: 0, skipped: 0, total: names.length };
    const working: string[] = [];
    const zones = { updated: 0, selected: 0 };
    for (let i = 0; i < names.length; i++) {
      const s = st.status[i];
      if (s === HOST.updated || s === HOST.nothing) c.done++;
      else if (s === HOST.working) {
        c.working++;
        if (working.length < 8) working.push(names[i]);
      } else if (s === HOST.failed) c.failed++;
      else if (s === HOST.skipped) c.skipped++;
      else c.waiting++;
      zones.updated += st.updated[i] ?? 0;
      zones.selected += st.children[i] ?? 0;
    }
    const more = c.working > working.length ? ` (+${c.working - working.length} more)` : '';
    const line = finished
      ? `Finished updating the fleet: ${c.done}/${c.total} hosts done${c.failed ? `; ${c.failed} failed` : ''}`
      : `Fleet: wave ${st.wave + 1}/${counts.length}: hosts ${c.done}/${c.total} done${c.failed ? `; ${c.failed} failed` : ''}${c.skipped ? `; ${c.skipped} skipped` : ''}; ${c.working} working${working.length ? ': ' + working.join(' ') + more : ''}; zones ${zones.updated}/${zones.selected} updated in the hosts done${st.paused ? ' (paused)' : ''}${waiting !== null ? ` (waiting for approval of wave ${waiting}: update approveWave)` : ''}`;
    return {
      line,
      wave: st.wave + 1,
      waves: counts.length,
      hosts: c,
      working,
      zones,
      paused: st.paused,
      hostConcurrency: st.hostConcurrency,
      execution: st.execution,
      waitingForApproval: waiting,
    };
  };
  const show = () => setCurrentDetails(progress().line);
  setHandler(fleetProgressQuery, progress);
  setHandler(fleetHostsQuery, (args) => {
    const { offset, limit } = pageArgs(args, 1000);
    const hosts = names
      .slice(offset, offset + limit)
      .map((n, k) => hostLine(st, offset + k, n, idOf(n), waveOf(offset + k), finished));
    return { total: names.length, offset, hosts };
  });
  const open = () => {
    if (finished) refuse('the fleet run is finishing: it takes no more controls');
  };
  setHandler(
    setHostConcurrencyUpdate,
    (a) => {
      st.hostConcurrency = a.hostConcurrency;
      show();
      return progress();
    },
    {
      validator: (a) => {
        open();
        const n = (a as { hostConcurrency?: unknown } | null)?.hostConcurrency;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
          refuse(`hostConcurrency: expected an integer >= 1, got ${JSON.stringify(n) ?? 'nothing'}`);
      },
    },
  );
  setHandler(
    pauseFleetUpdate,
    () => {
      st.paused = true;
      show();
      return progress();
    },
    {
      validator: () => {
        open();
        if (st.paused) refuse('the fleet run is already paused');
      },
    },
  );
  setHandler(
    resumeFleetUpdate,
    () => {
      st.paused = false;
      show();
      return progress();
    },
    {
      validator: () => {
        open();
        if (!st.paused) refuse('the fleet run is not paused');
      },
    },
  );
  setHandler(
    skipHostUpdate,
    (a) => {
      setHost(st, names.indexOf(a.host), HOST.skipped);
      show();
      return progress();
    },
    {
      validator: (a) => {
        open();
        const host = (a as { host?: unknown } | null)?.host;
        const i = typeof host === 'string' ? names.indexOf(host) : -1;
        if (i < 0) refuse(`host: ${JSON.stringify(host) ?? 'nothing'} is not one of this fleet's hosts`);
        if (st.status[i] !== HOST.waiting)
          refuse(`host: '${host as string}' has already started (or was skipped); only a waiting host can be skipped`);
      },
    },
  );

  setHandler(
    approveWaveUpdate,
    (a) => {
      st.approvedWave = a.wave;
      waiting = null; // answered now: the state returned is the one after the approval
      show();
      return progress();
    },
    {
      validator: (a) => {
        open();
        const wave = (a as { wave?: unknown } | null)?.wave;
        if (waiting === null)
          refuse(
            input.waveApproval
              ? 'no wave is waiting for approval now'
              : 'the fleet run was started without waveApproval',
          );
        if (wave !== waiting)
          refuse(`wave: wave ${waiting} is waiting for approval, not ${JSON.stringify(wave) ?? 'nothing'}`);
      },
    },
  );

  const runHost = async (i: number): Promise<'ok' | 'failed' | 'cancelled'> => {
    if (st.status[i] !== HOST.waiting) return 'ok'; // skipped meanwhile
    const h = input.hosts[i];
    setHost(st, i, HOST.working);
    show();
    try {
      const r: UpdateResult = await executeChild(updateLinkedImages, {
        workflowId: idOf(h.name),
        // A host's run is never started twice by one fleet run, even by a bug: the ID is refused once used.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        taskQueue: info.taskQueue,
        staticSummary: `host ${h.name} of fleet ${info.workflowId}: update ${h.image}`,
        args: [
          {
            ...(input.update as object),
            image: h.image,
            host: h.name,
            ...(h.taskQueue ? { hostTaskQueue: h.taskQueue } : {}),
          },
        ],
      });
      maxResultBytes = Math.max(maxResultBytes, JSON.stringify(r).length);
      return recordHostResult(st, i, r);
    } catch (e) {
      if (isCancellation(e)) {
        recordHostFailure(st, i, {
          code: 'CANCELLED',
          message: 'the fleet run was cancelled while this host was updated',
        });
        return 'cancelled';
      }
      const cause = e instanceof ChildWorkflowFailure ? e.cause : e;
      recordHostFailure(st, i, {
        code: cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : 'CHILD_FAILED',
        message: (cause as Error)?.message ?? String(cause),
      });
      return 'failed';
    } finally {
      show();
    }
  };

  let cancelled = false;
  for (let w = st.wave; w < counts.length; w++) {
    st.wave = w;
    show();
    try {
      await condition(() => !st.paused); // a wave boundary: nothing new starts while paused
      if (input.waveApproval && w > 0 && (st.approvedWave ?? 1) < w + 1 && st.failures <= st.maxFailures) {
        waiting = w + 1;
        show();
        await condition(() => (st.approvedWave ?? 1) >= w + 1);
        waiting = null;
      }
    } catch (e) {
      if (!isCancellation(e)) throw e;
      cancelled = true;
      break;
    }
    if (st.failures > st.maxFailures) break;
    const todo: number[] = [];
    for (let i = waveStart[w]; i < waveStart[w] + counts[w]; i++) if (st.status[i] === HOST.waiting) todo.push(i);
    let startedHere = 0;
    const end = await runWindow(
      todo,
      {
        limit: () => Math.min(st.hostConcurrency, MAX_HOSTS_IN_FLIGHT),
        held: () => st.paused,
        stop: () => st.failures > st.maxFailures,
        shouldPause: () => startedHere > 0 && historyBudgetSpent(st.hostConcurrency * maxResultBytes),
      },
      (i) => {
        startedHere++;
        return runHost(i);
      },
    );
    if (end === 'paused') {
      await condition(allHandlersFinished);
      return continueAsNew<typeof updateFleet>(raw, { state: { ...st, execution: st.execution + 1 } });
    }
    if (end === 'cancelled') {
      cancelled = true;
      break;
    }
    if (end === 'stopped') break;
  }
  finished = true;
  show();
  return fleetResult(st, names, idOf, waveOf, counts.length, cancelled);
}

/** The per-host update options, checked once for all hosts (each host's run checks them again): bad ones fail the fleet at once, named `update.<field>`. */
function checkUpdateOptions(input: FleetInput): void {
  const u = input.update as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of ['image', 'host', 'hostTaskQueue'])
    if (k in u) problems.push(`update.${k}: set per host in hosts[], not in update`);
  const h = input.hosts[0];
  for (const p of updateInputProblems({ ...u, image: h.image, host: h.name }))
    problems.push(p.startsWith('unknown field') ? `update: ${p}` : `update.${p}`);
  if (problems.length) throw invalidInput(problems);
}
