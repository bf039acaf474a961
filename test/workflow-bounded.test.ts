import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { childrenQuery, progressQuery, updateLinkedImages } from '../src/workflows';
import type { Progress } from '../src/contract/run-types';
import { readRecord, startsPerName } from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { MAX_PARTITIONS } from '../src/workflows/coordinate-partitions';
import {
  checkpointedPlans,
  childrenOf,
  Host,
  makeHost,
  release,
  runFailing,
  runUpdate,
  workflowId,
} from './helpers/workflow-fixture';

/**
 * The paths a 5,000-zone run takes, at 30 zones: the dev server suggests continue-as-new after
 * 20 events (instead of 4 Ki), and partitions hold 10 children (instead of 1,000).
 */
const SUGGEST_AT = 20;
let env: TemporalEnv;
let host: Host;
before(async () => {
  env = await startTemporalEnv({
    server: { extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`] },
  });
  host = await makeHost(30);
});
after(async () => {
  await env?.close();
  await cleanup();
});

interface ExecutionStats {
  workflowId: string;
  runId: string;
  events: number;
}

/** Every execution of a run: its continue-as-new chain and its partitions' chains. */
async function executions(client: Client, id: string): Promise<ExecutionStats[]> {
  const out: ExecutionStats[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${id}' OR WorkflowId STARTS_WITH '${id}/'` })) {
    out.push({
      workflowId: w.workflowId,
      runId: w.runId,
      events: w.historyLength ?? (await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events!.length,
    });
  }
  return out;
}

/** Every image was planned exactly once, and its plan is the one checkpointed in the history. */
async function assertPlannedOnce(id: string): Promise<void> {
  const lines = await readRecord(host.recordFile, id);
  const once = Object.fromEntries(['parent', ...host.children.map((c) => c.name)].map((n) => [n, 1]));
  assert.deepEqual(startsPerName(lines, 'plan'), once, 'planned once per image, whatever the number of executions');
  assert.deepEqual(startsPerName(lines, 'execute'), once, 'execute once per image');
  // The demo zones need only files the parent's plan delivers: they are prepared with the parent.
  assert.deepEqual(startsPerName(lines, 'prepare'), { parent: 1 }, 'prepare once, the parent');
  assert.equal((await checkpointedPlans(env, id)).size, 31, 'each plan is in the history once');
}

describe('a 30-zone run takes the paths of a 5,000-zone one', () => {
  it('continues as new many times, each execution a few events past the suggestion, and plans nothing twice', async () => {
    const run = await runUpdate(env, host, { concurrency: 4 }, 'bounded-chain');
    const r = run.result;
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.counts.updated, 30);
    const all = await executions(env.client, run.workflowId);
    assert.equal(r.executions, all.length);
    assert.ok(all.length >= 5, `${all.length} executions`);
    // The drain after the suggestion: at most `concurrency` activities finish in the execution.
    for (const e of all) assert.ok(e.events <= SUGGEST_AT + 30, `${e.runId}: ${e.events} events`);
    await assertPlannedOnce(run.workflowId);
    for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1', c.name);
  });

  it('splits into partitions that continue as new on their own, steps them stage by stage, and answers for every child', async () => {
    // zone/tools (zone-only) gives every zone a prepare of its own, so all four stages run per partition.
    const fresh = await makeHost(30, { bigFileBytes: 10_000 });
    const id = workflowId('bounded-partitions');
    const seen: Progress[] = [];
    const r = await env.withWorker(
      { cacheDir: fresh.cacheDir, recordFile: fresh.recordFile },
      async (taskQueue, hostName) => {
        const handle = await env.client.workflow.start(updateLinkedImages, {
          taskQueue,
          workflowId: id,
          args: [{ image: fresh.parent, host: hostName, concurrency: 3, partitionSize: 10, recursive: true }],
        });
        const poll = (async () => {
          for (;;) {
            const p = await handle.query(progressQuery).catch(() => null);
            if (p) seen.push(p);
            if (p?.stage === 'finished') return;
            await new Promise((res) => setTimeout(res, 100));
          }
        })();
        const result = await handle.result();
        await poll;
        // The run says where its children are; each partition pages through its own.
        const map = await handle.query(childrenQuery, { offset: 0, limit: 100 });
        assert.equal(map.total, 30);
        assert.deepEqual(
          map.partitions,
          [1, 2, 3].map((k) => ({ workflowId: `${id}/children-${k}`, offset: (k - 1) * 10, count: 10 })),
        );
        const page = await env.client.workflow
          .getHandle(`${id}/children-2`)
          .query(childrenQuery, { offset: 12, limit: 3 });
        assert.deepEqual(
          page.children.map((c) => [c.name, c.outcome, c.lastStage, c.changes]),
          [
            // The demo's five packages and zone/tools.
            ['zone:z13', 'updated', 'execute', 6],
            ['zone:z14', 'updated', 'execute', 6],
            ['zone:z15', 'updated', 'execute', 6],
          ],
        );
        return result;
      },
    );
    assert.equal(r.status, 'ok');
    assert.equal(r.partitions, 3);
    assert.deepEqual(
      childrenOf(r).map((c) => c.name),
      fresh.children.map((c) => c.name),
    );
    assert.ok(r.executions > 4, `${r.executions} executions`);
    const active = seen.filter((p) => p.partitions?.active).map((p) => p.partitions!.active);
    assert.ok(
      active.length > 0 && active.every((a) => /\/children-[123]$/.test(a!)),
      `the run named the partition at work: ${[...new Set(active)]}`,
    );
    const lines = await readRecord(fresh.recordFile, id);
    const once = Object.fromEntries(['parent', ...fresh.children.map((c) => c.name)].map((n) => [n, 1]));
    for (const stage of ['plan', 'prepare', 'execute'])
      assert.deepEqual(startsPerName(lines, stage), once, `${stage} once per image`);
    // Partitions run one after another within a stage, the parent first: stages never overlap.
    const order = lines
      .filter((l) => l.event === 'start' && l.stage !== 'describe' && l.stage !== 'list')
      .map((l) => l.stage);
    const firsts = ['publisher-check', 'plan', 'prepare', 'execute'].map((s) => order.indexOf(s));
    const lasts = ['publisher-check', 'plan', 'prepare', 'execute'].map((s) => order.lastIndexOf(s));
    for (let k = 0; k + 1 < 4; k++) assert.ok(lasts[k] < firsts[k + 1], `stage ${k} ends before stage ${k + 1} starts`);
  });

  it(
    'refuses a selection that needs more partitions than a run takes, at once, naming the limit',
    { timeout: 120_000 },
    async () => {
      const many = await makeHost(MAX_PARTITIONS + 1, { zones: 'clone' });
      const { failure } = await runFailing(
        env,
        many,
        (hostName: string) => ({ image: many.parent, host: hostName, partitionSize: 1 }),
        'too-many-partitions',
      );
      assert.equal(failure.type, 'InvalidInput');
      assert.equal(
        failure.message,
        `Invalid input: children: the ${MAX_PARTITIONS + 1} selected children need ${MAX_PARTITIONS + 1} partitions of 1, more than a run takes (${MAX_PARTITIONS}, ${MAX_PARTITIONS} children): select fewer with children or ignore, or start several runs`,
      );
      assert.deepEqual(
        (await readRecord(many.recordFile)).map((l) => l.stage),
        ['describe', 'describe'],
        'nothing but describe ran',
      );
    },
  );

  it('fails a plan that would not fit a payload at once, naming the limit and what to change', async () => {
    const small = await makeHost(1);
    const run = await (async () => {
      const id = workflowId('plan-too-large');
      const result = await env.withWorker(
        { cacheDir: small.cacheDir, recordFile: small.recordFile, maxPlanBytes: 500 },
        (taskQueue, hostName) =>
          env.client.workflow.execute(updateLinkedImages, {
            taskQueue,
            workflowId: id,
            args: [{ image: small.parent, host: hostName }],
          }),
      );
      return { result, lines: await readRecord(small.recordFile, id) };
    })();
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.parent.error?.code, 'PLAN_TOO_LARGE');
    assert.match(
      run.result.parent.error!.message,
      /The plan of parent changes 5 packages and takes \d+ bytes, over the 500 bytes a plan may take in the workflow's history \(Temporal warns at 256 KB per payload\): update fewer packages per run/,
    );
    assert.equal(run.lines.filter((l) => l.stage === 'plan' && l.event === 'start').length, 1, 'not retried');
  });
});
