import { execFile } from 'child_process';
import { promises as fs, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

const PROJECT = path.resolve(__dirname, '..');

/** How a benchmark starts one `pkg` process: `command` + `args` + the pkg arguments. */
export interface PkgCommand {
  command: string;
  args: string[];
  /** Environment additions for the process. */
  env: Record<string, string>;
  /** Working directory (the project, so ts-node finds tsconfig.json). */
  cwd: string;
}

let compiled: Promise<PkgCommand> | null = null;

/**
 * The `pkg` CLI (src/pkg-cli/main.ts and what it imports, nothing else) compiled once per
 * process with the project's tsc, type checks skipped (`--noCheck`; `npm run typecheck` does
 * them), into a temp dir that is removed when this process exits. About 3.5 s here; a `pkg`
 * process then starts in ~0.15 s instead of the ~1.2 s ts-node takes, transpile-only included,
 * to compile every module again in every process. Rejects with tsc's output when tsc fails.
 */
export function compiledPkgCli(): Promise<PkgCommand> {
  return (compiled ??= compile().catch((e) => {
    compiled = null;
    throw e;
  }));
}

/** The same CLI through ts-node (`npm run pkg`), transpile-only: for comparison with compiledPkgCli. */
export function tsNodePkgCli(): PkgCommand {
  return {
    command: process.execPath,
    args: ['--require', 'ts-node/register', path.join(PROJECT, 'src/pkg-cli/main.ts')],
    env: { TS_NODE_TRANSPILE_ONLY: '1' },
    cwd: PROJECT,
  };
}

async function compile(): Promise<PkgCommand> {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'li-pkg-cli-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  const tsc = require.resolve('typescript/bin/tsc', { paths: [PROJECT] });
  const flags = [
    '--outDir',
    out,
    '--rootDir',
    PROJECT,
    '--module',
    'commonjs',
    '--target',
    'ES2022',
    '--moduleResolution',
    'node',
    '--esModuleInterop',
    '--skipLibCheck',
    '--types',
    'node',
    '--noCheck',
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [tsc, ...flags, path.join(PROJECT, 'src/pkg-cli/main.ts')],
      { cwd: PROJECT, maxBuffer: 8 << 20 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`tsc failed compiling the pkg CLI: ${(stdout + stderr).trim() || err.message}`))
          : resolve(),
    );
  });
  // The compiled files live in a temp dir, outside the project: npm packages (commander) are found through NODE_PATH.
  return {
    command: process.execPath,
    args: [path.join(out, 'src/pkg-cli/main.js')],
    env: { NODE_PATH: path.join(PROJECT, 'node_modules') },
    cwd: PROJECT,
  };
}
