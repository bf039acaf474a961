/**
 * The set of plans a run waits to have approved (input `approval: true`), and the `plans`
 * query's pages over it. The set digest is SHA-256 (@noble/hashes: pure JavaScript, so it runs
 * in the workflow sandbox, which has no node:crypto) over the parent's plan digest and each
 * segment's digest of its prepared children (`<name> <plan digest>` lines in selection order):
 * a run split into partitions gets each partition's segment digest in its report and hashes them
 * in partition order, so approving means approving exactly these plans, whatever the run's size.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { pageArgs } from './children-page';
import type { ApprovalState, PlanLine, PlansPage } from '../contract/controls';
import { STATUS, type SegmentState } from './segment-state';

/** At most this many plans per answer of the `plans` query. */
export const MAX_PLANS_PAGE = 1000;

function hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** The digest of a segment's prepared children (status `r`): `<name> <plan digest>` per line, in order. */
export function segmentPlanDigest(s: SegmentState): string {
  let text = '';
  for (let i = 0; i < s.names.length; i++) if (s.status[i] === STATUS.prepared) text += `${s.names[i]} ${s.plans[i]}\n`;
  return hex(text);
}

/** The run's set digest from the parent's plan digest (null: the parent changes nothing) and its segments' digests, in order. */
export function setDigestOf(parentPlan: string | null, segmentDigests: string[]): string {
  return hex(`parent ${parentPlan ?? '-'}\n${segmentDigests.join('\n')}\n`);
}

/** Child i's plan line, or null when it has no plan that changes something. */
export function planLine(s: SegmentState, i: number): PlanLine | null {
  const changes = s.changes[i];
  if (s.plans[i] === null || changes === null || changes === 0) return null;
  return {
    name: s.names[i],
    changes,
    planDigest: s.plans[i]!,
    downloadBytes: s.bytes?.[i] ?? null,
    included: s.status[i] === STATUS.prepared,
  };
}

/**
 * The `plans` query's page over a segment's plans with changes: the `offset`-th to the
 * (`offset + limit`)-th of them (`limit` default 100, at most MAX_PLANS_PAGE). A bad argument
 * fails the query, not the workflow, with a message naming the field.
 */
export function plansPage(
  args: { offset?: number; limit?: number } | undefined,
  s: SegmentState,
  head: { approval: ApprovalState; setDigest: string | null; parent: PlanLine | null },
): PlansPage {
  const { offset, limit } = pageArgs(args, MAX_PLANS_PAGE);
  const children: PlanLine[] = [];
  let total = 0;
  for (let i = 0; i < s.names.length; i++) {
    const line = planLine(s, i);
    if (!line) continue;
    if (total >= offset && children.length < limit) children.push(line);
    total++;
  }
  return { ...head, total, offset, children, partitions: null };
}
