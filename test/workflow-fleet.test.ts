/**
 * updateFleet against a real dev server, with several hosts on this machine: each host a demo host
 * (its own images, cache and record) and its own workers on its own task queue, all sharing one
 * workflow task queue, as real hosts do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { approveWaveUpdate, fleetHostsQuery, fleetProgressQuery, type FleetResult } from '../src/contract/fleet';
import type { HostWorkers } from '../src/worker/host-workers';
import { fleetMarkdown, readFleetReport } from '../src/client/report/fleet-report';
import { readRecord, startsPerName } from './helpers/activity-log';
import { startTemporalEnv, type TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { emptyOriginFor, makeHost, release, workflowId, type Host } from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

let fleets = 0;

interface Fleet {
  queue: string;
  hosts: { name: string; host: Host; workers: HostWorkers | null }[];
}

/** `n` demo hosts of `zones` zones each; the workers of the hosts not in `down` are created (not yet running). */
async function makeFleet(n: number, zones: number, down: string[] = []): Promise<Fleet> {
  const k = ++fleets;
  const queue = `fleet-${process.pid}-${k}`;
  const hosts = [];
  for (let i = 1; i <= n; i++) {
    const name = `f${k}h${i}`;
    const host = await makeHost(zones);
    const workers = down.includes(`h${i}`)
      ? null
      : await env.hostWorkers(
          { cacheDir: host.cacheDir, recordFile: host.recordFile },
          { host: name, taskQueue: queue },
        );
    hosts.push({ name, host, workers });
  }
  return { queue, hosts };
}

/** Runs a fleet to its end with the hosts' workers; `whileUp` runs before they stop (queries need a worker). */
async function runFleet(
  f: Fleet,
  input: Record<string, unknown>,
  id = workflowId('fleet'),
  whileUp: () => Promise<void> = async () => undefined,
  during: () => Promise<void> = async () => undefined,
): Promise<FleetResult> {
  const running = f.hosts.filter((h) => h.workers).map((h) => h.workers!);
  const done = env.client.workflow.execute<(i: unknown) => Promise<FleetResult>>('updateFleet', {
    taskQueue: f.queue,
    workflowId: id,
    args: [{ hosts: f.hosts.map((h) => ({ name: h.name, image: h.host.parent })), ...input }],
  });
  const runs = running.map((w) => w.run());
  try {
    await during();
    const r = await done;
    await whileUp();
    return r;
  } finally {
    for (const w of running) w.shutdown();
    await Promise.all(runs);
  }
}

