/**
 * Follows one run to its end: polls it with backoff (reconnecting when the server drops), shows
 * each round through a renderer, then prints the pkg-style table and returns the run's exit
 * code. Ctrl-C leaves the run going and says how to follow or cancel it. Used by
 * `npm run watch` and by `npm run update`.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { UpdateResult } from '../../contract/run-types';
import { resultTable } from '../progress-printer';
import { describeRunFailure } from '../run-failure';
import { BackoffPoller } from './backoff-poller';
import { readRunSnapshot, type RunQueues, type RunTarget } from './read-run-snapshot';
import { readStageOutputs } from './read-stage-outputs';
import { buildRunView, type RunView } from './run-view';
import { withoutCountdown } from './line-renderer';
import type { WatchRenderer } from './watch-renderer';
import { approvalStep, type ApprovalMode } from '../approval/approval-step';

/** Exit code after Ctrl-C, as shells report a process ended by SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface WatchRunOptions {
  workflowId: string;
  /** A run of that ID; default the latest one. */
  runId?: string | null;
  /** Makes a connection (connection-settings.ts connectClient); called again to reconnect. Throws when the server cannot be reached. */
  connect: () => Promise<{ client: Client; connection: { close(): Promise<void> } }>;
  renderer: WatchRenderer;
  /** The wait between polls while the run changes, in ms; it stretches up to 10 s (or this, if longer) while nothing changes. @default 1000 */
  intervalMs?: number;
  /**
   * When the run waits for plan approval: print the plans and how to approve them (`show`), ask
   * on the terminal (`ask`), or approve them (`approve`); see approval/approval-step.ts. Once per
   * set digest (a re-planned child makes a new one). @default 'show'
   */
  approval?: ApprovalMode;
  /** Where the final table and messages go. @default process.stdout / process.stderr */
  out?: (text: string) => void;
  err?: (text: string) => void;
}

type Conn = Awaited<ReturnType<WatchRunOptions['connect']>>;

/** How the watch ended: the run's end, Ctrl-C, or a run that is not there. */
type Ending =
  | { kind: 'result'; result: UpdateResult }
  | { kind: 'failure'; error: WorkflowFailedError }
  | { kind: 'interrupted' }
  | { kind: 'error'; message: string };

/**
 * Watches the run until it closes and returns the exit code: the run's (pkg(5)'s: 0 ok,
 * 4 nothing to do, 3 partial, 1 failed), 1 when it failed, was terminated, cancelled or timed
 * out, or when there is no such workflow, INTERRUPTED_EXIT_CODE after Ctrl-C (the run goes on).
 */
