/**
 * `npm run server [-- --db FILE --port N --ui-port N --verbose]`: a Temporal dev server for the
 * demo, with history kept on disk so workflows survive a restart of the server.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { integerIn } from '../command-line/value-parsers';
import { DEFAULT_PORT } from '../client/connection-settings';
import { SEARCH_ATTRIBUTES, startDevServer } from './dev-server';
import { portInUse } from './free-port';
import { DevServerError, findTemporalCli, projectRoot } from './temporal-cli';

/** The server command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function serverCommand(): Command {
  return new Command('npm run server --')
    .usage('[--db FILE] [--port N] [--ui-port N] [--verbose]')
    .description(
      'A Temporal dev server for the demo, with history kept on disk so workflows survive a restart of the server.',
    )
    .option('--db <file>', 'the history file', path.join(projectRoot(), '.demo', 'temporal.db'))
    .option('--port <N>', 'the frontend (gRPC) port on 127.0.0.1', integerIn(1, 65535), DEFAULT_PORT)
    .option('--ui-port <N>', 'the Web UI port', integerIn(1, 65535), 8233)
    .option('--verbose', "print the server's own output")
    .helpOption('-h, --help', 'this text');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine<{ db: string; port: number; uiPort: number; verbose?: boolean }>(serverCommand(), argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\nRun "npm run server -- --help" for the options.`);
    return USAGE_EXIT_CODE;
  }
  if (parsed.help !== null) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const values = parsed.opts;
  const { port, uiPort } = values;
  const dbFile = path.resolve(values.db);
  for (const [flag, p] of [
    ['--port', port],
    ['--ui-port', uiPort],
  ] as const) {
    if (await portInUse(p)) {
      console.error(
        `Port ${p} (${flag}) on 127.0.0.1 is already in use; probably a Temporal server is already running there. Stop it, or pick other ports with --port/--ui-port.`,
      );
      return 1;
    }
  }
  const cliPath = await findTemporalCli({ log: (l) => console.log(l) });
  const server = await startDevServer({
    cliPath,
    dbFile,
    port,
    uiPort,
    searchAttributes: SEARCH_ATTRIBUTES,
    log: values.verbose ? (l) => console.log(`[temporal] ${l}`) : undefined,
  });
  console.log(
    `Temporal dev server on ${server.address} (namespace ${server.namespace}), Web UI ${server.uiUrl}, history in ${dbFile}`,
  );
  console.log(
    `Search attributes: ${Object.entries(SEARCH_ATTRIBUTES)
      .map(([k, t]) => `${k}=${t}`)
      .join(', ')}. Press Ctrl-C to stop.`,
  );

  // The server's child handle is unref'd by design; this timer is what keeps us running.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const outcome = await Promise.race([signalled, server.exited.then((code) => ({ code }))]);
  clearInterval(keepAlive);
  if (typeof outcome === 'object') {
    console.error(`Temporal dev server exited on its own (${outcome.code}); rerun with --verbose to see its output.`);
    return 1;
  }
  console.log(`${outcome}: stopping the Temporal dev server...`);
  await server.stop();
  console.log('Stopped.');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof DevServerError && e.code === 'PORT_IN_USE')
      console.error(
        `${e.message}\nProbably a Temporal server is already running; stop it or pick other ports with --port/--ui-port.`,
      );
    else console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
