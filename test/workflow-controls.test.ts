/**
 * The live controls of a run against a real dev server (issue 10): pause / resume, setConcurrency,
 * skipChild, retryChild, the failure budget, plan approval, the maintenance window, and each
 * validator's refusals, which must leave no trace in the history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { promises as fs } from 'fs';
import type { ActivityDeps } from '../src/activities/activity-context';
import {
  approveUpdate,
  controlsQuery,
  pauseUpdate,
  plansQuery,
  rejectUpdate,
  resumeUpdate,
  retryChildUpdate,
  setConcurrencyUpdate,
  skipChildUpdate,
  type ControlState,
} from '../src/contract/controls';
import type { UpdateResult } from '../src/contract/run-types';
import { readRecord, maxRunning, startsPerName } from './helpers/activity-log';
import { startTemporalEnv, type TemporalEnv } from './helpers/temporal-env';
import { cleanup, snapshot } from './helpers/tree';
import {
  childrenOf,
  emptyOriginFor,
  historyEventTypes,
  imageOf,
  makeHost,
  release,
  setZonePublishers,
  workflowId,
  type Host,
} from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms until it returns true (at most `ms`). */
async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  // A query may fail while the run starts (its handlers are not registered yet): ask again.
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

type Run = WorkflowHandle<(i: unknown) => Promise<UpdateResult>>;

/** Starts a run of `host` with `input` on a fresh worker (with `deps`) and hands its handle to `fn`. */
async function withRun<T>(
  host: Host,
  input: Record<string, unknown>,
  deps: Partial<ActivityDeps>,
  fn: (run: Run, id: string) => Promise<T>,
): Promise<T> {
  const id = workflowId('controls');
  return env.withWorker(
    { cacheDir: host.cacheDir, recordFile: host.recordFile, ...deps },
    async (taskQueue, hostName) => {
      const run = await env.client.workflow.start<(i: unknown) => Promise<UpdateResult>>('updateLinkedImages', {
        taskQueue,
        workflowId: id,
        args: [{ image: host.parent, host: hostName, recursive: true, ...input }],
      });
      return fn(run, id);
    },
  );
}

