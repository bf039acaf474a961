import { ApplicationFailure } from '@temporalio/common';
import { CancelledFailure, cancellationDetails } from '@temporalio/activity';

/**
 * How a lane ended (src/contract/lanes.ts): the children worked on, in order, then at most one
 * that failed or was cancelled, then those not started. The shape of planChildren's and
 * executeChildren's results.
 */
export interface LaneOutcome<R> {
  results: ({ name: string } & R)[];
  /** The child whose work failed with a non-retryable error (its failure type and message). */
  failure?: { name: string; code: string; message: string };
  /** The child whose work was cancelled because the run was (it rolled back). */
  cancelled?: string;
  notStarted: string[];
}

/**
 * Works `children` one after another with `work` (which raises Temporal failures, as the
 * single-child activity would), the lane's loop: before each child but the first, `stop()` may
 * end the lane (the budget, a byte limit, the window's end, a cancellation); a non-retryable
 * failure ends it with that child failed; a cancellation the run asked for ends it with that
 * child cancelled. A retryable failure of the first child is raised (the server retries the
 * activity); of a later one, that child comes back not started. Any other error of the first
 * child is raised too.
 */
export async function runLane<C extends { child: string }, R extends object>(
  children: readonly C[],
  stop: () => boolean,
  work: (c: C) => Promise<R>,
): Promise<LaneOutcome<R>> {
  const results: LaneOutcome<R>['results'] = [];
  for (const [k, c] of children.entries()) {
    const rest = () => children.slice(k).map((x) => x.child);
    if (k > 0 && stop()) return { results, notStarted: rest() };
    try {
      results.push({ name: c.child, ...(await work(c)) });
    } catch (e) {
      // The run cancelled: the workflow must learn which children were done before. Any other
      // cancellation (worker shutdown, a timeout) is raised as a single child's activity would.
      if (e instanceof CancelledFailure && cancellationDetails()?.cancelRequested)
        return { results, cancelled: c.child, notStarted: rest().slice(1) };
      const final = e instanceof ApplicationFailure && e.nonRetryable;
      if (k === 0 && !final) throw e;
      if (!final) return { results, notStarted: rest() };
      const f = e as ApplicationFailure;
      return {
        results,
        failure: { name: c.child, code: f.type ?? 'Error', message: f.message },
        notStarted: rest().slice(1),
      };
    }
  }
  return { results, notStarted: [] };
}
