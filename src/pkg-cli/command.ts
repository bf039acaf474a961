import type { Command as CommanderCommand } from 'commander';

/** Where a command writes; process.stdout/stderr in the real CLI, buffers in tests if wanted. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * One `pkg <name>` subcommand. Register it in the `commands` table of pkg-cli/main.ts; main
 * parses its command line with commander (src/command-line) and prints `--help` and usage errors.
 * `O` is the shape of its parsed options (commander's camelCase attribute names).
 */
export interface Command<O = Record<string, unknown>> {
  /** One line for `pkg --help`. */
  summary: string;
  /** Synopsis after `pkg <name> `, e.g. `<repo> --publisher <p>`: the usage line of its help and errors. */
  usage: string;
  /** Declares the command's arguments and options (with their descriptions) on `cmd`, a fresh commander Command. */
  define(cmd: CommanderCommand): CommanderCommand;
  /**
   * Runs the parsed command line; resolves with the exit code. `args`: the positional arguments.
   * Throws UsageError (src/command-line) for usage commander cannot check (exit 2), ImageError for failures.
   */
  run(opts: O, args: string[], io: CliIo): Promise<number>;
}

/** `command`, typed by its options; lets the `commands` table hold commands of different option shapes. */
export function defineCommand<O>(command: Command<O>): Command {
  return command as unknown as Command;
}
