/**
 * `npm run server [-- --db FILE --port N --ui-port N --verbose]`: a Temporal dev server for the
 * demo, with history kept on disk so workflows survive a restart of the server.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SEARCH_ATTRIBUTES, startDevServer } from './dev-server';
import { portInUse } from './free-port';
import { DevServerError, findTemporalCli, projectRoot } from './temporal-cli';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: path.join(projectRoot(), '.demo', 'temporal.db') },
      port: { type: 'string', default: '7233' },
      'ui-port': { type: 'string', default: '8233' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const port = parsePort('--port', values.port!);
  const uiPort = parsePort('--ui-port', values['ui-port']!);
  const dbFile = path.resolve(values.db!);
  for (const [flag, p] of [['--port', port], ['--ui-port', uiPort]] as const) {
    if (await portInUse(p)) {
      console.error(`Port ${p} (${flag}) on 127.0.0.1 is already in use; probably a Temporal server is already running there. Stop it, or pick other ports with --port/--ui-port.`);
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
  console.log(`Temporal dev server on ${server.address} (namespace ${server.namespace}), Web UI ${server.uiUrl}, history in ${dbFile}`);
  console.log(`Search attributes: ${Object.entries(SEARCH_ATTRIBUTES).map(([k, t]) => `${k}=${t}`).join(', ')}. Press Ctrl-C to stop.`);

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

function parsePort(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`Expected ${flag} to be an integer 1-65535, got ${JSON.stringify(raw)}`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof DevServerError && e.code === 'PORT_IN_USE') console.error(`${e.message}\nProbably a Temporal server is already running; stop it or pick other ports with --port/--ui-port.`);
    else console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
