/**
 * `npm run control -- <workflow ID> <verb> [args]`: a run's live controls (src/contract/controls.ts)
 * for operators who would rather not type JSON into `temporal workflow update execute`. Each verb
 * executes one Update and prints the control state the run answers with; `show` prints it from
 * the `controls` query. Exits 0 when applied, 1 when the run refuses (the validator's message)
 * or cannot be reached, 2 for a bad command line. README "Steer a run".
 */
import { Command } from 'commander';
import { STAGES } from '../contract/activity-ids';
import { approveUpdate, controlsQuery, type ControlState } from '../contract/controls';
import { exitQuietlyOnClosedPipe } from '../command-line/closed-pipe';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { nonEmpty } from '../command-line/value-parsers';
import { connectClient, DEFAULT_ADDRESS } from './connection-settings';
import { controlStateLines } from './controls/control-state-lines';
import { controlAction, type Action, type ControlOptions } from './controls/control-action';
import { executeControl } from './controls/execute-control';
import { FLEET_VERB_NAMES, FLEET_VERBS, fleetControl } from './fleet/fleet-control';
import { UPDATE_FLEET } from '../contract/workflows';

const VERBS = `Verbs:
  pause                       no new child work starts; running work finishes
  resume                      work starts again
  concurrency <N> [--stage S] children at once (<= 0: no limit), for every stage or stage S
                              (${STAGES.join(', ')})
  skip <zone:name>            leave out a child that has not started its current stage (reported skipped)
  retry <zone:name>           try a failed child again, from the stage it failed in
  approve [--digest D]        execute the plans the run waits on (default D: the set digest it shows now)
  reject [--reason R]         end the run with nothing executed (status rejected)
  show                        print the run's control state`;

function controlCommand(): Command {
  return new Command('npm run control --')
    .usage('<workflow ID> <verb> [args] [options]')
    .argument('<workflow ID>', 'the run (npm run update prints it)')
    .argument('<verb>', 'pause, resume, concurrency, skip, retry, approve, reject or show')
    .argument('[args...]', "the verb's argument: N for concurrency, the child for skip and retry")
    .option('--stage <stage>', `concurrency: the stage to cap (${STAGES.join(', ')}); default every stage`, nonEmpty)
    .option('--digest <D>', 'approve: the set digest of the plans (default the one the run waits on now)', nonEmpty)
    .option('--reason <R>', 'reject: why (kept in the history and the result)', nonEmpty)
    .helpOption('-h, --help', 'this text')
    .addHelpText(
      'after',
      `\n${VERBS}\n\n${FLEET_VERBS}\n\nThe server comes from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / a profile (default ${DEFAULT_ADDRESS}).`,
    );
}

async function main(argv: string[]): Promise<number> {
  let action: Action;
  let workflowId: string;
  let fleetVerb: { verb: string; rest: string[] };
  let deferred: UsageError | null = null;
  try {
    const parsed = parseCommandLine<ControlOptions>(controlCommand(), argv);
    if (parsed.help !== null) {
      process.stdout.write(parsed.help);
      return 0;
    }
    const [id, verb, ...rest] = parsed.args;
    workflowId = id;
    fleetVerb = { verb, rest };
    try {
      action = verb === 'approve-wave' ? { kind: 'show' } : controlAction(verb, rest, parsed.opts);
    } catch (e) {
      // A fleet's verbs take other arguments (a host, hosts at once): checked once the run is known to be a fleet.
      if (!(e instanceof UsageError) || !FLEET_VERB_NAMES.includes(verb)) throw e;
      deferred = e;
      action = { kind: 'show' };
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run control -- --help" for the verbs.\n`);
    return USAGE_EXIT_CODE;
  }
  let conn: Awaited<ReturnType<typeof connectClient>>;
  try {
    conn = await connectClient();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const { client, connection } = conn;
  try {
    const type = await client.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        (d) => d.type,
        () => null,
      );
    if (type === UPDATE_FLEET) return await fleetControl(client, workflowId, fleetVerb.verb, fleetVerb.rest);
    if (fleetVerb.verb === 'approve-wave' || deferred) {
      process.stderr.write(
        `${deferred ? deferred.message : `approve-wave is a verb of fleet runs; ${workflowId} is not one`}\nRun "npm run control -- --help" for the verbs.\n`,
      );
      return USAGE_EXIT_CODE;
    }
    let state: ControlState;
    if (action.kind === 'update' || action.kind === 'approve') {
      let name: string;
      let args: unknown[];
      if (action.kind === 'approve') {
        const digest = action.digest ?? (await client.workflow.getHandle(workflowId).query(controlsQuery)).setDigest;
        if (digest === null) {
          process.stderr.write(
            `${workflowId} does not wait for approval (nothing to approve yet); see it with: npm run control -- ${workflowId} show\n`,
          );
          return 1;
        }
        if (action.digest === null) process.stdout.write(`Approving set digest ${digest}\n`);
        [name, args] = [approveUpdate.name, [{ digest }]];
      } else {
        [name, args] = [action.name, action.args];
      }
      const r = await executeControl(client, workflowId, name, args);
      if (!r.ok) {
        process.stderr.write(`${workflowId} refused ${name}: ${r.message}\n`);
        return 1;
      }
      process.stdout.write(`${name}: done. ${workflowId} now:\n`);
      state = r.state;
    } else {
      state = await client.workflow.getHandle(workflowId).query(controlsQuery);
      process.stdout.write(`${workflowId}:\n`);
    }
    process.stdout.write(
      `${controlStateLines(state)
        .map((l) => `  ${l}`)
        .join('\n')}\n`,
    );
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`control: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
