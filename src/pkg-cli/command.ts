/** Where a command writes; process.stdout/stderr in the real CLI, buffers in tests if wanted. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One `pkg <name>` subcommand. Register it in the `commands` table of src/pkg-cli/main.ts. */
export interface Command {
  /** One line for `pkg --help`. */
  summary: string;
  /** Synopsis after `pkg `, e.g. `repo-create <repo> --publisher <p>`. */
  usage: string;
  /** Extra lines for `pkg <name> --help` (options, examples). */
  help?: string;
  /** Resolves with the exit code. Throws UsageError for bad usage, ImageError for failures. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Bad command-line usage: printed with the command's usage line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
