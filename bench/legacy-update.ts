import { spawn } from 'child_process';
import type { DemoHost } from '../src/dev/demo-host';
import { compiledPkgCli, PkgCommand } from './pkg-command';

/** One kind of work a `pkg` process did. */
export type Work = 'pubcheck' | 'plan' | 'prepare' | 'execute';
/** Which command line ran: `pubcheck-linked`, or `update --stage <stage>`. */
export type LegacyStage = 'pubcheck' | 'plan' | 'prepare' | 'execute';
export type WorkCounts = Record<Work, number>;

export interface LegacyUpdateOptions {
  /** One line per image (what it did, how long it took). */
  log?: (line: string) => void;
  /** The host-wide content cache. @default host.cacheDir */
  cacheDir?: string;
  /** How to start `pkg`. @default compiledPkgCli() (compiled once, outside the measured time) */
  pkg?: PkgCommand;
}

export interface LegacyUpdateResult {
  /** From the first process started to the last one ended, in seconds (compiling the CLI excluded). */
  wallSeconds: number;
  /** pkg processes started. */
  processes: number;
  /** How often each kind of work ran, over all images, as the processes' output shows it. */
  runs: WorkCounts;
  /** The same per command line: e.g. `byStage.execute.plan` = plans made by `update --stage execute`. */
  byStage: Record<LegacyStage, WorkCounts>;
  /** Per image, parent first: `updated`, or `nothing-to-do` when its plan stage exited 4. */
  images: { name: string; outcome: 'updated' | 'nothing-to-do' }[];
}

/** A pkg process exited with a code other than 0 (or 4 from a plan stage): the update stops there, as pkg(5)'s did. */
export class LegacyUpdateError extends Error {
  constructor(
    readonly image: string,
    readonly argv: string[],
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`pkg ${argv.join(' ')} (${image}) exited with ${exitCode}:\n${output.trim().slice(0, 2000)}`);
    this.name = 'LegacyUpdateError';
  }
}

/**
 * pkg(5)'s staged recursion before parallel linked images, as the baseline of the bench: one
 * image after another, each stage a `pkg` process of its own that repeats the earlier stages.
 * The parent first: `update --stage plan`, `--stage prepare`, `--stage execute`; then every
 * child in the parent's order: `pubcheck-linked -R <parent> -l <name>` and the same three
 * stages with `-R <child>`. A plan stage that exits 4 (nothing to do) skips that image's later
 * stages. So an image with changes plans three times, prepares twice and executes once.
 *
 * Work is counted from each process's output: a plan printed `Packages to change:` or `No
 * updates available`, a prepare `Download:`, an execute `Execute:`, a publisher check `ok`.
 * Throws LegacyUpdateError for any other exit code (pubcheck mismatch 1, LOCKED 7, ...).
 */
export async function runLegacyUpdate(host: DemoHost, opts: LegacyUpdateOptions = {}): Promise<LegacyUpdateResult> {
  const pkg = opts.pkg ?? (await compiledPkgCli());
  const cache = ['--cache', opts.cacheDir ?? host.cacheDir];
  const zero = (): WorkCounts => ({ pubcheck: 0, plan: 0, prepare: 0, execute: 0 });
  const result: LegacyUpdateResult = {
    wallSeconds: 0,
    processes: 0,
    runs: zero(),
    byStage: { pubcheck: zero(), plan: zero(), prepare: zero(), execute: zero() },
    images: [],
  };

  const run = async (image: string, stage: LegacyStage, argv: string[]): Promise<number | null> => {
    result.processes++;
    const r = await runPkg(pkg, argv);
    const ok = r.code === 0 || (stage === 'plan' && r.code === 4);
    if (!ok) throw new LegacyUpdateError(image, argv, r.code, r.stdout + r.stderr);
    for (const w of workSeen(r.stdout)) {
      result.runs[w]++;
      result.byStage[stage][w]++;
    }
    return r.code;
  };
  const stages = async (name: string, root: string, extra: string[] = []) => {
    const t0 = performance.now();
    let outcome: 'updated' | 'nothing-to-do' = 'updated';
    if ((await run(name, 'plan', ['update', '-R', root, ...extra, ...cache, '--stage', 'plan'])) === 4)
      outcome = 'nothing-to-do';
    else {
      await run(name, 'prepare', ['update', '-R', root, ...extra, ...cache, '--stage', 'prepare']);
      await run(name, 'execute', ['update', '-R', root, ...extra, ...cache, '--stage', 'execute']);
    }
    result.images.push({ name, outcome });
    opts.log?.(`  ${name}: ${outcome} (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  };

  const t0 = performance.now();
  await stages('parent', host.parent, ['-I']); // the parent alone: its children come next, one process per stage
  for (const c of host.children) {
    await run(c.name, 'pubcheck', ['pubcheck-linked', '-R', host.parent, '-l', c.name]);
    await stages(c.name, c.path);
  }
  result.wallSeconds = (performance.now() - t0) / 1000;
  return result;
}

/** The kinds of work a pkg process's stdout shows it did. */
function workSeen(stdout: string): Work[] {
  const seen: Work[] = [];
  if (/^\S+\tok$/m.test(stdout)) seen.push('pubcheck');
  if (/^(Packages to change: |No updates available)/m.test(stdout)) seen.push('plan');
  if (/^Download: /m.test(stdout)) seen.push('prepare');
  if (/^Execute: /m.test(stdout)) seen.push('execute');
  return seen;
}

function runPkg(pkg: PkgCommand, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(pkg.command, [...pkg.args, ...argv], {
      cwd: pkg.cwd,
      env: { ...process.env, ...pkg.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
