import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const logger = new DefaultLogger('ERROR');

describe('the workflow bundle', () => {
  it('bundles workflows/ for the sandbox (what every worker does at start)', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger });
    assert.ok(code.includes('updateLinkedImages'));
    // Only the workflows and the Node-free contract and model are bundled; the activities and the
    // Node-side folders (fs, crypto, child_process) are reached through `import type` only.
    const ours = [...new Set(code.match(/\.\/src\/[\w/.-]+\.ts/g))].sort();
    assert.ok(ours.includes('./src/workflows/update-linked-images.ts'), ours.join(', '));
    assert.ok(ours.includes('./src/contract/input.ts'), ours.join(', '));
    assert.deepEqual(
      ours.filter((m) => !/^\.\/src\/(workflows|contract|model)\//.test(m)),
      [],
    );
  });

  it('refuses a workflow that imports a Node built-in, naming the module', async () => {
    await assert.rejects(
      bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/workflows-bad'), logger }),
      /importing the following disallowed modules:\s*- 'fs'/,
    );
  });
});
