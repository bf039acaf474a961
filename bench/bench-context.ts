import { Client, Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, startDevServer, type DevServer } from '../src/dev/dev-server';
import { BenchHosts } from './bench-hosts';
import { scaledZones } from './update-args';
import type { BenchServer } from './workflow-update';

/** What every part of `npm run bench` shares. */
export interface BenchContext {
  server: BenchServer;
  hosts: BenchHosts;
  /** Measured updates per figure (--rounds); the fastest counts. */
  rounds: number;
  /** The zone count a part runs with for its nominal count `n` (--zones-scale). */
  zones(n: number): number;
  /** One line of progress (stderr). */
  log(line: string): void;
  /** Closes the client and stops the dev server (the hosts stay: BenchHosts.removeAll). */
  close(): Promise<void>;
}

/**
 * Starts a real Temporal dev server (src/dev/dev-server.ts: in memory, headless, a free port,
 * the project's search attributes) and connects a client; hosts go under `root`.
 */
export async function openBenchContext(
  root: string,
  opts: { rounds: number; zonesScale: number; log: (line: string) => void },
): Promise<BenchContext> {
  const dev: DevServer = await startDevServer({ searchAttributes: SEARCH_ATTRIBUTES });
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: dev.address });
  } catch (e) {
    await dev.stop();
    throw e;
  }
  opts.log(`Temporal dev server on ${dev.address} (pid ${dev.pid})`);
  return {
    server: { address: dev.address, client: new Client({ connection, namespace: dev.namespace }) },
    hosts: new BenchHosts(root, opts.log),
    rounds: opts.rounds,
    zones: (n) => scaledZones(n, opts.zonesScale),
    log: opts.log,
    async close() {
      await connection.close().catch(() => undefined);
      await dev.stop();
    },
  };
}
