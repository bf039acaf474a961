import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import { Image } from '../src/image/image';
import { buildDemoHost } from '../src/dev/demo-host';
import { auditLinkedImages, updateLinkedImages } from '../src/workflows';
import { LINKED_IMAGE_PARENT, LINKED_IMAGE_STATUS } from '../src/contract/search-attributes';
import { update } from './helpers/fixture';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';
import { cleanup, tempDir } from './helpers/tree';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

async function listIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  // Visibility (what list queries read) trails the history by a moment.
  for (let i = 0; ; i++) {
    const v = await fn();
    if (ok(v) || i >= 50) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('auditLinkedImages and the search attributes of update runs', () => {
  it('answers synced, diverged after the parent moves alone, synced again after an update that is found by its search attributes', async () => {
    const dir = await tempDir('audit');
    const host = await buildDemoHost(dir, 3);
    const deps = { cacheDir: host.cacheDir, recordFile: path.join(dir, 'record.jsonl') };
    await env.withWorker(deps, async (taskQueue, hostName) => {
      const a1 = await env.client.workflow.execute(auditLinkedImages, {
        taskQueue,
        workflowId: `audit-1-${Date.now()}`,
        args: [{ image: host.parent, host: hostName }],
      });
      assert.deepEqual(
        { status: a1.status, exitCode: a1.exitCode, children: a1.children.map((c) => c.status) },
        { status: 'synced', exitCode: 0, children: ['synced', 'synced', 'synced'] },
      );

      await update(await Image.open(host.parent), await ContentCache.open(host.cacheDir), {
        update: ['system/kernel'],
      });
      const a2 = await env.client.workflow.execute(auditLinkedImages, {
        taskQueue,
        workflowId: `audit-2-${Date.now()}`,
        args: [{ image: host.parent, host: hostName, children: ['zone:z1', 'zone:z2'] }],
      });
      assert.equal(a2.status, 'diverged');
      assert.equal(a2.exitCode, 52);
      assert.deepEqual(
        a2.children.map((c) => c.name),
        ['zone:z1', 'zone:z2'],
      );
      assert.match(a2.children[0].diverged[0].problem, /Parent has newer version system\/kernel@1\.1/);

      const id = `update-${Date.now()}`;
      const r = await env.client.workflow.execute(updateLinkedImages, {
        taskQueue,
        workflowId: id,
        args: [{ image: host.parent, host: hostName, concurrency: 0 }],
      });
      assert.equal(r.status, 'ok');
      const a3 = await env.client.workflow.execute(auditLinkedImages, {
        taskQueue,
        workflowId: `audit-3-${Date.now()}`,
        args: [{ image: host.parent, host: hostName }],
      });
      assert.equal(a3.status, 'synced');

      const byHost = await eventually(
        () => listIds(`LinkedImageParent = '${host.parent}'`),
        (ids) => ids.includes(id),
      );
      assert.deepEqual(byHost, [id]);
      const ok = await eventually(
        () => listIds(`LinkedImageParent = '${host.parent}' AND LinkedImageStatus = 'ok'`),
        (ids) => ids.length > 0,
      );
      assert.deepEqual(ok, [id]);
      assert.deepEqual(await listIds(`LinkedImageParent = '${host.parent}' AND LinkedImageStatus = 'failed'`), []);
      const desc = await env.client.workflow.getHandle(id).describe();
      assert.equal(desc.typedSearchAttributes.get(LINKED_IMAGE_STATUS), 'ok');
      assert.equal(desc.typedSearchAttributes.get(LINKED_IMAGE_PARENT), host.parent);
    });
  });

  it('refuses an invalid audit input naming the field', async () => {
    await env.withWorker({ cacheDir: await tempDir('c') }, async (taskQueue) => {
      await assert.rejects(
        env.client.workflow.execute(auditLinkedImages, {
          taskQueue,
          workflowId: `audit-bad-${Date.now()}`,
          args: [{ image: 'relative/path' }],
        }),
        (e: { cause?: { type?: string; message?: string } }) =>
          e.cause?.type === 'InvalidInput' &&
          /image: expected an absolute path/.test(e.cause.message ?? '') &&
          /host: required/.test(e.cause.message ?? ''),
      );
    });
  });
});
