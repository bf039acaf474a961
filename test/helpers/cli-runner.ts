import { execFile } from 'child_process';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import type { DevServer } from '../../src/dev/dev-server';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `temporal` CLI against `server`. Always asynchronous: the worker under test runs
 * in this same process, and a blocking spawnSync would stop it from answering the CLI's query.
 */
export function cliRunner(server: DevServer): (args: string[]) => Promise<CliResult> {
  const cli = findTemporalCli();
  return async (args) => {
    const bin = await cli;
    return new Promise((resolve, reject) => {
      execFile(
        bin,
        [...args, '--address', server.address, '--namespace', server.namespace],
        { timeout: 60_000, maxBuffer: 32 << 20 },
        (err, stdout, stderr) => {
          const code = err ? (err as NodeJS.ErrnoException & { code?: unknown }).code : 0;
          if (err && typeof code !== 'number') return reject(err);
          resolve({ code: code as number, stdout, stderr });
        },
      );
    });
  };
}

/** Parses `--output json` stdout, naming the command when it is not JSON. */
export function parseJson<T = unknown>(r: CliResult, what: string): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(
      `Expected JSON from '${what}', got exit ${r.code}, stdout: ${r.stdout.slice(0, 500)} stderr: ${r.stderr.slice(0, 500)}`,
    );
  }
}
