import { createActivityContext, type ActivityDeps } from './activity-context';
import { createLegacyActivities } from './legacy-activities';
import { createRunActivities } from './run-activities';
import type { Activities, LegacyActivities, RunActivities } from '../contract/activity-types';

export type { ActivityDeps };

/**
 * Every activity of this worker over one shared context (connections, content cache, parent
 * index, record): the run activities (run-activities.ts), which a host's worker serves on its
 * own task queue, and the legacy ones (legacy-activities.ts) of runs started before that.
 */
export function createActivities(deps: ActivityDeps): Activities {
  const ctx = createActivityContext(deps);
  return { ...createRunActivities(ctx), ...createLegacyActivities(ctx) };
}

export type { Activities, LegacyActivities, RunActivities };
