/**
 * Reads every execution of an `updateLinkedImages` run from the server, page by page, into an
 * AuditBuilder: the run's continue-as-new chain from its first run to its latest, then each
 * partition's chain (`<workflowId>/children-<k>`, named by the run's child-workflow events).
 * Pages are bounded in events (`pageSize`) and halved while a page is larger than the client
 * may receive (gRPC's 4 MB), so a history of any size is read; memory holds one page at a time.
 */
import type { Client } from '@temporalio/client';
import type { AuditReport } from './audit-report';
import { AuditBuilder } from './audit-builder';
import { describeInfo, type DescribeInfo } from './report-options';
import type { HistoryEvent } from './history-decode';

/** Events per page asked of the server (it may return fewer, or a whole batch more). */
export const DEFAULT_PAGE_SIZE = 256;

export interface ReadReportOptions {
  /** Any run of the chain to report (default: the latest run of the workflow ID). */
  runId?: string;
  /** @default DEFAULT_PAGE_SIZE */
  pageSize?: number;
  server?: { address: string; namespace: string };
  now?: Date;
}

/** gRPC's answer when a response is over the client's receive limit: ask for fewer events. */
export function isResponseTooLarge(e: unknown): boolean {
  const err = e as { code?: unknown; details?: unknown; message?: unknown };
  return (
    err?.code === 8 /* RESOURCE_EXHAUSTED */ &&
    /larger than max/i.test(`${String(err.details ?? '')} ${String(err.message ?? '')}`)
  );
}

/**
 * The events of one execution, a page at a time: at most `pageSize` events per request, fewer
 * while a page is over the receive limit (halved down to 1, then doubled back once a page fits).
 */
export async function* historyPages(
  client: Client,
  execution: { workflowId: string; runId: string },
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<HistoryEvent[]> {
  const max = Math.max(1, Math.floor(pageSize));
  let size = max;
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    let res;
    try {
      res = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution,
        maximumPageSize: size,
        nextPageToken,
        skipArchival: true,
      });
    } catch (e) {
      if (!isResponseTooLarge(e) || size === 1) throw e;
      size = Math.max(1, Math.floor(size / 2));
      continue;
    }
    yield res.history?.events ?? [];
    if (!res.nextPageToken?.length) return;
    nextPageToken = res.nextPageToken;
    size = Math.min(max, size * 2);
  }
}

/**
 * The audit report of a run: describe (the latest run, or `runId`) first, so the history read
 * after it holds every activity it lists as pending; then every execution of its chain, from the
 * chain's first run; then each partition's chain the same way. Throws WorkflowNotFoundError when
 * there is no such workflow.
 */
export async function readAuditReport(
  client: Client,
  workflowId: string,
  opts: ReadReportOptions = {},
): Promise<AuditReport> {
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const builder = new AuditBuilder({ workflowId, runId: opts.runId, server: opts.server, now: opts.now });
  const d = describeInfo(await client.workflow.getHandle(workflowId, opts.runId).describe());
  await readChain(client, builder, workflowId, d.firstRunId || d.runId, d, pageSize);
  for (const p of builder.partitionsToRead()) {
    if (!p.firstRunId) continue; // initiated, not started yet: the report lists it without executions
    try {
      const pd = describeInfo(await client.workflow.getHandle(p.workflowId).describe());
      await readChain(client, builder, p.workflowId, p.firstRunId, pd, pageSize);
    } catch (e) {
      // Not a WorkflowNotFoundError any more: the run itself was found.
      throw new Error(`Could not read partition ${p.workflowId} of ${workflowId}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return builder.report();
}

/** One continue-as-new chain, from `firstRunId` to the run that did not continue as new. */
async function readChain(
  client: Client,
  builder: AuditBuilder,
  workflowId: string,
  firstRunId: string,
  described: DescribeInfo | undefined,
  pageSize: number,
): Promise<void> {
  const seen = new Set<string>();
  for (let runId: string | null = firstRunId; runId && !seen.has(runId);) {
    seen.add(runId);
    builder.beginExecution(workflowId, runId);
    for await (const page of historyPages(client, { workflowId, runId }, pageSize)) builder.addEvents(page);
    let d: DescribeInfo | undefined = described?.runId === runId ? described : undefined;
    // The chain moved on after describe (it continued as new while we read): describe this run now.
    if (!d && builder.currentOpen()) d = describeInfo(await client.workflow.getHandle(workflowId, runId).describe());
    runId = builder.endExecution(d).continuedAs;
  }
}
