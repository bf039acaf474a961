import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { StageName } from '../contract/activity-types';

/**
 * The stable code and message of a failed activity: the image model's error code (the
 * ApplicationFailure type), `HOST_UNAVAILABLE` for a schedule-to-start timeout (no worker of the
 * host took the activity from its task queue in time), `TIMEOUT` for other timeouts, `CANCELLED`.
 */
export function describeFailure(
  e: unknown,
  stage: StageName | 'describe',
  where: { host: string; taskQueue: string; hostTimeout: string },
): { code: string; message: string } {
  if (isCancellation(e)) {
    // execute rolls back on cancellation; earlier stages change no image.
    return {
      code: 'CANCELLED',
      message:
        stage === 'execute'
          ? 'cancelled during execute: the image was rolled back to its state before the update'
          : `cancelled during ${stage}: the image was not changed`,
    };
  }
  const cause = e instanceof ActivityFailure ? e.cause : e;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    return {
      code: 'HOST_UNAVAILABLE',
      message: `No worker of host '${where.host}' took the ${stage} activity from task queue '${where.taskQueue}' within ${where.hostTimeout} (schedule-to-start timeout): is "npm run worker" running on ${where.host} with --host ${where.host}?`,
    };
  }
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  if (cause instanceof TimeoutFailure) return { code: 'TIMEOUT', message: cause.message };
  return { code: 'Error', message: (cause as Error)?.message ?? String(cause) };
}
