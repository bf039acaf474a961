import * as http from 'http';
import type { AddressInfo } from 'net';
import { ImageError } from '../model/errors';
import { DepotRequest, handleDepotRequest } from './depot-handlers';
import { readRepositoryConfig } from '../repository/repository-config';

export interface DepotLogEntry {
  method: string;
  path: string;
  range?: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
}

export interface DepotStats {
  requests: number;
  bytesSent: number;
  /** File requests that carried a Range header. */
  rangeRequests: number;
  /** The most recent requests (at most LOG_LIMIT), oldest first. */
  log: DepotLogEntry[];
}

export interface Depot {
  url: string;
  port: number;
  /** Stops listening and destroys open (keep-alive) connections. */
  close(): Promise<void>;
  stats: DepotStats;
}

export interface DepotOptions {
  /** @default '127.0.0.1' (loopback only) */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Called with one line per finished request. */
  log?: (line: string) => void;
}

/** Keeps a long-running server's memory bounded; tests look at far fewer. */
const LOG_LIMIT = 10_000;

/** Serves the repository at `root` over HTTP, read-only, like pkg(5)'s pkg.depotd. */
export async function startDepot(root: string, opts: DepotOptions = {}): Promise<Depot> {
  await readRepositoryConfig(root);
  const host = opts.host ?? '127.0.0.1';
  const stats: DepotStats = { requests: 0, bytesSent: 0, rangeRequests: 0, log: [] };
  const server = http.createServer((req, res) => {
    stats.requests++;
    const r: DepotRequest = { req, res, root, bytes: 0 };
    res.on('close', () => {
      const entry: DepotLogEntry = {
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode,
        bytes: r.bytes,
      };
      if (typeof req.headers.range === 'string') entry.range = req.headers.range;
      stats.bytesSent += r.bytes;
      stats.log.push(entry);
      if (stats.log.length > LOG_LIMIT) stats.log.shift();
      opts.log?.(
        `${entry.method} ${entry.path} ${entry.status} ${entry.bytes}${entry.range ? ` range=${entry.range}` : ''}${res.writableFinished ? '' : ' (incomplete)'}`,
      );
    });
    handleDepotRequest(r, () => stats.rangeRequests++).catch((e) => {
      if (!res.headersSent) {
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`internal error: ${(e as Error).message}\n`);
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new ImageError(
          'BAD_REQUEST',
          `Cannot serve on ${host}:${opts.port ?? 0}: ${e.code ?? e.message}`,
          { host, port: opts.port ?? 0 },
          { cause: e },
        ),
      ),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    stats,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
