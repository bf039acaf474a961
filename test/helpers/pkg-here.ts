import { Writable } from 'stream';
import { main } from '../../src/pkg-cli/main';

/** What one `pkg` command line printed and its exit code. */
export interface PkgRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `pkg <args>` in this process, as `npm run pkg -- <args>` would (the same main(), the
 * same exit codes), and collects what it printed. For quick checks and usage errors; a test of
 * a whole process (signals, real stdout) uses pkgProcess.
 */
export async function pkgHere(...args: string[]): Promise<PkgRun> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (c, _e, cb) => (add(String(c)), cb()) });
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}
