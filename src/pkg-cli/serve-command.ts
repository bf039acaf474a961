import * as path from 'path';
import { startDepot } from '../repository';
import { integerIn } from '../command-line/value-parsers';
import { defineCommand } from './command';

interface ServeOptions {
  port?: number;
  host?: string;
  log?: boolean;
}

export const serve = defineCommand<ServeOptions>({
  summary: 'serve a repository over HTTP (like pkg.depotd) until SIGINT or SIGTERM',
  usage: '<repo> [--port N] [--host 127.0.0.1] [--log]',
  define: (cmd) =>
    cmd
      .argument('<repo>', 'the repository (a directory)')
      .option('--port <N>', 'default 0: any free port (the URL printed says which)', integerIn(0, 65535))
      .option('--host <addr>', 'default 127.0.0.1: loopback only')
      .option('--log', 'one line per request on stderr'),
  async run(opts, [repo], io) {
    const root = path.resolve(repo);
    const depot = await startDepot(root, {
      port: opts.port,
      host: opts.host,
      log: opts.log ? (line) => io.stderr.write(line + '\n') : undefined,
    });
    io.stdout.write(`serving ${root} at ${depot.url}\n`);
    const signal = await new Promise<string>((resolve) => {
      const stop = (sig: string) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(sig);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await depot.close();
    io.stderr.write(`stopped on ${signal} after ${depot.stats.requests} requests\n`);
    return 0;
  },
});
