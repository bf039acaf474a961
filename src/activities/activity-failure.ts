import { ApplicationFailure } from '@temporalio/common';
import { CancelledFailure } from '@temporalio/activity';
import { isImageError } from '../model/errors';

/**
 * Maps image-model errors to Temporal failures: the failure type is the stable error code, and
 * only codes that say retrying can help (network, lock, disk) are retried by the server.
 */
export function toFailure(e: unknown): unknown {
  if (e instanceof CancelledFailure || e instanceof ApplicationFailure) return e;
  // Reported as a cancellation (ActivityTaskCanceled), not a failure: the image model has already
  // rolled back or stopped cleanly by the time it throws CANCELLED.
  if (isImageError(e, 'CANCELLED')) return new CancelledFailure(e.message);
  if (isImageError(e)) {
    const details = [
      { code: e.code, message: e.message, retryable: e.retryable, ...(e.details ? { details: e.details } : {}) },
    ];
    return e.retryable
      ? ApplicationFailure.retryable(e.message, e.code, ...details)
      : ApplicationFailure.nonRetryable(e.message, e.code, ...details);
  }
  // Anything else is a bug or an environment problem we did not classify: retry, but say what it was.
  const err = e as Error;
  return ApplicationFailure.retryable(err?.message ?? String(e), err?.name ?? 'Error');
}

export async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toFailure(e);
  }
}
