/**
 * Fewer round trips through the workflow on a real dev server (issue 8): small children are
 * planned and executed several to an activity (lanes: planChildren, executeChildren,
 * src/contract/lanes.ts), each child's plan still its own checkpoint and each execute its own
 * journal, and a child whose files are all in the parent's plan gets no prepare activity. A slow
 * plan ends its lane, so slow children keep an activity each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readAuditReport } from '../src/client/report/history-reader';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { checkpointedPlans, type Host, imageOf, makeHost, release, runUpdate } from './helpers/workflow-fixture';
import { firstValue } from '../src/client/report/history-decode';
import { ImageError } from '../src/model/errors';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

/** Each scheduled activity of the run's first execution: its type, ID and (for a lane) the children its result names (`planned`: planned or executed). */
async function activities(id: string) {
  const events = (await env.client.workflow.getHandle(id).fetchHistory()).events ?? [];
  const out = new Map<string, { type: string; id: string; planned: string[] | null }>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) out.set(String(e.eventId), { type: s.activityType?.name ?? '', id: s.activityId ?? '', planned: null });
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const a = out.get(String(c.scheduledEventId))!;
      const r = firstValue(c.result) as { results?: { name: string }[] };
      if (r?.results) a.planned = r.results.map((x) => x.name);
    }
  }
  return [...out.values()];
}

/** A run of `host` with `input`; `planDelayMs` of simulated work before each plan. */
const update = (host: Host, input: Record<string, unknown>, planDelayMs = 0) =>
  runUpdate(env, host, input, 'lanes', {
    beforeStage: async (stage) => {
      if (stage === 'plan' && planDelayMs > 0) await new Promise((r) => setTimeout(r, planDelayMs));
    },
  });

describe('lanes and prepare with the parent', () => {
  it('plans small children several to an activity, each plan checkpointed once, and prepares only the parent', async () => {
    const host = await makeHost(6);
    const run = await update(host, { concurrency: 2 });
    assert.equal(run.result.status, 'ok', JSON.stringify(run.result.failures));
    const acts = await activities(run.workflowId);
    const lanes = acts.filter((a) => a.type === 'planChildren');
    assert.ok(lanes.length >= 1 && lanes.length <= 4, `6 children at -C 2 in a few lanes: ${JSON.stringify(lanes)}`);
    assert.ok(
      lanes.some((l) => (l.planned?.length ?? 0) > 1),
      'a lane planned more than one child',
    );
    const plans = await checkpointedPlans(env, run.workflowId);
    const names = host.children.map((c) => c.name);
    for (const n of names) {
      assert.equal(plans.get(n)?.changes.length, 5, `${n}: its plan is in the history`);
      assert.equal(
        run.lines.filter((l) => l.stage === 'plan' && l.name === n && l.event === 'end').length,
        1,
        `${n} planned once`,
      );
      assert.equal(imageOf(run.result, n).outcome, 'updated', n);
    }
    for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1', c.name);
    // The zones need only files the parent's plan delivers: one prepare, the parent's.
    assert.deepEqual(
      acts.filter((a) => a.type === 'prepare').map((a) => a.id),
      ['prepare/parent'],
    );
    // Executes too go in lanes: one activity for the parent, fewer than six for the six children
    // (the first two are single: until one ended, the run does not know how long a child takes).
    const executes = acts.filter((a) => a.type === 'execute' || a.type === 'executeChildren');
    assert.equal(executes[0].id, 'execute/parent');
    assert.ok(executes.length < 7, JSON.stringify(executes));
    assert.ok(
      executes.some((a) => a.type === 'executeChildren' && (a.planned?.length ?? 0) > 1),
      'a lane executed more than one child',
    );
    for (const n of names)
      assert.equal(
        run.lines.filter((l) => l.stage === 'execute' && l.name === n && l.event === 'end').length,
        1,
        `${n} executed once`,
      );

    // The report shows a plan and an execute row per child, with the lane it was in.
    const report = await readAuditReport(env.client, run.workflowId, {
      server: { address: env.server.address, namespace: env.server.namespace },
    });
    for (const n of names) {
      const stages = report.images.find((i) => i.name === n)!.stages;
      const plan = stages.filter((s) => s.stage === 'plan');
      assert.equal(plan.length, 1, n);
      assert.equal(plan[0].summary, '5 changes', n);
      assert.match(plan[0].activityId, /^plan\/zone:z\d+(\.\.zone:z\d+)?$/);
      const execute = stages.filter((s) => s.stage === 'execute');
      assert.equal(execute.length, 1, n);
      assert.match(execute[0].summary ?? '', /^applied, \d+ steps$/, n);
      assert.equal(report.images.find((i) => i.name === n)!.outcome, 'updated', n);
    }
  });

  it('a plan slower than the lane budget ends its lane: slow children keep an activity each', async () => {
    const host = await makeHost(4);
    const run = await update(host, { concurrency: 2 }, 1100);
    assert.equal(run.result.status, 'ok', JSON.stringify(run.result.failures));
    const lanes = (await activities(run.workflowId)).filter(
      (a) => a.type === 'planChildren' || a.id.startsWith('plan/zone'),
    );
    assert.ok(
      lanes.every((l) => l.planned === null || l.planned.length === 1),
      `each lane planned one child: ${JSON.stringify(lanes)}`,
    );
    const plans = await checkpointedPlans(env, run.workflowId);
    for (const c of host.children) assert.equal(plans.get(c.name)?.changes.length, 5, c.name);
  });

  it("a lane that completed after a failed attempt: the report's errors list that attempt once, for the lane", async () => {
    const host = await makeHost(4);
    let failed = false;
    // -C 1: zone:z1 is executed alone, then zone:z2..z4 in one lane, whose first attempt fails.
    const run = await runUpdate(env, host, { concurrency: 1, recursive: true }, 'lane-retried', {
      beforeStage: async (stage, name) => {
        if (stage !== 'execute' || name !== 'zone:z2' || failed) return;
        failed = true;
        throw new ImageError('IO_ERROR', 'the disk went away for a moment');
      },
    });
    assert.equal(run.result.status, 'ok', JSON.stringify(run.result.failures));
    const report = await readAuditReport(env.client, run.workflowId, {
      server: { address: env.server.address, namespace: env.server.namespace },
    });
    assert.deepEqual(
      report.errors.map((e) => [e.image, e.stage, e.code, e.final]),
      [['zone:z2..zone:z4', 'execute', 'IO_ERROR', false]],
    );
  });
});
