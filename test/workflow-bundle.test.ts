import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const logger = new DefaultLogger('ERROR');

describe('the workflow bundle', () => {
  it('bundles workflows/ for the sandbox (what every worker does at start)', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger });
    assert.ok(code.includes('updateLinkedImages'));
    // Only workflow modules of this project are bundled; the activities, the image model and the
    // worker (fs, crypto, child_process) are reached through `import type` only.
    const ours = [...new Set(code.match(/\.\/(workflows|activities|images|worker)\/[\w/.-]+\.ts/g))].sort();
    assert.ok(ours.includes('./src/workflows/update-linked-images.ts'), ours.join(', '));
    assert.deepEqual(ours.filter((m) => !m.startsWith('./workflows/')), []);
  });

  it('refuses a workflow that imports a Node built-in, naming the module', async () => {
    await assert.rejects(bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/workflows-bad'), logger }), /importing the following disallowed modules:\s*- 'fs'/);
  });
});
