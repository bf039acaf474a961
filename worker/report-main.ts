/**
 * `npm run report -- <workflowId> [--run-id R] [--json]`: the audit report of one
 * updateLinkedImages run, finished or still running, from its history on the server, as
 * Markdown for a change ticket or as one JSON object (AuditReport).
 * Exit codes: 0 printed, 1 workflow not found or server unreachable, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { buildAuditReport, describeInfo } from './history-report';
import { reportMarkdown } from './report-markdown';
import { connectClient, DEFAULT_ADDRESS } from './connection-settings';


export const REPORT_USAGE = `Usage: npm run report -- <workflowId> [--run-id <runId>] [--json]

Prints the audit report of one updateLinkedImages run, finished or still running: per image
(parent first) each stage's start, end, attempts and worker, the package changes, and the errors.

  --run-id <runId>   a specific run (default: the latest run of the workflow ID)
  --json             one JSON object (the AuditReport interface in worker/audit-report.ts)
  -h, --help         this text

Connection (as the temporal CLI): TEMPORAL_ADDRESS (default ${DEFAULT_ADDRESS}), TEMPORAL_NAMESPACE
(default "default"), TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE.`;

interface ReportArgs {
  help: boolean;
  workflowId: string;
  runId?: string;
  json: boolean;
}

class UsageError extends Error {}

const OPTIONS = { 'run-id': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

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
  return { help: false, workflowId: positionals[0], runId, json: values.json === true };
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
    let info;
    let history;
    try {
      // describe first: the history fetched after it is at least as new, so every activity it
      // lists as pending has its Scheduled event in that history (and one closed since is closed).
      const d = await client.workflow.getHandle(args.workflowId, args.runId).describe();
      info = describeInfo(d);
      history = await client.workflow.getHandle(args.workflowId, d.runId).fetchHistory();
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
    const report = buildAuditReport(history, { workflowId: args.workflowId, runId: info.runId, describe: info, server: { address, namespace } });
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
