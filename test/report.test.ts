import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import Long from 'long';
import { acquireImageLock } from '../images/image-lock';
import type { AuditReport, StageAudit } from '../worker/audit-report';
import { buildAuditReport, describeInfo } from '../worker/history-report';
import { PENDING_ACTIVITY_STATES, RETRY_STATES, TIMEOUT_TYPES } from '../worker/history-decode';
import { reportMarkdown } from '../worker/report-markdown';
import { projectDir, startTemporalEnv, TemporalEnv, workflowBundle } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';
import { DEMO_STEMS, makeHost, runUpdate, setZonePublishers, workflowId } from './helpers/workflow-fixture';

let env: TemporalEnv;
let noConfig: string;
before(async () => {
  env = await startTemporalEnv();
  noConfig = path.join(await tempDir('li-report'), 'absent.toml');
});
after(async () => {
  await env?.close();
  await cleanup();
});

async function reportOf(id: string): Promise<AuditReport> {
  const d = await env.client.workflow.getHandle(id).describe();
  const history = await env.client.workflow.getHandle(id, d.runId).fetchHistory();
  return buildAuditReport(history, { workflowId: id, describe: describeInfo(d), server: { address: env.server.address, namespace: env.server.namespace } });
}

/** `npm run report -- <args>` against the test server; nothing from the user's Temporal config. */
function npmReport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', 'report', '--', ...args], {
    cwd: projectDir,
    env: { ...process.env, TEMPORAL_ADDRESS: env.server.address, TEMPORAL_NAMESPACE: env.server.namespace, TEMPORAL_CONFIG_FILE: noConfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const stageNames = (stages: StageAudit[]) => stages.map((s) => s.stage);
const stageOf = (r: AuditReport, image: string, stage: string) => r.images.find((i) => i.name === image)?.stages.find((s) => s.stage === stage);

function assertRanOnce(s: StageAudit, image: string): void {
  const what = `${image} ${s.stage}`;
  assert.equal(s.state, 'completed', what);
  assert.ok(s.startedAt !== null && s.endedAt !== null && s.startedAt <= s.endedAt, `${what}: started ${s.startedAt}, ended ${s.endedAt}`);
  assert.ok(s.scheduledAt! <= s.startedAt, `${what}: scheduled ${s.scheduledAt} after start ${s.startedAt}`);
  assert.ok(s.durationMs! >= 0, what);
  assert.equal(s.attempts, 1, what);
  assert.match(s.worker ?? '', /^\d+@\S+$/, `${what}: worker identity`);
  assert.equal(s.error, null, what);
}

describe('npm run report', () => {
  it('reports a completed update of 3 zones: every stage of every image with its times, attempt, worker and 5 package changes', async () => {
    const host = await makeHost(3);
    const run = await runUpdate(env, host, { concurrency: 2 }, 'report-ok');
    const r = await reportOf(run.workflowId);

    assert.equal(r.status, 'COMPLETED');
    assert.deepEqual(r.result, { status: 'ok', exitCode: 0 });
    assert.equal(r.parentImage, host.parent);
    assert.equal(r.concurrency, 2);
    assert.equal(r.dryRun, false);
    assert.equal(r.workflowType, 'updateLinkedImages');
    assert.ok(r.startedAt! <= r.closedAt!);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.images.map((i) => i.name), ['parent', 'zone:z1', 'zone:z2', 'zone:z3']);
    assert.deepEqual(r.images.map((i) => i.path), [host.parent, ...host.children.map((c) => c.path)]);
    for (const img of r.images) {
      assert.equal(img.outcome, 'updated', img.name);
      assert.deepEqual(stageNames(img.stages), img.name === 'parent' ? ['describe', 'plan', 'prepare', 'execute'] : ['publisher-check', 'plan', 'prepare', 'execute'], img.name);
      for (const s of img.stages) assertRanOnce(s, img.name);
      assert.deepEqual(img.changes!.map((c) => c.stem).sort(), DEMO_STEMS, img.name);
      for (const c of img.changes!) assert.deepEqual([c.fromVersion, c.toVersion], ['1.0', '1.1'], `${img.name} ${c.stem}`);
      assert.equal(img.stages.find((s) => s.stage === 'plan')!.summary, '5 changes');
    }

    const md = reportMarkdown(r);
    assert.match(md, /^# Linked-image update audit: `report-ok-/);
    assert.ok(md.includes('| image | stage | started | ended | duration | attempts | worker | result |'), md);
    assert.equal(md.split('\n').filter((l) => /^\| zone:z\d \| (publisher-check|plan|prepare|execute) \|.*\| 1 \| \d+@\S+ \| ok/.test(l)).length, 12, md);
    assert.ok(md.includes('- `system/kernel` 1.0 -> 1.1'), md);
    assert.ok(md.includes('result **ok**, pkg exit code 0'), md);
    assert.ok(md.includes(`npm run temporal -- workflow show -w ${run.workflowId} --run-id ${r.runId}`), md);

    // The CLI prints the same report as one JSON object.
    const cli = await npmReport([run.workflowId, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const json = JSON.parse(cli.stdout) as AuditReport;
    assert.deepEqual({ ...json, generatedAt: '', durationMs: 0 }, { ...r, generatedAt: '', durationMs: 0 });
  });

  it('reports the publisher mismatch of 2 zones as PUBLISHER_MISMATCH errors of their publisher-check stage', async () => {
    const host = await makeHost(3);
    const extra = { name: 'extra', origins: ['https://pkg.example.org/extra/'], sticky: true, enabled: true };
    for (const c of host.children.slice(0, 2)) await setZonePublishers(c.path, (pubs) => [extra, ...pubs]);
    const run = await runUpdate(env, host, { concurrency: 3 }, 'report-mismatch');
    assert.equal(run.result.status, 'failed');
    const r = await reportOf(run.workflowId);

    assert.equal(r.status, 'COMPLETED');
    assert.deepEqual(r.result, { status: 'failed', exitCode: 1 });
    assert.deepEqual(
      r.errors.map((e) => [e.image, e.stage, e.code, e.retryState, e.final, e.attempt]),
      [
        ['zone:z1', 'publisher-check', 'PUBLISHER_MISMATCH', 'NON_RETRYABLE_FAILURE', true, 1],
        ['zone:z2', 'publisher-check', 'PUBLISHER_MISMATCH', 'NON_RETRYABLE_FAILURE', true, 1],
      ],
    );
    for (const e of r.errors) assert.ok(e.message.includes(e.image!), `the message names the zone: ${e.message}`);
    const [parent, z1, , z3] = r.images;
    assert.deepEqual(stageNames(parent.stages), ['describe'], 'nothing is planned after a failed publisher check');
    assert.equal(z1.stages[0].state, 'failed');
    assert.equal(z1.outcome, 'failed');
    assert.equal(z1.changes, null);
    assert.equal(z3.stages[0].state, 'completed');

    const cli = await npmReport([run.workflowId]);
    assert.equal(cli.code, 0, cli.stderr);
    const md = cli.stdout;
    assert.ok(md.includes('result **failed**, pkg exit code 1'), md);
    assert.match(md, /^\| zone:z1 \| publisher-check \|.*\| \*\*failed\*\*: PUBLISHER_MISMATCH: /m);
    assert.match(md, /^\| zone:z2 \| publisher-check \| 1 \| PUBLISHER_MISMATCH \| /m);
    assert.ok(md.includes('### zone:z1, publisher-check: PUBLISHER_MISMATCH'), md);
    assert.ok(md.includes('Not planned (failed).'), md);
  });

  it('reports a run that is still going as RUNNING with its scheduled activity pending, then as TERMINATED', async () => {
    const id = workflowId('report-running');
    const taskQueue = `report-running-${process.pid}`;
    // A worker for the workflow only: it schedules describe/parent, and no one ever runs it.
    const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.server.namespace, taskQueue, workflowBundle: await workflowBundle() });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('updateLinkedImages', { taskQueue, workflowId: id, args: [{ image: '/no/such/parent', concurrency: 4 }] });
      for (let i = 0; i < 100 && !(await handle.describe()).raw.pendingActivities?.length; i++) await new Promise((res) => setTimeout(res, 100));
    });
    const r = await reportOf(id);
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.result, null);
    assert.equal(r.closedAt, null);
    assert.equal(r.concurrency, 4);
    assert.deepEqual(r.images.map((i) => i.name), ['parent']);
    const [describeRow] = r.images[0].stages;
    assert.deepEqual([describeRow.stage, describeRow.state, describeRow.attempts, describeRow.startedAt, describeRow.endedAt], ['describe', 'scheduled', 1, null, null]);
    const md = reportMarkdown(r);
    assert.ok(md.includes('**RUNNING** (still running'), md);
    assert.match(md, /^\| parent \| describe \| – \| – \| – \| 1 \| – \| scheduled at [\d:.]+Z, attempt 1 of 3, waiting for a worker \|$/m);
    assert.ok(md.includes(`npm run temporal -- workflow describe -w ${id}`), md);

    const cli = await npmReport([id, '--json', '--run-id', r.runId!]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as AuditReport).images[0].stages[0].state, 'scheduled');

    await env.client.workflow.getHandle(id).terminate('left running by report.test.ts');
    const closed = await reportOf(id);
    assert.equal(closed.status, 'TERMINATED');
    assert.match(closed.closeReason ?? '', /^terminated by .*: left running by report\.test\.ts$/);
    assert.equal(closed.images[0].stages[0].state, 'abandoned');
  });

  it('reports an execute retried on a held image lock: waiting to retry while the run goes on, then ok on a later attempt', async () => {
    const host = await makeHost(2);
    const id = workflowId('report-retry');
    // Held by this (live) process, the lock makes execute of zone:z2 fail with the retryable LOCKED.
    const lock = await acquireImageLock(host.children[1].path, 'report-test');
    try {
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue) => {
        const handle = await env.client.workflow.start('updateLinkedImages', { taskQueue, workflowId: id, args: [{ image: host.parent, concurrency: 2 }] });
        let running: AuditReport | undefined;
        for (let i = 0; i < 300 && !running; i++) {
          const r = await reportOf(id);
          if (stageOf(r, 'zone:z2', 'execute')?.error?.code === 'LOCKED') running = r;
          else await new Promise((res) => setTimeout(res, 50));
        }
        await lock.release();
        assert.ok(running, 'execute of zone:z2 should have failed on the lock and been retried');
        assert.equal(running.status, 'RUNNING');
        const s = stageOf(running, 'zone:z2', 'execute')!;
        assert.ok(['retrying', 'running'].includes(s.state), s.state);
        assert.ok(s.attempts! >= 2 && s.endedAt === null, JSON.stringify(s));
        assert.deepEqual(running.errors.map((e) => [e.image, e.stage, e.code, e.final]), [['zone:z2', 'execute', 'LOCKED', false]]);
        assert.match(reportMarkdown(running), /^\| zone:z2 \| execute \|.*\| (waiting to retry|running), attempt \d+ of 10.*\(previous attempt: LOCKED\) \|$/m);
        assert.equal((await handle.result()).status, 'ok');
      });
    } finally {
      await lock.release();
    }
    const done = await reportOf(id);
    const s = stageOf(done, 'zone:z2', 'execute')!;
    assert.deepEqual([s.state, s.previousFailure?.code, s.error], ['completed', 'LOCKED', null]);
    assert.ok(s.attempts! >= 2, `attempts ${s.attempts}`);
    assert.deepEqual(done.errors.map((e) => [e.image, e.stage, e.attempt, e.code, e.final]), [['zone:z2', 'execute', s.attempts! - 1, 'LOCKED', false]]);
    assert.equal(stageOf(done, 'zone:z1', 'execute')!.attempts, 1);
    assert.match(reportMarkdown(done), /^\| zone:z2 \| execute \|.*\| ok: applied, 22 steps; retried after LOCKED \|$/m);
  });

  it('exits 2 on a bad command line and 1 naming the workflow ID when there is no such workflow', async () => {
    const none = await npmReport([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Expected exactly one workflow ID, got none/);
    const bogus = await npmReport(['x', '--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /Unknown option '--bogus'/);
    const missing = await npmReport(['no-such-workflow-42']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No workflow with workflow ID 'no-such-workflow-42' in namespace 'default'/);
  });
});

describe('buildAuditReport', () => {
  const ts = (iso: string) => ({ seconds: Long.fromNumber(Math.floor(Date.parse(iso) / 1000)), nanos: (Date.parse(iso) % 1000) * 1e6 });
  const payloads = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
  const history: temporal.api.history.v1.IHistory = {
    events: [
      { eventId: Long.fromNumber(1), eventTime: ts('2026-11-25T12:00:00.000Z'), workflowExecutionStartedEventAttributes: { workflowType: { name: 'updateLinkedImages' }, taskQueue: { name: 'q' }, input: payloads({ image: '/host' }) } },
      { eventId: Long.fromNumber(5), eventTime: ts('2026-11-25T12:00:01.000Z'), activityTaskScheduledEventAttributes: { activityId: 'execute/zone:z1', activityType: { name: 'executeImage' } } },
    ],
  };

  it('shows a running activity with its attempt, worker, heartbeat {done, total, unit} and the failure that caused the retry', () => {
    const pending: temporal.api.workflow.v1.IPendingActivityInfo = {
      activityId: 'execute/zone:z1',
      state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      attempt: 2,
      maximumAttempts: 10,
      lastStartedTime: ts('2026-11-25T12:00:03.000Z'),
      lastHeartbeatTime: ts('2026-11-25T12:00:04.500Z'),
      heartbeatDetails: payloads({ stage: 'execute', done: 30, total: 42, unit: 'steps' }),
      lastWorkerIdentity: '77@hostb',
      lastFailure: { message: 'worker lost', applicationFailureInfo: { type: 'IO_ERROR' } },
    };
    const r = buildAuditReport(history, { workflowId: 'w', describe: { runId: 'r1', status: 'RUNNING', pendingActivities: [pending] }, now: new Date('2026-11-25T12:00:05.000Z') });
    assert.equal(r.durationMs, 5000);
    assert.deepEqual(r.concurrency, 1, 'the input default');
    const s = r.images.find((i) => i.name === 'zone:z1')!.stages[0];
    assert.deepEqual([s.state, s.attempts, s.worker, s.startedAt, s.endedAt], ['running', 2, '77@hostb', '2026-11-25T12:00:03.000Z', null]);
    assert.deepEqual(s.heartbeat, { done: 30, total: 42, unit: 'steps', details: null, at: '2026-11-25T12:00:04.500Z' });
    assert.deepEqual(r.errors.map((e) => [e.image, e.stage, e.attempt, e.code, e.final]), [['zone:z1', 'execute', 1, 'IO_ERROR', false]]);
    assert.ok(reportMarkdown(r).includes('| running, attempt 2 of 10, last heartbeat 30/42 steps at 12:00:04.500Z (previous attempt: IO_ERROR) |'));
  });

  it('shows an activity without describe information as pending', () => {
    const r = buildAuditReport(history, { workflowId: 'w' });
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.images[1].stages[0].state, 'pending');
  });

  it('names retry states, timeout types and pending states as the protobuf enums do', () => {
    const check = (names: string[], e: Record<string, number>, prefix: string) => {
      for (const [k, v] of Object.entries(e)) if (typeof v === 'number') assert.equal(prefix + names[v], k);
    };
    check(RETRY_STATES, temporal.api.enums.v1.RetryState as unknown as Record<string, number>, 'RETRY_STATE_');
    check(TIMEOUT_TYPES, temporal.api.enums.v1.TimeoutType as unknown as Record<string, number>, 'TIMEOUT_TYPE_');
    check(PENDING_ACTIVITY_STATES, temporal.api.enums.v1.PendingActivityState as unknown as Record<string, number>, 'PENDING_ACTIVITY_STATE_');
  });
});
