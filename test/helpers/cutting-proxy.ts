import * as net from 'net';

/**
 * A loopback TCP proxy in front of a depot. While `cutAfter` is set, each connection is cut
 * (both sockets destroyed) once that many response bytes have passed: to the client this is a
 * server dying mid-download. `target` can be changed to point at a restarted server, and
 * `bytesPerSecond` slows responses down so a test can act in the middle of a download.
 */
export class CuttingProxy {
  cutAfter: number | null = null;
  /** When set, responses flow at about this many bytes per second (a slow link). */
  bytesPerSecond: number | null = null;
  target: number;
  private server!: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(target: number) {
    this.target = target;
  }

  /** Listens on `port` (default any free one; a closed proxy's port: a server back at its address). */
  async start(port = 0): Promise<this> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      let passed = 0;
      const limit = this.cutAfter;
      upstream.on('data', (chunk: Buffer) => {
        if (limit !== null && passed + chunk.length >= limit) {
          client.write(chunk.subarray(0, Math.max(0, limit - passed)), () => {
            client.destroy();
            upstream.destroy();
          });
          passed = limit;
          return;
        }
        passed += chunk.length;
        client.write(chunk);
        if (this.bytesPerSecond) {
          upstream.pause();
          setTimeout(() => upstream.resume(), (chunk.length / this.bytesPerSecond) * 1000);
        }
      });
      client.on('data', (d) => upstream.write(d));
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
