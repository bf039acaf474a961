/**
 * What the workflow sends to and gets from the activities. Types only: the workflow imports this
 * file with `import type`, so nothing here may hold values.
 */
import type { ChildRef } from '../model/linked-image';
import type { Plan } from '../model/plan-types';

export type { Plan };

export type StageName = 'publisher-check' | 'plan' | 'prepare' | 'execute';

export type { ChildRef };

export interface DescribeInput {
  image: string;
}

export interface DescribeOutput {
  /** Null when `image` is a usable image; otherwise why not (missing, not an image, malformed). */
  problem: string | null;
  children: ChildRef[];
}

export interface PublisherCheckInput {
  image: string;
  child: ChildRef;
}

export interface PlanInput {
  /** The image to plan. */
  image: string;
  /** `parent` or the child's name, for messages and records. */
  name: string;
  /** Limit the update to these stems (pkg update <stems>); default all installed packages. */
  packages?: string[];
  /** For a child: the parent's root and plan; the child is planned against the parent's planned packages. */
  parent?: { image: string; plan: Plan | null };
}

export interface StageOutput {
  /** What the stage printed, a few short lines (pkg(5)'s per-child output). */
  lines: string[];
}

export interface PlanOutput extends StageOutput {
  plan: Plan;
}

export interface StageInput {
  image: string;
  name: string;
  plan: Plan;
}

export interface PrepareOutput extends StageOutput {
  files: number;
  bytes: number;
  fetchedFiles: number;
  fetchedBytes: number;
}

export interface ExecuteOutput extends StageOutput {
  status: 'applied' | 'already-applied' | 'nothing-to-do';
  steps: number;
  resumed: boolean;
}

/** Heartbeat details of prepare and execute (`temporal workflow describe` shows them). */
/**
 * The heartbeat of a plan lane (planChildren): the children it has planned so far, link name ->
 * the digest of the plan it saved in that child, so that a retry after a lost worker returns
 * those plans instead of planning them again.
 */
export interface PlanLaneHeartbeat {
  lane: { planned: Record<string, string> };
}

export interface HeartbeatProgress {
  stage: 'prepare' | 'execute';
  done: number;
  total: number;
  unit: 'bytes' | 'steps';
  /**
   * Execute only (heartbeats since the watch view): bytes of file content this attempt wrote so
   * far, of `bytesTotal` (the plan's installBytes); a file counts once its copy is done.
   */
  bytesDone?: number;
  bytesTotal?: number;
}

export interface AuditOutput {
  status: 'synced' | 'diverged';
  diverged: { fmri: string; problem: string }[];
}

// ---------------------------------------------------------------------------------------------
// The activities of runs started since host task queues (workflow patch 'bounded-runs'). Every
// one runs on the host's own task queue and names its image by the parent's root and the
// child's linked name, so inputs stay a few hundred bytes whatever the run's size; plans travel
// by digest (the plan itself is in the history once, as the plan activity's result, and saved
// in the image: src/stages/saved-plans.ts).
// ---------------------------------------------------------------------------------------------

/** One image of a run: the parent itself (`child: null`), or the child attached to it under that name. */
export interface ImageAddress {
  /** The parent image's root (absolute path). */
  image: string;
  /** A linked child's name such as `zone:z1`, or null for the parent. */
  child: string | null;
}

/** Which children a run acts on (pkg's `-z` / `-Z`), by name. */
export interface SelectInput {
  image: string;
  /** Only these children (runs started before sync); default every attached child, in attach order. */
  children?: string[];
  /** Leave these out (pkg's `-i`). */
  ignore?: string[];
  /** The recursion's `-z` / `-Z` names: checked to be attached children, not a selection (input.ts selectionOf). */
  recursion?: { children?: string[]; exclude?: string[] };
}

/** describeParent's input: the selection, and the largest partition the run asked for. */
export interface DescribeParentInput extends SelectInput {
  /** At most this many children per partition (the workflow's `partitionSize`). */
  partitionSize: number;
}

