import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetResult } from '../../src/contract/fleet';
import { audit } from '../../src/image/audit';
import { promises as fs } from 'fs';
import * as path from 'path';
import { Image } from '../../src/image/image';
import { DevServer, SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import { cleanup } from '../helpers/tree';
import { bundleFile, connect, crashHost, Host, readRecord, spawnWorker, until, type WorkerProcess } from './harness';

/**
 * A fleet of three hosts, each with its own worker process on its own task queue, all on one
 * workflow queue: one host's worker is SIGKILLed while its zones execute, then started again. The
 * fleet run completes, every host is updated once (one run `<fleet>/<host>` each, every zone's
 * execute completed once) and every zone ends as an uninterrupted update leaves it.
 */
let server: DevServer;
let client: Awaited<ReturnType<typeof connect>>;
let bundle: string;
const hosts: Host[] = [];

before(async () => {
  server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
  client = await connect(server);
  bundle = await bundleFile();
});

after(async () => {
  for (const h of hosts) await h.close();
  await client?.close();
  await server?.stop();
  await cleanup();
});

describe('a fleet run whose host worker is killed mid-run', () => {
  it('completes once the worker is back: no host updated twice, every zone updated', { timeout: 240_000 }, async () => {
    const queue = `fleet-crash-${Date.now()}`;
    const names = ['fa', 'fb', 'fc'];
    for (const n of names) hosts.push(await crashHost(n));
    const spawn = (i: number) =>
      spawnWorker({
        address: server.address,
        taskQueue: queue,
        host: names[i],
        cacheDir: hosts[i].cacheDir,
        recordFile: hosts[i].record,
        bundle,
        stageDelayMs: { execute: 300 },
      });
    const workers: WorkerProcess[] = names.map((_, i) => spawn(i));
    await Promise.all(workers.map((w) => w.ready));
    const id = `${queue}-run`;
    const handle = await client.client.workflow.start<(i: unknown) => Promise<FleetResult>>('updateFleet', {
      taskQueue: queue,
      workflowId: id,
      args: [
        {
          hosts: names.map((n, i) => ({ name: n, image: hosts[i].parent })),
          waves: [1, 2],
          hostConcurrency: 2,
          update: { concurrency: 2 },
        },
      ],
    });
    // Kill host fb's worker while its zones execute.
    await until(
      'fb executes a zone',
      async () => (await readRecord(hosts[1].record)).some((l) => l.stage === 'execute' && l.name.startsWith('zone:')),
      180_000,
      20,
    );
    workers[1].child.kill('SIGKILL');
    await workers[1].exited;
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the fleet outlives the worker');
    workers[1] = spawn(1);
    await workers[1].ready;
    const result = await handle.result();
    for (const w of workers) w.child.kill('SIGKILL');

    assert.equal(result.status, 'ok', JSON.stringify(result));
    assert.deepEqual(result.counts, { updated: 3, 'nothing-to-do': 0, failed: 0, skipped: 0 });
    for (const [i, n] of names.entries()) {
      const runs = [];
      for await (const w of client.client.workflow.list({ query: `WorkflowId = '${id}/${n}'` })) runs.push(w.runId);
      assert.equal(runs.length, 1, `${n} was updated by one run`);
      const lines = (await readRecord(hosts[i].record)).filter((l) => l.stage === 'execute' && l.event === 'end');
      const ends: Record<string, number> = {};
      for (const l of lines) ends[l.name] = (ends[l.name] ?? 0) + 1;
      assert.deepEqual(
        ends,
        Object.fromEntries(['parent', ...hosts[i].children.map((c) => c.name)].map((x) => [x, 1])),
        `${n}: every image's execute completed once`,
      );
      const parent = await Image.open(hosts[i].parent);
      for (const root of [hosts[i].parent, ...hosts[i].children.map((c) => c.path)]) {
        const release = (await fs.readFile(path.join(root, 'etc', 'release'), 'utf8')).trim();
        assert.equal(release, 'Demo OS 1.1', `${n} ${root}`);
      }
      for (const c of hosts[i].children)
        assert.equal((await audit(parent, await Image.open(c.path))).status, 'synced', `${n} ${c.name}`);
    }
  });
});
