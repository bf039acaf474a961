import { connectClient, reusingFirst, type ClientConnection } from '../connection-settings';
import { LineRenderer } from './line-renderer';
import { canRedraw, TtyRenderer } from './tty-renderer';
import { watchRun } from './watch-run';
import type { ApprovalMode } from '../approval/approval-step';
import { UPDATE_FLEET } from '../../contract/workflows';
import { followFleet } from '../fleet/follow-fleet';

/** How followRun shows a run. */
export interface FollowOptions {
  /** One run of the workflow ID. @default null: the latest */
  runId?: string | null;
  /** Plain lines instead of redrawing. @default false, and always plain when stdout is not a terminal */
  plain?: boolean;
  /** The wait between polls while the run moves, in ms. @default watchRun's (1000) */
  intervalMs?: number;
  /** What to do when the run waits for plan approval (watch-run.ts). @default 'show' */
  approval?: ApprovalMode;
}

/**
 * Follows `workflowId` (a run of updateLinkedImages started by anyone) with the live view until it
 * ends: what `npm run watch -- <id>` and `npm run update -- --follow <id>` do. Resolves with the
 * exit code: the run's (pkg(5)'s) when it ends, 1 when the server cannot be reached at first or
 * there is no such workflow, 130 on Ctrl-C (the run goes on).
 */
export async function followRun(workflowId: string, opts: FollowOptions = {}): Promise<number> {
  let first: ClientConnection;
  try {
    // The first connection is checked here, so a wrong address is an error rather than a view that retries forever.
    first = await connectClient();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`Watching ${workflowId} on ${first.address} (Ctrl-C stops watching, not the run)\n`);
  // A fleet run is followed by its progress line and ends with its table of hosts (drill down to <id>/<host>).
  const type = await first.client.workflow
    .getHandle(workflowId, opts.runId ?? undefined)
    .describe()
    .then(
      (d) => d.type,
      () => null,
    );
  if (type === UPDATE_FLEET)
    return followFleet({ workflowId, intervalMs: opts.intervalMs, connect: reusingFirst(first) });
  const plain = opts.plain || !canRedraw(process.stdout);
  return watchRun({
    workflowId,
    runId: opts.runId ?? null,
    intervalMs: opts.intervalMs,
    approval: opts.approval,
    renderer: plain ? new LineRenderer() : new TtyRenderer(),
    connect: reusingFirst(first),
  });
}
