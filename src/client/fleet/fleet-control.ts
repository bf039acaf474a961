/**
 * `npm run control -- <fleet workflow ID> <verb>` on an updateFleet run: the fleet's controls
 * (src/contract/fleet.ts). Verbs: pause, resume, concurrency <N> (hosts at once), skip <host>,
 * approve-wave <n>, show. Prints the fleet's progress line after each. Exit 0 applied, 1 refused
 * (the validator's message) or unreachable, 2 for a bad verb or argument.
 */
import type { Client } from '@temporalio/client';
import { fleetProgressQuery, type FleetProgress } from '../../contract/fleet';
import { USAGE_EXIT_CODE } from '../../command-line/usage-error';
import { executeControl } from '../controls/execute-control';

/** The verbs a fleet run takes. */
export const FLEET_VERB_NAMES = ['pause', 'resume', 'concurrency', 'skip', 'approve-wave', 'show'];

/** The fleet verbs, for --help. */
export const FLEET_VERBS = `Verbs on a fleet run (updateFleet):
  pause | resume              no new host starts / hosts start again
  concurrency <N>             hosts updated at once (>= 1)
  skip <host>                 leave out a host that has not started
  approve-wave <n>            with waveApproval: let wave n start
  show                        print the fleet's progress`;

/** What one fleet verb sends: the Update's name and argument, or null for show; a string is a usage problem. */
export function fleetAction(verb: string, args: string[]): { name: string; args: unknown[] } | null | string {
  const n = Number(args[0]);
  switch (verb) {
    case 'show':
      return null;
    case 'pause':
    case 'resume':
      return { name: verb, args: [] };
    case 'concurrency':
      return Number.isInteger(n) && n >= 1
        ? { name: 'setHostConcurrency', args: [{ hostConcurrency: n }] }
        : `concurrency: expected a number of hosts >= 1, got '${args[0] ?? ''}'`;
    case 'skip':
      return args[0] ? { name: 'skipHost', args: [{ host: args[0] }] } : 'skip: expected a host name';
    case 'approve-wave':
      return Number.isInteger(n) && n >= 2
        ? { name: 'approveWave', args: [{ wave: n }] }
        : `approve-wave: expected the number of the wave waiting (2 or more), got '${args[0] ?? ''}'`;
    default:
      return `unknown verb '${verb}' for a fleet run; expected pause, resume, concurrency, skip, approve-wave or show`;
  }
}

function lines(p: FleetProgress): string {
  const h = p.hosts;
  return [
    `  ${p.line}`,
    `  hosts at once: ${p.hostConcurrency}; ${h.done} done, ${h.working} working, ${h.waiting} waiting, ${h.failed} failed, ${h.skipped} skipped of ${h.total}`,
    ...(p.waitingForApproval !== null ? [`  waiting for approval of wave ${p.waitingForApproval}`] : []),
  ].join('\n');
}

/** Runs one verb on the fleet `workflowId`; resolves with the exit code. */
export async function fleetControl(client: Client, workflowId: string, verb: string, args: string[]): Promise<number> {
  const action = fleetAction(verb, args);
  if (typeof action === 'string') {
    process.stderr.write(`${action}\nRun "npm run control -- --help" for the verbs.\n`);
    return USAGE_EXIT_CODE;
  }
  if (action === null) {
    process.stdout.write(
      `${workflowId}:\n${lines(await client.workflow.getHandle(workflowId).query(fleetProgressQuery))}\n`,
    );
    return 0;
  }
  const r = await executeControl(client, workflowId, action.name, action.args);
  if (!r.ok) {
    process.stderr.write(`${workflowId} refused ${action.name}: ${r.message}\n`);
    return 1;
  }
  process.stdout.write(`${action.name}: done. ${workflowId} now:\n${lines(r.state as unknown as FleetProgress)}\n`);
  return 0;
}