/** What describeParent found: the problems (InvalidInput), or the selection's size, digest and partition size, and its names when one partition holds them. */
export interface DescribeParentOutput {
  /** Every reason the run cannot start (not an image, unknown child names), each naming its field; empty when fine. */
  problems: string[];
  /** How many children the run selected. */
  total: number;
  /** SHA-256 of the selected names in order: partitions check it when they list their slice. */
  digest: string;
  /**
   * Children per partition, at most `partitionSize`, smaller when names are long, so that a
   * partition's state stays under its byte budget (src/workflows/segment-state.ts).
   */
  partitionSize: number;
  /** The selected names when they fit in one partition (`total <= partitionSize`), else null. */
  children: string[] | null;
  /**
   * The parent image's `recursion-concurrency` property when it is an integer (pkg(5): how many
   * children to work on at once when no -C is given); absent otherwise, and in runs described
   * before it existed. The run uses it when its input gives no `concurrency`.
   */
  recursionConcurrency?: number;
  /** What is wrong with that property when it is set but not an integer: the run refuses it when it would use it. */
  recursionConcurrencyProblem?: string;
}

/** listChildren's input: positions [offset, offset + limit) of the selection `digest` names. */
export interface ListChildrenInput extends SelectInput {
  offset: number;
  limit: number;
  /** DescribeParentOutput.digest: the slice is refused (CHILDREN_CHANGED) when the selection changed since. */
  digest: string;
}

/** publisherCheck's input: up to 100 children of `image` to check against it. */
export interface PublisherCheckBatchInput {
  image: string;
  /** The children to check, by name (at most PUBLISHER_CHECK_BATCH). */
  children: string[];
  /** Children checked at once inside the activity; <= 0: all. */
  concurrency: number;
}

/** Per child: null when its publishers agree with the parent's, else why not. */
export interface PublisherCheckBatchOutput {
  results: { name: string; error: { code: string; message: string } | null }[];
}

/** plan's input: the image, the packages to update (default all), the parent plan's digest for a child. */
export interface PlanImageInput extends ImageAddress {
  packages?: string[];
  /**
   * A child only synced with its parent (pkg(5)'s default, no `-r`): it moves only as far as
   * its parent-constrained packages require; `packages` does not apply. Absent: full update.
   */
  sync?: boolean;
  /** For a child: the digest of the parent's saved plan; children are planned against the parent's planned packages. */
  parentPlan: string | null;
}

/** The plan is the checkpoint: recorded once in the history; later stages get only its digest. */
export interface PlanImageOutput extends StageOutput {
  plan: Plan;
  /**
   * A child's plan whose every file the parent's plan also delivers (src/stages/content-within.ts):
   * the parent's prepare puts it all into the host's content cache, so the workflow records the
   * child prepared without a prepare activity (execute still prepares whatever a swept cache lost).
   * Absent: prepare as usual (and in histories from before it).
   */
  preparedWithParent?: boolean;
}

/**
 * planChildren's input: children of one parent, planned one after another in one activity, each
 * as `plan` plans it (`children[k]` carries what PlanImageInput would: `child`, and `packages`
 * or `sync`).
 */
export interface PlanChildrenInput {
  /** The parent image's root. */
  image: string;
  /** The digest of the parent's saved plan. */
  parentPlan: string | null;
  /** At most MAX_PLAN_LANE (src/workflows/segment-run.ts), in the order to plan them. */
  children: { child: string; packages?: string[]; sync?: boolean }[];
  /** Milliseconds after which no further child is started (the rest come back in `notStarted`). */
  budgetMs: number;
}

