import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { CONFIG_FILE } from '../src/image/image';
import { updateLinkedImages } from '../src/workflows';
import { readRecord, stagesSeen, startsPerName, unbalanced } from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup, snapshot } from './helpers/tree';
import {
  childrenOf,
  emptyOriginFor,
  Host,
  imageOf,
  makeHost,
  release,
  runUpdate,
  setZonePublishers,
  workflowId,
} from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

const roots = (host: Host) => [host.parent, ...host.children.map((c) => c.path)];
const snapshotAll = (host: Host) => Promise.all(roots(host).map((r) => snapshot(r)));

async function assertNothingChanged(host: Host, before: Awaited<ReturnType<typeof snapshotAll>>): Promise<void> {
  assert.deepEqual(await snapshotAll(host), before, 'no image content changed');
  for (const r of roots(host)) assert.equal(await release(r), 'Demo OS 1.0', r);
}

describe('updateLinkedImages when the parent cannot be read for a moment', () => {
  it(
    'retries describe on IO_ERROR (it is not bad input) and goes on once the parent is readable again',
    { timeout: 60_000 },
    async () => {
      const host = await makeHost(1);
      const file = path.join(host.parent, CONFIG_FILE);
      await fs.rename(file, `${file}.away`);
      await fs.mkdir(file); // reading it now fails with EISDIR: IO_ERROR, retryable
      const id = workflowId('describe-io');
      const result = await env.withWorker(
        { cacheDir: host.cacheDir, recordFile: host.recordFile },
        async (taskQueue, hostName) => {
          const handle = await env.client.workflow.start(updateLinkedImages, {
            taskQueue,
            workflowId: id,
            args: [{ image: host.parent, host: hostName }],
          });
          while (!(await readRecord(host.recordFile, id)).some((l) => l.stage === 'describe' && l.event === 'fail'))
            await new Promise((r) => setTimeout(r, 50));
          await fs.rmdir(file);
          await fs.rename(`${file}.away`, file);
          return handle.result();
        },
      );
      assert.equal(result.status, 'ok');
      const describes = (await readRecord(host.recordFile, id)).filter((l) => l.stage === 'describe');
      assert.ok(
        describes.length >= 4 &&
          describes[0].event === 'start' &&
          describes[1].event === 'fail' &&
          describes.at(-1)!.event === 'end',
        JSON.stringify(describes),
      );
      assert.ok(describes.at(-1)!.attempt >= 2, 'a later attempt succeeded');
    },
  );
});

