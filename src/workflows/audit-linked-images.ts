import { ActivityCancellationType, ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities } from '../activities/create-activities';
import type { AuditOutput } from '../activities/types';
import { hostQueueOf } from './activity-options';
import { DURATION, HOST_NAME } from './input';
import { invalidInput } from './invalid-input';
import { runCapped } from './run-capped';
import { selectChildren } from './select-children';

const AuditInputSchema = z
  .object({
    image: z.string({ required_error: 'required: the absolute path of the parent image', invalid_type_error: 'expected a string path' }).refine((s) => s.startsWith('/'), 'expected an absolute path'),
    children: z.array(z.string(), { invalid_type_error: 'expected a list of child names' }).optional(),
    host: z.string({ invalid_type_error: 'expected a host name' }).regex(HOST_NAME, 'expected a host name (letters, digits, . _ -)').optional(),
    hostTaskQueue: z.string({ invalid_type_error: 'expected a task queue name' }).min(1).optional(),
    hostTimeout: z.string({ invalid_type_error: "expected a duration like '10m'" }).regex(DURATION, "expected a duration like '90s', '10m' or '1h'").default('10m'),
  })
  .strict();

export type AuditRequest = z.input<typeof AuditInputSchema>;

export interface AuditRunResult {
  image: string;
  /** pkg(5)'s `audit-linked -a`: exit 0 when every child is synced, 52 when any diverged, 1 on errors. */
  status: 'synced' | 'diverged' | 'failed';
  exitCode: number;
  children: { name: string; status: 'synced' | 'diverged' | 'failed'; diverged: AuditOutput['diverged']; error: string | null }[];
}

const acts = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', heartbeatTimeout: '15 seconds', retry: { maximumAttempts: 3 }, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

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
  if (routed && (raw === null || typeof raw !== 'object' || (raw as { host?: unknown }).host === undefined)) problems.push("host: required: the host that holds the image (its worker polls task queue 'linked-images@<host>')");
  if (!r.success || problems.length) throw invalidInput(problems);
  const input = r.data!;
  const route = routed ? { taskQueue: hostQueueOf({ host: input.host!, hostTaskQueue: input.hostTaskQueue }), scheduleToStartTimeout: input.hostTimeout as '10m' } : {};
  const described = await acts.describeImage.executeWithOptions({ startToCloseTimeout: '1 minute', activityId: 'describe/parent', summary: `describe ${input.image}`, ...route }, [{ image: input.image }]);
  const children = selectChildren(input, described.problem, described.children);
  const settled = await runCapped(children, 0, false, (c) =>
    acts.auditChild.executeWithOptions({ startToCloseTimeout: '2 minutes', heartbeatTimeout: '15 seconds', activityId: `audit/${c.name}`, summary: `audit ${c.name}`, ...route }, [{ image: input.image, child: c }]),
  );
  const out = children.map((c, i) => {
    const s = settled[i];
    if (s.ok === true) return { name: c.name, status: s.value.status, diverged: s.value.diverged, error: null };
    const cause = (s as { error?: { cause?: unknown } }).error?.cause;
    return { name: c.name, status: 'failed' as const, diverged: [], error: cause instanceof ApplicationFailure ? `${cause.type}: ${cause.message}` : String(cause ?? 'not run') };
  });
  const status = out.some((c) => c.status === 'failed') ? 'failed' : out.some((c) => c.status === 'diverged') ? 'diverged' : 'synced';
  return { image: input.image, status, exitCode: status === 'synced' ? 0 : status === 'diverged' ? 52 : 1, children: out };
}
