import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  executionKind,
  fleetHostEntries,
  formatFleetTable,
  summarizeExecutions,
  type FleetFigures,
} from '../bench/fleet-figures';
import { buildFleetHosts, fleetHostName } from '../bench/fleet-hosts';
import type { ExecutionStats } from '../bench/run-stats';
import { Image } from '../src/image/image';
import { plan } from '../src/stages/plan';
import { cleanup, tempDir } from './helpers/tree';
import { DEMO_STEMS, versionOf } from './helpers/workflow-fixture';

after(cleanup);

function exec(workflowId: string, events: number, historyBytes: number, status = 'WorkflowExecutionCompleted') {
  return {
    workflowId,
    runId: `${workflowId}#${events}`,
    workflowType: workflowId.includes('/') ? 'updateLinkedImages' : 'updateFleet',
    events,
    historyBytes,
    status,
  } as ExecutionStats;
}

describe('fleet bench figures', () => {
  it('assigns hosts round-robin to the worker groups through their task queue', () => {
    const hosts = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, parent: `/x/${name}/host` }));
    assert.deepEqual(fleetHostEntries(hosts, 2), [
      { name: 'a', image: '/x/a/host', taskQueue: 'linked-images@bench-w1' },
      { name: 'b', image: '/x/b/host', taskQueue: 'linked-images@bench-w2' },
      { name: 'c', image: '/x/c/host', taskQueue: 'linked-images@bench-w1' },
      { name: 'd', image: '/x/d/host', taskQueue: 'linked-images@bench-w2' },
      { name: 'e', image: '/x/e/host', taskQueue: 'linked-images@bench-w1' },
    ]);
    assert.throws(() => fleetHostEntries(hosts, 0), RangeError);
  });

  it('names hosts so they sort in order, with at least four digits', () => {
    assert.deepEqual(
      [fleetHostName(0, 200), fleetHostName(199, 200), fleetHostName(0, 12345)],
      ['h0001', 'h0200', 'h00001'],
    );
  });

  it('tells the fleet, its host runs and what they started apart by workflow ID', () => {
    assert.equal(executionKind({ workflowId: 'f' }, 'f'), 'fleet');
    assert.equal(executionKind({ workflowId: 'f/h0001' }, 'f'), 'host');
    assert.equal(executionKind({ workflowId: 'f/h0001/p1' }, 'f'), 'partition');
    assert.equal(executionKind({ workflowId: 'fx/h0001' }, 'f'), 'partition');
  });

  it('counts executions per part and names the largest by events and by bytes', () => {
    const s = summarizeExecutions(
      {
        executions: [
          exec('f', 900, 400_000, 'WorkflowExecutionContinuedAsNew'),
          exec('f', 300, 100_000),
          exec('f/h1', 1200, 90_000),
          exec('f/h1/p', 50, 500_000),
          exec('f/h2', 80, 20_000, 'running'),
        ],
      },
      'f',
    );
    assert.deepEqual(s.executions, { fleet: 2, host: 2, partition: 1, total: 5 });
    assert.deepEqual(s.continuedAsNew, { fleet: 1, host: 0, partition: 0 });
    assert.deepEqual(s.events, { fleet: 1200, host: 1280, partition: 50 });
    assert.deepEqual(s.maxEvents, {
      value: 1200,
      workflowId: 'f/h1',
      runId: 'f/h1#1200',
      workflowType: 'updateLinkedImages',
    });
    assert.equal(s.maxHistoryBytes.workflowId, 'f/h1/p');
    assert.equal(s.maxHistoryBytes.value, 500_000);
    assert.deepEqual([s.fleetMaxEvents, s.fleetMaxHistoryBytes, s.running], [900, 400_000, 1]);
    const empty = summarizeExecutions({ executions: [] }, 'f');
    assert.equal(empty.maxEvents.workflowId, null);
  });

  it('prints one row per figure, the values where they were found', () => {
    const f: FleetFigures = {
      hosts: 200,
      zones: 10,
      totalZones: 2000,
      workers: 4,
      hostConcurrency: 20,
      concurrency: 4,
      waves: [1, '50%'],
      status: 'ok',
      hostCounts: { updated: 200, 'nothing-to-do': 0, failed: 0, skipped: 0 },
      zonesUpdated: 2000,
      wallSeconds: 95.04,
      executions: { fleet: 1, host: 200, partition: 0, total: 201 },
      continuedAsNew: { fleet: 0, host: 0, partition: 0 },
      maxEventsPerExecution: 1310,
      maxEventsAt: 'f (updateFleet)',
      maxHistoryBytesPerExecution: 459_183,
      maxHistoryBytesAt: 'f (updateFleet)',
      fleetMaxEventsPerExecution: 1310,
      fleetMaxHistoryBytesPerExecution: 459_183,
      totalEvents: 38_504,
      eventsByPart: { fleet: 1310, host: 37_194, partition: 0 },
      totalHistoryBytes: 10_938_930,
      maxPayloadBytes: 25_677,
      maxPayloadAt: 'f: WorkflowExecutionStarted x',
      workflowTaskFailures: 0,
      serverWarnings: { 'history-count': 1, 'history-size': 0, 'blob-size': 2 },
      serverWarningLines: [],
      otherServerLines: { count: 3, firstLines: [] },
      workerPeakRssBytes: 974_815_232,
      rssBeforeWorkersBytes: 221_106_176,
      machine: { cpus: 2, loadAtStart: 1.04, loadAtEnd: 3.2 },
      buildSeconds: 30.8,
      fileCreateMicros: 717,
    };
    const lines = formatFleetTable(f).split('\n');
    assert.equal(lines.length, 16);
    assert.equal(new Set(lines.map((l) => l.indexOf(' | '))).size, 1, 'one column boundary');
    const row = (k: string) => lines.find((l) => l.startsWith(k))!.split(' | ')[1];
    assert.equal(row('executions'), '201: fleet 1 + host runs 200 + partitions 0');
    assert.equal(row('wall time'), '95.0 s');
    assert.equal(row('events in all'), '38,504 (10.9 MB): fleet 1,310, host runs 37,194 (186 per run), partitions 0');
    assert.equal(
      row('setup'),
      '4 worker groups in one process; hostConcurrency 20; concurrency 4 per host; waves [1,"50%"]',
    );
    assert.match(row('max events per execution'), /^1,310 \(f \(updateFleet\)\)/);
    assert.match(row('server warnings'), /history count 1, history size 0, blob size 2; other WARN\/ERROR lines 3/);
    assert.equal(row('machine'), '2 cores; load average (1 min) 1.0 at the start, 3.2 at the end');
    assert.equal(row('worker peak RSS'), '974.8 MB (this process; 221.1 MB before the workers)');
  });
});