/** The validator's message of a refused update (asserting it was refused). */
async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(e)}`);
    return (e.cause as Error).message;
  }
  assert.fail('the update was accepted');
}

const started = async (host: Host, id: string, stage: string) =>
  (await readRecord(host.recordFile, id)).filter((l) => l.stage === stage && l.event === 'start');

const updateEvents = async (id: string) =>
  (await historyEventTypes(env, id)).filter((t) => t.startsWith('WorkflowExecutionUpdate'));

describe('live controls: pause, resume, setConcurrency and their refusals', () => {
  it('a paused run starts nothing new until resumed; caps change while it runs; bad arguments leave no trace', async () => {
    // zone/tools (zone-only) gives every zone files of its own to prepare.
    const host = await makeHost(6, { bigFileBytes: 10_000 });
    // Plan slow enough to pause in; prepare slow enough that 3 allowed at once do overlap on a busy machine.
    const slow: Partial<ActivityDeps> = {
      beforeStage: (stage) => sleep(stage === 'plan' ? 400 : stage === 'prepare' ? 300 : 0),
    };
    await withRun(host, { concurrency: 1 }, slow, async (run, id) => {
      await until('the first child plans', async () =>
        (await started(host, id, 'plan')).some((l) => l.name !== 'parent'),
      );
      const paused = await run.executeUpdate(pauseUpdate);
      assert.equal(paused.paused, true);
      assert.equal(paused.holding, 'paused');
      // What was running finishes; then nothing new starts while paused.
      const atPause = (await started(host, id, 'plan')).length;
      await sleep(1500);
      const later = (await started(host, id, 'plan')).length;
      assert.ok(later <= atPause + 1, `at most the one in flight finished its start: ${atPause} -> ${later}`);
      await sleep(1000);
      assert.equal((await started(host, id, 'plan')).length, later, 'nothing new started while paused');
      assert.equal((await run.query(controlsQuery)).paused, true);
      assert.match((await run.query<{ line: string }, []>('progress')).line, /\(paused\)$/);

      // Refusals: each names what is wrong, and none is written to the history.
      const before = await updateEvents(id);
      assert.match(await refused(run.executeUpdate(pauseUpdate)), /already paused/);
      assert.match(
        await refused(run.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 0.5 }] })),
        /concurrency: expected an integer/,
      );
      assert.match(
        await refused(run.executeUpdate(setConcurrencyUpdate, { args: [{ concurrency: 'abc' as never }] })),
        /concurrency: expected an integer .*"abc"/,
      );
      assert.match(
        await refused(run.executeUpdate(setConcurrencyUpdate, { args: [{ stages: { fetch: 2 } as never }] })),
        /unknown stage 'fetch'/,
      );
      assert.match(await refused(run.executeUpdate(setConcurrencyUpdate, { args: [{}] })), /expected \{"concurrency"/);
      assert.match(
        await refused(run.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:nope' }] })),
        /'zone:nope' is not one of this run's children/,
      );
      assert.match(
        await refused(run.executeUpdate(skipChildUpdate, { args: [{ child: 'nope' as never }] })),
        /child: expected a child name/,
      );
      assert.match(
        await refused(run.executeUpdate(approveUpdate, { args: [{ digest: 'x' }] })),
        /started without approval/,
      );
      assert.deepEqual(await updateEvents(id), before, 'refused updates leave no trace in the history');

      const caps = await run.executeUpdate(setConcurrencyUpdate, {
        args: [{ concurrency: 2, stages: { prepare: 3 } }],
      });
      assert.deepEqual([caps.concurrency, caps.stageConcurrency], [2, { 'publisher-check': 0, prepare: 3 }]);
      const resumed = await run.executeUpdate(resumeUpdate);
      assert.equal(resumed.paused, false);
      assert.match(await refused(run.executeUpdate(resumeUpdate)), /not paused/);
      const result = await run.result();
      assert.equal(result.status, 'ok');
      const lines = await readRecord(host.recordFile, id);
      assert.equal(maxRunning(lines, 'prepare'), 3, 'prepare ran 3 at once, as set while the run went');
      assert.ok(maxRunning(lines, 'execute') <= 2, 'execute kept the new default cap of 2');
      // pkg(5) checks the children's publishers without a limit unless a cap is given for that stage.
      assert.ok(maxRunning(lines, 'publisher-check') > 1, 'the publisher check took no cap from concurrency');
    });
  });
});

describe('live controls: skipChild and retryChild, with a failure budget', () => {
  it('a skipped child is left out and reported skipped; a child working now cannot be skipped', async () => {
    const host = await makeHost(4);
    const before = await snapshot(host.children[3].path);
    const slow: Partial<ActivityDeps> = { beforeStage: (stage) => sleep(stage === 'plan' ? 500 : 0) };
    await withRun(host, { concurrency: 1 }, slow, async (run, id) => {
      await until('zone:z1 plans', async () => (await started(host, id, 'plan')).some((l) => l.name === 'zone:z1'));
      assert.match(
        await refused(run.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:z1' }] })),
        /'zone:z1' is working now/,
      );
      const s = await run.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:z4' }] });
      assert.equal(s.skipped, 1);
      assert.match(
        await refused(run.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:z4' }] })),
        /skipped already/,
      );
      const result = await run.result();
      assert.equal(result.status, 'ok');
      assert.equal(imageOf(result, 'zone:z4').outcome, 'skipped');
      assert.equal(result.counts.skipped, 1);
      assert.equal(result.counts.updated, 3);
      assert.equal(startsPerName(await readRecord(host.recordFile, id), 'plan')['zone:z4'], undefined);
    });
    assert.deepEqual(await snapshot(host.children[3].path), before, 'the skipped zone is untouched');
  });

  it('with maxFailures 1 a failed child does not stop the others (partial, exit 3); fixed and retried, it is updated in the same run', async () => {
    const host = await makeHost(4);
    const z2 = host.children[1].path;
    const img = JSON.parse(await fs.readFile(`${z2}/var/pkg/image.json`, 'utf8')) as { publishers: unknown[] };
    await emptyOriginFor(z2);
    // The others are slow to execute, so the run is still going when the operator has fixed zone:z2.
    const slow: Partial<ActivityDeps> = {
      beforeStage: (stage, name) => sleep(stage === 'execute' && name !== 'zone:z2' ? 700 : 0),
    };
    await withRun(host, { concurrency: 1, maxFailures: 1 }, slow, async (run, id) => {
      await until('zone:z2 fails to plan', async () =>
        (await readRecord(host.recordFile, id)).some((l) => l.name === 'zone:z2' && l.event === 'fail'),
      );
      await until('the failure is counted', async () => (await run.query(controlsQuery)).failures === 1);
      assert.match(
        await refused(run.executeUpdate(retryChildUpdate, { args: [{ child: 'zone:z1' }] })),
        /'zone:z1' has not failed/,
      );
      // The operator fixes the cause: the zone's publisher gets its origin back.
      await setZonePublishers(z2, () => img.publishers as never);
      const r = await run.executeUpdate(retryChildUpdate, { args: [{ child: 'zone:z2' }] });
      assert.equal(r.failures, 0, 'a retried child no longer counts against the budget');
      const result = await run.result();
      assert.equal(result.status, 'ok', JSON.stringify(result.failures));
      assert.deepEqual(
        childrenOf(result).map((c) => c.outcome),
        ['updated', 'updated', 'updated', 'updated'],
      );
      assert.equal(await release(z2), 'Demo OS 1.1');
      assert.equal(startsPerName(await readRecord(host.recordFile, id), 'plan')['zone:z2'], 2);
    });
  });

  it('with maxFailures 1 and nobody retrying, the run ends partial with the failed child reported', async () => {
    const host = await makeHost(4);
    await emptyOriginFor(host.children[1].path);
    await withRun(host, { concurrency: 2, maxFailures: '25%' }, {}, async (run) => {
      const result = await run.result();
      assert.equal(result.status, 'partial');
      assert.equal(result.exitCode, 3);
      assert.deepEqual(
        childrenOf(result).map((c) => c.outcome),
        ['updated', 'failed', 'updated', 'updated'],
      );
      assert.equal(result.failures[0].code, 'UNSATISFIABLE');
    });
  });

  it('a budget exceeded stops new work: two failures with maxFailures 1 end the run failed before prepare', async () => {
    const host = await makeHost(4);
    await emptyOriginFor(host.children[0].path);
    await emptyOriginFor(host.children[1].path);
    await withRun(host, { concurrency: 1, maxFailures: 1 }, {}, async (run, id) => {
      const result = await run.result();
      assert.equal(result.status, 'failed');
      assert.equal(result.counts.failed, 2);
      const lines = await readRecord(host.recordFile, id);
      assert.ok(!lines.some((l) => l.stage === 'prepare' && l.name !== 'parent'), 'no child was prepared');
      assert.equal(startsPerName(lines, 'plan')['zone:z4'], undefined, 'nothing new started after the second failure');
    });
  });
});

describe('live controls: plan approval', () => {
  it('stops after prepare; the plans query shows each plan and the set digest; a wrong digest is refused; approve executes', async () => {
    const host = await makeHost(3);
    await withRun(host, { concurrency: 2, approval: true }, {}, async (run, id) => {
      await until('the run waits for approval', async () => (await run.query(controlsQuery)).approval === 'waiting');
      const plans = await run.query(plansQuery, { offset: 0, limit: 2 });
      assert.equal(plans.approval, 'waiting');
      assert.match(plans.setDigest!, /^[0-9a-f]{64}$/);
      assert.equal(plans.total, 3);
      // The demo zones' files are all in the parent's plan: prepared with the parent, they download nothing.
      assert.deepEqual(
        plans.children.map((c) => [c.name, c.included, c.changes > 0, c.planDigest.length, c.downloadBytes]),
        [
          ['zone:z1', true, true, 64, 0],
          ['zone:z2', true, true, 64, 0],
        ],
      );
      assert.equal((await run.query(plansQuery, { offset: 2, limit: 100 })).children[0].name, 'zone:z3');
      assert.ok(plans.parent && plans.parent.included);
      const lines = await readRecord(host.recordFile, id);
      assert.ok(!lines.some((l) => l.stage === 'execute'), 'nothing executed before approval');
      assert.equal((await run.describe()).searchAttributes.LinkedImageStatus?.[0], 'awaiting-approval');

      const before = await updateEvents(id);
      assert.match(
        await refused(run.executeUpdate(approveUpdate, { args: [{ digest: '0'.repeat(64) }] })),
        /changed since you reviewed them/,
      );
      assert.deepEqual(await updateEvents(id), before);
      const approved = await run.executeUpdate(approveUpdate, { args: [{ digest: plans.setDigest! }] });
      assert.equal(approved.approval, 'approved');
      assert.match(await refused(run.executeUpdate(rejectUpdate, { args: [{}] })), /already approved/);
      const result = await run.result();
      assert.equal(result.status, 'ok');
      for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1');
    });
  });

  it('reject ends the run with nothing executed (status rejected, exit 1); approve after reject is refused', async () => {
    const host = await makeHost(2);
    const before = await Promise.all([host.parent, ...host.children.map((c) => c.path)].map((r) => snapshot(r)));
    await withRun(host, { approval: true }, {}, async (run, id) => {
      await until('the run waits for approval', async () => (await run.query(controlsQuery)).approval === 'waiting');
      const digest = (await run.query(controlsQuery)).setDigest!;
      const r = await run.executeUpdate(rejectUpdate, { args: [{ reason: 'not this week' }] });
      assert.equal(r.approval, 'rejected');
      const result = await run.result().catch(async (e) => {
        // The run may already be over: a closed run refuses updates, which is what we assert below.
        throw e;
      });
      assert.equal(result.status, 'rejected');
      assert.equal(result.exitCode, 1);
      assert.ok(!(await readRecord(host.recordFile, id)).some((l) => l.stage === 'execute'));
      await assert.rejects(run.executeUpdate(approveUpdate, { args: [{ digest }] }));
    });
    const after = await Promise.all([host.parent, ...host.children.map((c) => c.path)].map((r) => snapshot(r)));
    assert.deepEqual(after, before, 'no image changed');
  });

  it('a run waiting for approval survives a worker restart, and a zone changed meanwhile is re-planned and approved again', async () => {
    const host = await makeHost(2);
    const id = workflowId('approval-restart');
    const names = { host: `approval-host-${process.pid}`, taskQueue: `approval-q-${process.pid}` };
    const deps = { cacheDir: host.cacheDir, recordFile: host.recordFile };
    let first: ControlState | null = null;
    await env.withWorker(
      deps,
      async (taskQueue, hostName) => {
        const run = await env.client.workflow.start('updateLinkedImages', {
          taskQueue,
          workflowId: id,
          args: [{ image: host.parent, host: hostName, approval: true }],
        });
        await until('the run waits for approval', async () => (await run.query(controlsQuery)).approval === 'waiting');
        first = await run.query(controlsQuery);
      },
      names,
    );
    // The worker is gone; the zone changes under the run (pkg install of nothing: touch its state).
    const z1 = host.children[0].path;
    const { Image } = await import('../src/image/image');
    const img = await Image.open(z1);
    await img.setPublishers(img.publishers().map((p) => ({ ...p, origins: [...p.origins] })));
    await env.withWorker(
      deps,
      async () => {
        const run = env.client.workflow.getHandle<(i: unknown) => Promise<UpdateResult>>(id);
        await run.executeUpdate(approveUpdate, { args: [{ digest: first!.setDigest! }] });
        // zone:z1's plan went stale: it is planned again alone and needs approval again.
        await until('approval is asked again', async () => {
          const c = await run.query(controlsQuery);
          return c.approval === 'waiting' && c.setDigest !== first!.setDigest;
        });
        const again = await run.query(controlsQuery);
        await run.executeUpdate(approveUpdate, { args: [{ digest: again.setDigest! }] });
        const result = await run.result();
        assert.equal(result.status, 'ok', JSON.stringify(result));
      },
      names,
    );
    const plans = startsPerName(await readRecord(host.recordFile, id), 'plan');
    assert.deepEqual(plans, { parent: 1, 'zone:z1': 2, 'zone:z2': 1 });
    for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1');
  });
});

describe('live controls: the maintenance window', () => {
  it('a window already closed is bad input (InvalidInput, LinkedImageStatus failed)', async () => {
    const host = await makeHost(1);
    await withRun(host, { window: { notAfter: '2020-01-01T00:00:00Z' } }, {}, async (run) => {
      await assert.rejects(run.result(), (e: Error) =>
        /window.notAfter: the window closed/.test(String((e.cause as Error | undefined)?.message)),
      );
      assert.equal((await run.describe()).searchAttributes.LinkedImageStatus?.[0], 'failed');
    });
  });

  it('a window given by its length (a scheduled run) closes that long after the run starts', async () => {
    const host = await makeHost(1);
    const t0 = Date.now();
    await withRun(host, { window: { length: '1h' } }, {}, async (run) => {
      const result = await run.result();
      assert.equal(result.status, 'ok');
      const w = (await run.query(controlsQuery)).window!;
      const end = Date.parse(w.notAfter!);
      assert.ok(end >= t0 + 3_600_000 - 60_000 && end <= Date.now() + 3_600_000, w.notAfter!);
    });
  });

  it('prepares before the window, executes only inside it, and defers the children the window has no time for', async () => {
    const host = await makeHost(4);
    const opens = Date.now() + 8_000;
    const window = { notBefore: new Date(opens).toISOString(), notAfter: new Date(opens + 2_000).toISOString() };
    // Each execute takes 1.5 s at -C 1: the parent and zone:z1 start inside the window, the rest cannot.
    const slow: Partial<ActivityDeps> = { beforeStage: (stage) => sleep(stage === 'execute' ? 1500 : 0) };
    await withRun(host, { concurrency: 1, window }, slow, async (run, id) => {
      await until('the run waits for its window', async () =>
        /waiting for the window/.test(String((await run.query(controlsQuery)).holding)),
      );
      const result = await run.result();
      const lines = await readRecord(host.recordFile, id);
      const executes = lines.filter((l) => l.stage === 'execute' && l.event === 'start');
      assert.ok(executes.length >= 1);
      for (const l of executes) assert.ok(l.at >= opens && l.at < opens + 2_000, `${l.name} started inside the window`);
      assert.ok(
        lines.filter((l) => l.stage === 'prepare' && l.event === 'end').every((l) => l.at < opens),
        'prepared before',
      );
      assert.equal(result.status, 'partial');
      assert.ok(result.counts.deferred >= 1, JSON.stringify(result.counts));
      assert.equal(result.counts.deferred + result.counts.updated, 4);
      for (const c of childrenOf(result).filter((c) => c.outcome === 'deferred'))
        assert.equal(await release(host.children.find((h) => h.name === c.name)!.path), 'Demo OS 1.0');
    });
  });
});

describe('live controls of a run split into partitions (partitionSize 2)', () => {
  it('pause, skipChild and approval reach the partitions; the set digest covers every partition', async () => {
    const host = await makeHost(5);
    const slow: Partial<ActivityDeps> = { beforeStage: (stage) => sleep(stage === 'plan' ? 300 : 0) };
    await withRun(host, { concurrency: 1, partitionSize: 2, approval: true }, slow, async (run, id) => {
      await until('zone:z1 plans', async () => (await started(host, id, 'plan')).some((l) => l.name === 'zone:z1'));
      await run.executeUpdate(pauseUpdate);
      await run.executeUpdate(skipChildUpdate, { args: [{ child: 'zone:z5' }] });
      await sleep(1200);
      const atPause = (await started(host, id, 'plan')).length;
      await sleep(1200);
      assert.equal((await started(host, id, 'plan')).length, atPause, 'the partitions start nothing while paused');
      await run.executeUpdate(resumeUpdate);
      await until('the run waits for approval', async () => (await run.query(controlsQuery)).approval === 'waiting');
      const plans = await run.query(plansQuery);
      assert.deepEqual(
        plans.partitions?.map((p) => p.workflowId),
        [1, 2, 3].map((k) => `${id}/children-${k}`),
      );
      const second = await env.client.workflow.getHandle(`${id}/children-2`).query(plansQuery);
      assert.deepEqual(
        second.children.map((c) => [c.name, c.included]),
        [
          ['zone:z3', true],
          ['zone:z4', true],
        ],
      );
      assert.match(
        await refused(run.executeUpdate(approveUpdate, { args: [{ digest: 'f'.repeat(64) }] })),
        /changed since you reviewed/,
      );
      await run.executeUpdate(approveUpdate, { args: [{ digest: plans.setDigest! }] });
      const result = await run.result();
      assert.equal(result.status, 'ok', JSON.stringify(result));
      assert.equal(result.partitions, 3);
      assert.deepEqual(
        childrenOf(result).map((c) => c.outcome),
        ['updated', 'updated', 'updated', 'updated', 'skipped'],
      );
      assert.equal(startsPerName(await readRecord(host.recordFile, id), 'plan')['zone:z5'], undefined);
    });
  });

  it('the failure budget counts over all partitions', async () => {
    const host = await makeHost(5);
    await emptyOriginFor(host.children[0].path);
    await emptyOriginFor(host.children[3].path);
    const ok = await withRun(host, { concurrency: 2, partitionSize: 2, maxFailures: 2 }, {}, (run) => run.result());
    assert.equal(ok.status, 'partial');
    assert.deepEqual(
      childrenOf(ok).map((c) => c.outcome),
      ['failed', 'updated', 'updated', 'failed', 'updated'],
    );
    const host2 = await makeHost(5);
    await emptyOriginFor(host2.children[0].path);
    await emptyOriginFor(host2.children[3].path);
    const over = await withRun(host2, { concurrency: 2, partitionSize: 2, maxFailures: 1 }, {}, (run) => run.result());
    assert.equal(over.status, 'failed');
    assert.equal(over.counts.updated, 0, 'nothing was executed once the budget was exceeded in the plan stage');
  });
});
