/**
 * One round of reading a run from the server: describe (status, task queue, pending activities),
 * the `progress` query of the run and of its active partition, describe of that partition (its
 * activities are the ones in flight), the pollers of the host's and the workflow's task queues,
 * and, while the run waits for plan approval, how many plans wait (the `plans` query).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parseActivityId } from '../../contract/activity-ids';
import type { HeartbeatProgress } from '../../contract/activity-types';
import { hostTaskQueue } from '../../contract/input';
import { plansQuery } from '../../contract/controls';
import { progressQuery } from '../../contract/messages';
import type { Progress } from '../../contract/run-types';
import type { PendingActivity, QueuePollers, RunSnapshot, RunStatus } from './run-snapshot';

/** A query that gets no answer in this time (no worker, a worker restarting) counts as unanswered, in ms. */
const QUERY_DEADLINE_MS = 2000;

/** Which run to read. `runId` null: the latest run of the ID (a continue-as-new chain's newest execution). */
export interface RunTarget {
  workflowId: string;
  runId: string | null;
}

/** What stays the same for a run between rounds (read once): its host queue and workflow queue. */
export interface RunQueues {
  host: string | null;
  hostQueue: string | null;
  workflowQueue: string | null;
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

function dateOf(t: Timestamp): Date | null {
  if (!t || t.seconds === undefined || t.seconds === null) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

const STATUS: Record<number, RunStatus> = {
  1: 'running',
  2: 'completed',
  3: 'failed',
  4: 'cancelled',
  5: 'terminated',
  6: 'continued-as-new',
  7: 'timed-out',
};

const STATE: Record<number, PendingActivity['state']> = {
  1: 'scheduled',
  2: 'started',
  3: 'cancel-requested',
  4: 'paused',
};

/**
 * Reads the run once. Throws what the SDK throws when the server cannot be reached or the
 * workflow does not exist (WorkflowNotFoundError); a query without an answer and a failed
 * describeTaskQueue are not errors (the snapshot says so). `queues` is read from the run's
 * first event when not given; pass the result's `queues` back next round.
 */
export async function readRunSnapshot(
  client: Client,
  target: RunTarget,
  queues: RunQueues | null,
): Promise<{ snapshot: RunSnapshot; queues: RunQueues }> {
  const handle = client.workflow.getHandle(target.workflowId, target.runId ?? undefined);
  const desc = await handle.describe();
  queues ??= await readQueues(client, target.workflowId, desc.runId, desc.taskQueue);
  const status = STATUS[desc.raw.workflowExecutionInfo?.status ?? 0] ?? 'unknown';
  const at = new Date();
  const running = status === 'running';
  const progress = running ? await ask(client, target.workflowId, target.runId) : null;
  let partition: RunSnapshot['partition'] = null;
  let pending = pendingOf(desc.raw.pendingActivities ?? []);
  let pendingOwner = target.workflowId;
  const active = progress?.partitions?.active;
  if (active) {
    const ids = progress!.partitions!.workflowIds;
    const inner = await client.workflow
      .getHandle(active)
      .describe()
      .catch(() => null);
    partition = {
      index: ids.indexOf(active) + 1,
      count: ids.length,
      workflowId: active,
      progress: await ask(client, active, null),
    };
    if (inner) {
      pending = pendingOf(inner.raw.pendingActivities ?? []);
      pendingOwner = active;
    }
  }
  const plansWaiting = progress?.controls?.approval === 'waiting' ? await plansCount(client, target) : null;
  const polled: QueuePollers[] = [];
  if (running) {
    if (queues.hostQueue) polled.push(await pollersOf(client, queues.hostQueue, 'host'));
    if (queues.workflowQueue) polled.push(await pollersOf(client, queues.workflowQueue, 'workflow'));
  }
  return {
    snapshot: {
      workflowId: target.workflowId,
      runId: desc.runId,
      status,
      at,
      progress,
      partition,
      pending,
      pendingOf: pendingOwner,
      plansWaiting,
      host: queues.host,
      queues: polled,
    },
    queues,
  };
}

async function ask(client: Client, workflowId: string, runId: string | null): Promise<Progress | null> {
  const h = client.workflow.getHandle(workflowId, runId ?? undefined);
  return client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => h.query(progressQuery)).catch(() => null);
}

/**
 * The plans the run shows for approval (the parent's, if it changes something, and the
 * children's with changes, counting any failed or skipped since), from the first page of the
 * `plans` query (of each partition, for a run split into partitions); null without an answer.
 */
async function plansCount(client: Client, target: RunTarget): Promise<number | null> {
  const first = (id: string, runId: string | null) =>
    client
      .withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        client.workflow.getHandle(id, runId ?? undefined).query(plansQuery, { offset: 0, limit: 1 }),
      )
      .catch(() => null);
  const page = await first(target.workflowId, target.runId);
  if (!page) return null;
  let children = page.total;
  if (page.partitions) {
    children = 0;
    for (const p of page.partitions) {
      const inner = await first(p.workflowId, null);
      if (!inner) return null;
      children += inner.total;
    }
  }
  return children + (page.parent ? 1 : 0);
}

