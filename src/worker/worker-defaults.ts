import type { WorkerOptions } from '@temporalio/worker';

/**
 * Options every worker of this project uses. The SDK sends an activity's heartbeats to the
 * server at most every 0.8 x heartbeatTimeout (12 s here) unless capped; a cancellation only
 * reaches an activity in a heartbeat response, so without the cap `temporal workflow cancel`
 * could take 12 s to stop an execute. Activities already limit themselves to one a second.
 */
export const WORKER_DEFAULTS: Partial<WorkerOptions> = {
  maxHeartbeatThrottleInterval: '1 second',
  defaultHeartbeatThrottleInterval: '1 second',
};
