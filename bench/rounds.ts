import { ExecuteResult, PlanResult, PrepareResult } from './phases';

export interface Stage {
  plan: PlanResult;
  prepare: PrepareResult;
  execute: ExecuteResult;
}

const lower = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Two rounds of the same stage (each on a fresh image and cache) as one: the fastest time of
 * each measurement, as the baselines already count their fastest run, and the highest memory.
 */
export function fastest(a: Stage, b: Stage): Stage {
  return {
    plan: {
      ...a.plan,
      coldMs: Math.min(a.plan.coldMs, b.plan.coldMs),
      warmMs: Math.min(a.plan.warmMs, b.plan.warmMs),
      peakRss: Math.max(a.plan.peakRss, b.plan.peakRss),
    },
    prepare: {
      ...a.prepare,
      ms: Math.min(a.prepare.ms, b.prepare.ms),
      copyMs: Math.min(a.prepare.copyMs, b.prepare.copyMs),
      planActionsMs: Math.min(a.prepare.planActionsMs, b.prepare.planActionsMs),
      peakRss: Math.max(a.prepare.peakRss, b.prepare.peakRss),
    },
    execute: {
      ...(b.execute.ms < a.execute.ms ? b.execute : a.execute), // fsOps of the faster run
      cpMs: lower(a.execute.cpMs, b.execute.cpMs),
      cpSyncMs: lower(a.execute.cpSyncMs, b.execute.cpSyncMs),
      peakRss: Math.max(a.execute.peakRss, b.execute.peakRss),
    },
  };
}
