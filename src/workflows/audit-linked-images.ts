import { ActivityCancellationType, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../contract/activity-types';
import { activityId, PARENT } from '../contract/activity-ids';
import { hostQueueOf } from './activity-options';
import { AuditInputSchema, type AuditRequest, type AuditRunResult } from '../contract/audit';
import { invalidInput } from '../contract/invalid-input';
import { runCapped } from './run-capped';
import { selectChildren } from './select-children';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumAttempts: 3 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * Are the children in step with their parent? Like `pkg audit-linked -a`: every child is
 * checked at once (collect-all, no cap: an audit only reads), and each answers synced or
 * diverged with the packages that are out of step.
 */
export async function auditLinkedImages(raw: AuditRequest): Promise<AuditRunResult> {
  // Audits started before host task queues ran their activities on the workflow's own queue.
  const routed = patched('audit-host-queues');
  const r = AuditInputSchema.safeParse(raw);
  const problems = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  if (routed && (raw === null || typeof raw !== 'object' || (raw as { host?: unknown }).host === undefined))
    problems.push("host: required: the host that holds the image (its worker polls task queue 'linked-images@<host>')");
  if (!r.success || problems.length) throw invalidInput(problems);
  const input = r.data!;
  const route = routed
    ? {
        taskQueue: hostQueueOf({ host: input.host!, hostTaskQueue: input.hostTaskQueue }),
        scheduleToStartTimeout: input.hostTimeout as '10m',
      }
    : {};
  const described = await acts.describeImage.executeWithOptions(
    {
      startToCloseTimeout: '1 minute',
      activityId: activityId('describe', PARENT),
      summary: `describe ${input.image}`,
      ...route,
    },
    [{ image: input.image }],
  );
  const children = selectChildren(input, described.problem, described.children);
  const settled = await runCapped(children, 0, false, (c) =>
    acts.auditChild.executeWithOptions(
      {
        startToCloseTimeout: '2 minutes',
        heartbeatTimeout: '15 seconds',
        activityId: activityId('audit', c.name),
        summary: `audit ${c.name}`,
        ...route,
      },
      [{ image: input.image, child: c }],
    ),
  );
  const out = children.map((c, i) => {
    const s = settled[i];
    if (s.ok === true) return { name: c.name, status: s.value.status, diverged: s.value.diverged, error: null };
    const cause = (s as { error?: { cause?: unknown } }).error?.cause;
    return {
      name: c.name,
      status: 'failed' as const,
      diverged: [],
      error: cause instanceof ApplicationFailure ? `${cause.type}: ${cause.message}` : String(cause ?? 'not run'),
    };
  });
  const status = out.some((c) => c.status === 'failed')
    ? 'failed'
    : out.some((c) => c.status === 'diverged')
      ? 'diverged'
      : 'synced';
  return {
    image: input.image,
    status,
    exitCode: status === 'synced' ? 0 : status === 'diverged' ? 52 : 1,
    children: out,
  };
}
