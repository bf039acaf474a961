import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import type { StageName } from '../contract/activity-types';
import { hostTaskQueue, type UpdateInput } from '../contract/input';

const WAIT = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;

/**
 * Per activity kind, the timeouts and retries. Short activities heartbeat a keep-alive so a
 * dead worker is noticed after heartbeatTimeout, not startToCloseTimeout; prepare and execute
 * heartbeat their progress. On cancellation the workflow waits for each running activity to
 * settle (execute rolls back, or reports it had already committed).
 */
const BASE: Record<'describe' | 'list' | StageName, ActivityOptions> = {
  describe: {
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  list: {
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  'publisher-check': {
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  plan: {
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 5 },
    cancellationType: WAIT,
  },
  prepare: {
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 20, maximumInterval: '1 minute' },
    cancellationType: WAIT,
  },
  execute: {
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
    cancellationType: WAIT,
  },
};

/** The task queue of the input's host: where every activity that touches its images or cache runs. */
export function hostQueueOf(input: Pick<UpdateInput, 'host' | 'hostTaskQueue'>): string {
  return input.hostTaskQueue ?? hostTaskQueue(input.host);
}

/**
 * Options of one activity of a run: on the host's task queue, with a schedule-to-start timeout of
 * `hostTimeout`, so a host whose worker is down shows up as a timeout naming the host rather than
 * as a run that waits forever; `activityId` is made by src/contract/activity-ids.ts (`<stage>/<name>`,
 * what the report and tests key on), and the summary is that ID with a space for the `/`.
 */
export function activityOptions(
  kind: keyof typeof BASE,
  input: Pick<UpdateInput, 'host' | 'hostTaskQueue' | 'hostTimeout'>,
  activityId: string,
): ActivityOptions {
  return {
    ...BASE[kind],
    taskQueue: hostQueueOf(input),
    scheduleToStartTimeout: input.hostTimeout as ActivityOptions['scheduleToStartTimeout'],
    activityId,
    summary: activityId.replace('/', ' '),
  };
}
