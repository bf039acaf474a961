/**
 * The live controls of a run (`updateLinkedImages`): Temporal Updates, each with a synchronous
 * validator (a rejected update leaves no trace in the history) and answering with the run's
 * control state after the change; and the queries an operator reads to decide (`controls`,
 * `plans`). README "Steer a run" has a `temporal workflow update execute` line for each.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StageName } from './activity-types';

/** Per-stage caps on children in flight (`<= 0`: no limit, as pkg's -C); a stage not named uses `concurrency`. */
export type StageCaps = Partial<Record<StageName, number>>;

/** Where the run is with plan approval (input `approval: true`). */
export type ApprovalState =
  /** The run was started without `approval`. */
  | 'not-required'
  /** Not yet prepared: the run will stop after prepare and wait. */
  | 'pending'
  /** Everything is prepared: the run waits for `approve` (with the set digest) or `reject`. */
  | 'waiting'
  | 'approved'
  | 'rejected';

/** The run's control state: the answer of every control update and of the `controls` query. */
export interface ControlState {
  /** No new child work starts while paused; running work finishes. */
  paused: boolean;
  /** The cap on children in flight for stages not in `stageConcurrency` (`<= 0`: no limit). */
  concurrency: number;
  stageConcurrency: StageCaps;
  /** Failed children the run tolerates before nothing new starts (input `maxFailures`, resolved to a count); 0 = pkg(5)'s fail-fast. */
  maxFailures: number;
  /** Children failed so far over the whole run (a retried child no longer counts). */
  failures: number;
  /** Children left out by `skipChild` so far. */
  skipped: number;
  approval: ApprovalState;
  /**
   * The digest of the whole set of plans waiting for approval (the parent's and each prepared
   * child's, in selection order); what `approve` must be given. Null until the run waits.
   */
  setDigest: string | null;
  /** The maintenance window (input `window`), as ISO 8601 strings, or null. */
  window: { notBefore: string | null; notAfter: string | null } | null;
  /** Why nothing moves now, when something holds the run: `paused`, `waiting for approval`, `waiting for the window (opens ...)`; else null. */
  holding: string | null;
}

/** `setConcurrency`'s argument: the cap for every stage, and/or caps for some stages. At least one. */
export interface SetConcurrencyArgs {
  /** Integer; `<= 0` means no limit (pkg's -C). */
  concurrency?: number;
  stages?: StageCaps;
}

/** `skipChild` / `retryChild`'s argument. */
export interface ChildArgs {
  /** The child's link name, e.g. `zone:z3`. */
  child: string;
}

/** `approve`'s argument. */
export interface ApproveArgs {
  /** ControlState.setDigest, as the `plans` query showed it. */
  digest: string;
}

/** `reject`'s argument (optional). */
export interface RejectArgs {
  /** Recorded in the history and the result. */
  reason?: string;
}

/** `temporal workflow update execute -w <id> --name setConcurrency --input '{"concurrency":4}'` (or `{"stages":{"prepare":8,"execute":2}}`). */
export const setConcurrencyUpdate = defineUpdate<ControlState, [SetConcurrencyArgs]>('setConcurrency');
/** No new child work starts until `resume`; running work finishes. */
export const pauseUpdate = defineUpdate<ControlState, []>('pause');
export const resumeUpdate = defineUpdate<ControlState, []>('resume');
/** A child that has not started its current stage is left out; reported `skipped`. */
export const skipChildUpdate = defineUpdate<ControlState, [ChildArgs]>('skipChild');
/** A failed child is tried again from the stage it failed in (the run must still be going). */
export const retryChildUpdate = defineUpdate<ControlState, [ChildArgs]>('retryChild');
/** Execute the plans the run waits on: the digest must be ControlState.setDigest. */
export const approveUpdate = defineUpdate<ControlState, [ApproveArgs]>('approve');
/** End the run with nothing executed. */
export const rejectUpdate = defineUpdate<ControlState, [RejectArgs]>('reject');

/** `temporal workflow query -w <id> --name controls`. */
export const controlsQuery = defineQuery<ControlState>('controls');

/** One child's plan as the `plans` query shows it. */
export interface PlanLine {
  name: string;
  /** Packages the plan changes. */
  changes: number;
  /** The digest of the child's saved plan (`npm run report` lists its changes). */
  planDigest: string;
  /**
   * Bytes of content its own prepare fetched and verified into the cache (0 for a child prepared
   * with the parent: its files are all in the parent's plan), null until prepared.
   */
  downloadBytes: number | null;
  /** Prepared and not yet executed: this plan is in the set `approve` executes (its digest is in setDigest). */
  included: boolean;
}

/** `temporal workflow query -w <id> --name plans --input '{"offset":0,"limit":100}'`: the plans with changes. */
export interface PlansPage {
  approval: ApprovalState;
  setDigest: string | null;
  /** The parent's plan, null when it changes nothing. */
  parent: PlanLine | null;
  /** Children with a plan that changes something, included or not (failed or skipped since), in selection order. */
  total: number;
  offset: number;
  children: PlanLine[];
  /** For a run split into partitions: ask each partition (`plans` query) for its children. */
  partitions: { workflowId: string; offset: number; count: number }[] | null;
}

export const plansQuery = defineQuery<PlansPage, [{ offset?: number; limit?: number }?]>('plans');

/** Run -> partition: the controls changed (concurrency, pause), or children to skip or retry. */
export interface PartitionControls {
  paused: boolean;
  concurrency: number;
  stageConcurrency: StageCaps;
  skip: string[];
  retry: string[];
}

export const partitionControlsSignal = defineSignal<[PartitionControls]>('partitionControls');
