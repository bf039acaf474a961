import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promises as fs } from 'fs';
import * as path from 'path';
import { readHistory } from '../../src/image/history';
import { Image } from '../../src/image/image';
import { DevServer, SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import type { WorkflowHandle } from '@temporalio/client';
import { parseActivityId } from '../../src/contract/activity-ids';
import { firstValue } from '../../src/client/report/history-decode';
import type { UpdateResult } from '../../src/contract/run-types';
import { cleanup, snapshot } from '../helpers/tree';
import {
  bundleFile,
  comparable,
  connect,
  contentBytes,
  crashHost,
  Host,
  readRecord,
  spawnWorker,
  startUpdate,
  until,
} from './harness';

/**
 * The crash matrix: a worker process SIGKILLed at each point of an update, a new worker started,
 * and the run must end exactly as an uninterrupted one, with nothing planned, downloaded or
 * executed twice. Each case waits out the 15 s heartbeat timeout of the activity the kill left
 * behind, so the file takes a few minutes; `npm run test:crash` runs it (and CI does).
 */
let server: DevServer;
let client: Awaited<ReturnType<typeof connect>>;
let bundle: string;
let reference: { host: Host; result: UpdateResult; served: number };
const hosts: Host[] = [];

before(async () => {
  server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
  client = await connect(server);
  bundle = await bundleFile();
  const host = await crashHost('reference');
  hosts.push(host);
  const w = spawnWorker({
    address: server.address,
    taskQueue: 'reference',
    cacheDir: host.cacheDir,
    recordFile: host.record,
    bundle,
  });
  await w.ready;
  const handle = await startUpdate(client.client, host, 'reference', `reference-${Date.now()}`);
  const result = await handle.result();
  w.child.kill('SIGKILL');
  assert.equal(result.status, 'ok', JSON.stringify(result));
  reference = { host, result, served: contentBytes(host.depot) };
});

after(async () => {
  for (const h of hosts) await h.close();
  await client?.close();
  await server?.stop();
  await cleanup();
});

interface Point {
  name: string;
  stageDelayMs?: Record<string, number>;
  copyDelayMs?: number;
  bytesPerSecond?: number;
  /** When to SIGKILL the worker: polled with the host and the run's handle. */
  killWhen: (h: Host, run: WorkflowHandle) => Promise<boolean>;
}

const ends = async (h: Host, stage: string, who?: (name: string) => boolean) =>
  (await readRecord(h.record)).filter((l) => l.stage === stage && l.event === 'end' && (!who || who(l.name))).length;
const isChild = (n: string) => n !== 'parent';

/** The names whose `stage` activity completed on the server (in the run's history), e.g. the plans it checkpointed. */
async function completedOnServer(handle: WorkflowHandle, stage: string): Promise<Set<string>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, string>();
  const names = new Set<string>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityId ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    const id = c ? parseActivityId(scheduled.get(String(c.scheduledEventId)) ?? '') : null;
    if (id?.stage !== stage) continue;
    // A lane (planChildren, `plan/<first>..<last>`) names the children it planned in its result.
    const lane = (firstValue(c!.result) as { results?: { name: string }[] } | undefined)?.results;
    if (lane) for (const r of lane) names.add(r.name);
    else names.add(id.name);
  }
  return names;
}

const POINTS: Point[] = [
  {
    name: 'during publisher check',
    stageDelayMs: { 'publisher-check': 1500 },
    killWhen: async (h) => (await ends(h, 'publisher-check')) >= 1,
  },
  {
    name: 'after some children are planned and others are not',
    stageDelayMs: { plan: 800 },
    killWhen: async (h) => (await ends(h, 'plan', isChild)) >= 2,
  },
  {
    name: 'in the middle of a child download',
    bytesPerSecond: 400_000,
    killWhen: async (h) => {
      const dir = path.join(h.cacheDir, 'partial');
      const sizes = await Promise.all(
        (await fs.readdir(dir).catch(() => [] as string[])).map(async (f) => (await fs.stat(path.join(dir, f))).size),
      );
      return sizes.some((s) => s > 200_000);
    },
  },
  {
    name: 'between prepare and execute',
    stageDelayMs: { execute: 2000 },
    killWhen: async (h) => (await ends(h, 'prepare', isChild)) === 4,
  },
  {
    name: 'in the middle of a child execute (journal half applied)',
    copyDelayMs: 150,
    killWhen: async (h) => {
      for (const c of h.children) {
        const backups = await fs.readdir(path.join(c.path, 'var/pkg/journal/backup')).catch(() => [] as string[]);
        if (backups.length >= 2) return true;
      }
      return false;
    },
  },
  {
    name: 'after the parent executed but before its children did',
    stageDelayMs: { execute: 1500 },
    // The server must have the parent's completion: a kill between the activity's end and its
    // completion reaching the server is the "between prepare and execute" kind of point, not this one.
    killWhen: async (_h, run) => (await completedOnServer(run, 'execute')).has('parent'),
  },
];

