import { ApplicationFailure } from '@temporalio/workflow';

/**
 * The failure that ends a workflow at once on bad input: non-retryable, type `InvalidInput`,
 * the message naming every problem, the problems also as details. (A plain Error thrown from
 * workflow code would fail the workflow task instead, which Temporal retries forever.)
 */
export function invalidInput(problems: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`Invalid input: ${problems.join('; ')}`, 'InvalidInput', { problems });
}
