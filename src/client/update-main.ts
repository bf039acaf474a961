/**
 * `npm run update -- <parent image> [-C N] ...`: starts one updateLinkedImages run the way an
 * operator should — a workflow ID that is refused if it was ever used (so a run is never done
 * twice), a static summary for the Web UI, the search attributes set from the start — then
 * follows it with the live view of `npm run watch` (src/client/watch), prints the per-child table, and exits with pkg(5)'s code; a run
 * that fails, is terminated, cancelled or times out exits 1 with the failure's type and message.
 * Its run controls (README "Steer a run"): --approval (stop after prepare and wait), --approve
 * [--yes] (show the plans and ask, or approve them), --max-failures, --stage-concurrency,
 * --not-before / --not-after (the maintenance window).
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { exitQuietlyOnClosedPipe } from '../command-line/closed-pipe';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { anyInteger, collect, integerIn, nonEmpty } from '../command-line/value-parsers';
import { timestampOf } from '../model/fmri';
import { UPDATE_LINKED_IMAGES, type UpdateLinkedImagesWorkflow } from '../contract/workflows';
import { hostTaskQueue, recursionProblems, updateInputProblems, windowProblems } from '../contract/input';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../contract/search-attributes';
import { connectClient, DEFAULT_ADDRESS, reusingFirst } from './connection-settings';
import { LineRenderer } from './watch/line-renderer';
import { canRedraw, TtyRenderer } from './watch/tty-renderer';
import { watchRun } from './watch/watch-run';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';
import { followRun } from './watch/follow-run';
import { startFleet } from './fleet/start-fleet';
import { wavesValue } from './fleet/waves-value';
import type { ApprovalMode } from './approval/approval-step';
import {
  instantValue,
  maxFailuresValue,
  problemsWithOptions,
  stageCapsValue,
  windowLengthValue,
} from './update-options';

/** The update command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function updateCommand(): Command {
  return new Command('npm run update --')
    .usage('<parent image> [options]  |  --follow <workflow ID> [--plain]')
    .argument('[parent image]', 'the parent image (a path; relative to where npm was run); required unless --follow')
    .option(
      '-C, --concurrency <N>',
      "children worked on at once (0 or less: no limit), like pkg -C; default $PKG_CONCURRENCY, else the parent image's recursion-concurrency property, else 1",
      anyInteger,
    )
    .option(
      '-r, --recursive',
      'do the full update in the children too, like pkg update -r (default: each child is only synced with its parent)',
    )
    .option(
      '-z, --child <zone:name>',
      'with -r: recurse only into these children (repeatable); the others are synced, like pkg -z',
      collect,
    )
    .option(
      '-Z, --exclude <zone:name>',
      'with -r: do not recurse into these children (repeatable); they are still synced, like pkg -Z',
      collect,
    )
    .option(
      '-i, --ignore <zone:name>',
      'leave these children alone, neither synced nor updated (repeatable), like pkg -i',
      collect,
    )
    .option('--package <stem>', 'only these packages (repeatable; default all installed)', collect)
    .option('-n, --dry-run', 'plan only, like pkg update -n')
    .option(
      '--host <name>',
      `the host that holds the image (default $LINKED_IMAGES_HOST or this machine: ${os.hostname()}); its worker takes the activities from task queue ${hostTaskQueue('<host>')}`,
      nonEmpty,
    )
    .option(
      '--host-timeout <dur>',
      "how long an activity may wait for that host's worker, e.g. 90s, 10m (default 10m)",
      nonEmpty,
    )
    .option('--id <workflow ID>', 'default update-<image>-<time>; an ID used before is refused', nonEmpty)
    .option(
      '--task-queue <name>',
      `the workflow task queue (default $LINKED_IMAGES_TASK_QUEUE or ${DEFAULT_TASK_QUEUE})`,
      nonEmpty,
    )
    .option(
      '--stage-concurrency <stage=N,...>',
      'caps for some stages, e.g. prepare=8,execute=2 (stages publisher-check, plan, prepare, execute; the others use -C)',
      stageCapsValue,
    )
    .option(
      '--max-failures <N|N%>',
      'failed children the run tolerates before nothing new starts: a count, or a percentage of the children (default 0: fail-fast, like pkg)',
      maxFailuresValue,
    )
    .option('--approval', 'stop after prepare (all content downloaded and verified) and wait for approve or reject')
    .option(
      '--approve',
      'when the run waits for approval: show its plans and ask "Execute these plans? [y/N]" (implies --approval; also with --follow)',
    )
    .option('-y, --yes', 'with --approve: approve without asking (for scripts)')
    .option(
      '--not-before <ISO>',
      'maintenance window: execute nothing before this time, e.g. 2026-12-06T02:00:00+01:00 (earlier stages run before it)',
      instantValue,
    )
    .option(
      '--not-after <ISO>',
      'maintenance window: start no execute after this time; children not started then are deferred',
      instantValue,
    )
    .option(
      '--window-length <dur>',
      "maintenance window: it closes this long after it opens (--not-before, or the run's start), e.g. 4h; instead of --not-after",
      windowLengthValue,
    )
    .option(
      '--fleet <hosts.json>',
      'update a fleet instead: the hosts of this file ([{"name","image","taskQueue"?}] or a whole updateFleet input), each with the update options given here',
      nonEmpty,
    )
    .option(
      '--waves <sizes>',
      'with --fleet: wave sizes like Ansible serial, e.g. 1,5,20% (default one wave)',
      wavesValue,
    )
    .option('--host-concurrency <N>', 'with --fleet: hosts updated at once in a wave (default 1)', integerIn(1))
    .option(
      '--max-host-failures <N|N%>',
      'with --fleet: failed hosts tolerated (default 0: the first failed host stops the fleet)',
      maxFailuresValue,
    )
    .option('--wave-approval', 'with --fleet: each wave after the first waits for the update approveWave')
    .option('--no-wait', 'start and print the workflow ID, do not follow the run')
    .option('--follow <workflow ID>', 'start nothing: follow a run already started (by anyone) until it ends', nonEmpty)
    .option('--plain', 'follow it in plain lines, no redrawing (the default when stdout is not a terminal)')
    .helpOption('-h, --help', 'this text')
    .addHelpText(
      'after',
      `\nThe server comes from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / a profile (default ${DEFAULT_ADDRESS}).`,
    );
}

interface UpdateOptions {
  concurrency?: number;
  recursive?: boolean;
  child?: string[];
  exclude?: string[];
  ignore?: string[];
  package?: string[];
  dryRun?: boolean;
  host?: string;
  hostTimeout?: string;
  id?: string;
  taskQueue?: string;
  /** false with --no-wait. */
  wait: boolean;
  plain?: boolean;
  follow?: string;
  stageConcurrency?: Record<string, number>;
  maxFailures?: number | string;
  approval?: boolean;
  approve?: boolean;
  yes?: boolean;
  notBefore?: string;
  notAfter?: string;
  windowLength?: string;
  fleet?: string;
  waves?: (number | string)[];
  hostConcurrency?: number;
  maxHostFailures?: number | string;
  waveApproval?: boolean;
}

