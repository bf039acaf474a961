import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { readHistory } from '../../src/image/history';
import { Image } from '../../src/image/image';
import { DevServer, SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import type { UpdateResult } from '../../src/contract/run-types';
import { cleanup, snapshot } from '../helpers/tree';
import {
  bundleFile,
  comparable,
  connect,
  crashHost,
  Host,
  readRecord,
  spawnWorker,
  startUpdate,
  until,
} from './harness';

/**
 * A worker SIGKILLed at the moment a run continues as new, or at the moment it starts a
 * partition (a child workflow), then a new worker: the run ends as an uninterrupted one and
 * nothing is planned or executed twice. The server suggests continue-as-new after 40 events.
 */
let server: DevServer;
let client: Awaited<ReturnType<typeof connect>>;
let bundle: string;
const hosts: Host[] = [];
const references = new Map<string, { host: Host; result: UpdateResult }>();

before(async () => {
  server = await startDevServer({
    searchAttributes: SEARCH_ATTRIBUTES,
    extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
  });
  client = await connect(server);
  bundle = await bundleFile();
});

after(async () => {
  for (const h of hosts) await h.close();
  await client?.close();
  await server?.stop();
  await cleanup();
});

async function runWithWorker(
  tag: string,
  input: Record<string, unknown>,
  killWhen?: (c: Client, id: string) => Promise<boolean>,
): Promise<{ host: Host; result: UpdateResult; killed: boolean }> {
  const host = await crashHost(tag);
  hosts.push(host);
  const tq = `${tag}-${hosts.length}`;
  const id = `${tq}-${Date.now()}`;
  const w1 = spawnWorker({
    address: server.address,
    taskQueue: tq,
    cacheDir: host.cacheDir,
    recordFile: host.record,
    bundle,
    stageDelayMs: { plan: 200 },
  });
  await w1.ready;
  const handle = await startUpdate(client.client, host, tq, id, input);
  if (!killWhen) {
    const result = await handle.result();
    w1.child.kill('SIGKILL');
    return { host, result, killed: false };
  }
  await until(`${tag}: the moment to kill`, () => killWhen(client.client, id), 120_000, 20);
  w1.child.kill('SIGKILL');
  await w1.exited;
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run outlives its worker');
  const w2 = spawnWorker({
    address: server.address,
    taskQueue: tq,
    cacheDir: host.cacheDir,
    recordFile: host.record,
    bundle,
  });
  try {
    return { host, result: await handle.result(), killed: true };
  } finally {
    w2.child.kill('SIGKILL');
  }
}

async function assertSameAsReference(kind: string, got: { host: Host; result: UpdateResult }): Promise<void> {
  const ref = references.get(kind)!;
  assert.deepEqual(comparable(got.result), comparable(ref.result));
  const roots = (h: Host) => [h.parent, ...h.children.map((c) => c.path)];
  for (const [i, root] of roots(got.host).entries()) {
    assert.deepEqual(await snapshot(root), await snapshot(roots(ref.host)[i]), `tree of ${root}`);
    const lastPlan = (await (await Image.open(root)).readState()).lastPlan;
    assert.equal(
      (await readHistory(root)).filter((e) => e.plan === lastPlan && e.outcome === 'applied').length,
      1,
      `${root}: applied once`,
    );
  }
  const record = await readRecord(got.host.record);
  for (const name of ['parent', ...got.host.children.map((c) => c.name)]) {
    assert.equal(
      record.filter((l) => l.stage === 'plan' && l.name === name && l.event === 'end').length,
      1,
      `${name} planned once`,
    );
    assert.ok(
      record.filter((l) => l.stage === 'execute' && l.name === name && l.event === 'end').length <= 1,
      `${name}: one completed execute`,
    );
  }
}

describe('worker SIGKILLed as a run starts a new execution or a partition', () => {
  it('at the moment the run continues as new: same result, same trees, nothing done twice', async () => {
    references.set('chain', await runWithWorker('chain-ref', { concurrency: 2 }));
    assert.ok(references.get('chain')!.result.executions > 1, 'the reference continued as new');
    const got = await runWithWorker('chain-kill', { concurrency: 2 }, async (c, id) => {
      const d = await c.workflow.getHandle(id).describe();
      return d.runId !== d.raw.workflowExecutionInfo?.firstRunId; // the second execution exists
    });
    assert.ok(got.killed);
    await assertSameAsReference('chain', got);
  });

  it('at the moment the run starts its partitions: same result, same trees, nothing done twice', async () => {
    references.set('partitions', await runWithWorker('part-ref', { concurrency: 2, partitionSize: 2 }));
    assert.equal(references.get('partitions')!.result.partitions, 2);
    const got = await runWithWorker('part-kill', { concurrency: 2, partitionSize: 2 }, async (c, id) =>
      c.workflow
        .getHandle(`${id}/children-1`)
        .describe()
        .then(
          () => true,
          () => false,
        ),
    );
    assert.ok(got.killed);
    await assertSameAsReference('partitions', got);
  });
});
