/**
 * `npm run watch -- <workflowId> [--run-id <id>] [--plain] [--interval-ms <ms>]`: the live view
 * of a run, started by anyone (src/client/watch/watch-run.ts). Exits with the run's code when it
 * ends, 130 on Ctrl-C (the run goes on), 1 when there is no such workflow, 2 for a bad command line.
 */
import { Command } from 'commander';
import { exitQuietlyOnClosedPipe } from '../command-line/closed-pipe';
import { parseCommandLine } from '../command-line/parse-command-line';
import { USAGE_EXIT_CODE, UsageError } from '../command-line/usage-error';
import { integerIn, nonEmpty } from '../command-line/value-parsers';
import { DEFAULT_ADDRESS } from './connection-settings';
import { followRun } from './watch/follow-run';

function watchCommand(): Command {
  return new Command('npm run watch --')
    .usage('<workflow ID> [options]')
    .argument('<workflow ID>', 'the run to watch (npm run update prints it; any run of updateLinkedImages)')
    .option('--run-id <id>', 'one run of that workflow ID (default the latest)', nonEmpty)
    .option('--plain', 'one line per change, no redrawing (the default when stdout is not a terminal)')
    .option(
      '--interval-ms <ms>',
      'the wait between polls while the run moves (default 1000); it stretches to 10 s while nothing changes',
      integerIn(100),
    )
    .helpOption('-h, --help', 'this text')
    .addHelpText(
      'after',
      `\nCtrl-C stops the view, not the run. The server comes from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / a profile (default ${DEFAULT_ADDRESS}).`,
    );
}

interface WatchOptions {
  runId?: string;
  plain?: boolean;
  intervalMs?: number;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine<WatchOptions>(watchCommand(), argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\nRun "npm run watch -- --help" for the options.\n`);
    return USAGE_EXIT_CODE;
  }
  if (parsed.help !== null) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const { opts, args } = parsed;
  return followRun(args[0], opts);
}

exitQuietlyOnClosedPipe();
main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    process.stderr.write(`watch: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
