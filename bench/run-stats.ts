import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const { HistoryEvent: HistoryEventCodec } = temporal.api.history.v1;
const { Payload } = temporal.api.common.v1;
const { EventType } = temporal.api.enums.v1;

/** Where the largest payload of an execution sits. */
export interface PayloadLocation {
  /** `data.length` + the bytes of every metadata key and value. */
  bytes: number;
  eventId: number;
  /** e.g. `ActivityTaskScheduled`. */
  eventType: string;
  /** Field path inside the event, e.g. `activityTaskScheduledEventAttributes.input.payloads[0]`. */
  field: string;
}

export interface ExecutionStats {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** `root`: the first run of the workflow asked for; `continued-as-new`: a later run of a chain; `child`: the first run of a child workflow. */
  origin: 'root' | 'continued-as-new' | 'child';
  /** The run that continued as new into this one, or the run that started this child; null for the root. */
  from: { workflowId: string; runId: string } | null;
  events: number;
  /** Sum of the protobuf-encoded size of every event (HistoryEvent.encode(e).finish().length), in bytes. */
  historyBytes: number;
  largestPayload: PayloadLocation | null;
  /** The closing event type (`WorkflowExecutionCompleted`, `WorkflowExecutionContinuedAsNew`, ...), or `running`. */
  status: string;
  /** WorkflowTaskFailed and WorkflowTaskTimedOut events: workflow tasks the worker or server gave up on (e.g. FORCE_CLOSE_COMMAND). */
  workflowTaskFailures: number;
}

export interface RunStats {
  workflowId: string;
  /** The root's chain in order, then each child's chain, breadth first. */
  executions: ExecutionStats[];
  totals: {
    executions: number;
    /** Runs that ended with continue-as-new. */
    continuedAsNew: number;
    /** Child workflows started (ChildWorkflowExecutionStarted events). */
    children: number;
    events: number;
    /** WorkflowTaskFailed and WorkflowTaskTimedOut events in every execution. */
    workflowTaskFailures: number;
    historyBytes: number;
    /** getWorkflowExecutionHistory calls made, and how often a page had to be asked for again smaller (RESOURCE_EXHAUSTED). */
    pages: number;
    pageRetries: number;
  };
  max: {
    events: number;
    historyBytes: number;
    /** The largest payload of the whole run and the execution it is in; null when no event carries one. */
    payload: (PayloadLocation & { workflowId: string; runId: string }) | null;
  };
}

export interface RunStatsOptions {
  /** Any run of the chain; its first run is found through WorkflowExecutionStarted.firstExecutionRunId. @default the latest run */
  runId?: string;
  /** Most events asked for per history request (maximumPageSize). @default 100 */
  pageSize?: number;
  /**
   * Bytes a page should stay under: once events have been seen, a page asks for at most
   * pageBytes / (largest encoded event so far) events. @default 1_000_000 (the client receives at most 4 MB)
   */
  pageBytes?: number;
}

const CLOSING = new Set([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionContinuedAsNew',
]);
const RESOURCE_EXHAUSTED = 8; // gRPC status code

/**
 * Statistics of everything one workflow run put into Temporal's history: its continue-as-new
 * chain (from the first run; a history ending in WorkflowExecutionContinuedAsNew names the next
 * run) and every child workflow it started (ChildWorkflowExecutionStarted names the child's
 * first run), recursively, each child with its own chain. Histories are read page by page
 * through `client.workflowService.getWorkflowExecutionHistory`, because one page of a big
 * history can exceed the client's 4 MB gRPC receive limit: at most `opts.pageSize` events, and
 * fewer once large events were seen (`opts.pageBytes`). A page that still exceeds the limit
 * (RESOURCE_EXHAUSTED) is asked for again with half the size, and later pages stay at or below
 * that; note that the client's default retry interceptor first retries RESOURCE_EXHAUSTED for
 * about 40 s (10 attempts), so that fallback is slow: keep pageBytes well under the limit.
 * Works on running workflows too (their status is `running`). Rejects with the client's error
 * for an unknown workflow or run, or when even a one-event page cannot be received.
 */
export async function collectRunStats(
  client: Client,
  workflowId: string,
  opts: RunStatsOptions = {},
): Promise<RunStats> {
  const reader = new HistoryReader(client, opts.pageSize ?? 100, opts.pageBytes ?? 1_000_000);
  const first = await reader.firstRunId(workflowId, opts.runId ?? '');
  const executions: ExecutionStats[] = [];
  const seen = new Set<string>();
  const queue: { workflowId: string; runId: string; origin: ExecutionStats['origin']; from: ExecutionStats['from'] }[] =
    [{ workflowId, runId: first, origin: 'root', from: null }];
  let children = 0;
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next.runId)) continue;
    seen.add(next.runId);
    const { stats, continuedAs, childRuns } = await reader.execution(next.workflowId, next.runId);
    executions.push({ ...stats, origin: next.origin, from: next.from });
    const here = { workflowId: next.workflowId, runId: next.runId };
    // The chain continues before the children, so each chain stays together in the list.
    if (continuedAs)
      queue.unshift({ workflowId: next.workflowId, runId: continuedAs, origin: 'continued-as-new', from: here });
    children += childRuns.length;
    for (const c of childRuns) queue.push({ ...c, origin: 'child', from: here });
  }
  let maxPayload: RunStats['max']['payload'] = null;
  for (const e of executions) {
    if (e.largestPayload && (!maxPayload || e.largestPayload.bytes > maxPayload.bytes))
      maxPayload = { ...e.largestPayload, workflowId: e.workflowId, runId: e.runId };
  }
  return {
    workflowId,
    executions,
    totals: {
      executions: executions.length,
      continuedAsNew: executions.filter((e) => e.status === 'WorkflowExecutionContinuedAsNew').length,
      children,
      events: sum(executions.map((e) => e.events)),
      workflowTaskFailures: sum(executions.map((e) => e.workflowTaskFailures)),
      historyBytes: sum(executions.map((e) => e.historyBytes)),
      pages: reader.pages,
      pageRetries: reader.retries,
    },
    max: {
      events: Math.max(0, ...executions.map((e) => e.events)),
      historyBytes: Math.max(0, ...executions.map((e) => e.historyBytes)),
      payload: maxPayload,
    },
  };
}

