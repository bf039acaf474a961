import * as path from 'path';
import { audit } from '../image/audit';
import { Image } from '../image/image';
import { listChildren } from '../image/linked';
import { plannedState } from '../stages/parent-state';
import { plan } from '../stages/plan';
import { publisherCheck } from '../stages/publisher-check';
import type { ActivityContext } from './activity-context';
import { planLines } from './plan-lines';
import { executeLine, executeWithProgress, prepareWithProgress } from './stage-work';
import type {
  LegacyActivities,
  AuditOutput,
  DescribeInput,
  DescribeOutput,
  ExecuteOutput,
  PlanInput,
  PlanOutput,
  PrepareOutput,
  PublisherCheckInput,
  StageInput,
  StageOutput,
} from '../contract/activity-types';

/**
 * The activities of runs started before host task queues (workflow patch 'bounded-runs'), and of
 * `auditLinkedImages`. Those runs schedule them on the workflow's own task queue with whole plans
 * in their inputs; they stay registered until no such run is open (README "Upgrading workers while runs are in flight").
 */
export function createLegacyActivities(ctx: ActivityContext): LegacyActivities {
  const { recorded, origins, getCache } = ctx;
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
      });
    },

    async auditChild(input: PublisherCheckInput): Promise<AuditOutput> {
      return recorded('audit', input.child.name, async () =>
        audit(await Image.open(input.image), await Image.open(input.child.path)),
      );
    },

    async planImage(input: PlanInput): Promise<PlanOutput> {
      return recorded('plan', input.name, async () => {
        const image = await Image.open(input.image);
        const installed = await image.installed();
        const packages =
          input.packages && (input.parent ? input.packages.filter((s) => installed.has(s)) : input.packages);
        const parentState = input.parent
          ? await plannedState(await Image.open(input.parent.image), input.parent.plan)
          : null;
        const p = await plan(image, packages ? { update: packages } : {}, parentState, {
          cache: await getCache(),
          origins,
        });
        return { plan: p, lines: planLines(p) };
      });
    },

    async prepareImage(input: StageInput): Promise<PrepareOutput> {
      return recorded('prepare', input.name, async (beat) =>
        prepareWithProgress(ctx, await Image.open(input.image), input.plan, beat),
      );
    },

    async executeImage(input: StageInput): Promise<ExecuteOutput> {
      return recorded('execute', input.name, async (beat) => {
        const r = await executeWithProgress(ctx, await Image.open(input.image), input.plan, beat);
        return { status: r.status, steps: r.steps, resumed: r.resumed, lines: [executeLine(r)] };
      });
    },
  };
}
