/**
 * `npm run report -- <workflowId> [--run-id R] [--json]`: the audit report of one
 * updateLinkedImages run (or, for an updateFleet run, its table per host: fleet-report.ts), finished or still running, from the histories of all its executions
 * on the server (its continue-as-new chain and its partitions), as Markdown for a change ticket
 * or as one JSON object (AuditReport).
 * Exit codes: 0 printed, 1 workflow not found or server unreachable, 2 bad command line.
 */
import { Command } from 'commander';
import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_PAGE_SIZE, readAuditReport } from './history-reader';
import { reportMarkdown } from './report-markdown';
import { fleetMarkdown, isFleet, readFleetReport } from './fleet-report';
import { connectClient, DEFAULT_ADDRESS } from '../connection-settings';
import { exitQuietlyOnClosedPipe } from '../../command-line/closed-pipe';
import { parseCommandLine } from '../../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../../command-line/usage-error';
import { integerIn, nonEmpty } from '../../command-line/value-parsers';

/** The report command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function reportCommand(): Command {
  return new Command('npm run report --')
    .usage('<workflowId> [--run-id <runId>] [--json]')
    .description(
      'Prints the audit report of one updateLinkedImages run, finished or still running, read from every execution of the run ' +
        "(its continue-as-new chain and its partitions' chains): the counts per stage, the failures and errors, then per image " +
        "(parent first) each stage's start, end, attempts and worker, and the package changes.",
    )
    .argument('<workflowId>', 'the workflow ID of the run')
    .option('--run-id <runId>', 'any run of the chain to report (default: the latest run of the workflow ID)', nonEmpty)
    .option('--json', 'one JSON object (the AuditReport interface in src/client/report/audit-report.ts)')
    .option(
      '--page-size <n>',
      `history events asked per request (default ${DEFAULT_PAGE_SIZE}; fewer are asked while a page is over gRPC's 4 MB limit)`,
      integerIn(1, 999_999),
    )
    .helpOption('-h, --help', 'this text')
    .addHelpText(
      'after',
      `\nConnection (as the temporal CLI): TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE\n(default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE.`,
    );
}

interface ReportArgs {
  /** Commander's help text when -h/--help was given, else null. */
  help: string | null;
  workflowId: string;
  runId?: string;
  json: boolean;
  pageSize?: number;
}

/** Parses `npm run report -- …`. @throws UsageError naming the option or argument and what was expected. */
function parseReportArgs(argv: string[]): ReportArgs {
  const parsed = parseCommandLine<{ runId?: string; json?: boolean; pageSize?: number }>(reportCommand(), argv);
  if (parsed.help !== null) return { help: parsed.help, workflowId: '', json: false };
  const [workflowId] = parsed.args;
  if (workflowId.trim() === '') throw new UsageError('Expected a workflow ID, got ""');
  return {
    help: null,
    workflowId,
    runId: parsed.opts.runId,
    json: parsed.opts.json === true,
    pageSize: parsed.opts.pageSize,
  };
}

async function main(argv: string[]): Promise<number> {
  let args: ReportArgs;
  try {
    args = parseReportArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run report -- --help" for the options.\n`);
    return USAGE_EXIT_CODE;
  }
  if (args.help !== null) {
    process.stdout.write(args.help);
    return 0;
  }

  let conn: Awaited<ReturnType<typeof connectClient>>;
  try {
    conn = await connectClient();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const { client, connection, address, namespace } = conn;
  try {
    const what = `workflow ID '${args.workflowId}'${args.runId ? ` run ${args.runId}` : ''}`;
    let report;
    try {
      if (await isFleet(client, args.workflowId, args.runId)) {
        const fleet = await readFleetReport(client, args.workflowId);
        process.stdout.write(args.json ? JSON.stringify(fleet, null, 2) + '\n' : fleetMarkdown(fleet));
        return 0;
      }
      report = await readAuditReport(client, args.workflowId, {
        runId: args.runId,
        pageSize: args.pageSize,
        server: { address, namespace },
      });
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        process.stderr.write(
          `No workflow with ${what} in namespace '${namespace}' on ${address}. "npm run temporal -- workflow list" shows the runs there.\n`,
        );
        return 1;
      }
      if (e instanceof NamespaceNotFoundError) {
        process.stderr.write(
          `Namespace '${namespace}' does not exist on ${address} (looking for ${what}). Set TEMPORAL_NAMESPACE.\n`,
        );
        return 1;
      }
      throw e;
    }
    process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : reportMarkdown(report));
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`report failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
