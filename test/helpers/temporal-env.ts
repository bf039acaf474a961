import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import * as path from 'path';
import { createActivities, ActivityDeps } from '../../activities/create-activities';
import { DevServer, SEARCH_ATTRIBUTES, startDevServer } from '../../worker/dev-server';
import { QuietLogger } from './quiet-logger';
import { WORKER_DEFAULTS } from '../../worker/worker-defaults';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;

/** The workflow bundle, built once per test process (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return (bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') }));
}

export interface TemporalEnv {
  server: DevServer;
  client: Client;
  nativeConnection: NativeConnection;
  /** A worker on its own task queue, running until `fn` resolves. */
  withWorker<T>(deps: ActivityDeps, fn: (taskQueue: string) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

let queues = 0;

/** A real Temporal dev server (the temporal CLI), a client and worker factory for one test file. */
export async function startTemporalEnv(): Promise<TemporalEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new QuietLogger() });
    runtimeInstalled = true;
  }
  const server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const workflowBundleP = workflowBundle();
  return {
    server,
    client,
    nativeConnection,
    async withWorker(deps, fn) {
      const taskQueue = `test-${process.pid}-${++queues}`;
      const worker = await Worker.create({
      ...WORKER_DEFAULTS,
        connection: nativeConnection,
        namespace: server.namespace,
        taskQueue,
        workflowBundle: await workflowBundleP,
        activities: createActivities(deps),
        shutdownGraceTime: '5 seconds',
      });
      return worker.runUntil(fn(taskQueue));
    },
    async close() {
      await nativeConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

export const projectDir = path.join(__dirname, '..', '..');
