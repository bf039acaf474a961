import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { collectRunStats, RunStats } from '../bench/run-stats';
import { DevServer, startDevServer } from '../src/dev/dev-server';
import type { BenchFixtureActivities } from './fixtures/bench-workflows';
import { QuietLogger } from './helpers/quiet-logger';

const CHARS = 5000;
/** JSON of the string (two quotes) plus the metadata `encoding: json/plain` (8 + 10 bytes). */
const PAYLOAD_BYTES = CHARS + 2 + 8 + 10;

describe('collectRunStats (a real dev server, test/fixtures/bench-workflows)', () => {
  let server: DevServer;
  let connection: Connection;
  let client: Client;
  let stats: RunStats;
  const workflowId = `chain-${process.pid}`;

  before(async () => {
    Runtime.install({ logger: new QuietLogger() });
    server = await startDevServer();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    const native = await NativeConnection.connect({ address: server.address });
    const activities: BenchFixtureActivities = { echo: async (s) => s };
    const worker = await Worker.create({
      connection: native,
      namespace: server.namespace,
      taskQueue: 'bench-fixtures',
      workflowsPath: require.resolve('./fixtures/bench-workflows'),
      activities,
    });
    const result = await worker.runUntil(
      client.workflow.execute('chainParent', { taskQueue: 'bench-fixtures', workflowId, args: [1, CHARS] }),
    );
    assert.equal(result, CHARS);
    await native.close();
    stats = await collectRunStats(client, workflowId);
  });

  after(async () => {
    await connection?.close();
    await server?.stop();
  });

  it("follows the continue-as-new chain and the child it started, with the child's own chain", () => {
    const child = `${workflowId}-child`;
    assert.deepEqual(
      stats.executions.map((e) => [e.workflowId, e.workflowType, e.origin, e.status, e.from?.workflowId ?? null]),
      [
        [workflowId, 'chainParent', 'root', 'WorkflowExecutionContinuedAsNew', null],
        [workflowId, 'chainParent', 'continued-as-new', 'WorkflowExecutionCompleted', workflowId],
        [child, 'chainChild', 'child', 'WorkflowExecutionContinuedAsNew', workflowId],
        [child, 'chainChild', 'continued-as-new', 'WorkflowExecutionCompleted', child],
      ],
    );
    const [root, second, firstChild, lastChild] = stats.executions;
    assert.equal(second.from?.runId, root.runId);
    assert.equal(firstChild.from?.runId, second.runId);
    assert.equal(lastChild.from?.runId, firstChild.runId);
    assert.equal(new Set(stats.executions.map((e) => e.runId)).size, 4);
    assert.deepEqual(
      { ...stats.totals, pages: 0 },
      { ...stats.totals, executions: 4, continuedAsNew: 2, children: 1, pages: 0, pageRetries: 0 },
    );
  });

  it("counts every event and its encoded bytes, as the SDK's own history fetch returns them", async () => {
    for (const e of stats.executions) {
      const h = await client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
      assert.equal(e.events, h.events!.length);
      const bytes = h.events!.reduce((n, ev) => n + temporal.api.history.v1.HistoryEvent.encode(ev).finish().length, 0);
      assert.equal(e.historyBytes, bytes);
    }
    assert.equal(
      stats.totals.events,
      stats.executions.reduce((n, e) => n + e.events, 0),
    );
    assert.equal(stats.max.events, Math.max(...stats.executions.map((e) => e.events)));
  });

  it("finds the largest payload: the child's input, first in the parent's StartChildWorkflowExecutionInitiated", () => {
    assert.deepEqual(
      { ...stats.max.payload, eventId: 0 },
      {
        bytes: PAYLOAD_BYTES,
        eventId: 0,
        eventType: 'StartChildWorkflowExecutionInitiated',
        field: 'startChildWorkflowExecutionInitiatedEventAttributes.input.payloads[0]',
        workflowId,
        runId: stats.executions[1].runId,
      },
    );
    assert.ok(stats.max.payload!.eventId > 0);
    assert.deepEqual(
      stats.executions.map((e) => e.largestPayload?.bytes),
      [
        // "hop 1" echoed: JSON string of 5 characters
        5 + 2 + 18,
        PAYLOAD_BYTES,
        PAYLOAD_BYTES,
        PAYLOAD_BYTES,
      ],
    );
    assert.equal(stats.executions[2].largestPayload!.eventType, 'WorkflowExecutionStarted');
  });

  it('gives the same figures page by page and from any run of the chain', async () => {
    const small = await collectRunStats(client, workflowId, { pageSize: 3, runId: stats.executions[1].runId });
    assert.deepEqual(small.executions, stats.executions);
    assert.ok(small.totals.pages > stats.totals.pages);
  });

  it('keeps pages under pageBytes once it has seen big events, and asks again smaller when a page exceeds the gRPC receive limit', async () => {
    // No retry interceptor: the default one would retry RESOURCE_EXHAUSTED for ~40 s first.
    const tight = await Connection.connect({
      address: server.address,
      interceptors: [],
      channelArgs: { 'grpc.max_receive_message_length': 16 * 1024 },
    });
    try {
      const tightClient = new Client({ connection: tight, namespace: server.namespace });
      const adapted = await collectRunStats(tightClient, workflowId, { pageBytes: 10 * 1024 });
      assert.deepEqual(adapted.executions, stats.executions);
      assert.equal(adapted.totals.pageRetries, 0);
      const blind = await collectRunStats(tightClient, workflowId, { pageBytes: Number.MAX_SAFE_INTEGER });
      assert.deepEqual(blind.executions, stats.executions);
      assert.ok(blind.totals.pageRetries > 0);
    } finally {
      await tight.close();
    }
  });

  it('rejects a workflow ID the server does not know', async () => {
    await assert.rejects(collectRunStats(client, 'no-such-workflow'), /not found/i);
  });
});
