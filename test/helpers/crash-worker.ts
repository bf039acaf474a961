/**
 * A host's workers in their own process, for crash tests to SIGKILL. Configured by environment:
 *   TEMPORAL_ADDRESS, TASK_QUEUE (the workflow queue), HOST (this host's name: its activities
 *   come from linked-images@<HOST>), CACHE_DIR, RECORD_FILE, WORKFLOW_BUNDLE (prebuilt code path)
 *   STAGE_DELAY_MS  JSON {"plan": 300, ...}: wait before each image's work in that stage, so a
 *                   kill can land between two children
 *   COPY_DELAY_MS   slows every file copy of execute, so a kill can land mid-journal
 * Prints `ready` once polling.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { StageName } from '../../src/contract/activity-types';
import { realFs } from '../../src/image/fs-layer';
import { LinkedImagesPlugin } from '../../src/plugin/linked-images-plugin';
import { createHostWorkers } from '../../src/worker/host-workers';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = process.env;
  const delays: Partial<Record<StageName, number>> = JSON.parse(env.STAGE_DELAY_MS || '{}');
  const copyDelay = Number(env.COPY_DELAY_MS || 0);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const fs = copyDelay
    ? {
        ...realFs,
        copyFile: async (a: string, b: string) => {
          await sleep(copyDelay);
          await realFs.copyFile(a, b);
        },
      }
    : undefined;
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  const plugin = new LinkedImagesPlugin({
    taskQueue: env.TASK_QUEUE!,
    host: env.HOST!,
    workflowBundle: { codePath: env.WORKFLOW_BUNDLE! },
    cacheDir: env.CACHE_DIR!,
    recordFile: env.RECORD_FILE,
    fs,
    beforeStage: async (stage) => {
      if (delays[stage]) await sleep(delays[stage]!);
    },
  });
  const workers = await createHostWorkers({ connection, plugin, identity: `crash-worker-${process.pid}` });
  const running = workers.run();
  process.stdout.write('ready\n');
  await running;
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
