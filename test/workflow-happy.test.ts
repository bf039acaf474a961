import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Worker } from '@temporalio/worker';
import type { UpdateResult } from '../src/contract/run-types';
import {
  maxRunning,
  parentOverlapsChildren,
  readRecord,
  RecordLine,
  span,
  stagesSeen,
  startsPerName,
  unbalanced,
} from './helpers/activity-log';
import { startTemporalEnv, TemporalEnv, workflowBundle } from './helpers/temporal-env';
import { cleanup, snapshot } from './helpers/tree';
import {
  checkpointedPlans,
  childrenOf,
  DEMO_STEMS,
  Host,
  imageOf,
  makeHost,
  release,
  Run,
  runUpdate,
  savedPlan,
  versionOf,
} from './helpers/workflow-fixture';

const STAGES = ['publisher-check', 'plan', 'prepare', 'execute'] as const;

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

function assertUpdated(result: UpdateResult, name: string): void {
  const r = imageOf(result, name);
  assert.equal(r.outcome, 'updated', `${name}: ${JSON.stringify(r.error)}`);
  assert.equal(r.lastStage, 'execute', name);
  assert.equal(r.error, null, name);
  assert.equal(r.changes, 5, name);
}

/** The plan the run saved in the image and executed: the five demo packages, 1.0 -> 1.1. */
async function assertPlannedDemoUpdate(root: string, digest: string | null, name: string): Promise<void> {
  const p = await savedPlan(root, digest);
  assert.deepEqual(p.changes.map((c) => c.stem).sort(), DEMO_STEMS, name);
  for (const c of p.changes)
    assert.deepEqual([versionOf(c.from), versionOf(c.to)], ['1.0', '1.1'], `${name} ${c.stem}`);
}

/** Every child finished stage N before any image started stage N+1; the parent's prepare and execute ran before the children's. */
function assertStageOrder(lines: RecordLine[]): void {
  for (let i = 0; i + 1 < STAGES.length; i++) {
    const cur = span(lines, STAGES[i], 'all')!;
    const next = span(lines, STAGES[i + 1], 'all')!;
    assert.ok(
      cur.lastEnd < next.firstStart,
      `every '${STAGES[i]}' should end (line ${cur.lastEnd}) before any '${STAGES[i + 1]}' starts (line ${next.firstStart})`,
    );
  }
  // (The demo zones have no prepare of their own: they are prepared with the parent.)
  for (const stage of ['plan', 'execute']) {
    const parent = span(lines, stage, 'parent')!;
    const children = span(lines, stage, 'children')!;
    assert.ok(
      parent.lastEnd < children.firstStart,
      `the parent's '${stage}' should end (line ${parent.lastEnd}) before the children's starts (line ${children.firstStart})`,
    );
  }
  const described = span(lines, 'describe', 'parent')!;
  assert.ok(described.lastEnd < span(lines, 'publisher-check', 'children')!.firstStart, 'describe runs first');
}

/** What every successful update must show, whatever the cap. */
async function assertHappy(run: Run, host: Host, cap: number): Promise<void> {
  const { result, lines } = run;
  assert.equal(result.status, 'ok');
  assert.equal(result.exitCode, 0);
  assert.equal(result.dryRun, false);
  assert.equal(result.concurrency, cap);
  assert.equal(result.resultVersion, 2);
  assertUpdated(result, 'parent');
  await assertPlannedDemoUpdate(host.parent, result.parent.planDigest, 'parent');
  assert.deepEqual(
    childrenOf(result).map((c) => c.name),
    host.children.map((c) => c.name),
  );
  for (const c of host.children) assertUpdated(result, c.name);
  assert.deepEqual(result.counts, {
    updated: host.children.length,
    'nothing-to-do': 0,
    planned: 0,
    failed: 0,
    cancelled: 0,
    skipped: 0,
    deferred: 0,
  });
  assert.deepEqual(result.failures, []);
  assert.equal(result.childrenOmitted, 0);
  assert.equal(result.partitions, 0);

  assert.equal(await release(host.parent), 'Demo OS 1.1');
  for (const c of host.children) assert.equal(await release(c.path), 'Demo OS 1.1', c.name);

  assert.deepEqual(unbalanced(lines), [], 'every activity that started also ended');
  assert.ok(
    lines.every((l) => l.event !== 'fail' && l.attempt === 1),
    'no activity failed or was retried',
  );
  const everyone = Object.fromEntries(['parent', ...host.children.map((c) => c.name)].map((n) => [n, 1]));
  const children = Object.fromEntries(host.children.map((c) => [c.name, 1]));
  assert.deepEqual(startsPerName(lines, 'describe'), { parent: 1 });
  assert.deepEqual(startsPerName(lines, 'publisher-check'), children);
  for (const stage of ['plan', 'execute'])
    assert.deepEqual(startsPerName(lines, stage), everyone, `each image ran '${stage}' exactly once`);
  // The demo zones need only files the parent's plan delivers: they are prepared with the parent.
  assert.deepEqual(startsPerName(lines, 'prepare'), { parent: 1 });
  assertStageOrder(lines);
  const overlap = parentOverlapsChildren(lines);
  assert.equal(overlap, null, `a parent activity ran alongside a child activity (line ${overlap?.index})`);
  if (cap > 0) {
    // The publisher check takes no cap from concurrency (pkg(5) checks every child at once).
    for (const stage of STAGES.filter((st) => st !== 'publisher-check'))
      assert.ok(
        maxRunning(lines, stage) <= cap,
        `'${stage}' ran ${maxRunning(lines, stage)} children at once; the cap is ${cap}`,
      );
  }
}

