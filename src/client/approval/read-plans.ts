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
 * something, paged PLANS_PAGE at a time; a run split into partitions is asked for the partitions
 * and each partition for its children. Null when the run does not wait for approval (or
 * has no set digest yet). Throws what the query throws (no worker answering, no such workflow).
 */
export async function readPlans(client: Client, workflowId: string, pageSize = PLANS_PAGE): Promise<PlanSet | null> {
  const first = await ask(client, workflowId, 0, pageSize);
  if (first.approval !== 'waiting' || first.setDigest === null) return null;
  const children: PlanLine[] = [];
  if (first.partitions) {
    for (const p of first.partitions)
      children.push(...(await pages(client, p.workflowId, p.offset, p.count, pageSize)));
  } else {
    children.push(
      ...first.children,
      ...(await pages(client, workflowId, first.children.length, first.total - first.children.length, pageSize)),
    );
  }
  return { setDigest: first.setDigest, parent: first.parent, children };
}

/** `count` plans of `workflowId` from `offset` on (fewer if a page comes back short). */
async function pages(
  client: Client,
  workflowId: string,
  offset: number,
  count: number,
  pageSize: number,
): Promise<PlanLine[]> {
  const out: PlanLine[] = [];
  while (out.length < count) {
    const page = await ask(client, workflowId, offset + out.length, Math.min(pageSize, count - out.length));
    if (!page.children.length) break;
    out.push(...page.children);
  }
  return out;
}

function ask(client: Client, workflowId: string, offset: number, limit: number): Promise<PlansPage> {
  return client.workflow.getHandle(workflowId).query(plansQuery, { offset, limit });
}