class HistoryReader {
  pages = 0;
  retries = 0;
  /** Largest encoded event seen so far, in bytes: later pages ask for fewer events when it is big. */
  private maxEventBytes = 0;

  constructor(
    private readonly client: Client,
    private pageSize: number,
    private readonly pageBytes: number,
  ) {}

  private nextPageSize(): number {
    if (this.maxEventBytes === 0) return this.pageSize;
    return Math.max(1, Math.min(this.pageSize, Math.floor(this.pageBytes / this.maxEventBytes)));
  }

  /** The first run of the chain that `runId` ('' = the latest run) belongs to. */
  async firstRunId(workflowId: string, runId: string): Promise<string> {
    const [started] = (await this.page(workflowId, runId, undefined, 1)).events;
    const attrs = started?.workflowExecutionStartedEventAttributes;
    if (!attrs)
      throw new Error(
        `History of workflow ${workflowId} ${runId || '(latest run)'} does not begin with WorkflowExecutionStarted`,
      );
    return attrs.firstExecutionRunId || attrs.originalExecutionRunId || runId;
  }

  async execution(
    workflowId: string,
    runId: string,
  ): Promise<{
    stats: Omit<ExecutionStats, 'origin' | 'from'>;
    continuedAs: string | null;
    childRuns: { workflowId: string; runId: string }[];
  }> {
    const stats: Omit<ExecutionStats, 'origin' | 'from'> = {
      workflowId,
      runId,
      workflowType: '',
      events: 0,
      historyBytes: 0,
      largestPayload: null,
      status: 'running',
      workflowTaskFailures: 0,
    };
    let continuedAs: string | null = null;
    const childRuns: { workflowId: string; runId: string }[] = [];
    let token: Uint8Array | undefined;
    let last = '';
    do {
      const page = await this.page(workflowId, runId, token, this.nextPageSize());
      for (const e of page.events) {
        const bytes = HistoryEventCodec.encode(e).finish().length;
        stats.events++;
        stats.historyBytes += bytes;
        this.maxEventBytes = Math.max(this.maxEventBytes, bytes);
        last = eventTypeName(e);
        if (last === 'WorkflowTaskFailed' || last === 'WorkflowTaskTimedOut') stats.workflowTaskFailures++;
        const biggest = largestPayloadIn(e, last);
        if (biggest && (!stats.largestPayload || biggest.bytes > stats.largestPayload.bytes))
          stats.largestPayload = biggest;
        const started = e.workflowExecutionStartedEventAttributes;
        if (started) stats.workflowType = started.workflowType?.name ?? '';
        const can = e.workflowExecutionContinuedAsNewEventAttributes;
        if (can?.newExecutionRunId) continuedAs = can.newExecutionRunId;
        const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
        if (child?.workflowId && child.runId) childRuns.push({ workflowId: child.workflowId, runId: child.runId });
      }
      token = page.nextPageToken;
    } while (token && token.length > 0);
    if (CLOSING.has(last)) stats.status = last;
    return { stats, continuedAs, childRuns };
  }

  /** One page; asked for again with half the size (kept for later pages) while it is too big for the client to receive. */
  private async page(
    workflowId: string,
    runId: string,
    token: Uint8Array | undefined,
    size: number,
  ): Promise<{ events: HistoryEvent[]; nextPageToken?: Uint8Array }> {
    for (;;) {
      this.pages++;
      try {
        const r = await this.client.workflowService.getWorkflowExecutionHistory({
          namespace: this.client.options.namespace,
          execution: { workflowId, runId },
          maximumPageSize: size,
          nextPageToken: token,
        });
        return { events: r.history?.events ?? [], nextPageToken: r.nextPageToken ?? undefined };
      } catch (e) {
        if ((e as { code?: unknown }).code !== RESOURCE_EXHAUSTED || size <= 1) throw e;
        this.retries++;
        size = Math.max(1, Math.floor(size / 2));
        this.pageSize = Math.min(this.pageSize, size);
      }
    }
  }
}

/** `ActivityTaskScheduled` for EVENT_TYPE_ACTIVITY_TASK_SCHEDULED. */
function eventTypeName(e: HistoryEvent): string {
  const raw = EventType[e.eventType ?? 0] ?? `EVENT_TYPE_${e.eventType}`;
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

/** The largest Payload anywhere in the event (inputs, results, details, memo, headers, search attributes, failures). */
function largestPayloadIn(e: HistoryEvent, eventType: string): PayloadLocation | null {
  let best: PayloadLocation | null = null;
  const visit = (v: unknown, field: string) => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
    // Decoded messages are protobufjs reflection instances: their type is `$type`.
    if ((v as { $type?: unknown }).$type === Payload) {
      const bytes = payloadBytes(v as temporal.api.common.v1.IPayload);
      if (!best || bytes > best.bytes) best = { bytes, eventId: Number(e.eventId ?? 0), eventType, field };
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${field}[${i}]`));
      return;
    }
    for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], field ? `${field}.${k}` : k);
  };
  visit(e, '');
  return best;
}

function payloadBytes(p: temporal.api.common.v1.IPayload): number {
  let n = p.data?.length ?? 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) n += Buffer.byteLength(k) + (v?.length ?? 0);
  return n;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
