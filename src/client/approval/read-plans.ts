/**
 * Reads every plan a run waits on from its `plans` query, a page at a time (a run may hold
 * thousands of zones, and a query's answer must stay small).
 */
import type { Client } from '@temporalio/client';
import { plansQuery, type PlanLine, type PlansPage } from '../../contract/controls';
import type { PlanSet } from './plan-lines';

/** Plans asked for per query. */
export const PLANS_PAGE = 100;

/**
 * The plans of the latest run of `workflowId`: the parent's and every child's that changes
 * something (included in the set or not), paged PLANS_PAGE at a time; a run split into
 * partitions lists its partitions instead, and each partition pages its own children's plans.
 * Null when the run does not wait for approval (or has no set digest yet). Throws what the
 * query throws (no worker answering, no such workflow).
 */
export async function readPlans(client: Client, workflowId: string, pageSize = PLANS_PAGE): Promise<PlanSet | null> {
  const first = await ask(client, workflowId, 0, pageSize);
  if (first.approval !== 'waiting' || first.setDigest === null) return null;
  const children: PlanLine[] = [];
  if (first.partitions) {
    for (const p of first.partitions) children.push(...(await allPlans(client, p.workflowId, pageSize)));
  } else {
    children.push(...first.children, ...(await allPlans(client, workflowId, pageSize, first)));
  }
  return { setDigest: first.setDigest, parent: first.parent, children };
}

/**
 * The children's plans of `workflowId` (one execution's own, not partitioned), page after page
 * until its `total`; after `first` when that page was read already.
 */
async function allPlans(client: Client, workflowId: string, pageSize: number, first?: PlansPage): Promise<PlanLine[]> {
  const out: PlanLine[] = [];
  let total = first?.total ?? Infinity;
  let offset = first ? first.children.length : 0;
  while (offset < total) {
    const page = await ask(client, workflowId, offset, pageSize);
    total = page.total;
    if (!page.children.length) break;
    out.push(...page.children);
    offset += page.children.length;
  }
  return out;
}

function ask(client: Client, workflowId: string, offset: number, limit: number): Promise<PlansPage> {
  return client.workflow.getHandle(workflowId).query(plansQuery, { offset, limit });
}