describe('updateFleet', () => {
  it('updates three hosts in waves [1, 2]: the canary first, each host once, as its own run <fleet>/<host>', async () => {
    const f = await makeFleet(3, 2);
    const id = workflowId('fleet');
    let page: { total: number; hosts: { name: string; outcome: string; workflowId: string; wave: number }[] } | null =
      null;
    let line = '';
    const r = await runFleet(f, { waves: [1, 2], hostConcurrency: 2, update: { concurrency: 2 } }, id, async () => {
      page = await env.client.workflow.getHandle(id).query(fleetHostsQuery, { offset: 1, limit: 1 });
      line = (await env.client.workflow.getHandle(id).query(fleetProgressQuery)).line;
    });
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.counts, { updated: 3, 'nothing-to-do': 0, failed: 0, skipped: 0 });
    assert.deepEqual(r.zones, { updated: 6, selected: 6 });
    assert.equal(r.waves, 2);
    assert.deepEqual(
      r.hosts,
      f.hosts.map((h, i) => `${h.name} updated ok 2/2 wave ${i === 0 ? 1 : 2}`),
    );
    for (const h of f.hosts) {
      const lines = await readRecord(h.host.recordFile, `${id}/${h.name}`);
      assert.deepEqual(startsPerName(lines, 'execute'), { parent: 1, 'zone:z1': 1, 'zone:z2': 1 }, h.name);
      for (const c of h.host.children) assert.equal(await release(c.path), 'Demo OS 1.1');
      const run = await env.client.workflow.getHandle(`${id}/${h.name}`).describe();
      assert.equal(run.status.name, 'COMPLETED');
    }
    // The canary finished before the second wave started.
    const canaryEnd = Math.max(...(await readRecord(f.hosts[0].host.recordFile)).map((l) => l.at));
    for (const h of f.hosts.slice(1)) {
      const first = Math.min(...(await readRecord(h.host.recordFile, `${id}/${h.name}`)).map((l) => l.at));
      assert.ok(first >= canaryEnd, `${h.name} started after the canary ended`);
    }
    assert.deepEqual(
      [page!.total, page!.hosts.map((h) => [h.name, h.outcome, h.workflowId, h.wave])],
      [3, [[f.hosts[1].name, 'updated', `${id}/${f.hosts[1].name}`, 1]]],
    );
    assert.match(line, /3\/3 hosts done/);

    // npm run report on the fleet: a row per host, from its result and each host run's record.
    const report = await readFleetReport(env.client, id);
    assert.deepEqual(
      report.hosts.map((h) => [h.name, h.wave, h.outcome, h.status, h.execution, h.zones]),
      f.hosts.map((h, i) => [h.name, i === 0 ? 1 : 2, 'updated', 'ok', 'COMPLETED', '2/2']),
    );
    assert.match(
      fleetMarkdown(report),
      new RegExp(`\\| ${f.hosts[2].name} \\| 2 \\| updated \\| ok \\| COMPLETED \\| 2/2 \\|`),
    );
  });

  it('with waveApproval, a wave after the canary waits for approveWave of that wave', async () => {
    const f = await makeFleet(2, 1);
    const id = workflowId('fleet-approve');
    const r = await runFleet(
      f,
      { waves: [1], waveApproval: true },
      id,
      async () => undefined,
      async () => {
        const h = env.client.workflow.getHandle(id);
        let p = null;
        while (p?.waitingForApproval !== 2) {
          p = await h.query(fleetProgressQuery).catch(() => null);
          await new Promise((res) => setTimeout(res, 100));
        }
        assert.match(p.line, /waiting for approval of wave 2/);
        assert.deepEqual(await readRecord(f.hosts[1].host.recordFile), [], 'the second host waits');
        await assert.rejects(h.executeUpdate(approveWaveUpdate, { args: [{ wave: 3 }] }), (e: Error) =>
          /wave 2 is waiting for approval, not 3/.test(String((e.cause as Error | undefined)?.message)),
        );
        const answer = await h.executeUpdate(approveWaveUpdate, { args: [{ wave: 2 }] });
        assert.equal(answer.waitingForApproval, null, 'the answer is the state after the approval');
      },
    );
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.counts, { updated: 2, 'nothing-to-do': 0, failed: 0, skipped: 0 });
  });

  it('a canary host that fails stops the fleet before the next wave', async () => {
    const f = await makeFleet(3, 1);
    await emptyOriginFor(f.hosts[0].host.children[0].path);
    const r = await runFleet(f, { waves: [1, '100%'] });
    assert.equal(r.status, 'failed');
    assert.deepEqual(r.counts, { updated: 0, 'nothing-to-do': 0, failed: 1, skipped: 2 });
    assert.equal(r.failures[0].name, f.hosts[0].name);
    assert.match(r.failures[0].error.code, /UNSATISFIABLE/);
    for (const h of f.hosts.slice(1)) assert.deepEqual(await readRecord(h.host.recordFile), [], `${h.name} untouched`);
  });

  it('a host whose worker is down fails as HOST_UNAVAILABLE naming it, counted in the budget; the others go on', async () => {
    const f = await makeFleet(3, 1, ['h2']);
    const r = await runFleet(f, { hostConcurrency: 3, maxHostFailures: 1, update: { hostTimeout: '2s' } });
    assert.equal(r.status, 'partial');
    assert.deepEqual(r.counts, { updated: 2, 'nothing-to-do': 0, failed: 1, skipped: 0 });
    assert.equal(r.failures[0].name, f.hosts[1].name);
    assert.equal(r.failures[0].error.code, 'HOST_UNAVAILABLE');
    assert.match(r.failures[0].error.message, new RegExp(`host '${f.hosts[1].name}'`));
  });

  it('refuses bad input at once, naming the field: a repeated host, a bad wave, bad update options, an image in update', async () => {
    const f = await makeFleet(1, 1, ['h1']); // no workers of its own: a worker created and never run would hold the connection
    const h = { name: f.hosts[0].name, image: f.hosts[0].host.parent };
    const refusal = async (input: unknown): Promise<string> => {
      try {
        await env.withWorker({ cacheDir: f.hosts[0].host.cacheDir }, (taskQueue) =>
          env.client.workflow.execute('updateFleet', { taskQueue, workflowId: workflowId('fleet-bad'), args: [input] }),
        );
      } catch (e) {
        assert.ok(e instanceof WorkflowFailedError, String(e));
        assert.ok(e.cause instanceof ApplicationFailure);
        assert.equal(e.cause.type, 'InvalidInput');
        return e.cause.message;
      }
      assert.fail('the fleet run was not refused');
    };
    const schema = await refusal({ hosts: [h, h], waves: [0] });
    assert.match(schema, /hosts: expected each host once/);
    assert.match(schema, /waves\.0: expected an integer >= 1/);
    const update = await refusal({ hosts: [h], update: { concurrency: 'abc', image: '/x' } });
    assert.match(update, /update\.image: set per host in hosts\[\]/);
    assert.match(update, /update\.concurrency: expected an integer/);
  });
});
