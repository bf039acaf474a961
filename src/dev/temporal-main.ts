/**
 * `npm run temporal -- <args>`: the temporal CLI this project installs (see findTemporalCli), run
 * with the given arguments. Commands that talk to a server default to the demo's server,
 * `--address 127.0.0.1:7233`, unless an address is given by flag, TEMPORAL_ADDRESS or the
 * config profile (the CLI's own default, localhost:7233, may resolve to ::1, where the dev
 * server does not listen).
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { loadClientConfigProfile } from '@temporalio/envconfig';
import { findTemporalCli } from './temporal-cli';
import { DEFAULT_ADDRESS } from '../client/connection-settings';

/** Top-level commands that connect to a Temporal service (`temporal options` lists their flags). */
const CONNECTING = new Set(['activity', 'batch', 'nexus', 'operator', 'schedule', 'task-queue', 'worker', 'workflow']);

export function withDefaultAddress(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const command = args.find((a) => !a.startsWith('-'));
  if (!command || !CONNECTING.has(command)) return args;
  if (args.some((a) => a === '--address' || a.startsWith('--address='))) return args;
  if (env.TEMPORAL_ADDRESS) return args;
  if (configuredAddress(args, env)) return args;
  // Flags after `--` would be taken as arguments; the CLI's flags may come anywhere before it.
  const end = args.indexOf('--');
  return end < 0
    ? [...args, '--address', DEFAULT_ADDRESS]
    : [...args.slice(0, end), '--address', DEFAULT_ADDRESS, ...args.slice(end)];
}

/** The address the CLI would take from its config file (TEMPORAL_CONFIG_FILE / --config-file, profile). */
function configuredAddress(args: string[], env: NodeJS.ProcessEnv): string | undefined {
  if (args.includes('--disable-config-file')) return undefined;
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i >= 0) return args[i + 1];
    return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const configFile = flag('--config-file');
  try {
    return loadClientConfigProfile({
      profile: flag('--profile') ?? env.TEMPORAL_PROFILE,
      configSource: configFile ? { path: configFile } : undefined,
      disableEnv: true,
      overrideEnvVars: env as Record<string, string>,
    }).address;
  } catch {
    return undefined; // the CLI itself will report a broken config file
  }
}

async function main(): Promise<number> {
  const cli = await findTemporalCli({ log: (l) => process.stderr.write(l + '\n') });
  const child = spawn(cli, withDefaultAddress(process.argv.slice(2)), { stdio: 'inherit' });
  // Ctrl-C reaches the CLI from the terminal; a signal sent to us only is passed on.
  const forward = (s: NodeJS.Signals) => child.kill(s);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (e) => {
      process.stderr.write(`Could not run ${cli}: ${e.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? osConstants.signals[signal] : 1)));
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