describe('updateLinkedImages when children are broken', () => {
  it('reports a publisher mismatch in two children with both sides listed, checks every child and plans nothing', async () => {
    const host = await makeHost(4);
    // zone:z2 ranks another publisher above the parent's; zone:z4 has the parent's publisher non-sticky.
    await setZonePublishers(host.children[1].path, (pubs) => [
      { name: 'other', origins: ['file:///nonexistent'], sticky: true, enabled: true },
      ...pubs,
    ]);
    await setZonePublishers(host.children[3].path, (pubs) => pubs.map((p) => ({ ...p, sticky: false })));
    const before = await snapshotAll(host);

    const { result, lines } = await runUpdate(env, host, { concurrency: 1 });
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 1);
    const [z1, z2, z3, z4] = childrenOf(result);
    const parentSide = 'The parent image has the following enabled publishers:\n    PUBLISHER 0: demo\n';
    for (const [r, childSide] of [
      [z2, 'The child image has the following enabled publishers:\n    PUBLISHER 0: other\n    PUBLISHER 1: demo'],
      [z4, 'The child image has the following enabled publishers:\n    PUBLISHER 0: demo (non-sticky)'],
    ] as const) {
      assert.equal(r.outcome, 'failed', r.name);
      assert.equal(r.lastStage, 'publisher-check', r.name);
      assert.equal(r.error?.stage, 'publisher-check', r.name);
      assert.equal(r.error?.code, 'PUBLISHER_MISMATCH', r.name);
      assert.ok(
        r.error!.message.includes(`Invalid child image publisher configuration for ${r.name}.`),
        r.error!.message,
      );
      assert.ok(r.error!.message.includes(parentSide), r.error!.message);
      assert.ok(r.error!.message.endsWith(childSide), r.error!.message);
    }
    for (const r of [z1, z3]) {
      assert.equal(r.outcome, 'skipped', r.name);
      assert.equal(r.error, null, r.name);
      assert.equal(r.lastStage, 'publisher-check', r.name);
    }
    assert.equal(result.parent.outcome, 'skipped');
    assert.equal(result.parent.lastStage, null);
    assert.equal(result.parent.changes, null, 'the parent was never planned');
    assert.deepEqual(result.counts, {
      updated: 0,
      'nothing-to-do': 0,
      planned: 0,
      failed: 2,
      cancelled: 0,
      skipped: 2,
      deferred: 0,
    });
    assert.deepEqual(
      result.failures.map((f) => f.name),
      ['zone:z2', 'zone:z4'],
    );

    // pkg(5) checks every child and reports all mismatches, even at -C 1; then stops before planning.
    assert.deepEqual(startsPerName(lines, 'publisher-check'), {
      'zone:z1': 1,
      'zone:z2': 1,
      'zone:z3': 1,
      'zone:z4': 1,
    });
    assert.deepEqual([...stagesSeen(lines)].sort(), ['describe', 'publisher-check']);
    assert.equal(lines.filter((l) => l.event === 'fail').length, 2, 'a mismatch is not retried');
    await assertNothingChanged(host, before);
  });

  it('fails fast when one child cannot be planned: later children are not planned and nothing is prepared or executed', async () => {
    const host = await makeHost(4);
    await emptyOriginFor(host.children[1].path);
    const before = await snapshotAll(host);

    const { result, lines } = await runUpdate(env, host, { concurrency: 1 });
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 1);
    const [z1, z2, z3, z4] = childrenOf(result);
    assert.equal(z2.outcome, 'failed');
    assert.equal(z2.lastStage, 'plan');
    assert.equal(z2.changes, null);
    assert.equal(z2.error?.stage, 'plan');
    assert.equal(z2.error?.code, 'UNSATISFIABLE');
    assert.ok(z2.error!.message.includes("No version of 'system/kernel' satisfies the parent image"), z2.error.message);
    assert.equal(z1.outcome, 'skipped', 'planned, but not updated');
    assert.equal(z1.lastStage, 'plan');
    for (const r of [z3, z4]) {
      assert.equal(r.outcome, 'skipped', r.name);
      assert.equal(r.lastStage, 'publisher-check', `${r.name} was never planned`);
    }
    assert.equal(result.parent.outcome, 'skipped');
    assert.equal(result.parent.lastStage, 'plan');

    assert.deepEqual(
      startsPerName(lines, 'plan'),
      { parent: 1, 'zone:z1': 1, 'zone:z2': 1 },
      'UNSATISFIABLE is not retried and zone:z3/z4 are never planned',
    );
    assert.deepEqual(
      [...stagesSeen(lines)].sort(),
      ['describe', 'plan', 'publisher-check'],
      'no prepare or execute ran',
    );
    assert.deepEqual(unbalanced(lines), []);
    await assertNothingChanged(host, before);
  });

  it('with no limit, children already planning finish, the failure is reported and nothing is prepared or executed', async () => {
    const host = await makeHost(4);
    await emptyOriginFor(host.children[2].path);
    const before = await snapshotAll(host);

    const { result, lines } = await runUpdate(env, host, { concurrency: 0 });
    assert.equal(result.status, 'failed');
    assert.equal(result.exitCode, 1);
    assert.deepEqual(
      childrenOf(result).map((c) => c.outcome),
      ['skipped', 'skipped', 'failed', 'skipped'],
    );
    assert.equal(imageOf(result, 'zone:z3').error?.code, 'UNSATISFIABLE');
    // All four were started together; none is left running or retried.
    assert.deepEqual(startsPerName(lines, 'plan'), {
      parent: 1,
      'zone:z1': 1,
      'zone:z2': 1,
      'zone:z3': 1,
      'zone:z4': 1,
    });
    assert.deepEqual(unbalanced(lines), []);
    assert.deepEqual([...stagesSeen(lines)].sort(), ['describe', 'plan', 'publisher-check']);
    await assertNothingChanged(host, before);
  });
});
