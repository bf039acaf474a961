import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  DefaultLogger,
  WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { LINKED_IMAGES_WORKFLOWS_PATH } from '../../src/plugin/workflows-path';
import * as path from 'path';
import type { ActivityDeps } from '../../src/activities/create-activities';
import { DevServer, DevServerOptions, SEARCH_ATTRIBUTES, startDevServer } from '../../src/dev/dev-server';
import { LinkedImagesPlugin } from '../../src/plugin/linked-images-plugin';
import { createHostWorkers, type HostWorkers } from '../../src/worker/host-workers';
import { QuietLogger } from './quiet-logger';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;

/** The workflow bundle, built once per test process (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return (bundle ??= bundleWorkflowCode({
    workflowsPath: LINKED_IMAGES_WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  }));
}

export interface TemporalEnv {
  server: DevServer;
  client: Client;
  nativeConnection: NativeConnection;
  /**
   * A host's workers (createHostWorkers with a LinkedImagesPlugin of `deps`) on a fresh workflow task queue and a fresh host name,
   * running until `fn` resolves; `fn` gets the workflow queue and the host's name (a run's `host`).
   */
  withWorker<T>(
    deps: ActivityDeps,
    fn: (taskQueue: string, host: string) => Promise<T>,
    opts?: { host?: string; taskQueue?: string },
  ): Promise<T>;
  /** One host's workers (not yet running): several hosts may share one workflow task queue. */
  hostWorkers(deps: ActivityDeps, opts: { host: string; taskQueue: string }): Promise<HostWorkers>;
  close(): Promise<void>;
}

let queues = 0;

/**
 * A real Temporal dev server (the temporal CLI), a client and worker factory for one test file.
 * `server.extraArgs` lowers limits, e.g. ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'].
 */
export async function startTemporalEnv(
  opts: { server?: Pick<DevServerOptions, 'extraArgs' | 'log'> } = {},
): Promise<TemporalEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new QuietLogger() });
    runtimeInstalled = true;
  }
  const server = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES, ...opts.server });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const workflowBundleP = workflowBundle();
  const extraConnections: NativeConnection[] = [];
  return {
    server,
    client,
    nativeConnection,
    async withWorker(deps, fn, o = {}) {
      const n = ++queues;
      const taskQueue = o.taskQueue ?? `test-${process.pid}-${n}`;
      const host = o.host ?? `host-${process.pid}-${n}`;
      const workers = await createHostWorkers({
        connection: nativeConnection,
        namespace: server.namespace,
        plugin: new LinkedImagesPlugin({ ...deps, taskQueue, host, workflowBundle: await workflowBundleP }),
        shutdownGraceTime: '5 seconds',
      });
      return workers.runUntil(fn(taskQueue, host));
    },
    async hostWorkers(deps, o) {
      // A connection of its own, as a real host has: the SDK refuses two workers of one task
      // queue on one connection in one process.
      const connection = await NativeConnection.connect({ address: server.address });
      extraConnections.push(connection);
      return createHostWorkers({
        connection,
        namespace: server.namespace,
        plugin: new LinkedImagesPlugin({
          ...deps,
          taskQueue: o.taskQueue,
          host: o.host,
          workflowBundle: await workflowBundleP,
        }),
        shutdownGraceTime: '5 seconds',
      });
    },
    async close() {
      for (const c of extraConnections) await c.close().catch(() => undefined);
      await nativeConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

export const projectDir = path.join(__dirname, '..', '..');
