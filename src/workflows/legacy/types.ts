/**
 * The result and `progress` answer of runs started before host task queues (workflow patch
 * 'bounded-runs'): one entry per image with its changes and output. Kept for the report and
 * for replaying those runs.
 */
import type { StageName } from '../../contract/activity-types';

export type { StageName };

export type Outcome = 'updated' | 'nothing-to-do' | 'planned' | 'failed' | 'skipped' | 'cancelled';

export interface ImageResult {
  /** `parent`, or the child's name such as `zone:z1`. */
  name: string;
  path: string;
  outcome: Outcome;
  /** The last stage this image started (null: none). */
  lastStage: StageName | null;
  changes: { stem: string; from: string | null; to: string | null }[];
  error: { stage: StageName; code: string; message: string } | null;
  /** What each stage printed for this image, bounded (see MAX_OUTPUT_LINES). */
  output: string[];
}

export type { RunStatus } from '../../contract/run-types';
import type { RunStatus } from '../../contract/run-types';

export interface UpdateResult {
  image: string;
  /** pkg(5)'s: ok 0, nothing-to-do 4, partial 3, failed 1 (cancelled 1). */
  status: RunStatus;
  exitCode: number;
  dryRun: boolean;
  concurrency: number;
  parent: ImageResult;
  children: ImageResult[];
}

export type ChildState = 'waiting' | 'working' | 'done' | 'failed' | 'skipped' | 'nothing-to-do';

export type { StageCounts } from '../../contract/run-types';
import type { StageCounts } from '../../contract/run-types';

export interface Progress {
  stage: StageName | 'starting' | 'finished';
  stages: Record<StageName, StageCounts>;
  /** Children working in the current stage. */
  working: string[];
  children: Record<string, { state: ChildState; stage: StageName | null }>;
  /** pkg(5)'s status line, e.g. `Planning: Linked images: 3/8 done; 2 working: zone:z4 zone:z7`. */
  line: string;
}
