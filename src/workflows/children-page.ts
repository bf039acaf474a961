import { ApplicationFailure } from '@temporalio/workflow';
import type { ChildDetail, ChildrenPage, ChildrenQueryArgs } from '../contract/run-types';

/** At most this many children per answer of the `children` query. */
export const MAX_CHILDREN_PAGE = 1000;
const DEFAULT_PAGE = 100;

/**
 * The `children` query's page over children at positions [offset, offset + count) of the run's
 * selection: `detail(i)` gives the child at position `offset + i`. A bad argument fails the query
 * (not the workflow) with a message naming the field.
 */
export function childrenPage(
  args: ChildrenQueryArgs | undefined,
  total: number,
  offset: number,
  count: number,
  detail: (i: number) => ChildDetail,
): ChildrenPage {
  const { offset: from, limit } = pageArgs(args, MAX_CHILDREN_PAGE);
  const children: ChildDetail[] = [];
  for (let p = Math.max(from, offset); p < Math.min(from + limit, offset + count); p++)
    children.push(detail(p - offset));
  return { total, offset: from, children, partitions: null };
}

/**
 * A query's paging arguments, checked: `offset` an integer >= 0 (default 0), `limit` from 1 to
 * `max` (default 100). A bad one fails the query (not the workflow) with a message naming it.
 */
export function pageArgs(
  args: { offset?: number; limit?: number } | undefined,
  max: number,
): { offset: number; limit: number } {
  const offset = args?.offset ?? 0;
  const limit = args?.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(offset) || offset < 0)
    throw ApplicationFailure.nonRetryable(
      `offset: expected an integer >= 0, got ${JSON.stringify(args?.offset)}`,
      'InvalidQuery',
    );
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw ApplicationFailure.nonRetryable(
      `limit: expected an integer from 1 to ${max}, got ${JSON.stringify(args?.limit)}`,
      'InvalidQuery',
    );
  return { offset, limit };
}