/** The host (and its queue) from the run's input, in its first event; the workflow queue from describe. */
async function readQueues(
  client: Client,
  workflowId: string,
  runId: string,
  workflowQueue: string,
): Promise<RunQueues> {
  let host: string | null = null;
  let hostQueue: string | null = null;
  try {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 1,
    });
    const payload = page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = payload
      ? defaultPayloadConverter.fromPayload<{ host?: unknown; hostTaskQueue?: unknown }>(payload)
      : null;
    if (input && typeof input.host === 'string') {
      host = input.host;
      hostQueue = typeof input.hostTaskQueue === 'string' ? input.hostTaskQueue : hostTaskQueue(input.host);
    }
  } catch {
    // a run whose input cannot be read (another converter): the host queue is not checked
  }
  return { host, hostQueue, workflowQueue };
}

function pendingOf(raw: temporal.api.workflow.v1.IPendingActivityInfo[]): PendingActivity[] {
  return raw.map((p) => {
    const id = p.activityId ?? '';
    const parsed = parseActivityId(id);
    const f = p.lastFailure;
    return {
      activityId: id,
      stage: parsed?.stage ?? null,
      name: parsed?.name ?? id,
      state: STATE[p.state ?? 0] ?? 'other',
      attempt: p.attempt ?? 1,
      maximumAttempts: p.maximumAttempts ?? 0,
      lastFailure: f ? { type: f.applicationFailureInfo?.type || null, message: f.message ?? '' } : null,
      nextAttemptAt: dateOf(p.nextAttemptScheduleTime as Timestamp),
      lastStartedAt: dateOf(p.lastStartedTime as Timestamp),
      lastHeartbeatAt: dateOf(p.lastHeartbeatTime as Timestamp),
      heartbeat: heartbeatOf(p.heartbeatDetails?.payloads?.[0]),
      lastWorker: p.lastWorkerIdentity || null,
    };
  });
}

function heartbeatOf(payload: temporal.api.common.v1.IPayload | undefined): HeartbeatProgress | null {
  if (!payload) return null;
  try {
    const d = defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload);
    return d && typeof d.done === 'number' && typeof d.total === 'number' && (d.unit === 'bytes' || d.unit === 'steps')
      ? d
      : null;
  } catch {
    return null;
  }
}

async function pollersOf(client: Client, name: string, kind: QueuePollers['kind']): Promise<QueuePollers> {
  try {
    const r = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType:
        kind === 'host'
          ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
          : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return {
      name,
      kind,
      pollers: (r.pollers ?? []).map((p) => ({
        identity: p.identity ?? '',
        lastAccessAt: dateOf(p.lastAccessTime as Timestamp),
      })),
      error: null,
    };
  } catch (e) {
    return { name, kind, pollers: [], error: (e as Error).message };
  }
}
