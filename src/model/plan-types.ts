/**
 * The plan as it is checkpointed in workflow history and saved in the image (Node-free, so the
 * workflow and its clients share it). Made by `plan` in src/stages/plan.ts.
 */

/** Bumped whenever the plan's shape or meaning changes: older plans are then refused, not misread. */
export const PLAN_FORMAT = 1;

export interface PlanChange {
  stem: string;
  from: string | null; // full FMRI, null for an install
  to: string | null; // full FMRI, null for a removal
  manifest: string | null; // digest of the new manifest
}

/**
 * The compact, checkpointable form of a plan: FMRI changes and digests. The action diff is
 * not stored; `planActions` re-derives it from the installed manifests (unchanged while the
 * state token matches) and the new manifests (by digest), without solving again.
 */
export interface Plan {
  format: number;
  host: string;
  image: string;
  stateToken: string;
  changes: PlanChange[];
  sizes: { downloadBytes: number; installBytes: number; files: number; add: number; update: number; remove: number };
  digest: string;
}
