import assert from 'node:assert/strict';
import { promises as fs } from 'fs';
import * as path from 'path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createRepository } from '../../images/repository';
import { Image, PublisherConfig } from '../../images/image';
import { buildDemoHost, DemoHost } from '../../worker/demo-host';
import type { UpdateResult } from '../../workflows/types';
import { readRecord, RecordLine } from './activity-log';
import type { TemporalEnv } from './temporal-env';
import { tempDir } from './tree';

/** A demo host (repo, parent, `count` zones at 1.0 with 1.1 published) and its activity record. */
export interface Host extends DemoHost {
  dir: string;
  recordFile: string;
}

export async function makeHost(count: number): Promise<Host> {
  const dir = await tempDir('li-wf');
  const host = await buildDemoHost(dir, count);
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
export async function runUpdate(env: TemporalEnv, host: Host, input: Record<string, unknown>, tag = 'update'): Promise<Run> {
  const id = workflowId(tag);
  const result = await env.withWorker({ cacheDir: host.cacheDir, recordFile: host.recordFile }, (taskQueue) =>
    env.client.workflow.execute<(i: unknown) => Promise<UpdateResult>>('updateLinkedImages', { taskQueue, workflowId: id, args: [{ image: host.parent, ...input }] }),
  );
  return { workflowId: id, result, lines: await readRecord(host.recordFile, id) };
}

/** The failure a run ended with; asserts it was a WorkflowFailedError caused by an ApplicationFailure. */
export async function runFailing(env: TemporalEnv, host: Host, raw: unknown, tag = 'failing'): Promise<{ workflowId: string; failure: ApplicationFailure }> {
  const id = workflowId(tag);
  let caught: unknown;
  await env.withWorker({ cacheDir: host.cacheDir, recordFile: host.recordFile }, async (taskQueue) => {
    try {
      await env.client.workflow.execute('updateLinkedImages', { taskQueue, workflowId: id, args: [raw] });
    } catch (e) {
      caught = e;
    }
  });
  assert.ok(caught instanceof WorkflowFailedError, `expected a WorkflowFailedError, got ${String(caught)}`);
  assert.ok(caught.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(caught.cause)}`);
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

/** `1.1` from `pkg://demo/system/kernel@1.1:20250101T000000Z`. */
export function versionOf(fmri: string | null): string | null {
  return fmri === null ? null : fmri.slice(fmri.indexOf('@') + 1).replace(/:.*$/, '');
}

export const DEMO_STEMS = ['library/openssl', 'shell/bash', 'system/kernel', 'system/library', 'web/nginx'];

/** The image's `etc/release`, e.g. `Demo OS 1.1`. */
export async function release(imageRoot: string): Promise<string> {
  return (await fs.readFile(path.join(imageRoot, 'etc', 'release'), 'utf8')).trim();
}

export async function setZonePublishers(zoneRoot: string, change: (pubs: PublisherConfig[]) => PublisherConfig[]): Promise<void> {
  const img = await Image.open(zoneRoot);
  await img.setPublishers(change(img.publishers().map((p) => ({ ...p, origins: [...p.origins] }))));
}

/** Points the zone's `demo` publisher at a new, empty repository: publisher check passes, planning cannot find 1.1. */
export async function emptyOriginFor(zoneRoot: string): Promise<string> {
  const repo = path.join(await tempDir('li-empty'), 'repo');
  await createRepository(repo, { publisher: 'demo' });
  await setZonePublishers(zoneRoot, (pubs) => pubs.map((p) => (p.name === 'demo' ? { ...p, origins: ['file://' + repo] } : p)));
  return repo;
}