/** planChildren's result: the children planned (a prefix of the input's, in order), then at most one failure, then those not started. */
export interface PlanChildrenOutput {
  /** Each as `plan` returns it: the checkpoint of that child's plan. */
  results: ({ name: string } & PlanImageOutput)[];
  /** The child whose plan failed with a non-retryable error (its code and message), if one did. */
  failure?: { name: string; code: string; message: string };
  /** The child being planned when the run was cancelled, if it was (plans change no image). */
  cancelled?: string;
  /** Children not started: the budget or the byte limit was reached, a plan failed, or a later child's error was retryable. */
  notStarted: string[];
}

/** executeChildren's input: children of one parent, executed one after another in one activity, each as `execute` executes it. */
export interface ExecuteChildrenInput {
  /** The parent image's root. */
  image: string;
  /** Each child and the digest of its saved plan, in the order to execute them. */
  children: { child: string; plan: string }[];
  /** Milliseconds after which no further child is started (the rest come back in `notStarted`). */
  budgetMs: number;
  /** The maintenance window's end (ISO 8601, the input's `window.notAfter`): no child starts after it. */
  notAfter?: string;
}

/** executeChildren's result: the children executed (a prefix of the input's), then at most one failed or cancelled child, then those not started. */
export interface ExecuteChildrenOutput {
  /** Each as `execute` returns it. */
  results: ({ name: string } & ExecuteImageOutput)[];
  /** The child whose execute failed with a non-retryable error (rolled back), if one did. */
  failure?: { name: string; code: string; message: string };
  /** The child whose execute was cancelled (rolled back) because the run was, if one was. */
  cancelled?: string;
  /** Children not started: the budget or the window's end was reached, a child failed or was cancelled, or a later child's error was retryable. */
  notStarted: string[];
}

/** prepare's and execute's input: the image and the digest of its saved plan (about 200 bytes whatever the plan's size). */
export interface PlannedStageInput extends ImageAddress {
  /** The digest of the plan the plan activity saved and returned. */
  plan: string;
}

/** execute's result: the legacy execute's, and whether the content had to be prepared again. */
export interface ExecuteImageOutput extends ExecuteOutput {
  /** True when the plan's content was missing from this host's cache and was prepared again first. */
  reprepared: boolean;
}

/** What `listChildren` returns: one page of the selected children's link names, in order. */
export interface ListChildrenOutput {
  names: string[];
}

/**
 * The activities of a run (`updateLinkedImages` and its partitions), served by each host's worker
 * on that host's task queue (`linked-images@<host>` by default). Activity type names are these
 * method names; they are part of every recorded history and must not change.
 */
export interface RunActivities {
  describeParent(input: DescribeParentInput): Promise<DescribeParentOutput>;
  listChildren(input: ListChildrenInput): Promise<ListChildrenOutput>;
  publisherCheck(input: PublisherCheckBatchInput): Promise<PublisherCheckBatchOutput>;
  plan(input: PlanImageInput): Promise<PlanImageOutput>;
  planChildren(input: PlanChildrenInput): Promise<PlanChildrenOutput>;
  prepare(input: PlannedStageInput): Promise<PrepareOutput>;
  execute(input: PlannedStageInput): Promise<ExecuteImageOutput>;
  executeChildren(input: ExecuteChildrenInput): Promise<ExecuteChildrenOutput>;
}

/**
 * The activities of runs started before host task queues (src/workflows/legacy, replay only) and of
 * the first shape of `auditLinkedImages`; served on the shared task queue. Names are frozen.
 */
export interface LegacyActivities {
  describeImage(input: DescribeInput): Promise<DescribeOutput>;
  checkPublishers(input: PublisherCheckInput): Promise<StageOutput>;
  auditChild(input: PublisherCheckInput): Promise<AuditOutput>;
  planImage(input: PlanInput): Promise<PlanOutput>;
  prepareImage(input: StageInput): Promise<PrepareOutput>;
  executeImage(input: StageInput): Promise<ExecuteOutput>;
}

/** Every activity a linked-images worker registers. */
export type Activities = RunActivities & LegacyActivities;
