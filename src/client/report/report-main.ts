/**
 * `npm run report -- <workflowId> [--run-id R] [--json]`: the audit report of one
 * updateLinkedImages run, finished or still running, from the histories of all its executions
 * on the server (its continue-as-new chain and its partitions), as Markdown for a change ticket
 * or as one JSON object (AuditReport).
 * Exit codes: 0 printed, 1 workflow not found or server unreachable, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { DEFAULT_PAGE_SIZE, readAuditReport } from './history-reader';
import { reportMarkdown } from './report-markdown';
import { connectClient, DEFAULT_ADDRESS } from '../connection-settings';


export const REPORT_USAGE = `Usage: npm run report -- <workflowId> [--run-id <runId>] [--json]

Prints the audit report of one updateLinkedImages run, finished or still running, read from
every execution of the run (its continue-as-new chain and its partitions' chains): the counts
per stage, the failures and errors, then per image (parent first) each stage's start, end,
attempts and worker, and the package changes.

  --run-id <runId>   any run of the chain to report (default: the latest run of the workflow ID)
  --json             one JSON object (the AuditReport interface in src/client/report/audit-report.ts)
  --page-size <n>    history events asked per request (default ${DEFAULT_PAGE_SIZE}; fewer are
                     asked while a page is over gRPC's 4 MB limit)
  -h, --help         this text

Connection (as the temporal CLI): TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE
(default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE.`;

interface ReportArgs {
  help: boolean;
  workflowId: string;
  runId?: string;
  json: boolean;
  pageSize?: number;
}

class UsageError extends Error {}

const OPTIONS = { 'run-id': { type: 'string' }, json: { type: 'boolean' }, 'page-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function parseReportArgs(argv: string[]): ReportArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true, workflowId: '', json: false };
  if (positionals.length !== 1 || positionals[0].trim() === '') {
    throw new UsageError(`Expected exactly one workflow ID, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  }
  const runId = values['run-id'];
  if (runId !== undefined && runId.trim() === '') throw new UsageError('Expected --run-id to be a run ID, got ""');
  const size = values['page-size'];
  if (size !== undefined && !/^[1-9]\d{0,5}$/.test(size)) throw new UsageError(`Expected --page-size to be a whole number from 1 to 999999, got ${JSON.stringify(size)}`);
  return { help: false, workflowId: positionals[0], runId, json: values.json === true, pageSize: size === undefined ? undefined : Number(size) };
}

async function main(argv: string[]): Promise<number> {
  let args: ReportArgs;
  try {
    args = parseReportArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run report -- --help" for the options.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(REPORT_USAGE + '\n');
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
      report = await readAuditReport(client, args.workflowId, { runId: args.runId, pageSize: args.pageSize, server: { address, namespace } });
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) {
        process.stderr.write(`No workflow with ${what} in namespace '${namespace}' on ${address}. "npm run temporal -- workflow list" shows the runs there.\n`);
        return 1;
      }
      if (e instanceof NamespaceNotFoundError) {
        process.stderr.write(`Namespace '${namespace}' does not exist on ${address} (looking for ${what}). Set TEMPORAL_NAMESPACE.\n`);
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`report failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
