/**
 * `npm run worker` with simulated stage work: the same flags, plus STAGE_DELAY_MS (environment)
 * milliseconds awaited before every image's every stage (ActivityDeps.beforeStage), as a slow
 * repository would make them. For the benchmarks only.
 */
import * as os from 'os';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { connectionSettings } from '../src/client/connection-settings';
import { LinkedImagesPlugin } from '../src/plugin/linked-images-plugin';
import { createHostWorkers } from '../src/worker/host-workers';
import { oneLineLogger } from '../src/worker/log-format';
import { parseWorkerArgs } from '../src/worker/worker-args';
import { bundleWorkflowsInChildProcess } from '../src/worker/workflow-bundle';

async function main(): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2));
  const delay = Number(process.env.STAGE_DELAY_MS ?? 0);
  Runtime.install({
    logger: oneLineLogger('WARN'),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
  const { address, namespace, ...rest } = connectionSettings();
  const connection = await NativeConnection.connect({ ...rest, address });
  const plugin = new LinkedImagesPlugin({
    host: args.host,
    taskQueue: args.taskQueue,
    hostTaskQueue: args.hostTaskQueue,
    workflowBundle: await bundleWorkflowsInChildProcess(),
    cacheDir: args.cacheDir,
    recordFile: args.recordFile,
    beforeStage: delay > 0 ? () => new Promise<void>((r) => setTimeout(r, delay)) : undefined,
    maxActivities: args.maxActivities,
  });
  const workers = await createHostWorkers({
    connection,
    namespace,
    plugin,
    identity: `${process.pid}@${os.hostname()}/${args.host}`,
  });
  process.stdout.write(
    `stage-delay worker of host '${args.host}' polling task queues '${workers.taskQueue}' and '${workers.hostTaskQueue}', ${delay} ms per stage\n`,
  );
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => workers.shutdown());
  await workers.run();
  await connection.close();
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
