import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import Long from 'long';
import { acquireImageLock } from '../src/image/image-lock';
import type { AuditReport, StageAudit } from '../src/client/report/audit-report';
import { retryInterceptor } from '../src/client/connection-settings';
import { buildAuditReport } from '../src/client/report/history-report';
import { PENDING_ACTIVITY_STATES, RETRY_STATES, TIMEOUT_TYPES } from '../src/client/report/history-decode';
import { readAuditReport } from '../src/client/report/history-reader';
import { reportMarkdown } from '../src/client/report/report-markdown';
import { HISTORY_DIR } from './helpers/record-history';
import { appFailure, bigRun, HistoryWriter } from './helpers/synthetic-history';
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

/** The report as `npm run report` builds it: every execution, read page by page. */
function reportOf(id: string, opts: { pageSize?: number; now?: Date; on?: TemporalEnv } = {}): Promise<AuditReport> {
  const e = opts.on ?? env;
  return readAuditReport(e.client, id, {
    pageSize: opts.pageSize,
    now: opts.now,
    server: { address: e.server.address, namespace: e.server.namespace },
  });
}

/** `npm run report -- <args>` against the test server; nothing from the user's Temporal config. */
function npmReport(
  args: string[],
  on: TemporalEnv = env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', 'report', '--', ...args], {
    cwd: projectDir,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: on.server.address,
      TEMPORAL_NAMESPACE: on.server.namespace,
      TEMPORAL_CONFIG_FILE: noConfig,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const loadHistory = (file: string) => historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
/** A demo zone's files are all in the parent's plan: it is prepared with the parent, without an activity. */
const CHILD_STAGES = ['publisher-check', 'plan', 'execute'];
const PARENT_STAGES = ['describe', 'plan', 'prepare', 'execute'];

/**
 * Every image went through every stage exactly once, each in one activity that ran once and
 * completed, and planned the 5 demo changes. `withParent`: the zones were prepared with the parent
 * (no prepare of their own), as in runs since that change; runs recorded before it prepared each.
 */
function assertAllStagesOnce(r: AuditReport, zones: number, withParent = true): void {
  assert.deepEqual(
    r.images.map((i) => i.name),
    ['parent', ...Array.from({ length: zones }, (_, i) => `zone:z${i + 1}`)],
  );
  for (const img of r.images) {
    const child = withParent ? CHILD_STAGES : ['publisher-check', 'plan', 'prepare', 'execute'];
    assert.deepEqual(stageNames(img.stages), img.name === 'parent' ? PARENT_STAGES : child, img.name);
    assert.equal(img.preparedWithParent, withParent && img.name !== 'parent', img.name);
    for (const s of img.stages) assertRanOnce(s, img.name);
    assert.deepEqual(img.changes!.map((c) => c.stem).sort(), DEMO_STEMS, img.name);
    assert.equal(img.outcome, 'updated', img.name);
  }
  assert.deepEqual(
    r.stageCounts.map((c) => [c.stage, c.states, c.notStarted]),
    [
      ['describe', { completed: 1 }, 0],
      ['publisher-check', { completed: zones }, 0],
      ['plan', { completed: zones + 1 }, 0],
      ['prepare', { completed: withParent ? 1 : zones + 1 }, 0],
      ['execute', { completed: zones + 1 }, 0],
    ],
  );
  assert.equal(
    r.historyLength,
    r.executions.reduce((n, e) => n + e.events, 0),
  );
  assert.equal(
    r.historyBytes,
    r.executions.reduce((n, e) => n + e.historyBytes, 0),
  );
}

/** Each chain is linked: every execution but the last of its workflow ID continued as new into the next one read. */
function assertChains(r: AuditReport): void {
  const byId = new Map<string, typeof r.executions>();
  for (const e of r.executions) (byId.get(e.workflowId) ?? byId.set(e.workflowId, []).get(e.workflowId)!).push(e);
  for (const [id, chain] of byId) {
    chain.forEach((e, k) => {
      assert.equal(e.chainIndex, k + 1, id);
      assert.ok(e.events > 0 && e.historyBytes > 0, `${id} ${e.runId}`);
      if (k < chain.length - 1)
        assert.deepEqual(
          [e.status, e.continuedAs],
          ['CONTINUED_AS_NEW', chain[k + 1].runId],
          `${id} execution ${k + 1}`,
        );
      else assert.deepEqual([e.status, e.continuedAs], ['COMPLETED', null], `${id} execution ${k + 1}`);
    });
  }
}

const stageNames = (stages: StageAudit[]) => stages.map((s) => s.stage);
const stageOf = (r: AuditReport, image: string, stage: string) =>
  r.images.find((i) => i.name === image)?.stages.find((s) => s.stage === stage);

function assertRanOnce(s: StageAudit, image: string): void {
  const what = `${image} ${s.stage}`;
  assert.equal(s.state, 'completed', what);
  assert.ok(
    s.startedAt !== null && s.endedAt !== null && s.startedAt <= s.endedAt,
    `${what}: started ${s.startedAt}, ended ${s.endedAt}`,
  );
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
    assert.equal(r.shape, 'bounded');
    assert.equal(r.host, run.result.host);
    assert.equal(r.hostTaskQueue, `linked-images@${run.result.host}`);
    assert.equal(r.hostTimeout, '10m');
    assert.deepEqual(
      [r.selectedChildren, r.outcomes],
      [3, { updated: 3, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 0, deferred: 0 }],
    );
    assert.ok(r.startedAt! <= r.closedAt!);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      [r.executions.length, r.executions[0].runId, r.executions[0].partition, r.firstRunId, r.partitions],
      [1, r.runId, 0, r.runId, []],
    );
    assertAllStagesOnce(r, 3);
    assertChains(r);
    assert.deepEqual(
      r.images.map((i) => i.path),
      [host.parent, ...host.children.map((c) => c.path)],
      "a child's root from its plan",
    );
    for (const img of r.images) {
      for (const c of img.changes!)
        assert.deepEqual([c.fromVersion, c.toVersion], ['1.0', '1.1'], `${img.name} ${c.stem}`);
      assert.equal(img.stages.find((s) => s.stage === 'plan')!.summary, '5 changes');
      for (const s of img.stages)
        assert.equal(s.taskQueue, r.hostTaskQueue, `${img.name} ${s.stage} ran on the host's queue`);
    }
    // One publisher-check activity checked the 3 children; each has its own row.
    for (const z of ['zone:z1', 'zone:z2', 'zone:z3']) {
      const s = stageOf(r, z, 'publisher-check')!;
      assert.deepEqual(
        [s.activityId, s.activityType, s.batchSize, s.summary],
        ['publisher-check/zone:z1..zone:z3', 'publisherCheck', 3, 'publishers agree'],
        z,
      );
    }

    const md = reportMarkdown(r);
    assert.match(md, /^# Linked-image update audit: `report-ok-/);
    assert.ok(md.includes('| image | stage | started | ended | duration | attempts | worker | result |'), md);
    assert.equal(
      md.split('\n').filter((l) => /^\| zone:z\d \| (publisher-check|plan|execute) \|.*\| 1 \| \d+@\S+ \| ok/.test(l))
        .length,
      9,
      md,
    );
    // Prepared with the parent: a row says so, in its place before execute.
    assert.match(
      md,
      /^\| zone:z1 \| plan \|.*\n\| zone:z1 \| prepare \| – \| – \| – \| – \| – \| with the parent's: every file is in its plan \|\n\| zone:z1 \| execute \|/m,
    );
    assert.ok(md.includes('- `system/kernel` 1.0 -> 1.1'), md);
    assert.ok(md.includes('5 packages on 4 images: `parent`, `zone:z1`, `zone:z2`, `zone:z3`'), md);
    assert.ok(md.includes('result **ok**, pkg exit code 0'), md);
    assert.ok(md.includes(`- **Host:** \`${r.host}\`, its activities on task queue \`linked-images@${r.host}\``), md);
    assert.ok(
      md.indexOf('## Stage counts') < md.indexOf('## Failures') && md.indexOf('## Errors') < md.indexOf('## Stages\n'),
      'counts, failures and errors come before the per-image table',
    );
    assert.match(
      md,
      new RegExp(
        `^\\| 1 \\| ${run.workflowId} \\| ${r.runId} \\| COMPLETED \\|.*\\| ${r.historyLength} \\| [\\d.]+ KiB \\|$`,
        'm',
      ),
    );
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
        // One publisher-check activity for the batch: it completed, naming each child's error (no retry state).
        ['zone:z1', 'publisher-check', 'PUBLISHER_MISMATCH', null, true, 1],
        ['zone:z2', 'publisher-check', 'PUBLISHER_MISMATCH', null, true, 1],
      ],
    );
    for (const e of r.errors) assert.ok(e.message.includes(e.image!), `the message names the zone: ${e.message}`);
    const [parent, z1, , z3] = r.images;
    assert.deepEqual(stageNames(parent.stages), ['describe'], 'nothing is planned after a failed publisher check');
    assert.deepEqual(
      [z1.stages[0].state, z1.stages[0].error?.code, z1.stages[0].activityId, z1.stages[0].batchSize],
      ['failed', 'PUBLISHER_MISMATCH', 'publisher-check/zone:z1..zone:z3', 3],
    );
    assert.equal(z1.outcome, 'failed');
    assert.equal(z1.changes, null);
    assert.deepEqual([z3.stages[0].state, z3.stages[0].error], ['completed', null]);
    assert.deepEqual(
      r.stageCounts.find((c) => c.stage === 'publisher-check'),
      { stage: 'publisher-check', states: { completed: 1, failed: 2 }, notStarted: 0 },
    );

    const cli = await npmReport([run.workflowId]);
    assert.equal(cli.code, 0, cli.stderr);
    const md = cli.stdout;
    assert.ok(md.includes('result **failed**, pkg exit code 1'), md);
    assert.match(md, /^\| zone:z1 \| publisher-check \|.*\| \*\*failed\*\*: PUBLISHER_MISMATCH: /m);
    assert.match(md, /^\| zone:z2 \| publisher-check \| 1 \| PUBLISHER_MISMATCH \| /m);
    assert.ok(md.includes('### zone:z1, publisher-check: PUBLISHER_MISMATCH'), md);
    assert.ok(md.includes('Not planned (failed): `zone:z1`, `zone:z2`'), md);
    assert.match(
      md,
      /## Failures\n\n2 images:\n\n\| image \| outcome \| stage \| code \| message \|\n\|---\|---\|---\|---\|---\|\n\| zone:z1 \| failed \| publisher-check \| PUBLISHER_MISMATCH \| /,
    );
  });

  it('reports a run that is still going as RUNNING with its scheduled activity pending, then as TERMINATED', async () => {
    const id = workflowId('report-running');
    const taskQueue = `report-running-${process.pid}`;
    // A worker for the workflow only: it schedules describe/parent, and no one ever runs it.
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.server.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    await worker.runUntil(async () => {
      // Host 'nowhere' has no worker: describe/parent waits on its task queue (for 10 minutes).
      const handle = await env.client.workflow.start('updateLinkedImages', {
        taskQueue,
        workflowId: id,
        args: [{ image: '/no/such/parent', host: `nowhere-${process.pid}`, concurrency: 4 }],
      });
      for (let i = 0; i < 100 && !(await handle.describe()).raw.pendingActivities?.length; i++)
        await new Promise((res) => setTimeout(res, 100));
    });
    const r = await reportOf(id);
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.result, null);
    assert.equal(r.closedAt, null);
    assert.equal(r.concurrency, 4);
    assert.deepEqual(
      r.images.map((i) => i.name),
      ['parent'],
    );
    const [describeRow] = r.images[0].stages;
    assert.deepEqual(
      [describeRow.stage, describeRow.state, describeRow.attempts, describeRow.startedAt, describeRow.endedAt],
      ['describe', 'scheduled', 1, null, null],
    );
    assert.deepEqual(
      [r.host, r.hostTaskQueue, describeRow.taskQueue],
      [`nowhere-${process.pid}`, `linked-images@nowhere-${process.pid}`, `linked-images@nowhere-${process.pid}`],
    );
    const md = reportMarkdown(r);
    assert.ok(md.includes('**RUNNING** (still running'), md);
    assert.match(
      md,
      /^\| parent \| describe \| – \| – \| – \| 1 \| – \| scheduled at [\d:.]+Z, attempt 1 of 5, waiting for a worker on linked-images@nowhere-\d+ \|$/m,
    );
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
      await env.withWorker({ cacheDir: host.cacheDir }, async (taskQueue, hostName) => {
        const handle = await env.client.workflow.start('updateLinkedImages', {
          taskQueue,
          workflowId: id,
          args: [{ image: host.parent, host: hostName, concurrency: 2, recursive: true }],
        });
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
        assert.deepEqual(
          running.errors.map((e) => [e.image, e.stage, e.code, e.final]),
          [['zone:z2', 'execute', 'LOCKED', false]],
        );
        assert.match(
          reportMarkdown(running),
          /^\| zone:z2 \| execute \|.*\| (waiting to retry|running), attempt \d+ of 10.*\(previous attempt: LOCKED\) \|$/m,
        );
        assert.equal((await handle.result()).status, 'ok');
      });
    } finally {
      await lock.release();
    }
    const done = await reportOf(id);
    const s = stageOf(done, 'zone:z2', 'execute')!;
    assert.deepEqual([s.state, s.previousFailure?.code, s.error], ['completed', 'LOCKED', null]);
    assert.ok(s.attempts! >= 2, `attempts ${s.attempts}`);
    assert.deepEqual(
      done.errors.map((e) => [e.image, e.stage, e.attempt, e.code, e.final]),
      [['zone:z2', 'execute', s.attempts! - 1, 'LOCKED', false]],
    );
    assert.equal(stageOf(done, 'zone:z1', 'execute')!.attempts, 1);
    assert.match(
      reportMarkdown(done),
      /^\| zone:z2 \| execute \|.*\| ok: applied, 22 steps; retried after LOCKED \|$/m,
    );
  });

  it('exits 2 on a bad command line and 1 naming the workflow ID when there is no such workflow', async () => {
    const none = await npmReport([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing required argument 'workflowId'/);
    const bogus = await npmReport(['x', '--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown option '--bogus'/);
    const missing = await npmReport(['no-such-workflow-42']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No workflow with workflow ID 'no-such-workflow-42' in namespace 'default'/);
    const page = await npmReport(['x', '--page-size', '0']);
    assert.equal(page.code, 2);
    assert.match(
      page.stderr,
      /option '--page-size <n>' argument '0' is invalid\. Expected an integer from 1 to 999999\./,
    );
    const extra = await npmReport(['x', 'y']);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /too many arguments\. Expected 1 argument but got 2/);
    const noValue = await npmReport(['x', '--run-id']);
    assert.equal(noValue.code, 2);
    assert.match(noValue.stderr, /option '--run-id <runId>' argument missing/);
  });

  it('names a host whose worker never took the activity: HOST_UNAVAILABLE with the host and its task queue', async () => {
    const host = await makeHost(1);
    // The workflow worker runs; host 'down' has none, so describe/parent waits out its 1 s schedule-to-start timeout.
    const run = await runUpdate(env, host, { host: `down-${process.pid}`, hostTimeout: '1s' }, 'report-host-down');
    assert.equal(run.result.parent.error?.code, 'HOST_UNAVAILABLE');
    const r = await reportOf(run.workflowId);
    const s = stageOf(r, 'parent', 'describe')!;
    const queue = `linked-images@down-${process.pid}`;
    assert.deepEqual(
      [s.state, s.error?.code, s.error?.timeoutType, s.taskQueue, s.attempts],
      ['timed-out', 'HOST_UNAVAILABLE', 'SCHEDULE_TO_START', queue, null],
    );
    assert.match(
      s.error!.message,
      new RegExp(
        `^No worker of host 'down-${process.pid}' took the describe activity from task queue '${queue}' within 1s \\(schedule-to-start timeout\\)`,
      ),
    );
    assert.deepEqual(
      r.errors.map((e) => [e.image, e.stage, e.code, e.final]),
      [['parent', 'describe', 'HOST_UNAVAILABLE', true]],
    );
    assert.match(
      reportMarkdown(r),
      new RegExp(
        `^\\| parent \\| describe \\|.*\\| \\*\\*timed out\\*\\*: HOST_UNAVAILABLE, no worker took it from ${queue} \\|$`,
        'm',
      ),
    );
  });

  it("reads a 12 MB history page by page, where one page is over the client's 4 MB gRPC limit", async () => {
    const id = workflowId('report-12mb');
    // No worker polls this queue: the history is the start and 12 signals of 1 MB each.
    const handle = await env.client.workflow.start('updateLinkedImages', {
      taskQueue: `nobody-${process.pid}`,
      workflowId: id,
      args: [{ image: '/big', host: 'h1' }],
    });
    const mb = 'x'.repeat(1_000_000);
    for (let i = 0; i < 12; i++) await handle.signal('padding', `${i}${mb}`);
    try {
      // The premise: the SDK's fetchHistory asks for one page of every event, over the limit.
      const connection = await Connection.connect({ address: env.server.address, interceptors: [retryInterceptor()] });
      try {
        await assert.rejects(
          new Client({ connection, namespace: env.server.namespace }).workflow.getHandle(id).fetchHistory(),
          /RESOURCE_EXHAUSTED: Received message larger than max/,
        );
      } finally {
        await connection.close();
      }
      const cli = await npmReport([id, '--json']);
      assert.equal(cli.code, 0, cli.stderr);
      const r = JSON.parse(cli.stdout) as AuditReport;
      assert.equal(r.status, 'RUNNING');
      assert.equal(r.executions.length, 1);
      assert.ok(
        r.executions[0].events >= 13 && r.historyBytes > 12_000_000,
        `${r.executions[0].events} events, ${r.historyBytes} bytes`,
      );
      assert.deepEqual(
        r.images.map((i) => [i.name, i.stages.length]),
        [['parent', 0]],
      );
    } finally {
      await handle.terminate('report.test.ts: 12 MB history read');
    }
  });
});

