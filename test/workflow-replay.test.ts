import assert from 'node:assert/strict';
import { readFileSync } from 'fs';
import { describe, it } from 'node:test';
import * as path from 'path';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { UpdateResult as LegacyResult } from '../src/workflows/legacy/types';
import type { UpdateResult } from '../src/contract/run-types';
import { changedWorkflowsPath } from './helpers/changed-workflows';
import { HISTORY_DIR, recordedWorkflowIds, SCENARIOS } from './helpers/record-history';

/**
 * Replays histories recorded from real runs (test/helpers/record-history.ts) against the current
 * workflow code: a change that would break workflows already running in production (another
 * command order, an extra or missing activity) fails here. Offline: no server is needed.
 */
interface CliEvent {
  eventId: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: {
    activityId: string;
    activityType: { name: string };
    input?: { payloads: { data: string }[] };
  };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string };
  workflowExecutionCompletedEventAttributes?: { result: { payloads: { data: string }[] } };
  workflowExecutionFailedEventAttributes?: unknown;
}

const load = (file: string) => JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')) as { events: CliEvent[] };
const resultOf = <R = LegacyResult>(h: { events: CliEvent[] }): R => {
  const done = h.events.at(-1)!.workflowExecutionCompletedEventAttributes;
  assert.ok(done, `the history ends with ${h.events.at(-1)!.eventType}`);
  return JSON.parse(Buffer.from(done.result.payloads[0].data, 'base64').toString('utf8'));
};
const scheduled = (h: { events: CliEvent[] }) =>
  h.events.flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityId] : [],
  );

/** The most child activities scheduled and not yet completed at any point of the history. */
function maxOutstandingChildren(h: { events: CliEvent[] }): number {
  const open = new Map<string, string>();
  let max = 0;
  for (const e of h.events) {
    if (e.activityTaskScheduledEventAttributes) open.set(e.eventId, e.activityTaskScheduledEventAttributes.activityId);
    if (e.activityTaskCompletedEventAttributes) open.delete(e.activityTaskCompletedEventAttributes.scheduledEventId);
    max = Math.max(max, [...open.values()].filter((id) => id.includes('/zone:')).length);
  }
  return max;
}

const quiet = { logger: new DefaultLogger('ERROR') };
const workflowsPath = require.resolve('../src/workflows');

