import { activityInfo } from '@temporalio/activity';
import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import type { FsLayer } from '../image/fs-layer';
import { OriginPool } from '../origins/origin-pool';
import { mapErrors } from './activity-failure';
import { ActivityRecord } from './activity-record';
import { Heartbeater } from './heartbeater';
import { ParentIndex } from './parent-index';
import type { StageName } from '../contract/activity-types';

export interface ActivityDeps {
  /**
   * The host-wide content cache directory shared by every image on this host. Required (no
   * default); opened, and created if missing, by the first activity that needs it; relative to the
   * process's working directory.
   */
  cacheDir: string;
  /** Where activities record their own starts and ends, one JSON line each (tests read it); none when unset. */
  recordFile?: string;
  /** How often prepare and execute heartbeat at most, in ms. @default 1000 */
  heartbeatMs?: number;
  /** The file-system layer execute writes through (tests inject slow or failing ones). @default the real file system */
  fs?: FsLayer;
  /**
   * Awaited before each image's work in a stage (`describe` excluded), inside the activity, also
   * for every child of a batched publisher check. Tests and benchmarks slow stages down with it.
   * @default none
   */
  beforeStage?: (stage: StageName, name: string) => Promise<void>;
  /** The largest plan the plan activity returns, in bytes of JSON (tests lower it). @default MAX_PLAN_BYTES (200,000) */
  maxPlanBytes?: number;
}

/**
 * What every activity of one worker shares: one OriginPool (keep-alive connections to a
 * repository are reused), one ContentCache (opened on first use), one ParentIndex, the activity
 * record, and `recorded`, which wraps each image's work with its record lines, a heartbeater
 * and the mapping of image-model errors to Temporal failures.
 */
export function createActivityContext(deps: ActivityDeps) {
  const record = deps.recordFile ? new ActivityRecord(deps.recordFile) : null;
  const origins = new OriginPool();
  const parents = new ParentIndex();
  let cache: Promise<ContentCache> | null = null;
  const getCache = () => (cache ??= ContentCache.open(path.resolve(deps.cacheDir)));
  const every = deps.heartbeatMs ?? 1000;

  /**
   * One image's work in `stage`, recorded, heartbeating (unless `heartbeat: false`: the children
   * of a batch share the batch's heartbeater; `details`: what its keep-alive sends, a lane's own
   * progress), and with errors mapped to failures.
   */
  async function recorded<T>(
    stage: string,
    name: string,
    fn: (beat: Heartbeater | null) => Promise<T>,
    opts: { heartbeat?: boolean; details?: () => unknown } = {},
  ): Promise<T> {
    const info = activityInfo();
    const beat = opts.heartbeat === false ? null : new Heartbeater(every, opts.details);
    const base = {
      stage,
      name,
      pid: process.pid,
      attempt: info.attempt,
      workflowId: info.workflowExecution?.workflowId ?? '',
      taskQueue: info.taskQueue,
    };
    record?.write({ ...base, event: 'start', at: Date.now() });
    try {
      const out = await mapErrors(() => fn(beat));
      beat?.stop();
      record?.write({ ...base, event: 'end', at: Date.now() });
      return out;
    } catch (e) {
      record?.write({ ...base, event: 'fail', at: Date.now() });
      throw e;
    } finally {
      beat?.stop();
    }
  }

  return { deps, record, origins, parents, getCache, recorded, every };
}

export type ActivityContext = ReturnType<typeof createActivityContext>;
