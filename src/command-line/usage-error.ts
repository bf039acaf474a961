/**
 * A command line the program cannot run: an unknown option, a missing or malformed value, a
 * missing argument. The message names the option or argument and what was expected. Every
 * command line of the project (pkg, worker, update, report, server, benches) throws this one
 * class; their mains print the message and exit 2 (pkg(5)'s code for bad usage).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code of every command line for a UsageError (pkg(5): "invalid command line options were specified"). */
export const USAGE_EXIT_CODE = 2;
