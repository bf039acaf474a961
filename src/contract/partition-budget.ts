/**
 * How many children one workflow execution may carry in its state. A partition's state (its
 * children's names, plan digests, statuses, change counts and errors) is the input of each
 * continue-as-new, and every payload must stay under Temporal's 256 KB warning (2 MB is the
 * hard limit). Pure: the describe activity and the workflow both use it.
 */

/** Bytes a partition's per-child state may take (names, digests, statuses, counts). */
export const PARTITION_STATE_BUDGET = 150_000;

/** Bytes per child besides its name: a 64-hex plan digest, a status, a change count, JSON quotes and commas. */
export const PER_CHILD_OVERHEAD = 80;

/**
 * Children per partition: `requested`, or fewer when names are so long that `requested` of
 * them would exceed PARTITION_STATE_BUDGET (`longestName` in characters). At least 1.
 */
export function partitionSizeFor(longestName: number, requested: number): number {
  return Math.max(1, Math.min(requested, Math.floor(PARTITION_STATE_BUDGET / (longestName + PER_CHILD_OVERHEAD))));
}
