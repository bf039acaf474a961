import { Command, CommanderError } from 'commander';
import { UsageError } from './usage-error';

/** What parseCommandLine found: the help text (for -h/--help), or the options and the positional arguments. */
export type ParsedCommandLine<O> = { help: string } | { help: null; opts: O; args: string[] };

/**
 * Parses `argv` (without node and the script) against `cmd`, a commander Command built for this
 * one call (commander keeps the parsed values on the Command, so a Command parses once).
 *
 * It neither writes nor exits — the caller decides where output goes and which code to exit
 * with: `-h`/`--help` returns `{ help }` with commander's help text for `cmd` (its usage line,
 * description, arguments, options and any `addHelpText('after', …)`), and every problem
 * commander finds (unknown option, missing option value, a value its argParser refused, a
 * missing or extra argument, a required option not given) is thrown as a UsageError with
 * commander's message minus its `error: ` prefix, e.g.
 * `option '--port <N>' argument 'eighty' is invalid. Expected an integer from 0 to 65535.`
 *
 * @returns `opts`: `cmd.opts()` (camelCase attribute names, e.g. `--max-activities` → `maxActivities`);
 *          `args`: the positional arguments as given.
 * @throws UsageError for a command line `cmd` does not accept.
 */
export function parseCommandLine<O = Record<string, unknown>>(cmd: Command, argv: string[]): ParsedCommandLine<O> {
  let help = '';
  cmd.exitOverride().configureOutput({
    writeOut: (s) => (help += s),
    writeErr: (s) => (help += s),
    outputError: () => undefined, // the message travels in the UsageError
  });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') return { help };
    throw new UsageError(e.message.replace(/^error: /, ''));
  }
  return { help: null, opts: cmd.opts<O & Record<string, unknown>>(), args: cmd.args };
}
