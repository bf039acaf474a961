/**
 * Follows an updateFleet run to its end in plain lines: its `progress` line whenever it changes
 * (polled with backoff, reconnecting when the server drops), then a table of its hosts and its
 * status. What `npm run watch` and `npm run update -- --fleet` show for a fleet run; drill down to
 * a host with `npm run watch -- <fleet ID>/<host>`.
 */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { fleetProgressQuery, parseHostResultLine, type FleetResult } from '../../contract/fleet';
import { BackoffPoller } from '../watch/backoff-poller';
import { describeRunFailure } from '../run-failure';

/** Exit code after Ctrl-C, as shells report a process ended by SIGINT. */
const INTERRUPTED = 130;

export interface FollowFleetOptions {
  workflowId: string;
  /** Makes a connection; called again to reconnect. */
  connect: () => Promise<{ client: Client; connection: { close(): Promise<void> } }>;
  /** Where lines go. @default stdout */
  out?: (text: string) => void;
  /** The wait between polls while the fleet moves, in ms (stretches to 10 s while nothing changes). @default 2000 */
  intervalMs?: number;
}

/** The fleet's hosts as a table: host, wave, outcome, run status, zones updated/selected; then the failures. */
export function fleetTable(r: FleetResult): string[] {
  const rows = r.hosts.map((text) => {
    const l = parseHostResultLine(text, '', r);
    return [l.name, String(l.wave + 1), l.outcome, l.status ?? '-', `${l.updated ?? '-'}/${l.children ?? '-'}`];
  });
  const head = ['HOST', 'WAVE', 'OUTCOME', 'RUN STATUS', 'ZONES'];
  const width = head.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => c.padEnd(width[k]))
      .join('  ')
      .trimEnd();
  const c = r.counts;
  return [
    line(head),
    ...rows.map(line),
    `Hosts: ${c.updated} updated, ${c['nothing-to-do']} nothing to do, ${c.failed} failed, ${c.skipped} skipped; zones ${r.zones.updated}/${r.zones.selected} updated`,
    ...r.failures.map((f) => `  ${f.name}: ${f.error.code}: ${f.error.message} (npm run report -- ${f.workflowId})`),
  ];
}

/** Follows the fleet run until it closes; resolves with its exit code (1 on a failure of the fleet itself, 130 on Ctrl-C). */
export async function followFleet(o: FollowFleetOptions): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  let last = '';
  let ended: { code: number } | null = null;
  const poller = new BackoffPoller({
    connect: o.connect,
    close: (c) => c.connection.close(),
    intervalMs: o.intervalMs ?? 2000,
    read: async (c) => {
      const h = c.client.workflow.getHandle(o.workflowId);
      const d = await h.describe();
      if (d.status.name === 'RUNNING') return { line: (await h.query(fleetProgressQuery)).line, result: null, h };
      return { line: null, result: d.status.name, h };
    },
    onValue: async (v) => {
      if (v.line !== null) {
        if (v.line === last) return 'same';
        last = v.line;
        out(`${v.line}\n`);
        return 'changed';
      }
      try {
        const r = (await v.h.result()) as FleetResult;
        out(
          `\n${fleetTable(r).join('\n')}\n\nStatus: ${r.status}, exit code ${r.exitCode}. Report: npm run report -- ${o.workflowId}\n`,
        );
        ended = { code: r.exitCode };
      } catch (e) {
        if (!(e instanceof WorkflowFailedError)) throw e;
        out(`${describeRunFailure(o.workflowId, e)}\n`);
        ended = { code: 1 };
      }
      return 'stop';
    },
    onError: (e, waitMs) => {
      const msg = (e as Error)?.message ?? String(e);
      if (/not found/i.test(msg) && !last) {
        out(`No fleet run ${o.workflowId}: ${msg}\n`);
        ended = { code: 1 };
        return false;
      }
      out(`(${msg}; trying again in ${Math.round(waitMs / 1000)} s)\n`);
      return true;
    },
  });
  const onSigint = () => {
    out(`\nStopped watching; the fleet run goes on. Follow it again: npm run watch -- ${o.workflowId}\n`);
    ended = { code: INTERRUPTED };
    poller.stop();
  };
  process.once('SIGINT', onSigint);
  try {
    await poller.done;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  return (ended as { code: number } | null)?.code ?? 1;
}
