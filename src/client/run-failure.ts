import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { WorkflowFailedError } from '@temporalio/client';

/**
 * One paragraph on how a run ended without a result: failed (with the failure's type, e.g.
 * `InvalidInput`, and message), terminated (with its reason), timed out or cancelled. The
 * `temporal workflow result` command does not print the type; operators need it to tell bad
 * input from a crash.
 */
export function describeRunFailure(workflowId: string, e: WorkflowFailedError): string {
  const cause = e.cause;
  if (cause instanceof TerminatedFailure)
    return `Workflow ${workflowId} was terminated: ${cause.message || 'no reason given'}`;
  if (cause instanceof CancelledFailure)
    return `Workflow ${workflowId} was cancelled: ${cause.message || 'no reason given'}`;
  if (cause instanceof TimeoutFailure)
    return `Workflow ${workflowId} timed out (${cause.timeoutType ?? 'workflow execution or run timeout'}): ${cause.message}`;
  if (cause instanceof ApplicationFailure)
    return `Workflow ${workflowId} failed: ${cause.type ?? 'Error'}: ${cause.message}`;
  return `Workflow ${workflowId} failed: ${cause?.name ?? 'Error'}: ${cause?.message ?? e.message}`;
}
