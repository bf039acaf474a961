import { proxyActivities } from '@temporalio/workflow';
import type { RunActivities } from '../contract/activity-types';
import type { StageName } from '../contract/activity-types';
import { activityId, PARENT } from '../contract/activity-ids';
import { activityOptions, hostQueueOf } from './activity-options';
import { describeFailure } from './describe-failure';
import type { UpdateInput } from '../contract/input';
import type { ItemEnd } from './run-window';
import { type SegmentState, setError, setStatus, STATUS } from './segment-state';

const acts = proxyActivities<RunActivities>({ startToCloseTimeout: '1 minute' });

/** The stages the parent image goes through itself (pkg(5) checks only children's publishers). */
export type ParentStage = Exclude<StageName, 'publisher-check'>;

/**
 * Runs one stage for the parent image (a one-image SegmentState named `parent`, status `c` to
 * start with), recording its plan, status or error. The plan stage saves the parent's plan in
 * the image; its digest (state.plans[0]) is what the children are planned against.
 */
export async function runParentStage(stage: ParentStage, parent: SegmentState, input: UpdateInput): Promise<ItemEnd> {
  const address = { image: input.image, child: null };
  const id = activityId(stage, PARENT);
  try {
    if (stage === 'plan') {
      const out = await acts.plan.executeWithOptions(activityOptions('plan', input, id), [
        { ...address, packages: input.packages, parentPlan: null },
      ]);
      parent.plans[0] = out.plan.digest;
      parent.changes[0] = out.plan.changes.length;
      setStatus(parent, 0, out.plan.changes.length > 0 ? STATUS.planned : STATUS.nothing);
    } else if (stage === 'prepare') {
      await acts.prepare.executeWithOptions(activityOptions('prepare', input, id), [
        { ...address, plan: parent.plans[0]! },
      ]);
      setStatus(parent, 0, STATUS.prepared);
    } else {
      await acts.execute.executeWithOptions(activityOptions('execute', input, id), [
        { ...address, plan: parent.plans[0]! },
      ]);
      setStatus(parent, 0, STATUS.updated);
    }
    return 'ok';
  } catch (e) {
    const f = describeFailure(e, stage, {
      host: input.host,
      taskQueue: hostQueueOf(input),
      hostTimeout: input.hostTimeout,
    });
    setError(parent, 0, { stage, ...f }, f.code === 'CANCELLED');
    return f.code === 'CANCELLED' ? 'cancelled' : 'failed';
  }
}
