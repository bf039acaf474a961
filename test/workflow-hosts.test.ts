import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { updateLinkedImages } from '../src/workflows';
import type { UpdateRequest } from '../src/contract/input';
import { readRecord } from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { childrenOf, Host, makeHost, release, workflowId } from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

let queues = 0;
const sharedQueue = () => `hosts-${process.pid}-${++queues}`;
const deps = (h: Host, extra = {}) => ({ cacheDir: h.cacheDir, recordFile: h.recordFile, ...extra });

/**
 * A run of `h` on a host named `<prefix><n>` whose worker runs `beforeStage` before every stage
 * (where a test holds the work it wants in flight), beside a worker of another host that serves
 * only the workflows. `lose()` shuts the host's worker down for good and resolves with the run's
 * result once the run has ended without it.
 */
async function runOnDyingHost(
  h: Host,
  prefix: string,
  beforeStage: (stage: string, child: string) => Promise<void>,
  input: Omit<UpdateRequest, 'image' | 'host'>,
) {
  const queue = sharedQueue();
  const name = `${prefix}${queues}`;
  const id = workflowId(prefix);
  const dying = await env.hostWorkers(deps(h, { beforeStage }), { host: name, taskQueue: queue });
  const workflowsOnly = await env.hostWorkers(deps(h), { host: `survivor${queues}`, taskQueue: queue });
  const run = env.client.workflow.execute(updateLinkedImages, {
    taskQueue: queue,
    workflowId: id,
    args: [{ image: h.parent, host: name, ...input }],
  });
  const dyingDone = dying.run();
  const survivorDone = workflowsOnly.runUntil(run);
  return {
    name,
    id,
    async lose() {
      dying.shutdown();
      await dyingDone;
      return survivorDone;
    },
  };
}

describe('each host takes only its own activities', () => {
  it('two hosts on one workflow queue: each run is worked on by its own host alone, from its own queue', async () => {
    const [a, b] = [await makeHost(3), await makeHost(3)];
    const queue = sharedQueue();
    const [wa, wb] = [
      await env.hostWorkers(deps(a), { host: `a${queues}`, taskQueue: queue }),
      await env.hostWorkers(deps(b), { host: `b${queues}`, taskQueue: queue }),
    ];
    const [ida, idb] = [workflowId('host-a'), workflowId('host-b')];
    const runs = Promise.all([
      env.client.workflow.execute(updateLinkedImages, {
        taskQueue: queue,
        workflowId: ida,
        args: [{ image: a.parent, host: `a${queues}`, concurrency: 2 }],
      }),
      env.client.workflow.execute(updateLinkedImages, {
        taskQueue: queue,
        workflowId: idb,
        args: [{ image: b.parent, host: `b${queues}`, concurrency: 2 }],
      }),
    ]);
    const [ra, rb] = await Promise.all([wa.runUntil(runs), wb.runUntil(runs)]).then(([r]) => r);
    assert.equal(ra.status, 'ok');
    assert.equal(rb.status, 'ok');
    for (const [h, id, name] of [
      [a, ida, `a${queues}`],
      [b, idb, `b${queues}`],
    ] as const) {
      const lines = await readRecord(h.recordFile);
      assert.ok(lines.length >= 4 * 3, `${name} worked: ${lines.length} record lines`);
      assert.deepEqual(
        [...new Set(lines.map((l) => l.workflowId))],
        [id],
        `${name}'s worker ran activities of its own run only`,
      );
      assert.deepEqual(
        [...new Set(lines.map((l) => l.taskQueue))],
        [`linked-images@${name}`],
        `${name}'s activities all came from its own queue`,
      );
      for (const c of h.children) assert.equal(await release(c.path), 'Demo OS 1.1', `${name} ${c.name}`);
    }
  });
});

