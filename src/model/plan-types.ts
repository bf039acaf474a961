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
  /**
   * Only in a plan that changes the image's facets or mediators (`change-facet`,
   * `set-mediator`): the settings the plan's actions were derived with. Bound by the digest.
   * The command that made the plan writes them to image.json once execute has applied it.
   */
  settings?: PlanSettings;
  /**
   * Why packages stay below the newest version their publisher offers ("why not newer"):
   * at most MAX_HELD_BACK entries, by stem; `heldBackMore` counts the rest. Informational:
   * not bound by the digest, absent when nothing is held back.
   */
  heldBack?: HeldBack[];
  heldBackMore?: number;
}

/** The administrator's facets and mediators a plan applies (image.json's `facets` and `mediators`, whole). */
export interface PlanSettings {
  facets: Record<string, boolean>;
  mediators: Record<string, { version?: string; implementation?: string }>;
}

/** One package the plan leaves below the newest version available to the image. */
export interface HeldBack {
  stem: string;
  /** The version the plan leaves (or puts) it at. */
  version: string;
  /** The newest version in the catalog the image may use. */
  newest: string;
  /** Why, in pkg(5)'s words where it has them: "incorporated by ...", "Parent has ...", "needs ...". */
  reason: string;
}

/** At most this many HeldBack entries go into a plan: plans must stay far below the payload limits. */
export const MAX_HELD_BACK = 20;
