import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as path from 'path';
import { updateLinkedImages } from '../workflows';
import { buildDemoHost } from '../worker/demo-host';
import { cleanup, tempDir } from './helpers/tree';
import { startTemporalEnv, TemporalEnv } from './helpers/temporal-env';

let env: TemporalEnv;
before(async () => { env = await startTemporalEnv(); });
after(async () => { await env?.close(); await cleanup(); });

describe('updateLinkedImages smoke', () => {
  it('updates a host with 3 zones', async () => {
    const dir = await tempDir('wf');
    const host = await buildDemoHost(dir, 3);
    const r = await env.withWorker({ cacheDir: host.cacheDir, recordFile: path.join(dir, 'record.jsonl') }, (tq) =>
      env.client.workflow.execute(updateLinkedImages, { taskQueue: tq, workflowId: `smoke-${Date.now()}`, args: [{ image: host.parent, concurrency: 2 }] }),
    );
    console.log(JSON.stringify(r, null, 1).slice(0, 3000));
    assert.equal(r.status, 'ok');
  });
});
