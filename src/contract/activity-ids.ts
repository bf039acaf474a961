/**
 * Activity IDs and the stage <-> activity type table: built by the workflows, parsed by the
 * report and by tests. Node-free (workflows import it). Every ID is `<stage>/<name>`; recorded
 * histories replay only if the IDs built here stay byte-for-byte the same
 * (test/workflow-replay.test.ts), so change nothing here without a patch() in the workflows.
 */
import type { LegacyActivities, RunActivities, StageName } from './activity-types';

/** The stages every child goes through, in this order (the parent skips publisher-check). */
export const STAGES = ['publisher-check', 'plan', 'prepare', 'execute'] as const satisfies readonly StageName[];

/**
 * The `<stage>` of an activity ID: a stage, or `describe` (the parent's describe activity), `list`
 * (a partition listing its slice of the children), `audit` (one child of an audit run).
 */
export type ActivityStage = StageName | 'describe' | 'list' | 'audit';

/** The stage of each activity type of today's runs (update-linked-images and its partitions). */
export const RUN_ACTIVITY_STAGE = {
  describeParent: 'describe',
  listChildren: 'list',
  publisherCheck: 'publisher-check',
  plan: 'plan',
  planChildren: 'plan',
  prepare: 'prepare',
  execute: 'execute',
  executeChildren: 'execute',
} as const satisfies Record<keyof RunActivities, ActivityStage>;

/** The stage of each activity type of the legacy one-execution workflow (histories recorded before bounded runs); the audit's `auditChild` is not a stage of an update. */
export const LEGACY_ACTIVITY_STAGE = {
  describeImage: 'describe',
  checkPublishers: 'publisher-check',
  planImage: 'plan',
  prepareImage: 'prepare',
  executeImage: 'execute',
} as const satisfies Record<Exclude<keyof LegacyActivities, 'auditChild'>, ActivityStage>;

/** The name in the activity ID of the parent image's activities (`plan/parent`). */
export const PARENT = 'parent';

/** `<stage>/<name>`, e.g. `plan/zone:z1`, `describe/parent`. `name` is a child's name, `parent`, or `children-<k>` for `list`. */
export function activityId(stage: ActivityStage, name: string): string {
  return `${stage}/${name}`;
}

/** The ID of one activity for a batch of children (non-empty, in order): `<stage>/<name>` for one, `<stage>/<first>..<last>` for more. */
export function batchActivityId(stage: ActivityStage, names: readonly string[]): string {
  return activityId(stage, names.length === 1 ? names[0] : `${names[0]}..${names[names.length - 1]}`);
}

/** The ID of partition `index`'s (1-based) list activity: `list/children-<index>`. */
export function listActivityId(index: number): string {
  return activityId('list', `children-${index}`);
}

/**
 * Splits an ID made by the functions above: `plan/zone:z1` -> `{ stage: 'plan', name: 'zone:z1' }`,
 * `publisher-check/zone:z1..zone:z3` -> name `zone:z1..zone:z3`. Null when the ID has no `/` or
 * its part before the first `/` is not an ActivityStage (an ID we did not make).
 */
export function parseActivityId(id: string): { stage: ActivityStage; name: string } | null {
  const slash = id.indexOf('/');
  const stage = id.slice(0, Math.max(0, slash));
  return isActivityStage(stage) ? { stage, name: id.slice(slash + 1) } : null;
}

function isActivityStage(s: string): s is ActivityStage {
  return (STAGES as readonly string[]).includes(s) || s === 'describe' || s === 'list' || s === 'audit';
}
