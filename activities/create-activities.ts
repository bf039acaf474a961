import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import * as path from 'path';
import { ContentCache } from '../images/content-cache';
import { execute } from '../images/execute';
import { Image } from '../images/image';
import { listChildren } from '../images/linked';
import { OriginPool } from '../images/origin-pool';
import { plannedState } from '../images/parent-state';
import { plan } from '../images/plan';
import { prepare } from '../images/prepare';
import { publisherCheck } from '../images/publisher-check';
import { mapErrors } from './activity-failure';
import { ActivityRecord } from './activity-record';
import { planLines } from './plan-lines';
import { throttle } from './throttle';
import type {
  DescribeInput, DescribeOutput, ExecuteOutput, HeartbeatProgress, PlanInput, PlanOutput, PrepareOutput, PublisherCheckInput, StageInput, StageOutput,
} from './types';

export interface ActivityDeps {
  /** The host-wide content cache directory shared by every image on this host. */
  cacheDir: string;
  /** Where activities record their own starts and ends (tests read it); none when unset. */
  recordFile?: string;
  /** How often prepare and execute heartbeat at most. @default 1000 */
  heartbeatMs?: number;
}

/**
 * The four stages (plus `describeImage`) as activities over the image model. One OriginPool is
 * shared by all activities of the worker, so keep-alive connections to a repository are reused.
 */
export function createActivities(deps: ActivityDeps) {
  const record = deps.recordFile ? new ActivityRecord(deps.recordFile) : null;
  const origins = new OriginPool();
  let cache: Promise<ContentCache> | null = null;
  const getCache = () => (cache ??= ContentCache.open(path.resolve(deps.cacheDir)));
  const every = deps.heartbeatMs ?? 1000;

  async function recorded<T>(stage: string, name: string, fn: () => Promise<T>, keepAlive = false): Promise<T> {
    const info = activityInfo();
    // Activities without progress of their own still heartbeat, so that a dead worker is
    // noticed within the heartbeat timeout instead of the (long) start-to-close timeout.
    const timer = keepAlive ? setInterval(() => heartbeat(), every) : null;
    const base = { stage, name, pid: process.pid, attempt: info.attempt, workflowId: info.workflowExecution?.workflowId ?? '' };
    record?.write({ ...base, event: 'start', at: Date.now() });
    try {
      const out = await mapErrors(fn);
      record?.write({ ...base, event: 'end', at: Date.now() });
      return out;
    } catch (e) {
      record?.write({ ...base, event: 'fail', at: Date.now() });
      throw e;
    } finally {
      if (timer) clearInterval(timer);
    }
  }

  /** Heartbeats `{stage, done, total, unit}`, at most once per `every` ms. */
  function progress(stage: HeartbeatProgress['stage'], unit: HeartbeatProgress['unit']) {
    const resumedFrom = activityInfo().heartbeatDetails as HeartbeatProgress | undefined;
    if (resumedFrom) log.info(`${stage} resumes after attempt ${activityInfo().attempt - 1} stopped at ${resumedFrom.done}/${resumedFrom.total} ${unit}`);
    const t = throttle<HeartbeatProgress>(every, (d) => heartbeat(d));
    heartbeat(resumedFrom ?? { stage, done: 0, total: 0, unit }); // at once: cancellation only reaches an activity that heartbeats
    return t;
  }

  return {
    async describeImage(input: DescribeInput): Promise<DescribeOutput> {
      return recorded('describe', 'parent', async () => {
        if (!path.isAbsolute(input.image)) return { problem: `'${input.image}' is not an absolute path`, children: [] };
        try {
          const image = await Image.open(input.image);
          return { problem: null, children: listChildren(image) };
        } catch (e) {
          return { problem: (e as Error).message, children: [] };
        }
      });
    },

    async checkPublishers(input: PublisherCheckInput): Promise<StageOutput> {
      return recorded('publisher-check', input.child.name, async () => {
        publisherCheck(await Image.open(input.image), await Image.open(input.child.path));
        return { lines: [] };
      }, true);
    },

    async planImage(input: PlanInput): Promise<PlanOutput> {
      return recorded('plan', input.name, async () => {
        const image = await Image.open(input.image);
        const installed = await image.installed();
        const packages = input.packages && (input.parent ? input.packages.filter((s) => installed.has(s)) : input.packages);
        const parentState = input.parent ? await plannedState(await Image.open(input.parent.image), input.parent.plan) : null;
        const p = await plan(image, packages ? { update: packages } : {}, parentState, { cache: await getCache(), origins });
        return { plan: p, lines: planLines(p) };
      }, true);
    },

    async prepareImage(input: StageInput): Promise<PrepareOutput> {
      return recorded('prepare', input.name, async () => {
        const beat = progress('prepare', 'bytes');
        const r = await prepare(await Image.open(input.image), input.plan, await getCache(), {
          origins,
          signal: cancellationSignal(),
          onProgress: (p) => beat.push({ stage: 'prepare', done: p.bytesDone, total: p.bytesTotal, unit: 'bytes' }),
        });
        beat.flush();
        const lines = [`Download: ${r.filesDone}/${r.filesTotal} files, ${r.bytesDone}/${r.bytesTotal} bytes (${r.fetchedFiles} files fetched now, the rest already in the host cache)`];
        return { files: r.filesTotal, bytes: r.bytesTotal, fetchedFiles: r.fetchedFiles, fetchedBytes: r.fetchedBytes, lines };
      });
    },

    async executeImage(input: StageInput): Promise<ExecuteOutput> {
      return recorded('execute', input.name, async () => {
        const beat = progress('execute', 'steps');
        const r = await execute(await Image.open(input.image), input.plan, await getCache(), {
          origins,
          signal: cancellationSignal(),
          onProgress: (p) => beat.push({ stage: 'execute', done: p.stepsDone, total: p.stepsTotal, unit: 'steps' }),
        });
        beat.flush();
        const how = r.status === 'already-applied' ? 'already applied' : r.resumed ? 'applied (resumed an interrupted execute)' : r.status;
        return { status: r.status, steps: r.steps, resumed: r.resumed, lines: [`Execute: ${how}, ${r.steps} steps`] };
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
