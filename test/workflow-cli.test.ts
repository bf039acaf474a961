import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { ChildrenPage, Progress, UpdateResult } from '../src/contract/run-types';
import { maxRunning, readRecord } from './helpers/activity-log';
import { cliRunner, CliResult, parseJson } from './helpers/cli-runner';
import { startTemporalEnv, TemporalEnv, workflowBundle } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { Host, makeHost, release, workflowId } from './helpers/workflow-fixture';

let env: TemporalEnv;
let cli: (args: string[]) => Promise<CliResult>;
before(async () => {
  env = await startTemporalEnv();
  cli = cliRunner(env.server);
});
after(async () => {
  await env?.close();
  await cleanup();
});

const STAGE_NAMES = ['execute', 'plan', 'prepare', 'publisher-check'];

const query = async (id: string) =>
  parseJson<{ queryResult: Progress[] }>(
    await cli(['workflow', 'query', '--workflow-id', id, '--name', 'progress', '--output', 'json']),
    'workflow query',
  ).queryResult[0];

function withWorker<T>(host: Host, fn: (taskQueue: string, hostName: string) => Promise<T>): Promise<T> {
  return env.withWorker({ cacheDir: host.cacheDir, recordFile: host.recordFile }, fn);
}

describe('the temporal CLI drives updateLinkedImages', () => {
  it('starts an update with `workflow start`, follows it with the progress query and reads its result', async () => {
    const host = await makeHost(3);
    const id = workflowId('cli');
    await withWorker(host, async (taskQueue, hostName) => {
      const start = await cli([
        'workflow',
        'start',
        '--type',
        'updateLinkedImages',
        '--task-queue',
        taskQueue,
        '--workflow-id',
        id,
        '--input',
        JSON.stringify({ image: host.parent, host: hostName, concurrency: 2, recursive: true }),
      ]);
      assert.equal(start.code, 0, start.stderr);
      assert.match(start.stdout, new RegExp(`WorkflowId\\s+${id}`));

      // Whatever stage it is in by now, the answer has the documented shape.
      const early = await query(id);
      assert.ok(
        ['starting', 'publisher-check', 'plan', 'prepare', 'execute', 'finished'].includes(early.stage),
        early.stage,
      );
      assert.deepEqual(Object.keys(early.stages).sort(), STAGE_NAMES);
      assert.equal(typeof early.line, 'string');

      const res = await cli(['workflow', 'result', '--workflow-id', id, '--output', 'json']);
      assert.equal(res.code, 0, res.stderr);
      const out = parseJson<{ status: string; result: UpdateResult }>(res, 'workflow result');
      assert.equal(out.status, 'COMPLETED');
      assert.equal(out.result.status, 'ok');
      assert.equal(out.result.exitCode, 0);
      assert.equal(out.result.concurrency, 2);
      assert.deepEqual(out.result.children, [
        'zone:z1 updated execute 5',
        'zone:z2 updated execute 5',
        'zone:z3 updated execute 5',
      ]);
      assert.equal(out.result.parent.outcome, 'updated');

      const text = await cli(['workflow', 'result', '--workflow-id', id]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /Status\s+COMPLETED/);
      assert.match(text.stdout, /"status":"ok"/);

      const done = await query(id);
      assert.equal(done.stage, 'finished');
      assert.equal(done.line, 'Finished processing linked images.');
      assert.equal(done.children, 3);
      assert.equal(done.workingCount, 0); // (the CLI prints an empty list as null)
      for (const s of STAGE_NAMES)
        assert.deepEqual(done.stages[s as keyof Progress['stages']], { done: 3, working: 0, waiting: 0, failed: 0 }, s);

      // Every child's details, a page at a time (the result carries only a line per child).
      const page = parseJson<{ queryResult: ChildrenPage[] }>(
        await cli([
          'workflow',
          'query',
          '--workflow-id',
          id,
          '--name',
          'children',
          '--input',
          JSON.stringify({ offset: 1, limit: 5 }),
          '--output',
          'json',
        ]),
        'children query',
      ).queryResult[0];
      assert.equal(page.total, 3);
      assert.deepEqual(
        page.children.map((c) => [c.name, c.outcome, c.lastStage, c.changes, c.working]),
        [
          ['zone:z2', 'updated', 'execute', 5, false],
          ['zone:z3', 'updated', 'execute', 5, false],
        ],
      );
      assert.match(page.children[0].planDigest!, /^[0-9a-f]{64}$/);
      const bad = await cli([
        'workflow',
        'query',
        '--workflow-id',
        id,
        '--name',
        'children',
        '--input',
        JSON.stringify({ limit: 0.5 }),
      ]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stdout + bad.stderr, /limit: expected an integer from 1 to 1000, got 0.5/);

      const described = parseJson<{ workflowExecutionInfo: { status: string; type: { name: string } } }>(
        await cli(['workflow', 'describe', '--workflow-id', id, '--output', 'json']),
        'workflow describe',
      );
      assert.equal(described.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_COMPLETED');
      assert.equal(described.workflowExecutionInfo.type.name, 'updateLinkedImages');

      const meta = parseJson<{
        queryResult: { currentDetails: string; definition: { queryDefinitions: { name: string }[] } }[];
      }>(await cli(['workflow', 'metadata', '--workflow-id', id, '--output', 'json']), 'workflow metadata');
      assert.equal(meta.queryResult[0].currentDetails, 'Finished processing linked images.');
      assert.ok(meta.queryResult[0].definition.queryDefinitions.some((q) => q.name === 'progress'));
    });

    for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1', c.name);
    const lines = await readRecord(host.recordFile, id);
    // The publisher check takes no cap from concurrency (pkg(5) checks every child at once).
    for (const s of STAGE_NAMES.filter((st) => st !== 'publisher-check'))
      assert.ok(maxRunning(lines, s) <= 2, `${s}: the --input concurrency 2 was honoured`);

    // The CLI's JSON history is accepted by the replayer as is (needs protobufjs@8 at the top level).
    const show = await cli(['workflow', 'show', '--workflow-id', id, '--output', 'json']);
    assert.equal(show.code, 0, show.stderr);
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, parseJson(show, 'workflow show'), id);
  });

  it('`workflow execute` with invalid input exits 1 at once and prints the InvalidInput failure', async () => {
    const host = await makeHost(1);
    const id = workflowId('cli-invalid');
    await withWorker(host, async (taskQueue) => {
      const run = await cli([
        'workflow',
        'execute',
        '--type',
        'updateLinkedImages',
        '--task-queue',
        taskQueue,
        '--workflow-id',
        id,
        '--input',
        JSON.stringify({ image: 'relative/host', host: 'h1', concurrency: '3' }),
      ]);
      assert.equal(run.code, 1);
      assert.match(run.stdout, /Status\s+FAILED/);
      assert.ok(
        run.stdout.includes(
          'Invalid input: image: expected an absolute path, got "relative/host"; concurrency: expected an integer',
        ),
        run.stdout,
      );

      const res = await cli(['workflow', 'result', '--workflow-id', id, '--output', 'json']);
      assert.equal(res.code, 1);
      const out = parseJson<{
        status: string;
        closeEvent: {
          workflowExecutionFailedEventAttributes: {
            failure: {
              message: string;
              applicationFailureInfo: { type: string; nonRetryable: boolean; details: { problems: string[] }[] };
            };
          };
        };
      }>(res, 'workflow result');
      assert.equal(out.status, 'FAILED');
      const failure = out.closeEvent.workflowExecutionFailedEventAttributes.failure;
      assert.equal(failure.applicationFailureInfo.type, 'InvalidInput');
      assert.equal(failure.applicationFailureInfo.nonRetryable, true);
      assert.deepEqual(failure.applicationFailureInfo.details[0].problems, [
        'image: expected an absolute path, got "relative/host"',
        'concurrency: expected an integer (<= 0 means no limit), got "3"',
      ]);
    });
  });
});
