/**
 * The messages of `updateLinkedImages` and of its partitions (`updateChildImages`), shared by
 * workflows and clients. Queries are answered from workflow state; the signals are how a run
 * split into partitions steps them through pkg(5)'s stages.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StageName } from './activity-types';
import type { ChildrenPage, ChildrenQueryArgs, Outcome, Progress } from './run-types';
import type { StageCaps } from './controls';

/** `temporal workflow query -w <id> --name progress`: the status line, counts per stage, who is working. */
export const progressQuery = defineQuery<Progress>('progress');

/** `temporal workflow query -w <id> --name children --input '{"offset":0,"limit":100}'`: a page of children. */
export const childrenQuery = defineQuery<ChildrenPage, [ChildrenQueryArgs?]>('children');

/** The run's controls as a partition gets them with each instruction (runs since the live controls). */
export interface InstructionControls {
  paused: boolean;
  concurrency: number;
  stageConcurrency: StageCaps;
  /** The run's failure budget as a count. */
  maxFailures: number;
  /** Children failed in the other partitions so far. */
  failuresElsewhere: number;
  /** The run's round of stages (re-planning a stale plan stops after a few). */
  round: number;
}

/** What a run tells a partition: work on `stage` now (children against `parentPlan`), or `finish` and return. */
export interface StageInstruction {
  stage: StageName | 'finish';
  /** The digest of the parent's saved plan (the plan stage); null otherwise. */
  parentPlan: string | null;
  /** Absent in runs started before the live controls. */
  controls?: InstructionControls;
}

/** Run -> partition: the next instruction. */
export const runStageSignal = defineSignal<[StageInstruction]>('runStage');

/** How a partition's stage ended: every child settled, or stopped after a failure (fail-fast), or cancelled. */
export interface PartitionReport {
  /** 1-based partition number. */
  index: number;
  stage: StageName;
  outcome: 'done' | 'failed' | 'cancelled';
  /** Children of this partition that finished the stage, failed in it, and took part in it. */
  done: number;
  failed: number;
  total: number;
  /** Children of this partition failed over the whole run so far (runs since the live controls). */
  failuresTotal?: number;
  /** After prepare: the digest of this partition's prepared children (src/workflows/plan-set.ts). */
  planDigest?: string;
  /** The first stage a child of this partition still needs (retried or re-planned), or null. */
  behind?: StageName | null;
}

/** Partition -> run: a stage is over in this partition. */
export const partitionReportSignal = defineSignal<[PartitionReport]>('partitionReport');

/** What a partition returns when told to finish (or when cancelled): bounded like the run's result. */
export interface PartitionResult {
  index: number;
  /** Set when the partition could not list its children (e.g. CHILDREN_CHANGED): none of them was worked on. */
  error: { stage: 'describe'; code: string; message: string } | null;
  counts: Record<Outcome, number>;
  failures: { name: string; stage: StageName | 'describe'; code: string; message: string }[];
  failuresOmitted: number;
  lines: string[];
  linesOmitted: number;
  executions: number;
}