describe('buildFleetHosts', () => {
  it('gives every host its own parent image and zones, linked to each other, 1.0 installed and 1.1 to update to', async () => {
    const root = await tempDir('li-fleet');
    const fleet = await buildFleetHosts(root, 3, 3, { parallel: 2 });
    assert.deepEqual(
      fleet.hosts.map((h) => [h.name, h.children.map((c) => c.name)]),
      ['h0001', 'h0002', 'h0003'].map((n) => [n, ['zone:z1', 'zone:z2', 'zone:z3']]),
    );
    const tokens = new Set<string>();
    for (const h of fleet.hosts) {
      const parent = await Image.open(h.parent);
      assert.ok(h.parent.startsWith(h.dir + '/'), h.parent);
      assert.deepEqual(
        parent.config().children,
        h.children.map((c) => ({ name: c.name, path: c.path })),
      );
      assert.deepEqual(parent.publishers()[0].origins, [`file://${fleet.repo}`]);
      for (const root of [h.parent, ...h.children.map((c) => c.path)]) {
        const img = await Image.open(root);
        tokens.add((await img.readState()).token);
        const installed = await img.installed();
        assert.deepEqual([...installed.keys()].sort(), DEMO_STEMS, root);
        for (const p of installed.values()) assert.equal(versionOf(p.fmri.toString()), '1.0', root);
      }
      for (const c of h.children) {
        const zone = await Image.open(c.path);
        assert.deepEqual(zone.config().linked, { name: c.name, model: 'push', parent: h.parent });
      }
    }
    assert.equal(tokens.size, 12, 'every image has a state of its own');
    const p = await plan(await Image.open(fleet.hosts[2].parent), {});
    assert.deepEqual(
      p.changes.map((c) => [c.stem, versionOf(c.from), versionOf(c.to)]),
      DEMO_STEMS.map((s) => [s, '1.0', '1.1']),
    );
  });
});
