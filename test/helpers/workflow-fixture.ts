import type { ActivityDeps } from '../../src/activities/create-activities';
import assert from 'node:assert/strict';
import { promises as fs } from 'fs';
import * as path from 'path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createRepository } from '../../src/repository';
import { Image, PublisherConfig } from '../../src/image/image';
import { buildDemoHost, DemoHost, type DemoHostOptions } from '../../src/dev/demo-host';
import { loadSavedPlan } from '../../src/stages/saved-plans';
import type { Plan } from '../../src/stages/plan';
import { shortVersion } from '../../src/model/fmri';
import type { FailureLine, ImageSummary, UpdateResult } from '../../src/contract/run-types';
import { readRecord, RecordLine } from './activity-log';
import { firstValue } from '../../src/client/report/history-decode';
import type { TemporalEnv } from './temporal-env';
import { tempDir } from './tree';

/** A demo host (repo, parent, `count` zones at 1.0 with 1.1 published) and its activity record. */
export interface Host extends DemoHost {
  dir: string;
  recordFile: string;
}

export async function makeHost(count: number, opts: DemoHostOptions = {}): Promise<Host> {
  const dir = await tempDir('li-wf');
  const host = await buildDemoHost(dir, count, () => undefined, opts);
  return { ...host, dir, recordFile: path.join(dir, 'record.jsonl') };
}

let runs = 0;
export function workflowId(tag: string): string {
  return `${tag}-${process.pid}-${++runs}`;
}

export interface Run {
  workflowId: string;
  result: UpdateResult;
  /** The record lines of this run only. */
  lines: RecordLine[];
}

/** Runs `updateLinkedImages` with `input` (raw: not type-checked) on a fresh worker and returns its result and record. */
export async function runUpdate(
  env: TemporalEnv,
  host: Host,
  input: Record<string, unknown>,
  tag = 'update',
  /** More of the worker's activity options, e.g. `beforeStage` to slow a stage down. */
  deps: Partial<ActivityDeps> = {},
): Promise<Run> {
  const id = workflowId(tag);
  const worker = { cacheDir: host.cacheDir, recordFile: host.recordFile, ...deps };
  const result = await env.withWorker(worker, (taskQueue, hostName) =>
    env.client.workflow.execute<(i: unknown) => Promise<UpdateResult>>('updateLinkedImages', {
      taskQueue,
      workflowId: id,
      args: [{ image: host.parent, host: hostName, recursive: true, ...input }],
    }),
  );
  return { workflowId: id, result, lines: await readRecord(host.recordFile, id) };
}

/** The failure a run ended with; asserts it was a WorkflowFailedError caused by an ApplicationFailure. */
export async function runFailing(
  env: TemporalEnv,
  host: Host,
  raw: unknown | ((hostName: string) => unknown),
  tag = 'failing',
): Promise<{ workflowId: string; failure: ApplicationFailure }> {
  const id = workflowId(tag);
  let caught: unknown;
  await env.withWorker({ cacheDir: host.cacheDir, recordFile: host.recordFile }, async (taskQueue, hostName) => {
    try {
      await env.client.workflow.execute('updateLinkedImages', {
        taskQueue,
        workflowId: id,
        args: [typeof raw === 'function' ? raw(hostName) : raw],
      });
    } catch (e) {
      caught = e;
    }
  });
  assert.ok(caught instanceof WorkflowFailedError, `expected a WorkflowFailedError, got ${String(caught)}`);
  assert.ok(
    caught.cause instanceof ApplicationFailure,
    `expected an ApplicationFailure cause, got ${String(caught.cause)}`,
  );
  return { workflowId: id, failure: caught.cause };
}

/** Event type names of a workflow's history, e.g. `WorkflowExecutionFailed` (from the attribute field set on each event). */
export async function historyEventTypes(env: TemporalEnv, workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((e) => {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null);
    return key ? key[0].toUpperCase() + key.slice(1, -'EventAttributes'.length) : 'Unknown';
  });
}

