/**
 * A worker in its own process, for crash tests to SIGKILL. Configured by environment:
 *   TEMPORAL_ADDRESS, TASK_QUEUE, CACHE_DIR, RECORD_FILE, WORKFLOW_BUNDLE (prebuilt code path)
 *   STAGE_DELAY_MS  JSON {"plan": 300, ...}: wait before each activity of that stage, so a kill
 *                   can land between two children
 *   COPY_DELAY_MS   slows every file copy of execute, so a kill can land mid-journal
 * Prints `ready` once polling.
 */
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/create-activities';
import { realFs } from '../../images/fs-layer';
import { WORKER_DEFAULTS } from '../../worker/worker-defaults';

const STAGE_OF: Record<string, string> = { describeImage: 'describe', checkPublishers: 'publisher-check', planImage: 'plan', prepareImage: 'prepare', executeImage: 'execute' };

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = process.env;
  const delays: Record<string, number> = JSON.parse(env.STAGE_DELAY_MS || '{}');
  const copyDelay = Number(env.COPY_DELAY_MS || 0);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const fs = copyDelay ? { ...realFs, copyFile: async (a: string, b: string) => { await sleep(copyDelay); await realFs.copyFile(a, b); } } : undefined;
  const real = createActivities({ cacheDir: env.CACHE_DIR!, recordFile: env.RECORD_FILE, fs });
  const activities = Object.fromEntries(
    Object.entries(real).map(([name, fn]) => [name, async (input: unknown) => {
      const d = delays[STAGE_OF[name]];
      if (d) await sleep(d);
      return (fn as (i: unknown) => Promise<unknown>)(input);
    }]),
  );
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    ...WORKER_DEFAULTS,
    connection,
    taskQueue: env.TASK_QUEUE!,
    workflowBundle: { codePath: env.WORKFLOW_BUNDLE! },
    activities,
    identity: `crash-worker-${process.pid}`,
  });
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
