/**
 * `npm run worker -- [--task-queue Q] [--cache DIR] [--record FILE] [--max-activities N] [--grace 30s]`:
 * a worker for `updateLinkedImages` on this host, connected as the temporal CLI would be
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS/API key, profiles in the shared config file).
 */
import * as os from 'node:os';
import { GracefulShutdownPeriodExpiredError, NativeConnection, Runtime, type Logger } from '@temporalio/worker';
import { createHostWorkers, type HostWorkers } from './host-workers';
import { LinkedImagesPlugin } from '../plugin/linked-images-plugin';
import { bundleWorkflowsInChildProcess } from './workflow-bundle';
import { oneLineLogger } from './log-format';
import { onShutdownSignals, signalExitCode } from './shutdown-signals';
import { parseWorkerArgs, UsageError, WORKER_USAGE, type WorkerArgs } from './worker-args';
import { cannotConnect, ConnectionSettings, connectionSettings } from '../client/connection-settings';

// Activities that ignore cancellation must not keep a stopping worker alive forever; past this
// margin after the grace period the worker gives up (exit 1) and the server retries them elsewhere.
const FORCE_MARGIN_MS = 60_000;

async function main(argv: string[]): Promise<number> {
  let args: WorkerArgs;
  try {
    args = parseWorkerArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run worker -- --help" for the options.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(WORKER_USAGE + '\n');
    return 0;
  }

  let settings: ConnectionSettings;
  try {
    settings = connectionSettings();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  const { address, namespace, ...connectionOptions } = settings;

  // Our own handlers replace the SDK's (shutdownSignals: []), so that a second Ctrl-C can exit at once.
  const runtime = Runtime.install({
    logger: oneLineLogger('INFO'),
    shutdownSignals: [],
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
  // Our own lines bypass the runtime's logger: that one holds lines for 100 ms to sort them and is
  // closed together with the runtime once the worker and its connection are gone.
  const log = oneLineLogger('INFO');

  let worker: HostWorkers | null = null;
  const removeHandlers = onShutdownSignals({
    first(signal) {
      if (!worker) {
        // Still connecting or bundling: nothing is in flight, nothing to drain.
        finish(runtime, log, 'worker stopped', 0);
        return;
      }
      log.info(
        `${signal}: stopping; in-flight activities get ${args.graceMs / 1000}s to finish, then they are cancelled and roll back (signal again to exit at once)`,
      );
      worker.shutdown();
    },
    second(signal) {
      log.warn(
        `${signal} again: exiting at once; unfinished activities will be retried by the server after their heartbeat timeout`,
      );
      finish(runtime, log, 'worker stopped (forced)', signalExitCode(signal));
    },
  });

  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ ...connectionOptions, address });
  } catch (e) {
    log.error(cannotConnect(address, e));
    return 1;
  }
  const identity = `${process.pid}@${os.hostname()}${args.host !== os.hostname() ? `/${args.host}` : ''}`;
  // Bundled in a child process: webpack would stay in this process's memory (100 MB, and more heap growth).
  const workflowBundle = await bundleWorkflowsInChildProcess();
  const plugin = new LinkedImagesPlugin({
    host: args.host,
    taskQueue: args.taskQueue,
    hostTaskQueue: args.hostTaskQueue,
    cacheDir: args.cacheDir,
    recordFile: args.recordFile,
    workflowBundle,
    maxActivities: args.maxActivities,
  });
  const w = await createHostWorkers({
    connection,
    namespace,
    plugin,
    identity,
    shutdownGraceTime: args.graceMs,
    shutdownForceTime: args.graceMs + FORCE_MARGIN_MS,
  });
  worker = w;
  log.info(
    `worker ${identity} of host '${args.host}' polling task queues '${args.taskQueue}' (workflows) and '${args.hostTaskQueue}' (this host's activities) on ${address} namespace ${namespace}; content cache ${args.cacheDir}`,
    {
      maxActivities: args.maxActivities,
      ...(args.recordFile ? { record: args.recordFile } : {}),
    },
  );
  let code = 0;
  try {
    await w.run();
  } catch (e) {
    code = 1;
    if (e instanceof GracefulShutdownPeriodExpiredError)
      log.error(
        `activities did not stop within ${(args.graceMs + FORCE_MARGIN_MS) / 1000}s of the shutdown request; exiting anyway`,
      );
    else log.error(`worker failed: ${(e as Error).message}`, { error: e });
  }
  removeHandlers();
  await connection.close().catch(() => undefined);
  log.info('worker stopped');
  return code;
}

/** Exits with `code` after the runtime's buffered log lines (it sorts them for 100 ms) and `message`. */
function finish(runtime: Runtime, log: Logger, message: string, code: number): never {
  runtime.flushLogs();
  log.info(message);
  process.exit(code);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