describe('npm run report on runs that continue as new and runs split into partitions', () => {
  // Continue-as-new after 20 events: 6 zones take several executions (lanes of children make
  // few events), and so does each partition.
  let low: TemporalEnv;
  before(async () => {
    low = await startTemporalEnv({
      server: { extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=20'] },
    });
  });
  after(async () => {
    await low?.close();
  });

  it("reads every execution of a continue-as-new chain: each image's every stage once, the executions with their run IDs, events and bytes", async () => {
    const host = await makeHost(6);
    const run = await runUpdate(low, host, { concurrency: 2 }, 'report-chain');
    assert.equal(run.result.status, 'ok');
    assert.ok(run.result.executions >= 3, `the run took ${run.result.executions} executions`);
    const now = new Date();
    const r = await reportOf(run.workflowId, { on: low, now });

    assert.deepEqual(
      [r.status, r.result, r.partitions, r.outcomes?.updated],
      ['COMPLETED', { status: 'ok', exitCode: 0 }, [], 6],
    );
    assert.equal(r.executions.length, run.result.executions, 'every execution of the chain');
    assert.ok(
      r.executions.every(
        (e) => e.workflowId === run.workflowId && e.partition === 0 && e.workflowType === 'updateLinkedImages',
      ),
    );
    assert.deepEqual([r.firstRunId, r.runId], [r.executions[0].runId, r.executions.at(-1)!.runId]);
    assertChains(r);
    assertAllStagesOnce(r, 6);
    assert.ok(
      new Set(r.images.flatMap((i) => i.stages.map((s) => s.execution))).size > 1,
      'the stages come from several executions',
    );
    assert.deepEqual([r.concurrency, r.host], [2, run.result.host], "from the first execution's input");

    // A tiny page size gives the same report, through the library and through the CLI; so does any run ID of the chain.
    assert.deepEqual(await reportOf(run.workflowId, { on: low, now, pageSize: 2 }), r);
    assert.deepEqual(
      await readAuditReport(low.client, run.workflowId, {
        runId: r.executions[1].runId!,
        now,
        server: { address: low.server.address, namespace: low.server.namespace },
      }),
      r,
    );
    const cli = await npmReport([run.workflowId, '--json', '--page-size', '3'], low);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual({ ...(JSON.parse(cli.stdout) as AuditReport), generatedAt: '' }, { ...r, generatedAt: '' });

    const md = reportMarkdown(r);
    assert.ok(
      md.includes(
        `- **Executions:** ${r.executions.length} (a continue-as-new chain); ${r.historyLength.toLocaleString('en-US')} history events`,
      ),
      md,
    );
    for (const [k, e] of r.executions.entries())
      assert.match(
        md,
        new RegExp(
          `^\\| ${k + 1} \\| ${run.workflowId} \\| ${e.runId} \\| ${e.status} \\|.*\\| ${e.events} \\| [\\d.]+ (B|KiB) \\|$`,
          'm',
        ),
      );
  });

  it("reads a run split into partitions: the run and every partition's chain, merged per image", async () => {
    const host = await makeHost(4);
    const run = await runUpdate(low, host, { concurrency: 2, partitionSize: 2 }, 'report-parts');
    assert.deepEqual([run.result.status, run.result.partitions], ['ok', 2]);
    const r = await reportOf(run.workflowId, { on: low });

    const ids = [`${run.workflowId}/children-1`, `${run.workflowId}/children-2`];
    assert.deepEqual(
      r.partitions.map((p) => [p.index, p.workflowId, p.status, p.children, p.list?.state, p.list?.activityId]),
      [
        [1, ids[0], 'COMPLETED', 2, 'completed', 'list/children-1'],
        [2, ids[1], 'COMPLETED', 2, 'completed', 'list/children-2'],
      ],
    );
    assert.equal(r.executions.length, run.result.executions, 'the run and every execution of every partition');
    assert.deepEqual(
      r.executions.map((e) => e.partition),
      r.executions.map((e) => (e.workflowId === run.workflowId ? 0 : ids.indexOf(e.workflowId) + 1)),
    );
    assert.equal(r.executions[0].workflowId, run.workflowId);
    for (const p of r.partitions)
      assert.equal(p.executions, r.executions.filter((e) => e.workflowId === p.workflowId).length);
    assert.ok(
      r.partitions.every((p) => p.executions > 1),
      `each partition continued as new: ${r.partitions.map((p) => p.executions).join(', ')} executions`,
    );
    assert.deepEqual([r.selectedChildren, r.partitionSize, r.outcomes?.updated], [4, 2, 4]);
    assertChains(r);
    assertAllStagesOnce(r, 4);
    assert.deepEqual(
      r.images.slice(1).map((i) => stageOf(r, i.name, 'publisher-check')!.activityId),
      [
        'publisher-check/zone:z1..zone:z2',
        'publisher-check/zone:z1..zone:z2',
        'publisher-check/zone:z3..zone:z4',
        'publisher-check/zone:z3..zone:z4',
      ],
    );
    for (const img of r.images.slice(1)) {
      const partition = img.name <= 'zone:z2' ? 1 : 2;
      for (const s of img.stages)
        assert.equal(
          r.executions[s.execution].partition,
          partition,
          `${img.name} ${s.stage} ran in partition ${partition}`,
        );
    }

    const md = reportMarkdown(r);
    assert.ok(md.includes(`- **Partitions:** 2 of at most 2 children: \`${ids[0]}\`, \`${ids[1]}\``), md);
    assert.match(md, new RegExp(`^\\| 2 \\| ${ids[1]} \\| COMPLETED \\| \\d+ \\| 2 \\| ok: 2 children \\|$`, 'm'));
  });
});

describe('buildAuditReport', () => {
  const ts = (iso: string) => ({
    seconds: Long.fromNumber(Math.floor(Date.parse(iso) / 1000)),
    nanos: (Date.parse(iso) % 1000) * 1e6,
  });
  const payloads = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
  const history: temporal.api.history.v1.IHistory = {
    events: [
      {
        eventId: Long.fromNumber(1),
        eventTime: ts('2026-11-25T12:00:00.000Z'),
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: 'updateLinkedImages' },
          taskQueue: { name: 'q' },
          input: payloads({ image: '/host' }),
        },
      },
      {
        eventId: Long.fromNumber(5),
        eventTime: ts('2026-11-25T12:00:01.000Z'),
        activityTaskScheduledEventAttributes: { activityId: 'execute/zone:z1', activityType: { name: 'executeImage' } },
      },
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
    const r = buildAuditReport(history, {
      workflowId: 'w',
      describe: { runId: 'r1', status: 'RUNNING', pendingActivities: [pending] },
      now: new Date('2026-11-25T12:00:05.000Z'),
    });
    assert.equal(r.durationMs, 5000);
    assert.deepEqual(r.concurrency, 1, 'the input default');
    const s = r.images.find((i) => i.name === 'zone:z1')!.stages[0];
    assert.deepEqual(
      [s.state, s.attempts, s.worker, s.startedAt, s.endedAt],
      ['running', 2, '77@hostb', '2026-11-25T12:00:03.000Z', null],
    );
    assert.deepEqual(s.heartbeat, {
      done: 30,
      total: 42,
      unit: 'steps',
      details: null,
      at: '2026-11-25T12:00:04.500Z',
    });
    assert.deepEqual(
      r.errors.map((e) => [e.image, e.stage, e.attempt, e.code, e.final]),
      [['zone:z1', 'execute', 1, 'IO_ERROR', false]],
    );
    assert.ok(
      reportMarkdown(r).includes(
        '| running, attempt 2 of 10, last heartbeat 30/42 steps at 12:00:04.500Z (previous attempt: IO_ERROR) |',
      ),
    );
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
    check(
      PENDING_ACTIVITY_STATES,
      temporal.api.enums.v1.PendingActivityState as unknown as Record<string, number>,
      'PENDING_ACTIVITY_STATE_',
    );
  });

  it('reports a run recorded before bounded runs (test/histories/update-3-children.json) as before', () => {
    const r = buildAuditReport(loadHistory('update-3-children.json'), { workflowId: 'record-update-3-children' });
    assert.deepEqual(
      [r.shape, r.status, r.result, r.host, r.hostTaskQueue, r.concurrency, r.selectedChildren],
      ['legacy', 'COMPLETED', { status: 'ok', exitCode: 0 }, null, null, 2, 3],
    );
    assert.deepEqual(r.outcomes, {
      updated: 3,
      'nothing-to-do': 0,
      planned: 0,
      failed: 0,
      cancelled: 0,
      skipped: 0,
      deferred: 0,
    });
    assert.deepEqual([r.executions.length, r.executions[0].events, r.historyLength, r.partitions], [1, 98, 98, []]);
    assert.ok(r.historyBytes > 30_000, `${r.historyBytes} bytes`);
    assertAllStagesOnce(r, 3, false);
    assert.deepEqual(
      r.images.map((i) => i.path?.replace(/^\/tmp\/li-wf-\w+/, '')),
      ['/host', '/zones/z1/root', '/zones/z2/root', '/zones/z3/root'],
      'paths from describe',
    );
    assert.deepEqual(
      r.images.flatMap((i) => i.stages.map((s) => s.activityType)).filter((t, k, all) => all.indexOf(t) === k),
      ['describeImage', 'planImage', 'prepareImage', 'executeImage', 'checkPublishers'],
    );
    assert.ok(r.images.every((i) => i.stages.every((s) => s.batchSize === null && s.execution === 0)));
    assert.match(reportMarkdown(r), /^- \*\*Host:\*\* not named \(a run from before host task queues/m);
  });

  it("merges what was read of a partitioned run (test/histories): the run, partition 1; partition 2's children known from the result", () => {
    const r = buildAuditReport(
      [
        { workflowId: 'record-v2-partitioned-run', history: loadHistory('v2-partitioned-run.json') },
        { workflowId: 'record-v2-partitioned-run/children-1', history: loadHistory('v2-partition-1.json') },
      ],
      { workflowId: 'record-v2-partitioned-run' },
    );
    assert.deepEqual(
      [r.shape, r.status, r.result?.status, r.selectedChildren, r.outcomes?.updated],
      ['bounded', 'COMPLETED', 'ok', 4, 4],
    );
    assert.deepEqual(
      r.executions.map((e) => [e.workflowId, e.partition, e.chainIndex, e.events]),
      [
        ['record-v2-partitioned-run', 0, 1, 131],
        ['record-v2-partitioned-run/children-1', 1, 1, 81],
      ],
    );
    assert.deepEqual(
      r.partitions.map((p) => [p.index, p.status, p.executions, p.children, p.firstRunId !== null]),
      [
        [1, 'COMPLETED', 1, 2, true],
        [2, 'COMPLETED', 0, null, true],
      ],
    );
    assert.deepEqual(
      r.images.map((i) => [i.name, i.outcome, stageNames(i.stages).join(' ')]),
      [
        ['parent', 'updated', 'describe plan prepare execute'],
        ['zone:z1', 'updated', 'publisher-check plan prepare execute'],
        ['zone:z2', 'updated', 'publisher-check plan prepare execute'],
        ['zone:z3', 'updated', ''],
        ['zone:z4', 'updated', ''],
      ],
    );
    assert.deepEqual(
      r.stageCounts.find((c) => c.stage === 'publisher-check'),
      { stage: 'publisher-check', states: { completed: 2 }, notStarted: 2 },
    );
  });

  it('gives each child of a publisher-check batch its own row, state and error: per-child results, and a batch no worker took', () => {
    const w = new HistoryWriter().started('updateLinkedImages', 'r1', 'r1', {
      image: '/h',
      host: 'h1',
      hostTimeout: '5m',
    });
    w.activity(
      'describe/parent',
      'describeParent',
      {},
      {
        result: {
          problems: [],
          total: 4,
          digest: 'd',
          partitionSize: 1000,
          children: ['zone:z1', 'zone:z2', 'zone:z3', 'zone:z4'],
        },
      },
    );
    const results = [
      { name: 'zone:z1', error: null },
      { name: 'zone:z2', error: { code: 'PUBLISHER_MISMATCH', message: 'zone:z2 differs' } },
    ];
    w.activity(
      'publisher-check/zone:z1..zone:z2',
      'publisherCheck',
      { image: '/h', children: ['zone:z1', 'zone:z2'], concurrency: 1 },
      { result: { results } },
      { attempt: 2, lastFailure: appFailure('IO_ERROR', 'read error', false) },
    );
    w.activity(
      'publisher-check/zone:z3..zone:z4',
      'publisherCheck',
      { image: '/h', children: ['zone:z3', 'zone:z4'], concurrency: 1 },
      { scheduleToStartTimeout: true },
    );
    const r = buildAuditReport(
      {
        events: w.completed({
          resultVersion: 2,
          image: '/h',
          host: 'h1',
          status: 'failed',
          exitCode: 1,
          dryRun: false,
          concurrency: 1,
          parent: { name: 'parent', outcome: 'skipped' },
          counts: { updated: 0, 'nothing-to-do': 0, planned: 0, failed: 3, cancelled: 0, skipped: 1 },
          failures: [],
          failuresOmitted: 0,
          children: [],
          childrenOmitted: 4,
          executions: 1,
          partitions: 0,
        }),
      },
      { workflowId: 'w' },
    );

    const check = (name: string) => r.images.find((i) => i.name === name)!.stages[0];
    assert.deepEqual(
      ['zone:z1', 'zone:z2', 'zone:z3', 'zone:z4'].map((n) => [
        n,
        check(n).state,
        check(n).error?.code ?? null,
        check(n).attempts,
        check(n).batchSize,
      ]),
      [
        ['zone:z1', 'completed', null, 2, 2],
        ['zone:z2', 'failed', 'PUBLISHER_MISMATCH', 2, 2],
        ['zone:z3', 'timed-out', 'HOST_UNAVAILABLE', null, 2],
        ['zone:z4', 'timed-out', 'HOST_UNAVAILABLE', null, 2],
      ],
    );
    assert.match(
      check('zone:z4').error!.message,
      /^No worker of host 'h1' took the publisher-check activity from task queue 'linked-images@h1' within 5m \(schedule-to-start timeout\)/,
    );
    assert.deepEqual(
      r.errors.map((e) => [e.image, e.code, e.final]),
      [
        ['zone:z1', 'IO_ERROR', false],
        ['zone:z2', 'IO_ERROR', false],
        ['zone:z2', 'PUBLISHER_MISMATCH', true],
        ['zone:z3', 'HOST_UNAVAILABLE', true],
        ['zone:z4', 'HOST_UNAVAILABLE', true],
      ],
    );
    assert.deepEqual(
      r.images.map((i) => i.outcome),
      ['skipped', 'skipped', 'failed', 'failed', 'failed'],
      'children the result left out: from their stages',
    );
    const md = reportMarkdown(r);
    assert.ok(md.includes('### publisher-check: HOST_UNAVAILABLE, 2 times\n\n`zone:z3`, `zone:z4`.'), md);
    assert.ok(
      md.includes('### publisher-check: IO_ERROR, 2 times\n\nFailed attempts (retried) of: `zone:z1`, `zone:z2`.'),
      md,
    );
  });

  it('shows each child of a running publisher-check batch as running', () => {
    const w = new HistoryWriter().started('updateLinkedImages', 'r1', 'r1', { image: '/h', host: 'h1' });
    w.schedule('publisher-check/zone:z1..zone:z3', 'publisherCheck', {
      image: '/h',
      children: ['zone:z1', 'zone:z2', 'zone:z3'],
      concurrency: 1,
    });
    const pending = {
      activityId: 'publisher-check/zone:z1..zone:z3',
      state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      attempt: 1,
      maximumAttempts: 5,
      lastWorkerIdentity: '9@h1',
    };
    const r = buildAuditReport(
      { events: w.events },
      { workflowId: 'w', describe: { runId: 'r1', status: 'RUNNING', pendingActivities: [pending] } },
    );
    assert.deepEqual(
      r.images.map((i) => [i.name, i.stages.map((s) => [s.state, s.worker, s.batchSize])]),
      [
        ['parent', []],
        ['zone:z1', [['running', '9@h1', 3]]],
        ['zone:z2', [['running', '9@h1', 3]]],
        ['zone:z3', [['running', '9@h1', 3]]],
      ],
    );
    assert.deepEqual(r.stageCounts.find((c) => c.stage === 'publisher-check')?.states, { running: 3 });
  });

  it('reports a run of 5,000 zones in 5 partitions of 3 executions each (about 68,000 events): every image and stage, failures, outcomes the result left out', () => {
    const big = bigRun(5000, 1000);
    const r = buildAuditReport(big.executions, { workflowId: big.workflowId });
    assert.ok(r.historyLength > 60_000, `${r.historyLength} events`);
    assert.deepEqual(
      [r.executions.length, r.partitions.length, r.selectedChildren, r.images.length],
      [16, 5, 5000, 5001],
    );
    assert.ok(r.partitions.every((p) => p.executions === 3 && p.children === 1000 && p.status === 'COMPLETED'));
    assert.deepEqual(r.outcomes, {
      updated: 4996,
      'nothing-to-do': 0,
      planned: 0,
      failed: 4,
      cancelled: 0,
      skipped: 0,
      deferred: 0,
    });
    const counted = { updated: 0, failed: 0 } as Record<string, number>;
    for (const img of r.images.slice(1)) counted[img.outcome!]++;
    assert.deepEqual(
      counted,
      { updated: 4996, failed: 4 },
      "every child has an outcome, though the result's lines hold only some",
    );
    assert.deepEqual(
      r.stageCounts.map((c) => [c.stage, c.states, c.notStarted]),
      [
        ['describe', { completed: 1 }, 0],
        ['publisher-check', { completed: 4997, failed: 3 }, 0],
        ['plan', { completed: 4998 }, 3],
        ['prepare', { completed: 4998 }, 0],
        ['execute', { completed: 4997, failed: 1 }, 0],
      ],
    );
    assert.deepEqual(
      r.errors.map((e) => [e.image, e.stage, e.code, e.final]),
      [
        ['zone:z7', 'publisher-check', 'PUBLISHER_MISMATCH', true],
        ['zone:z10', 'plan', 'LOCKED', false],
        ['zone:z1234', 'publisher-check', 'PUBLISHER_MISMATCH', true],
        ['zone:z2500', 'execute', 'IO_ERROR', true],
        ['zone:z4999', 'publisher-check', 'PUBLISHER_MISMATCH', true],
      ],
    );
    const md = reportMarkdown(r);
    const at = (h: string) => md.indexOf(`\n## ${h}\n`);
    assert.ok(
      at('Stage counts') < at('Failures') &&
        at('Failures') < at('Errors (5)') &&
        at('Errors (5)') < at('Stages') &&
        at('Stages') < at('Changes'),
      'summary and counts, failures and errors, then the per-image table',
    );
    const table = md.slice(at('Stages'), at('Changes')).split('\n');
    assert.equal(
      table.filter((l) => /^\| zone:z\d+ \| (publisher-check|plan|prepare|execute) \|/.test(l)).length,
      5000 + 4997 * 3,
      'a row per child and stage',
    );
    assert.ok(
      md.includes('5 packages on 4998 images: every image except `zone:z7`, `zone:z1234`, `zone:z4999`'),
      'images sharing changes are listed by the few that do not',
    );
  });
});
