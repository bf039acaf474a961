/**
 * Shapes users and tools see: the result of `updateLinkedImages`, its `progress` and `children`
 * query answers. Every one is bounded whatever the number of children (README "Bounded runs: thousands of zones").
 * Runs started before host task queues answered in the shapes of src/workflows/legacy/types.ts.
 */
import type { StageName } from './activity-types';
import type { ControlState } from './controls';

export type { StageName };

/**
 * A child's outcome: `skipped` was never worked on to the end (left out by `skipChild`, or not
 * reached after a failure); `deferred` was not executed because the maintenance window closed.
 */
export type Outcome = 'updated' | 'nothing-to-do' | 'planned' | 'failed' | 'skipped' | 'cancelled' | 'deferred';

/** `rejected`: the plans were rejected at approval (nothing executed); exit 1 like failed. */
export type RunStatus = 'ok' | 'nothing-to-do' | 'partial' | 'failed' | 'cancelled' | 'rejected';

/** Why an image failed: the stage, the image model's error code (README "Errors") or a Temporal one, the message. */
export interface ImageError {
  stage: StageName | 'describe';
  code: string;
  /** At most MAX_ERROR_MESSAGE characters; `npm run report` prints the whole message from the history. */
  message: string;
}

/** One image at the end of a run. */
export interface ImageSummary {
  /** `parent`, or the child's name such as `zone:z1`. */
  name: string;
  outcome: Outcome;
  /** The last stage this image started (null: none). */
  lastStage: StageName | null;
  /** Packages the plan changes (installs, updates, removals); null before it was planned. */
  changes: number | null;
  /** The digest of its plan (the saved plan; `npm run report` lists its changes); null before it was planned. */
  planDigest: string | null;
  error: ImageError | null;
}

/** A failed or cancelled image as the result lists it. */
export interface FailureLine extends ImageError {
  name: string;
}

export interface UpdateResult {
  /** 2 since host task queues; results of older runs have no `resultVersion` (src/workflows/legacy/types.ts). */
  resultVersion: 2;
  image: string;
  host: string;
  /** pkg(5)'s: ok 0, nothing-to-do 4, partial 3, failed 1 (cancelled 1). */
  status: RunStatus;
  exitCode: number;
  dryRun: boolean;
  concurrency: number;
  parent: ImageSummary;
  /** The selected children per outcome. */
  counts: Record<Outcome, number>;
  /** Failed and cancelled images, the parent first, at most MAX_FAILURES of them. */
  failures: FailureLine[];
  /** Failed or cancelled images left out of `failures` (the `children` query and `npm run report` have them all). */
  failuresOmitted: number;
  /**
   * A compact line per child, `<name> <outcome> <last stage or -> <changes or ->`, e.g.
   * `zone:z1 updated execute 5`, in selection order, up to MAX_RESULT_LINE_BYTES in all.
   */
  children: string[];
  /** Children whose line did not fit (the `children` query has every child). */
  childrenOmitted: number;
  /** Workflow executions the run took: its own continue-as-new chain plus its partitions' chains. */
  executions: number;
  /** Child workflows `<workflow ID>/children-<k>` the run was split into; 0 when it ran in one chain. */
  partitions: number;
}

/** How many children are where in one stage. */
export interface StageCounts {
  done: number;
  working: number;
  waiting: number;
  failed: number;
  /** Cancelled in this stage (the run was cancelled while they worked); absent when none. */
  cancelled?: number;
  /** Never worked on in this stage: the run ended before (a failure elsewhere, rejected) or the window closed; absent when none. */
  skipped?: number;
}

/** The answer of the `progress` query (`temporal workflow query -w <id> --name progress`). */
export interface Progress {
  stage: StageName | 'starting' | 'finished';
  /** pkg(5)'s status line, e.g. `Planning: Linked images: 3/8 done; 2 working: zone:z4 zone:z7`. */
  line: string;
  /** Images working in the current stage, at most MAX_WORKING_NAMES of them (`parent` for the parent). */
  working: string[];
  /** How many are working, named or not. */
  workingCount: number;
  stages: Record<StageName, StageCounts>;
  /** Children the run selected. */
  children: number;
  /** Which execution of its continue-as-new chain answered (1 = the first). */
  execution: number;
  /** Set when the run is split into partitions: their workflow IDs and the one working now. */
  partitions: { workflowIds: string[]; active: string | null } | null;
  /** The run's live controls (paused, caps, failure budget, approval, window); absent in runs started before them and in partitions. */
  controls?: ControlState;
}

/** The argument of the `children` query; both optional. */
export interface ChildrenQueryArgs {
  /** The first child, by position in the selection (0-based). @default 0 */
  offset?: number;
  /** At most this many children. @default 100, at most MAX_CHILDREN_PAGE */
  limit?: number;
}

/** One child in the answer of the `children` query. */
export interface ChildDetail extends Omit<ImageSummary, 'outcome'> {
  /** `pending` while the run goes on and the child has not reached its final outcome. */
  outcome: Outcome | 'pending';
  /** A stage activity of this child is running now. */
  working: boolean;
}

/** The answer of the `children` query: a page of children, or, for a partitioned run, where to ask. */
export interface ChildrenPage {
  total: number;
  offset: number;
  children: ChildDetail[];
  /**
   * For a run split into partitions: the partitions and the child positions each holds; ask
   * the partition (`temporal workflow query -w <workflowId> --name children`) for its children,
   * with offsets counted in the whole run as here.
   */
  partitions: { workflowId: string; offset: number; count: number }[] | null;
}
