/**
 * How a run plans and executes small children several to an activity ("lanes": planChildren,
 * executeChildren). Node-free: the workflows and the activities both read it.
 *
 * Why: with small zones a plan or an execute is a few milliseconds of work, while its own
 * activity costs the server and the worker about 10 ms of CPU (schedule, dispatch, completion, a
 * workflow task); 50 zones took 2.8x as long through the workflow as through the image model
 * directly. A lane works its children one after another, so it holds one place of the
 * concurrency cap, as one child would, and returns each child's outcome (a plan stays its child's
 * checkpoint; an execute stays journalled and rolled back per child).
 *
 * Sizing (src/workflows/segment-run.ts): a stage starts with single children; once some have
 * ended, a lane takes as many as fit LANE_BUDGET_MS by the time one child of the stage took, at
 * most an even share of those left over the concurrency cap, and MAX_LANE. Children whose stage
 * takes a second or more keep an activity each, so pause and skip reach a child waiting in a
 * lane within about LANE_BUDGET_MS. The activity itself starts no further child after
 * LANE_BUDGET_MS, after a failure (fail-fast), at the maintenance window's end or when the run
 * is cancelled; the rest are scheduled again.
 */

/** Children one lane takes at most. */
export const MAX_LANE = 16;

/** Milliseconds after which a lane starts no further child (the rest are scheduled again). */
export const LANE_BUDGET_MS = 1000;

/**
 * A lane starts no further child once the plans it returns reach this many bytes of JSON: with
 * one largest plan more (MAX_PLAN_BYTES, 200,000) its result stays under Temporal's 256 KB
 * payload warning.
 */
export const LANE_MAX_BYTES = 40_000;
