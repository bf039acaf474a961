/**
 * The progress model's bugs of issue 10 item 7, each against a real run: a dry run that ends
 * early still says it was a dry run; the parent is visible while it works; after a cancel the
 * cancelled child is `cancelled` and the never-started ones are not `waiting`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Progress, UpdateResult } from '../src/contract/run-types';
import { readRecord } from './helpers/activity-log';
import { startTemporalEnv, type TemporalEnv } from './helpers/temporal-env';
import { cleanup } from './helpers/tree';
import { emptyOriginFor, makeHost, runUpdate, workflowId } from './helpers/workflow-fixture';

let env: TemporalEnv;
before(async () => {
  env = await startTemporalEnv();
});
after(async () => {
  await env?.close();
  await cleanup();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('progress of a run', () => {
  it('a dry run that ends early (a child cannot be planned) reports dryRun: true', async () => {
    const host = await makeHost(2);
    await emptyOriginFor(host.children[0].path);
    const { result } = await runUpdate(env, host, { dryRun: true });
    assert.equal(result.status, 'failed');
    assert.equal(result.dryRun, true);
  });

  it('shows the parent working while it prepares; after a cancel, counts the cancelled child as cancelled and the rest as skipped', async () => {
    const host = await makeHost(3);
    const id = workflowId('progress');
    const deps = {
      cacheDir: host.cacheDir,
      recordFile: host.recordFile,
      beforeStage: (stage: string, name: string) =>
        sleep((stage === 'prepare' && name === 'parent') || stage === 'execute' ? 1500 : 0),
    };
    await env.withWorker(deps, async (taskQueue, hostName) => {
      const run = await env.client.workflow.start<(i: unknown) => Promise<UpdateResult>>('updateLinkedImages', {
        taskQueue,
        workflowId: id,
        args: [{ image: host.parent, host: hostName, concurrency: 1 }],
      });
      const progress = () => run.query<Progress, []>('progress');
      let seen: Progress | null = null;
      while (!seen) {
        const p = await progress().catch(() => null);
        if (p?.stage === 'prepare' && p.working.includes('parent')) seen = p;
        else await sleep(100);
      }
      assert.match(seen.line, /^Preparing: Linked images: .*1 working: parent$/);
      assert.equal(seen.workingCount, 1);
      // Cancel while zone:z1 executes: it is rolled back and counted cancelled; z2 and z3 never start.
      while (!(await readRecord(host.recordFile, id)).some((l) => l.stage === 'execute' && l.name === 'zone:z1'))
        await sleep(100);
      await run.cancel();
      const result = await run.result();
      assert.equal(result.status, 'cancelled');
      const end = await progress();
      assert.equal(end.stage, 'finished');
      assert.deepEqual(end.stages.execute, { done: 0, working: 0, waiting: 0, failed: 0, cancelled: 1, skipped: 2 });
    });
  });
});