describe('a host whose worker is down', () => {
  it(
    'fails the run at once as HOST_UNAVAILABLE naming the host and its queue, after the schedule-to-start timeout',
    { timeout: 60_000 },
    async () => {
      const h = await makeHost(1);
      const queue = sharedQueue();
      // Only the workflows are served (another host's worker); nobody polls linked-images@absent.
      const other = await env.hostWorkers(deps(h), { host: `other${queues}`, taskQueue: queue });
      const t0 = Date.now();
      const r = await other.runUntil(
        env.client.workflow.execute(updateLinkedImages, {
          taskQueue: queue,
          workflowId: workflowId('host-down'),
          args: [{ image: h.parent, host: 'absent', hostTimeout: '2s' }],
        }),
      );
      assert.equal(r.status, 'failed');
      assert.equal(r.exitCode, 1);
      assert.equal(r.parent.error?.stage, 'describe');
      assert.equal(r.parent.error?.code, 'HOST_UNAVAILABLE');
      assert.match(
        r.parent.error!.message,
        /No worker of host 'absent' took the describe activity from task queue 'linked-images@absent' within 2s \(schedule-to-start timeout\)/,
      );
      assert.ok(Date.now() - t0 < 30_000, 'not a hang');
      assert.deepEqual(await readRecord(h.recordFile), [], 'no activity ran anywhere');
    },
  );

  it(
    'that dies in the middle of a run: what was left fails as HOST_UNAVAILABLE, nothing waits forever',
    { timeout: 90_000 },
    async () => {
      const h = await makeHost(2);
      // The dying host plans, then its worker stops for good before anything is prepared.
      let planned = 0;
      const { name, lose } = await runOnDyingHost(
        h,
        'dying',
        async (stage) => {
          if (stage === 'plan') planned++;
          if (stage === 'prepare') await new Promise((r) => setTimeout(r, 60_000));
        },
        { concurrency: 2, hostTimeout: '3s' },
      );
      // Stop the dying host as soon as its parent prepare starts (held in beforeStage): the
      // activity is cancelled by the shutdown and retried on a queue nobody polls any more.
      while (planned < 3) await new Promise((r) => setTimeout(r, 50));
      while (!(await readRecord(h.recordFile)).some((l) => l.stage === 'prepare'))
        await new Promise((r) => setTimeout(r, 50));
      const r = await lose();
      assert.equal(r.status, 'failed');
      assert.equal(r.parent.error?.code, 'HOST_UNAVAILABLE', JSON.stringify(r.parent.error));
      assert.equal(r.parent.error?.stage, 'prepare');
      assert.match(r.parent.error!.message, new RegExp(`host '${name}'.*'linked-images@${name}'`));
      assert.deepEqual(
        childrenOf(r).map((c) => c.outcome),
        ['skipped', 'skipped'],
        'no child was prepared or executed',
      );
    },
  );

  it(
    'whose worker shuts down in the middle of an execute lane: the children it executed are updated, the one it was executing fails HOST_UNAVAILABLE, the rest are skipped',
    { timeout: 120_000 },
    async () => {
      const h = await makeHost(6);
      // -C 1: zone:z1 is executed alone, then zone:z2..z6 in one lane; the host's worker shuts
      // down for good while the lane executes zone:z4 (held in beforeStage): the lane reports
      // zone:z2 and z3 executed and the rest not started, and zone:z4 waits for a worker in vain.
      let held = false;
      const { id, lose } = await runOnDyingHost(
        h,
        'lost',
        async (stage, child) => {
          if (stage !== 'execute' || child !== 'zone:z4') return;
          held = true;
          await new Promise((r) => setTimeout(r, 60_000));
        },
        { concurrency: 1, hostTimeout: '3s', recursive: true },
      );
      while (!held) await new Promise((r) => setTimeout(r, 50));
      const r = await lose();
      const scheduled = (await env.client.workflow.getHandle(id).fetchHistory()).events!.flatMap((e) =>
        e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityId!] : [],
      );
      assert.ok(scheduled.includes('execute/zone:z2..zone:z6'), `a lane: ${scheduled.join(', ')}`);
      const lanes = (await readRecord(h.recordFile)).filter((l) => l.stage === 'execute' && l.event === 'end');
      assert.deepEqual(
        lanes.map((l) => l.name),
        ['parent', 'zone:z1', 'zone:z2', 'zone:z3'],
        'executed before the loss',
      );
      assert.equal(r.status, 'partial');
      assert.deepEqual(
        childrenOf(r).map((c) => [c.name, c.outcome]),
        [
          ['zone:z1', 'updated'],
          ['zone:z2', 'updated'],
          ['zone:z3', 'updated'],
          ['zone:z4', 'failed'],
          ['zone:z5', 'skipped'],
          ['zone:z6', 'skipped'],
        ],
      );
      assert.deepEqual(
        r.failures.map((f) => [f.name, f.stage, f.code]),
        [['zone:z4', 'execute', 'HOST_UNAVAILABLE']],
      );
      for (const z of [0, 1, 2]) assert.equal(await release(h.children[z].path), 'Demo OS 1.1', h.children[z].name);
      for (const z of [4, 5]) assert.equal(await release(h.children[z].path), 'Demo OS 1.0', h.children[z].name);
    },
  );
});
