import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { classifyServerLine, serverWarningArgs, ServerWarnings } from '../bench/server-warnings';
import { startDevServer } from '../src/dev/dev-server';
import type { BenchFixtureActivities } from './fixtures/bench-workflows';
import { QuietLogger } from './helpers/quiet-logger';

// Printed by `temporal server start-dev` (CLI 1.9.1, server 1.32.0) with limit.historyCount.warn=50,
// limit.historySize.warn=20000, limit.blobSize.warn=1000 while test/fixtures/bench-workflows'
// manyEvents ran (w1: 12 echoes of 10 characters, w2: 10 echoes of 8,000).
const COUNT =
  'time=2026-11-30T04:13:38.996 level=WARN msg="history count exceeds warn limit." service=history shard-id=1 address=127.0.0.1:46375 wf-namespace-id=01a22aa8-869e-75c9-ad61-6597f5ec1a00 wf-id=w1 wf-run-id=01a22aa8-8c7a-7c9c-b119-3c9a1766395f wf-event-count=51';
const BLOB_HISTORY =
  'time=2026-11-30T04:13:39.069 level=WARN msg="Blob data size exceeds the warning limit." service=history shard-id=1 address=127.0.0.1:46375 wf-namespace=01a22aa8-869e-75c9-ad61-6597f5ec1a00 wf-id=w2 wf-run-id=01a22aa8-8d71-7247-8161-d48a225eb763 wf-size=8032 blob-size-violation-operation=ScheduleActivityTask';
const BLOB_FRONTEND =
  'time=2026-11-30T04:13:39.073 level=WARN msg="Blob data size exceeds the warning limit." service=frontend wf-namespace=01a22aa8-869e-75c9-ad61-6597f5ec1a00 wf-id=w2 wf-run-id=01a22aa8-8d71-7247-8161-d48a225eb763 wf-size=8032 blob-size-violation-operation=RespondActivityTaskCompleted';
const SIZE =
  'time=2026-11-30T04:13:39.091 level=WARN msg="history size exceeds warn limit." service=history shard-id=1 address=127.0.0.1:46375 wf-namespace-id=01a22aa8-869e-75c9-ad61-6597f5ec1a00 wf-id=w2 wf-run-id=01a22aa8-8d71-7247-8161-d48a225eb763 wf-history-size=25477';
const CLUSTER =
  'time=2026-11-30T03:37:43.383 level=WARN msg="Cluster Id in Cluster Metadata config is not a valid uuid. Generating a new Cluster Id" component=metadata-initializer';
const BANNER = 'Temporal Server:      localhost:35807';

describe('server warnings', () => {
  it('classifies the real lines by kind and threshold, with the figure and the run they name', () => {
    assert.deepEqual(classifyServerLine(COUNT), {
      kind: 'history-count',
      limit: 'warn',
      value: 51,
      workflowId: 'w1',
      runId: '01a22aa8-8c7a-7c9c-b119-3c9a1766395f',
      line: COUNT,
    });
    assert.deepEqual(classifyServerLine(SIZE), {
      kind: 'history-size',
      limit: 'warn',
      value: 25477,
      workflowId: 'w2',
      runId: '01a22aa8-8d71-7247-8161-d48a225eb763',
      line: SIZE,
    });
    for (const l of [BLOB_HISTORY, BLOB_FRONTEND])
      assert.deepEqual(
        { ...classifyServerLine(l), line: '' },
        {
          kind: 'blob-size',
          limit: 'warn',
          value: 8032,
          workflowId: 'w2',
          runId: '01a22aa8-8d71-7247-8161-d48a225eb763',
          line: '',
        },
      );
    assert.equal(classifyServerLine(SIZE.replace('warn limit.', 'error limit.'))?.limit, 'error');
    assert.equal(classifyServerLine(BLOB_FRONTEND.replace('the warning limit.', 'limit.'))?.limit, 'error');
    for (const l of [CLUSTER, BANNER, '', 'level=WARN msg="constructor"']) assert.equal(classifyServerLine(l), null);
  });

  it('counts lines per kind, keeps the first few, the largest figure, and other warnings apart', () => {
    const w = new ServerWarnings(1);
    for (const l of [
      BANNER,
      CLUSTER,
      COUNT,
      COUNT.replace('wf-event-count=51', 'wf-event-count=77'),
      BLOB_HISTORY,
      BLOB_FRONTEND,
      SIZE,
    ])
      w.log(l);
    assert.deepEqual(w.summary(), {
      counts: { 'history-count': 2, 'history-size': 1, 'blob-size': 2 },
      errorLimit: { 'history-count': 0, 'history-size': 0, 'blob-size': 0 },
      largest: { 'history-count': 77, 'history-size': 25477, 'blob-size': 8032 },
      firstLines: { 'history-count': [COUNT], 'history-size': [SIZE], 'blob-size': [BLOB_HISTORY] },
      other: { count: 1, firstLines: [CLUSTER] },
    });
    w.reset();
    assert.deepEqual(w.summary().counts, { 'history-count': 0, 'history-size': 0, 'blob-size': 0 });
  });

  it('builds the dev server arguments: the given warn limits and a throttle that drops nothing', () => {
    assert.deepEqual(serverWarningArgs({ historyCount: 50, blobSize: 1000 }), [
      '--dynamic-config-value',
      'history.throttledLogRPS=10000',
      '--dynamic-config-value',
      'limit.historyCount.warn=50',
      '--dynamic-config-value',
      'limit.blobSize.warn=1000',
    ]);
  });

  it('collects every kind from a real dev server with lowered limits', async () => {
    Runtime.install({ logger: new QuietLogger() });
    const warnings = new ServerWarnings();
    const server = await startDevServer({
      log: warnings.log,
      extraArgs: serverWarningArgs({ historyCount: 50, historySize: 20_000, blobSize: 1000 }),
    });
    const connection = await Connection.connect({ address: server.address });
    const native = await NativeConnection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const activities: BenchFixtureActivities = { echo: async (s) => s };
      const worker = await Worker.create({
        connection: native,
        namespace: server.namespace,
        taskQueue: 'warnings',
        workflowsPath: require.resolve('./fixtures/bench-workflows'),
        activities,
      });
      await worker.runUntil(async () => {
        await client.workflow.execute('manyEvents', { taskQueue: 'warnings', workflowId: 'w1', args: [12, 10] });
        await client.workflow.execute('manyEvents', { taskQueue: 'warnings', workflowId: 'w2', args: [10, 8000] });
      });
      // The server may print its last lines a moment after the run completed.
      for (let i = 0; i < 50 && Object.values(warnings.summary().counts).some((n) => n === 0); i++)
        await new Promise((r) => setTimeout(r, 100));
      const s = warnings.summary();
      assert.ok(
        s.counts['history-count'] > 0 && s.counts['history-size'] > 0 && s.counts['blob-size'] > 0,
        JSON.stringify(s.counts),
      );
      assert.match(s.firstLines['history-count'][0], /wf-id=w1 .*wf-event-count=51$/);
      assert.ok(s.largest['history-size']! > 20_000);
      assert.equal(s.largest['blob-size'], 8032);
      assert.ok(s.firstLines['blob-size'].every((l) => / wf-id=w2 /.test(l)));
    } finally {
      await native.close();
      await connection.close();
      await server.stop();
    }
  });
});
