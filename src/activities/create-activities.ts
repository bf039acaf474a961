import { createActivityContext, type ActivityDeps } from './activity-context';
import { createLegacyActivities } from './legacy-activities';
import { createRunActivities } from './run-activities';
import type { Activities, LegacyActivities, RunActivities } from '../contract/activity-types';

export type { ActivityDeps };

/** The activities of one worker process in two sets over one shared context. */
export interface ActivitySets {
  /** The run activities (run-activities.ts), which a host serves on its own task queue. */
  run: RunActivities;
  /** The legacy ones (legacy-activities.ts), scheduled on the workflow queue by runs started before host queues. */
  legacy: LegacyActivities;
}

/**
 * Both sets of activities over one shared context (connections, content cache, parent index,
 * record): one context per process, so the Workers of a host share one ContentCache and one
 * OriginPool whichever of them runs an activity.
 */
export function createActivitySets(deps: ActivityDeps): ActivitySets {
  const ctx = createActivityContext(deps);
  return { run: createRunActivities(ctx), legacy: createLegacyActivities(ctx) };
}

/** Every activity of this worker (both sets of createActivitySets) over one shared context. */
export function createActivities(deps: ActivityDeps): Activities {
  const { run, legacy } = createActivitySets(deps);
  return { ...run, ...legacy };
}

export type { Activities, LegacyActivities, RunActivities };
