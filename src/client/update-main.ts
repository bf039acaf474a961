/**
 * `npm run update -- <parent image> [-C N] ...`: starts one updateLinkedImages run the way an
 * operator should — a workflow ID that is refused if it was ever used (so a run is never done
 * twice), a static summary for the Web UI, the search attributes set from the start — then
 * prints pkg(5)'s progress lines and the per-child table, and exits with pkg(5)'s code; a run
 * that fails, is terminated, cancelled or times out exits 1 with the failure's type and message.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowIdReusePolicy } from '@temporalio/client';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { timestampOf } from '../model/fmri';
import { UPDATE_LINKED_IMAGES, type UpdateLinkedImagesWorkflow } from '../contract/workflows';
import { hostTaskQueue } from '../contract/input';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../contract/search-attributes';
import { connectClient, DEFAULT_ADDRESS } from './connection-settings';
import { describeRunFailure } from './run-failure';
import { resultTable, watchProgress } from './progress-printer';
import { DEFAULT_TASK_QUEUE } from '../contract/workflows';

const USAGE = `Usage: npm run update -- <parent image> [options]

  -C, --concurrency N     children updated at once (default 1; 0 or less: no limit), like pkg -C
  --child <zone:name>     only these children (repeatable; default all attached)
  -i, --ignore <zone:name> leave these children out (repeatable), like pkg -i
  --package <stem>        only these packages (repeatable; default all installed)
  -n, --dry-run           plan only, like pkg update -n
  --host <name>           the host that holds the image (default this machine: ${os.hostname()});
                          its worker takes the activities from task queue ${hostTaskQueue('<host>')}
  --host-timeout <dur>    how long an activity may wait for that host's worker, e.g. 90s, 10m (default 10m)
  --id <workflow ID>      default update-<image>-<time>; an ID used before is refused
  --task-queue <name>     the workflow task queue (default $LINKED_IMAGES_TASK_QUEUE or ${DEFAULT_TASK_QUEUE})
  --no-wait               start and print the workflow ID, do not follow the run
The server comes from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / a profile (default ${DEFAULT_ADDRESS}).`;

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        concurrency: { type: 'string', short: 'C' },
        child: { type: 'string', multiple: true },
        ignore: { type: 'string', short: 'i', multiple: true },
        package: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean', short: 'n' },
        host: { type: 'string' },
        'host-timeout': { type: 'string' },
        id: { type: 'string' },
        'task-queue': { type: 'string' },
        'no-wait': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message.split('. To specify')[0]}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`Expected one <parent image> path, got ${positionals.length}\n\n${USAGE}\n`);
    return 2;
  }
  const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency);
  if (!Number.isInteger(concurrency)) {
    process.stderr.write(`--concurrency expects an integer, got '${values.concurrency}'\n`);
    return 2;
  }
  const image = path.resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]);
  const host = (values.host as string | undefined) ?? process.env.LINKED_IMAGES_HOST ?? os.hostname();
  const input = {
    image,
    host,
    concurrency,
    ...(values.child ? { children: values.child as string[] } : {}),
    ...(values.ignore ? { ignore: values.ignore as string[] } : {}),
    ...(values.package ? { packages: values.package as string[] } : {}),
    ...(values['dry-run'] ? { dryRun: true } : {}),
    ...(values['host-timeout'] ? { hostTimeout: values['host-timeout'] as string } : {}),
  };
  const workflowId = (values.id as string | undefined) ?? `update-${image.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${timestampOf(new Date())}`;
  const who = values.child ? `${(values.child as string[]).length} children` : 'all children';
  const staticSummary = `update ${image}: ${who}, -C ${concurrency}${values['dry-run'] ? ', dry run' : ''}`;

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
        taskQueue: (values['task-queue'] as string | undefined) ?? process.env.LINKED_IMAGES_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
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
        process.stderr.write(`Workflow ID '${workflowId}' was already used; a run is never started twice under one ID. See it with: npm run report -- ${workflowId}\n`);
        return 1;
      }
      throw e;
    }
    process.stdout.write(`Started ${workflowId} (${staticSummary}) on ${address}, host '${host}'\n`);
    if (values['no-wait']) return 0;
    const watch = watchProgress(handle, (line) => process.stdout.write(`  ${line}\n`));
    let result;
    try {
      result = await handle.result();
    } catch (e) {
      await watch.stop(false);
      if (!(e instanceof WorkflowFailedError)) throw e;
      process.stderr.write(`\n${describeRunFailure(workflowId, e)}\nAudit: npm run report -- ${workflowId}\n`);
      return 1;
    }
    await watch.stop();
    process.stdout.write(`\n${resultTable(result).join('\n')}\n\nStatus: ${result.status}, exit code ${result.exitCode}. Audit: npm run report -- ${workflowId}\n`);
    return result.exitCode;
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`update: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