describe('replaying recorded histories', () => {
  it('the recorded 3-child update is what it claims: every stage of every image, at most 2 at once', () => {
    const h = load('update-3-children.json');
    const r = resultOf(h);
    assert.equal(r.status, 'ok');
    assert.equal(r.concurrency, 2);
    assert.deepEqual(
      r.children.map((c) => c.outcome),
      ['updated', 'updated', 'updated'],
    );
    const stages = ['publisher-check', 'plan', 'prepare', 'execute'];
    const expected = [
      'describe/parent',
      ...stages.flatMap((s) => [
        ...(s === 'publisher-check' ? [] : [`${s}/parent`]),
        `${s}/zone:z1`,
        `${s}/zone:z2`,
        `${s}/zone:z3`,
      ]),
    ];
    assert.deepEqual(scheduled(h), expected);
    assert.equal(maxOutstandingChildren(h), 2);
  });

  it('replays the recorded 3-child update against the current workflow code', async () => {
    await Worker.runReplayHistory({ workflowsPath, ...quiet }, load('update-3-children.json'), 'update-3-children');
  });

  it('replays every other recorded history (dry run, publisher mismatch, plan failure, after the search-attributes patch, audit; each shape since bounded runs)', async () => {
    const files = [...SCENARIOS.flatMap((s) => [s.file, ...Object.keys(s.extra ?? {})])].filter(
      (f) => f !== 'update-3-children.json',
    );
    const ids = recordedWorkflowIds();
    const histories = files.map((f) => ({ workflowId: ids.get(f)!, history: load(f) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of Worker.runReplayHistories({ workflowsPath, ...quiet }, histories)) {
      if (r.error) failures.push(`${r.workflowId}: ${r.error}`);
      replayed++;
    }
    assert.deepEqual(failures, []);
    assert.equal(replayed, files.length);
    assert.equal(resultOf(load('dry-run-3-children.json')).dryRun, true);
    assert.equal(resultOf(load('publisher-mismatch.json')).children[1].error?.code, 'PUBLISHER_MISMATCH');
    assert.equal(resultOf(load('plan-failure.json')).children[1].error?.code, 'UNSATISFIABLE');
    const patchedRun = load('update-3-children-search-attributes.json');
    assert.ok(
      patchedRun.events.some((e) => e.eventType.includes('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')),
      'the new shape upserts search attributes',
    );
    assert.ok(
      !load('update-3-children.json').events.some((e) => e.eventType.includes('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')),
      'the old shape does not',
    );
  });

  it('the recorded histories since the live controls are what they claim', () => {
    const types = (f: string) => load(f).events.map((e) => e.eventType);
    const accepted = (f: string) => types(f).filter((t) => t.endsWith('UPDATE_ACCEPTED')).length;
    assert.equal(resultOf<UpdateResult>(load('v3-approval.json')).status, 'ok');
    assert.equal(accepted('v3-approval.json'), 1, 'the refused approve left no trace; the right one is there');
    const controls = resultOf<UpdateResult>(load('v3-controls.json'));
    assert.equal(controls.status, 'partial');
    assert.equal(controls.failures[0].code, 'UNSATISFIABLE');
    assert.ok(accepted('v3-controls.json') >= 3, 'pause, setConcurrency, resume');
    assert.equal(resultOf<UpdateResult>(load('v3-partitioned-approval.json')).partitions, 2);
    assert.ok(types('v3-window.json').includes('EVENT_TYPE_TIMER_FIRED'), 'the window opened on a durable timer');
    assert.ok(
      types('v3-fleet.json').includes('EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED'),
      "the host's run is a child",
    );
    assert.equal(resultOf<{ status: string }>(load('v3-fleet.json')).status, 'ok');
  });

  it('the recorded histories since sync versus update are what they claim', () => {
    // pkg(5)'s default: every child synced (the two packages tied to the parent), none fully updated.
    assert.deepEqual(resultOf<UpdateResult>(load('v4-sync.json')).children, [
      'zone:z1 updated execute 2',
      'zone:z2 updated execute 2',
      'zone:z3 updated execute 2',
    ]);
    // -r -Z zone:z2 -i zone:z4, in partitions of 2: z2 synced, z4 not in the run.
    assert.deepEqual(resultOf<UpdateResult>(load('v4-recursive-partitioned.json')).children, [
      'zone:z1 updated execute 5',
      'zone:z2 updated execute 2',
      'zone:z3 updated execute 5',
    ]);
    const planInputs = load('v4-partition-1.json')
      .events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'plan')
      .map((e) => {
        const data = e.activityTaskScheduledEventAttributes!.input!.payloads[0].data;
        return JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { child: string; sync?: boolean };
      });
    assert.deepEqual(
      planInputs.map((i) => `${i.child} ${i.sync ? 'sync' : 'update'}`),
      ['zone:z1 update', 'zone:z2 sync'],
    );
  });

  it('the recorded history since lanes is what it claims', () => {
    const types = load('v5-lanes.json')
      .events.map((e) => e.activityTaskScheduledEventAttributes?.activityType.name)
      .filter((t): t is string => t !== undefined);
    assert.ok(types.includes('planChildren'), `children planned in lanes: ${types.join(' ')}`);
    assert.ok(types.includes('executeChildren'), `children executed in lanes: ${types.join(' ')}`);
    assert.equal(
      types.filter((t) => t === 'prepare').length,
      1,
      "only the parent's prepare: the zones' files are in its plan",
    );
    assert.ok(types.length < 6 * 3, `fewer activities than three per zone: ${types.length}`);
    assert.deepEqual(
      resultOf<UpdateResult>(load('v5-lanes.json')).children,
      [1, 2, 3, 4, 5, 6].map((k) => `zone:z${k} updated execute 5`),
    );
  });

  it('the recorded histories since bounded runs are what they claim', () => {
    const v2 = resultOf<UpdateResult>(load('v2-update-3-children.json'));
    assert.deepEqual(
      [v2.resultVersion, v2.status, v2.children, v2.executions, v2.partitions],
      [2, 'ok', ['zone:z1 updated execute 5', 'zone:z2 updated execute 5', 'zone:z3 updated execute 5'], 1, 0],
    );
    const v2Ids = scheduled(load('v2-update-3-children.json'));
    assert.deepEqual(
      v2Ids.slice(0, 2),
      ['describe/parent', 'publisher-check/zone:z1..zone:z3'],
      'one publisher-check activity for the batch',
    );
    assert.equal(resultOf<UpdateResult>(load('v2-publisher-mismatch.json')).failures[0].code, 'PUBLISHER_MISMATCH');
    assert.equal(resultOf<UpdateResult>(load('v2-plan-failure.json')).failures[0].code, 'UNSATISFIABLE');
    const first = load('v2-continue-as-new-first.json');
    assert.equal(first.events.at(-1)!.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    assert.equal(
      load('v2-continue-as-new-middle.json').events.at(-1)!.eventType,
      'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
    );
    const last = resultOf<UpdateResult>(load('v2-continue-as-new-last.json'));
    assert.ok(last.executions >= 3, `the chain took ${last.executions} executions`);
    assert.equal(last.counts.updated, 6);
    const partitioned = resultOf<UpdateResult>(load('v2-partitioned-run.json'));
    assert.deepEqual([partitioned.partitions, partitioned.counts.updated], [2, 4]);
    assert.ok(
      load('v2-partition-1.json').events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'),
      'a partition is stepped by signals',
    );
  });

  for (const [site, file] of [
    ['current', 'v2-update-3-children.json'],
    ['legacy', 'update-3-children.json'],
  ] as const) {
    it(`a copy of the workflow with one activity renamed (${site} shape) fails replay of ${file} with a DeterminismViolationError`, async () => {
      await assert.rejects(
        Worker.runReplayHistory({ workflowsPath: await changedWorkflowsPath(site), ...quiet }, load(file), file),
        (e: unknown) => {
          assert.ok(e instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${String(e)}`);
          return true;
        },
      );
    });
  }
});