/** The most children at once in the stages concurrency caps (not the publisher check: pkg(5) checks every child at once). */
const peak = (lines: RecordLine[]) =>
  Math.max(...STAGES.filter((s) => s !== 'publisher-check').map((s) => maxRunning(lines, s)));

describe('updateLinkedImages on a healthy host', () => {
  for (const cap of [1, 0]) {
    it(`updates a host with 1 zone at concurrency ${cap}`, async () => {
      const host = await makeHost(1);
      const run = await runUpdate(env, host, { concurrency: cap });
      await assertHappy(run, host, cap);
      assert.equal(peak(run.lines), 1);
    });
  }

  it('updates 8 zones one at a time at concurrency 1 (the default)', async () => {
    const host = await makeHost(8);
    const run = await runUpdate(env, host, {});
    await assertHappy(run, host, 1);
    assert.equal(peak(run.lines), 1);
  });

  it('updates 8 zones at concurrency 3, reaching but never exceeding 3 children at once', async () => {
    const host = await makeHost(8);
    const run = await runUpdate(env, host, { concurrency: 3 });
    await assertHappy(run, host, 3);
    // Each stage schedules 3 activities in one workflow task; they are dispatched together.
    assert.equal(peak(run.lines), 3, `per stage: ${STAGES.map((s) => `${s} ${maxRunning(run.lines, s)}`).join(', ')}`);

    // The same history replays deterministically against the current workflow code.
    const history = await env.client.workflow.getHandle(run.workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, run.workflowId);
  });

  for (const cap of [0, -1]) {
    it(`updates 8 zones with no limit at concurrency ${cap}, running more than 3 at once`, async () => {
      const host = await makeHost(8);
      const run = await runUpdate(env, host, { concurrency: cap });
      await assertHappy(run, host, cap);
      // All 8 activities of a stage are scheduled in one workflow task. How many overlap depends
      // on dispatch and activity length (a few ms), so we require only > 3 in the busiest stage;
      // runs so far saw 5 to 8 in every stage.
      assert.ok(peak(run.lines) > 3, `per stage: ${STAGES.map((s) => `${s} ${maxRunning(run.lines, s)}`).join(', ')}`);
    });
  }

  it('dry run plans every image, reports the changes and changes nothing', async () => {
    const host = await makeHost(3);
    const before = await Promise.all([host.parent, ...host.children.map((c) => c.path)].map((p) => snapshot(p)));
    const run = await runUpdate(env, host, { concurrency: 2, dryRun: true });
    const { result, lines } = run;
    assert.equal(result.status, 'ok');
    assert.equal(result.exitCode, 0);
    assert.equal(result.dryRun, true);
    for (const r of [imageOf(result, 'parent'), ...childrenOf(result)]) {
      assert.equal(r.outcome, 'planned', r.name);
      assert.equal(r.lastStage, 'plan', r.name);
      assert.equal(r.changes, 5, r.name);
    }
    await assertPlannedDemoUpdate(host.parent, result.parent.planDigest, 'parent');
    assert.deepEqual(result.counts.planned, 3);
    assert.deepEqual([...stagesSeen(lines)].sort(), ['describe', 'plan', 'publisher-check']);
    assert.deepEqual(startsPerName(lines, 'plan'), { parent: 1, 'zone:z1': 1, 'zone:z2': 1, 'zone:z3': 1 });
    const after = await Promise.all([host.parent, ...host.children.map((c) => c.path)].map((p) => snapshot(p)));
    assert.deepEqual(after, before, 'no image content changed');
    assert.equal(await release(host.children[0].path), 'Demo OS 1.0');

    // Nothing was left half-done: the real update still works afterwards.
    const real = await runUpdate(env, host, { concurrency: 2 });
    await assertHappy(real, host, 2);
  });

  it('a second update after a completed one has nothing to do (exit 4) and prepares nothing', async () => {
    const host = await makeHost(3);
    const first = await runUpdate(env, host, { concurrency: 0 });
    await assertHappy(first, host, 0);
    const second = await runUpdate(env, host, { concurrency: 0 });
    assert.notEqual(second.workflowId, first.workflowId);
    assert.equal(second.result.status, 'nothing-to-do');
    assert.equal(second.result.exitCode, 4);
    for (const r of [imageOf(second.result, 'parent'), ...childrenOf(second.result)]) {
      assert.equal(r.outcome, 'nothing-to-do', r.name);
      assert.equal(r.lastStage, 'plan', r.name);
      assert.equal(r.changes, 0, r.name);
      assert.equal(r.error, null, r.name);
    }
    assert.deepEqual([...stagesSeen(second.lines)].sort(), ['describe', 'plan', 'publisher-check']);
    // The first run's lines are still the only prepare/execute lines in the whole record.
    const all = await readRecord(host.recordFile);
    assert.ok(all.filter((l) => l.stage === 'execute').every((l) => l.workflowId === first.workflowId));
  });

  it('updates only the named packages in the chosen children (-r -z), syncs the others and leaves the ignored alone', async () => {
    const host = await makeHost(3);
    const run = await runUpdate(env, host, {
      concurrency: 0,
      packages: ['shell/bash'],
      children: ['zone:z1'],
      ignore: ['zone:z2'],
    });
    const { result, lines } = run;
    assert.equal(result.status, 'ok');
    assert.deepEqual(
      childrenOf(result).map((c) => c.name),
      ['zone:z1', 'zone:z3'],
    );
    for (const name of ['parent', 'zone:z1']) {
      const r = imageOf(result, name);
      assert.equal(r.outcome, 'updated', name);
      assert.equal(r.changes, 1, name);
    }
    // zone:z3 is not recursed into (-z names z1 only): it is synced, and the parent's plan
    // moved no package a zone is tied to (shell/bash has no `depend type=parent`): nothing to do.
    assert.equal(imageOf(result, 'zone:z3').outcome, 'nothing-to-do');
    const plans = await checkpointedPlans(env, run.workflowId);
    assert.deepEqual([...plans.keys()].sort(), ['parent', 'zone:z1', 'zone:z3'], 'zone:z2 (ignored) was not planned');
    assert.deepEqual(plans.get('zone:z3')!.changes, [], 'the synced zone has an empty plan');
    for (const [name, root] of [
      ['parent', host.parent],
      ['zone:z1', host.children[0].path],
    ]) {
      const p = plans.get(name)!;
      assert.deepEqual(
        p.changes.map((c) => `${c.stem} ${versionOf(c.from)}->${versionOf(c.to)}`),
        ['shell/bash 1.0->1.1'],
        name,
      );
      assert.deepEqual(await savedPlan(root, p.digest), p, `${name}: the saved plan is the checkpointed one`);
    }
    assert.deepEqual(
      [...new Set(lines.map((l) => l.name))].sort(),
      ['parent', 'zone:z1', 'zone:z3'],
      'zone:z2 (ignored) was not touched',
    );
    assert.equal(await release(host.parent), 'Demo OS 1.0');
    assert.equal(await release(host.children[0].path), 'Demo OS 1.0');
    const bashrc = (root: string) => fs.readFile(path.join(root, 'etc', 'bash.bashrc'), 'utf8');
    assert.equal(await bashrc(host.parent), '# bash 1.1\n');
    assert.equal(await bashrc(host.children[0].path), '# bash 1.1\n');
    assert.equal(await bashrc(host.children[1].path), '# bash 1.0\n');
    assert.equal(await bashrc(host.children[2].path), '# bash 1.0\n');
  });
});
