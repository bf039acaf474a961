/**
 * What the workflow sends to and gets from the activities. Types only: the workflow imports this
 * file with `import type`, so nothing here may hold values.
 */
import type { Plan } from '../images/plan';

export type { Plan };

export type StageName = 'publisher-check' | 'plan' | 'prepare' | 'execute';

export interface ChildRef {
  name: string;
  path: string;
}

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
export interface HeartbeatProgress {
  stage: 'prepare' | 'execute';
  done: number;
  total: number;
  unit: 'bytes' | 'steps';
}

export interface AuditOutput {
  status: 'synced' | 'diverged';
  diverged: { fmri: string; problem: string }[];
}