describe('worker SIGKILLed at each point of an update, then a new worker', () => {
  for (const point of POINTS) {
    it(`${point.name}: same results, same trees, nothing done twice`, async () => {
      const host = await crashHost(point.name.replace(/\W+/g, '-'));
      hosts.push(host);
      const tq = `crash-${hosts.length}`;
      host.proxy.bytesPerSecond = point.bytesPerSecond ?? null;
      const w1 = spawnWorker({
        address: server.address,
        taskQueue: tq,
        cacheDir: host.cacheDir,
        recordFile: host.record,
        bundle,
        stageDelayMs: point.stageDelayMs,
        copyDelayMs: point.copyDelayMs,
      });
      await w1.ready;
      const handle = await startUpdate(client.client, host, tq, `crash-${hosts.length}-${Date.now()}`);
      await until(point.name, () => point.killWhen(host, handle));
      w1.child.kill('SIGKILL');
      await w1.exited;
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run outlives its worker');
      const checkpointed = await completedOnServer(handle, 'plan');
      const executed = await completedOnServer(handle, 'execute');

      host.proxy.bytesPerSecond = null;
      const w2 = spawnWorker({
        address: server.address,
        taskQueue: tq,
        cacheDir: host.cacheDir,
        recordFile: host.record,
        bundle,
      });
      try {
        const result = await handle.result();
        assert.deepEqual(comparable(result), comparable(reference.result));
      } finally {
        w2.child.kill('SIGKILL');
      }

      for (const [i, c] of [host.parent, ...host.children.map((x) => x.path)].entries()) {
        const ref = [reference.host.parent, ...reference.host.children.map((x) => x.path)][i];
        assert.deepEqual(await snapshot(c), await snapshot(ref), `tree of ${c}`);
        const lastPlan = (await (await Image.open(c)).readState()).lastPlan;
        const applied = (await readHistory(c)).filter((e) => e.plan === lastPlan && e.outcome === 'applied');
        assert.equal(
          applied.length,
          1,
          `${c}: the plan was applied once (journal history: ${JSON.stringify(applied)})`,
        );
      }
      const record = await readRecord(host.record);
      for (const name of ['parent', ...host.children.map((c) => c.name)]) {
        // A plan the server had when the worker died is checkpointed: never computed again. A plan
        // whose activity had ended in the killed worker but whose completion never reached the
        // server is rightly run again (activities are at least once); it is planned at most twice.
        const plans = record.filter((l) => l.stage === 'plan' && l.name === name && l.event === 'end').length;
        if (checkpointed.has(name)) assert.equal(plans, 1, `${name} planned once (checkpointed before the kill)`);
        else assert.ok(plans >= 1 && plans <= 2, `${name}: planned ${plans} times (not checkpointed before the kill)`);
        // Likewise an execute whose completion reached the server never runs again; one that ended
        // in the killed worker unseen by the server runs again and finds its plan applied (the
        // journal history above holds one "applied" entry per image either way).
        const executes = record.filter((l) => l.stage === 'execute' && l.name === name && l.event === 'end').length;
        if (executed.has(name)) assert.equal(executes, 1, `${name}: executed once (completed before the kill)`);
        else assert.ok(executes <= 2, `${name}: executed ${executes} times (not completed before the kill)`);
      }
      // Only the file in flight may be fetched twice: what the interrupted request sent is the
      // in-flight part; after it, the download resumes where the partial file on disk ended.
      const log = host.depot.stats.log.filter((l) => /\/(file|filelist)\/0\//.test(l.path));
      const resumed = log.filter((l) => l.range);
      const inFlight = log
        .filter((l) => !l.range && resumed.some((r) => r.path === l.path))
        .reduce((n, l) => n + l.bytes, 0);
      const served = contentBytes(host.depot);
      assert.ok(
        served - inFlight <= reference.served + 16 * 1024,
        `served ${served} bytes of content (${inFlight} of them in flight at the kill); an uninterrupted run needs ${reference.served}`,
      );
      if (point.bytesPerSecond) {
        assert.equal(resumed.length, 1, 'the interrupted download resumed with one Range request');
        const from = Number(/^bytes=(\d+)-$/.exec(resumed[0].range!)![1]);
        assert.ok(from > 200_000, `resumed from byte ${from}, where the partial file ended`);
      } else assert.equal(resumed.length, 0, 'nothing was in flight, so nothing resumed');
    });
  }
});