function usageError(message: string): number {
  process.stderr.write(`${message}\nRun "npm run update -- --help" for the options.\n`);
  return USAGE_EXIT_CODE;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine<UpdateOptions>(updateCommand(), argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usageError(e.message);
  }
  if (parsed.help !== null) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const { opts: values, args: positionals } = parsed;
  if (values.yes && !values.approve) return usageError('--yes answers the approval prompt: give it with --approve');
  const approval = approvalMode(values);
  if (values.follow !== undefined) {
    if (positionals.length)
      return usageError(`--follow starts nothing: expected no parent image, got '${positionals[0]}'`);
    return followRun(values.follow, { plain: values.plain, approval });
  }
  const envConcurrency = process.env.PKG_CONCURRENCY;
  if (values.concurrency === undefined && envConcurrency !== undefined && !INTEGER.test(envConcurrency))
    return usageError(
      `PKG_CONCURRENCY: expected an integer (0 or less: no limit), got ${JSON.stringify(envConcurrency)}; fix it or give -C`,
    );
  if (values.fleet !== undefined) {
    if (positionals.length)
      return usageError(`--fleet takes the images from its file: expected no parent image, got '${positionals[0]}'`);
    return startFleet({
      file: values.fleet,
      update: updateOptionsOf(values),
      fleet: {
        waves: values.waves,
        hostConcurrency: values.hostConcurrency,
        maxHostFailures: values.maxHostFailures,
        waveApproval: values.waveApproval,
      },
      id: values.id,
      taskQueue: values.taskQueue,
      wait: values.wait,
    });
  }
  if (values.waves || values.hostConcurrency || values.maxHostFailures !== undefined || values.waveApproval)
    return usageError('--waves, --host-concurrency, --max-host-failures and --wave-approval go with --fleet');
  if (!positionals.length) return usageError("missing required argument 'parent image' (or --follow <workflow ID>)");
  const concurrency = concurrencyOf(values);
  const image = path.resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]);
  const host = values.host ?? process.env.LINKED_IMAGES_HOST ?? os.hostname();
  const input = { image, host, ...updateOptionsOf(values) };
  // Refused here, exit 2, rather than by the workflow after a run was started (which leaves a failed run behind).
  const problems = problemsWithOptions([
    ...updateInputProblems(input),
    ...recursionProblems(input),
    ...windowProblems(input.window, Date.now()),
  ]);
  if (problems.length) {
    process.stderr.write(`${problems.join('\n')}\nRun "npm run update -- --help" for the options.\n`);
    return USAGE_EXIT_CODE;
  }
  const workflowId =
    values.id ?? `update-${image.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${timestampOf(new Date())}`;
  const who = `${
    !values.recursive
      ? 'all children synced'
      : values.child
        ? `${values.child.length} ${values.child.length === 1 ? 'child' : 'children'} updated (-r -z), the others synced`
        : `all children updated (-r)${values.exclude ? ` but ${values.exclude.length} synced (-Z)` : ''}`
  }${values.ignore ? `, ${values.ignore.length} ignored` : ''}`;
  const staticSummary = `update ${image}: ${who}${concurrency !== undefined ? `, -C ${concurrency}` : ''}${values.dryRun ? ', dry run' : ''}${input.approval ? ', approval' : ''}${input.window ? `, window ${windowSummary(input.window)}` : ''}`;

  let conn: Awaited<ReturnType<typeof connectClient>>;
  try {
    conn = await connectClient();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const { client, connection, address } = conn;
  try {
    let handle;
    try {
      handle = await client.workflow.start<UpdateLinkedImagesWorkflow>(UPDATE_LINKED_IMAGES, {
        taskQueue: values.taskQueue ?? process.env.LINKED_IMAGES_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
        workflowId,
        args: [input],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary,
        typedSearchAttributes: [
          { key: LINKED_IMAGE_PARENT, value: image },
          { key: LINKED_IMAGE_STATUS, value: 'starting' },
        ],
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(
          `Workflow ID '${workflowId}' was already used; a run is never started twice under one ID. See it with: npm run report -- ${workflowId}\n`,
        );
        return 1;
      }
      throw e;
    }
    process.stdout.write(`Started ${workflowId} (${staticSummary}) on ${address}, host '${host}'\n`);
    if (!values.wait) return 0;
    const plain = values.plain || !canRedraw(process.stdout);
    return await watchRun({
      workflowId,
      runId: handle.firstExecutionRunId,
      renderer: plain ? new LineRenderer((line) => process.stdout.write(`  ${line}\n`)) : new TtyRenderer(),
      approval,
      // The watch reuses this connection first and makes new ones when the server drops (closed by the watch).
      connect: reusingFirst(conn),
    });
  } finally {
    // Closed here when the run was not followed; the watch closes the ones it used (a second close is harmless).
    await connection.close().catch(() => undefined);
  }
}

/** A whole number as PKG_CONCURRENCY and the recursion-concurrency property take it. */
const INTEGER = /^\s*-?\d+\s*$/;

/**
 * `-C`, else PKG_CONCURRENCY when it is an integer (pkg(5) reads it when no -C is given), else
 * undefined: the run then takes the parent image's recursion-concurrency property, else 1.
 */
function concurrencyOf(values: UpdateOptions): number | undefined {
  const env = process.env.PKG_CONCURRENCY;
  return values.concurrency ?? (env !== undefined && INTEGER.test(env) ? Number(env) : undefined);
}

/** The update options of the command line (what every host of a fleet gets too): all but image and host. */
function updateOptionsOf(values: UpdateOptions) {
  const concurrency = concurrencyOf(values);
  return {
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(values.recursive ? { recursive: true } : {}),
    ...(values.child ? { children: values.child } : {}),
    ...(values.exclude ? { exclude: values.exclude } : {}),
    ...(values.ignore ? { ignore: values.ignore } : {}),
    ...(values.package ? { packages: values.package } : {}),
    ...(values.dryRun ? { dryRun: true } : {}),
    ...(values.hostTimeout ? { hostTimeout: values.hostTimeout } : {}),
    ...(values.stageConcurrency ? { stageConcurrency: values.stageConcurrency } : {}),
    ...(values.maxFailures !== undefined ? { maxFailures: values.maxFailures } : {}),
    ...(values.approval || values.approve ? { approval: true } : {}),
    ...(values.notBefore || values.notAfter || values.windowLength
      ? {
          window: {
            ...(values.notBefore ? { notBefore: values.notBefore } : {}),
            ...(values.notAfter ? { notAfter: values.notAfter } : {}),
            ...(values.windowLength ? { length: values.windowLength } : {}),
          },
        }
      : {}),
  };
}

/** `2026-12-06T01:00:00+01:00 to 2026-12-06T05:00:00+01:00`, `... to <notAfter>`, `<notBefore or start> for 4h`. */
function windowSummary(w: { notBefore?: string; notAfter?: string; length?: string }): string {
  const from = w.notBefore ?? (w.length ? 'start' : '...');
  return w.length ? `${from} for ${w.length}` : `${from} to ${w.notAfter ?? '...'}`;
}

/**
 * What the watch does when the run waits for approval: ask with --approve on a terminal, approve
 * with --approve --yes, else (no --approve, or stdin not a terminal to ask on) show the plans
 * and the commands that approve or reject them.
 */
function approvalMode(values: UpdateOptions): ApprovalMode {
  if (!values.approve) return 'show';
  if (values.yes) return 'approve';
  if (process.stdin.isTTY) return 'ask';
  process.stderr.write('stdin is not a terminal: the plans will be shown, not asked about (--yes approves them).\n');
  return 'show';
}

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`update: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
