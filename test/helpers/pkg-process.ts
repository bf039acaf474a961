import { spawn } from 'node:child_process';
import * as path from 'node:path';

const CWD = path.resolve(__dirname, '..', '..');

export interface PkgRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pkg <args>` the way `npm run pkg --` does, in a child process from the project directory. */
export function pkgProcess(...args: string[]): Promise<PkgRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'ts-node/register', 'src/pkg-cli/main.ts', ...args], {
      cwd: CWD,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