export async function watchRun(o: WatchRunOptions): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const target: RunTarget = { workflowId: o.workflowId, runId: o.runId ?? null };
  const intervalMs = o.intervalMs ?? 1000;
  let queues: RunQueues | null = null;
  let view: RunView | null = null;
  let lastKey = '';
  let ending: Ending | null = null;
  let failing = false;

  let pendingOf = o.workflowId;
  // The set digests whose plans were shown (and asked about): each set once.
  const shownSets = new Set<string>();
  const onSigint = () => {
    ending = { kind: 'interrupted' };
    poller.stop();
  };
  const poller = new BackoffPoller<Conn, { view: RunView; outputs: string[]; client: Client }>({
    intervalMs,
    maxIntervalMs: Math.max(10_000, intervalMs),
    connect: o.connect,
    close: (c) => c.connection.close(),
    read: async (c) => {
      const r = await readRunSnapshot(c.client, target, queues);
      queues = r.queues;
      // A run that continued as new goes on in the next execution of its chain: follow the latest.
      if (r.snapshot.status === 'continued-as-new') target.runId = null;
      const prev = view;
      view = buildRunView(r.snapshot, view);
      const outputs = await endedOutputs(c.client, prev, view, pendingOf);
      pendingOf = r.snapshot.pendingOf;
      if (view.finished) ending = await endingOf(c.client, target);
      return { view, outputs, client: c.client };
    },
    onValue: async ({ view: v, outputs, client }) => {
      if (failing) o.renderer.note(`Reconnected; following ${o.workflowId} again.`);
      failing = false;
      o.renderer.update(v);
      for (const line of outputs) o.renderer.note(line);
      if (ending) return 'stop';
      const digest = v.controls?.approval === 'waiting' ? v.controls.setDigest : null;
      if (digest && !shownSets.has(digest)) {
        const mode = o.approval ?? 'show';
        // The prompt needs the terminal: the live area ends (a new one starts below on the next round).
        if (mode === 'ask') o.renderer.finish();
        const outcome = await approvalStep(client, o.workflowId, mode, {
          print: (lines) => lines.forEach((l) => o.renderer.note(l)),
        });
        shownSets.add(digest);
        if (outcome === 'interrupted') onSigint();
        return ending ? 'stop' : 'changed';
      }
      const key = changeKey(v);
      const changed = key !== lastKey;
      lastKey = key;
      return changed ? 'changed' : 'same';
    },
    onError: (e, retryInMs) => {
      if (e instanceof WorkflowNotFoundError) {
        ending = {
          kind: 'error',
          message: `No workflow ${o.workflowId}${target.runId ? ` run ${target.runId}` : ''}: ${e.message}`,
        };
        return false;
      }
      if (!failing)
        o.renderer.note(
          `Cannot read ${o.workflowId}: ${(e as Error).message}; trying again in ${Math.ceil(retryInMs / 1000)} s (the run goes on)`,
        );
      failing = true;
      return true;
    },
  });

  process.once('SIGINT', onSigint);
  try {
    await poller.done;
  } finally {
    process.removeListener('SIGINT', onSigint);
    o.renderer.finish();
  }
  const end = ending as Ending | null;
  if (!end || end.kind === 'interrupted') {
    out(
      `\nStopped watching; ${o.workflowId} goes on.\n  Follow it:  npm run update -- --follow ${o.workflowId}   (or npm run watch -- ${o.workflowId}; installed: linked-images-watch ${o.workflowId})\n  Cancel it:  npm run temporal -- workflow cancel -w ${o.workflowId}\n`,
    );
    return INTERRUPTED_EXIT_CODE;
  }
  if (end.kind === 'error') {
    err(`${end.message}\n`);
    return 1;
  }
  if (end.kind === 'failure') {
    err(`\n${describeRunFailure(o.workflowId, end.error)}\nAudit: npm run report -- ${o.workflowId}\n`);
    return 1;
  }
  const r = end.result;
  const table = r.resultVersion === 2 ? `\n${resultTable(r).join('\n')}\n` : '';
  out(`${table}\nStatus: ${r.status}, exit code ${r.exitCode}. Audit: npm run report -- ${o.workflowId}\n`);
  return r.exitCode;
}

/**
 * The output lines of the activities that were in flight in `prev` and are not in `next`,
 * `  zone:z1 prepare: Download: 3/3 files, ...`, read from the history of `owner` (the execution
 * that ran them). A history that cannot be read costs the lines, not the round.
 */
async function endedOutputs(client: Client, prev: RunView | null, next: RunView, owner: string): Promise<string[]> {
  const still = new Set(next.children.map((c) => c.activityId));
  const ended = (prev?.children ?? []).filter((c) => !still.has(c.activityId));
  if (!ended.length) return [];
  const lines = await readStageOutputs(client, owner, new Set(ended.map((c) => c.activityId))).catch(
    () => new Map<string, string[]>(),
  );
  return ended.flatMap((c) => (lines.get(c.activityId) ?? []).map((l) => `  ${c.name} ${c.stage}: ${l}`));
}

/** The result of a closed run, or how it failed. Other errors (the server unreachable) are thrown: the poller tries again. */
async function endingOf(client: Client, target: RunTarget): Promise<Ending> {
  try {
    const result = await client.workflow.getHandle<() => Promise<UpdateResult>>(target.workflowId).result();
    return { kind: 'result', result };
  } catch (e) {
    if (e instanceof WorkflowFailedError) return { kind: 'failure', error: e };
    throw e;
  }
}

/** What counts as a change for the poll's backoff: countdowns and the age of the last poll do not. */
function changeKey(v: RunView): string {
  return JSON.stringify([
    v.stageLine,
    v.controlLines.map(withoutCountdown),
    v.children.map((c) => [
      c.activityId,
      c.state,
      c.attempt,
      c.progress?.done,
      c.problem?.replace(/ in \d+ s$/, ''),
      !!c.stalled,
    ]),
    v.warnings.map((w) => w.replace(/\d+ s ago/, '')),
  ]);
}