/**
 * One image of a run's result: the parent, or a child from its compact line
 * (`zone:z1 updated execute 5`) joined with its entry in `failures`.
 */
export function imageOf(
  result: UpdateResult,
  name: string,
): Omit<ImageSummary, 'planDigest'> & { error: FailureLine | null } {
  if (name === 'parent')
    return { ...result.parent, error: result.parent.error ? { name: 'parent', ...result.parent.error } : null };
  const line = result.children.find((l) => l.split(' ')[0] === name);
  assert.ok(line, `no line for ${name} in ${JSON.stringify(result.children)}`);
  const [, outcome, lastStage, changes] = line.split(' ');
  return {
    name,
    outcome: outcome as ImageSummary['outcome'],
    lastStage: lastStage === '-' ? null : (lastStage as ImageSummary['lastStage']),
    changes: changes === '-' ? null : Number(changes),
    error: result.failures.find((f) => f.name === name) ?? null,
  };
}

/**
 * The plan of `name` as the run checkpointed it: the result of its `plan/<name>` activity in the
 * history of the run or of one of its executions (continue-as-new chain, partitions).
 */
export async function checkpointedPlans(env: TemporalEnv, workflowId: string): Promise<Map<string, Plan>> {
  const out = new Map<string, Plan>();
  const visit = async (id: string, runId?: string): Promise<void> => {
    const history = await env.client.workflow.getHandle(id, runId).fetchHistory();
    const scheduled = new Map<string, string>();
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes)
        scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityId ?? '');
      const done = e.activityTaskCompletedEventAttributes;
      const activityId = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
      if (done && activityId?.startsWith('plan/')) {
        // A plan activity returns one plan; a lane (planChildren) one per child it planned.
        const r = firstValue(done.result) as { plan?: Plan; results?: { name: string; plan: Plan }[] };
        if (r.results) for (const x of r.results) out.set(x.name, x.plan);
        else out.set(activityId.slice(5), r.plan!);
      }
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId) await visit(child.workflowId, child.runId ?? undefined);
      const next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (next) await visit(id, next);
    }
  };
  await visit(
    workflowId,
    (await env.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined,
  );
  return out;
}

/** Every child of a result, in order, as imageOf gives them. */
export function childrenOf(result: UpdateResult) {
  return result.children.map((l) => imageOf(result, l.split(' ')[0]));
}

/** The plan a run saved in an image (by digest): its package changes, as the image will execute them. */
export async function savedPlan(root: string, digest: string | null): Promise<Plan> {
  assert.ok(digest, `no plan digest for ${root}`);
  return loadSavedPlan(await Image.open(root), digest);
}

/** `1.1` from `pkg://demo/system/kernel@1.1:20250101T000000Z` (src/model/fmri.ts shortVersion); null stays null. */
export function versionOf(fmri: string | null): string | null {
  return fmri === null ? null : shortVersion(fmri);
}

export const DEMO_STEMS = ['library/openssl', 'shell/bash', 'system/kernel', 'system/library', 'web/nginx'];

/** The image's `etc/release`, e.g. `Demo OS 1.1`. */
export async function release(imageRoot: string): Promise<string> {
  return (await fs.readFile(path.join(imageRoot, 'etc', 'release'), 'utf8')).trim();
}

export async function setZonePublishers(
  zoneRoot: string,
  change: (pubs: PublisherConfig[]) => PublisherConfig[],
): Promise<void> {
  const img = await Image.open(zoneRoot);
  await img.setPublishers(change(img.publishers().map((p) => ({ ...p, origins: [...p.origins] }))));
}

/** Points the zone's `demo` publisher at a new, empty repository: publisher check passes, planning cannot find 1.1. */
export async function emptyOriginFor(zoneRoot: string): Promise<string> {
  const repo = path.join(await tempDir('li-empty'), 'repo');
  await createRepository(repo, { publisher: 'demo' });
  await setZonePublishers(zoneRoot, (pubs) =>
    pubs.map((p) => (p.name === 'demo' ? { ...p, origins: ['file://' + repo] } : p)),
  );
  return repo;
}
