import { workflowInfo } from '@temporalio/workflow';

/**
 * When an execution stops taking new work and continues as new. The server suggests it
 * (`limit.historyCount.suggestContinueAsNew`, 4 Ki events by default, and
 * `limit.historySize.suggestContinueAsNew`, 4 MB); these are backstops for servers configured
 * higher, well under the warnings (10,240 events, 10 MB): the activities still in flight when
 * an execution stops must finish in it (at most MAX_IN_FLIGHT of them, a few events each).
 */
export const MAX_EVENTS_PER_EXECUTION = 7000;
export const MAX_HISTORY_BYTES_PER_EXECUTION = 6_000_000;

/**
 * At most this many activities in flight per execution, whatever the concurrency (`<= 0`: no
 * limit, as pkg's -C): a workflow task that schedules thousands at once takes seconds, the
 * server force-closes such tasks (FORCE_CLOSE_COMMAND), and an execution may have at most
 * 2,000 pending activities.
 */
export const MAX_IN_FLIGHT = 200;

/**
 * True once this execution should continue as new: the server suggests it, or the events or
 * bytes of history reach the backstops; `reserveBytes` is history the work in flight may still
 * add (plans not yet returned).
 */
export function historyBudgetSpent(reserveBytes = 0): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested ||
    info.historyLength >= MAX_EVENTS_PER_EXECUTION ||
    info.historySize + reserveBytes >= MAX_HISTORY_BYTES_PER_EXECUTION
  );
}
