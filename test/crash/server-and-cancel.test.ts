import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { readHistory } from '../../src/image/history';
import { Image } from '../../src/image/image';
import { DevServer, SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import { freePort } from '../../src/dev/free-port';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import { updateLinkedImages } from '../../src/workflows';
import { cleanup, snapshot, tempDir } from '../helpers/tree';
import { childrenOf } from '../helpers/workflow-fixture';
import {
  bundleFile,
  connect,
  crashHost,
  Host,
  hostFor,
  readRecord,
  spawnWorker,
  startUpdate,
  until,
  WorkerProcess,
} from './harness';

const run = promisify(execFile);
const hosts: Host[] = [];
const workers: WorkerProcess[] = [];
let server: DevServer;
let bundle: string;

let dbFile: string;
let port: number;

before(async () => {
  bundle = await bundleFile();
  dbFile = path.join(await tempDir('db'), 'temporal.db');
  port = await freePort();
  server = await startDevServer({ dbFile, port, searchAttributes: SEARCH_ATTRIBUTES });
});

after(async () => {
  for (const w of workers) w.child.kill('SIGKILL');
  for (const h of hosts) await h.close();
  await server?.stop();
  await cleanup();
});

describe('the Temporal server restarted in the middle of a run', () => {
  it('keeps the run in its SQLite history and finishes it once the server is back', async () => {
    const host = await crashHost('server-restart');
    hosts.push(host);
    const w = spawnWorker({
      address: server.address,
      taskQueue: 'restart',
      cacheDir: host.cacheDir,
      recordFile: host.record,
      bundle,
      stageDelayMs: { plan: 1200 },
    });
    workers.push(w);
    await w.ready;
    let c = await connect(server);
    const id = `restart-${Date.now()}`;
    await startUpdate(c.client, host, 'restart', id);
    await until(
      'two children planned',
      async () =>
        (await readRecord(host.record)).filter((l) => l.stage === 'plan' && l.event === 'end' && l.name !== 'parent')
          .length >= 2,
    );
    await c.close();
    await server.stop();
    await new Promise((r) => setTimeout(r, 2000));
    server = await startDevServer({ dbFile, port, searchAttributes: SEARCH_ATTRIBUTES });
    c = await connect(server);
    const result = await c.client.workflow.getHandle(id).result();
    await c.close();
    assert.equal(result.status, 'ok');
    assert.deepEqual(
      childrenOf(result).map((x) => x.outcome),
      ['updated', 'updated', 'updated', 'updated'],
    );
    const planned = (await readRecord(host.record)).filter((l) => l.stage === 'plan' && l.event === 'end');
    assert.equal(planned.length, 5, 'parent and four children planned once each');
  });
});

describe('the same workflow ID started twice', () => {
  it('is refused while running and after it finished, so the update runs once', async () => {
    const host = await crashHost('duplicate');
    hosts.push(host);
    const w = spawnWorker({
      address: server.address,
      taskQueue: 'dup',
      cacheDir: host.cacheDir,
      recordFile: host.record,
      bundle,
      stageDelayMs: { plan: 300 },
    });
    workers.push(w);
    await w.ready;
    const c = await connect(server);
    const id = `dup-${Date.now()}`;
    const opts = {
      taskQueue: 'dup',
      workflowId: id,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [{ image: host.parent, host: hostFor('dup'), concurrency: 2 }] as [
        { image: string; host: string; concurrency: number },
      ],
    };
    const first = await c.client.workflow.start(updateLinkedImages, opts);
    await assert.rejects(c.client.workflow.start(updateLinkedImages, opts), WorkflowExecutionAlreadyStartedError);
    assert.equal((await first.result()).status, 'ok');
    await assert.rejects(c.client.workflow.start(updateLinkedImages, opts), WorkflowExecutionAlreadyStartedError);
    // The temporal CLI path refuses it the same way.
    const cli = await findTemporalCli();
    const again = await run(cli, [
      'workflow',
      'start',
      '--address',
      server.address,
      '--type',
      'updateLinkedImages',
      '--task-queue',
      'dup',
      '--workflow-id',
      id,
      '--id-reuse-policy',
      'RejectDuplicate',
      '--input',
      JSON.stringify({ image: host.parent, host: hostFor('dup') }),
    ]).then(
      (r) => ({ ok: true, out: r.stdout + r.stderr }),
      (e: { stderr?: string; stdout?: string }) => ({ ok: false, out: `${e.stdout}${e.stderr}` }),
    );
    // The CLI (Go SDK) answers a refused start with the existing run instead of an error: no new run.
    assert.ok(!again.ok || again.out.includes(first.firstExecutionRunId), again.out);
    const runs = [];
    for await (const w of c.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
    assert.deepEqual(runs, [first.firstExecutionRunId], 'one run of this workflow ID');
    await c.close();
    const record = await readRecord(host.record);
    assert.equal(
      record.filter((l) => l.stage === 'plan' && l.event === 'end').length,
      5,
      'planned once per image: one run',
    );
  });
});

describe('temporal workflow cancel in the middle of execute', () => {
  it('leaves each child fully updated or rolled back, says which, and ends cancelled', async () => {
    const host = await crashHost('cancel');
    hosts.push(host);
    const before = await Promise.all(host.children.map((c) => snapshot(c.path)));
    // execute writes 8 files at a time: ~3 s per zone, so the cancel (about 1 s to arrive) lands mid-execute.
    const w = spawnWorker({
      address: server.address,
      taskQueue: 'cancel',
      cacheDir: host.cacheDir,
      recordFile: host.record,
      bundle,
      copyDelayMs: 1000,
    });
    workers.push(w);
    await w.ready;
    const c = await connect(server);
    const id = `cancel-${Date.now()}`;
    const handle = await startUpdate(c.client, host, 'cancel', id);
    await until('a child half executed', async () => {
      for (const z of host.children)
        if ((await fs.readdir(path.join(z.path, 'var/pkg/journal/backup')).catch(() => [])).length >= 2) return true;
      return false;
    });
    const cli = await findTemporalCli();
    await run(cli, ['workflow', 'cancel', '--address', server.address, '--workflow-id', id]);
    const result = await handle.result();
    await c.close();
    assert.equal(result.status, 'cancelled');
    assert.equal(result.parent.outcome, 'updated');
    const outcomes = childrenOf(result).map((x) => x.outcome);
    assert.ok(outcomes.includes('cancelled'), `some child was rolled back: ${outcomes}`);
    for (const [i, child] of childrenOf(result).entries()) {
      const root = host.children[i].path;
      await assert.rejects(
        fs.stat(path.join(root, 'var/pkg/journal')),
        { code: 'ENOENT' },
        `${child.name}: no journal left`,
      );
      const pkgs = [...(await (await Image.open(root)).installed()).values()].map((p) =>
        p.fmri.version!.toString().replace(/:.*$/, ''),
      );
      if (child.outcome === 'updated') {
        assert.deepEqual([...new Set(pkgs)], ['1.1'], `${child.name} fully updated`);
      } else {
        assert.ok(['cancelled', 'skipped'].includes(child.outcome), `${child.name}: ${child.outcome}`);
        assert.deepEqual(await snapshot(root), before[i], `${child.name} byte-identical to before the update`);
        assert.deepEqual([...new Set(pkgs)], ['1.0']);
        if (child.outcome === 'cancelled' && child.lastStage === 'execute') {
          assert.match(child.error!.message, /rolled back/);
          assert.ok(
            (await readHistory(root)).some((e) => e.outcome === 'rolled-back'),
            `${child.name}: its history records the rollback`,
          );
        }
      }
    }
  });
});
