import * as path from 'path';
import { startDepot } from '../repository';
import { intFlag, optionalString, parseCommandArgs } from './args';
import { Command } from './command';

export const serve: Command = {
  summary: 'serve a repository over HTTP (like pkg.depotd) until SIGINT or SIGTERM',
  usage: 'serve <repo> [--port N] [--host 127.0.0.1] [--log]',
  help: [
    '  --port <N>     default 0: any free port (the URL printed says which)',
    '  --host <addr>  default 127.0.0.1: loopback only',
    '  --log          one line per request on stderr',
  ].join('\n'),
  async run(argv, io) {
    const { values, args } = parseCommandArgs(argv, { port: { type: 'string' }, host: { type: 'string' }, log: { type: 'boolean' } }, ['repo']);
    const root = path.resolve(args[0]);
    const depot = await startDepot(root, {
      port: intFlag(values, 'port', 0, 65535),
      host: optionalString(values, 'host'),
      log: values.log ? (line) => io.stderr.write(line + '\n') : undefined,
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
};
