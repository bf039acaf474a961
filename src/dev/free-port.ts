/** TCP port probes on the loopback address, for the dev server, the demo and tests. */
import * as net from 'node:net';

/**
 * A TCP port that was free on `host` (default 127.0.0.1) a moment ago: the OS picks it (a
 * listen on port 0) and it is released at once. Another process may take it before the caller
 * binds it, so a caller that starts a server on it retries on EADDRINUSE (startDevServer does).
 * Rejects with the listen error (e.g. EADDRNOTAVAIL for a host that is not ours).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Whether something listens on `port` of `host` (default 127.0.0.1): true when a listen there
 * fails with EADDRINUSE, false when it succeeds (the probe closes again at once). Rejects with
 * any other listen error (EACCES, EADDRNOTAVAIL), which says nothing about the port being taken.
 */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(true) : reject(e)));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}
