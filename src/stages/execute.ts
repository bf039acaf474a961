import { createHash } from 'crypto';
import { createReadStream } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { eachLimited } from '../model/each-limited';
import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { FsLayer, realFs } from '../image/fs-layer';
import { appendHistory } from '../image/history';
import { Image, manifestRelPath, nextState, STATE_FILE } from '../image/image';
import { currentBootId, Journal } from './journal';
import { OriginPool, withPool } from '../origins/origin-pool';
import { checkPlan, Plan, planActions, stalePlan } from './plan';
import { asImageError, StepRunner } from './step-runner';
import { applyIds, OnDisk, relinkSteps, Step, stepsFor } from '../model/steps';
import { AccountOptions, planAccounts } from './account-steps';
import { planManifests } from './plan-manifests';
import { actionFilter } from '../model/action-diff';
import { filterSettings, settingsOf } from './image-settings';

export interface ExecuteProgress {
  stepsDone: number;
  stepsTotal: number;
}

export interface ExecuteOptions {
  onProgress?: (p: ExecuteProgress) => void;
  signal?: AbortSignal;
  fs?: FsLayer;
  origins?: OriginPool;
  host?: string;
  /**
   * The effective uid this execute runs as; owners and groups are applied only when it is 0.
   * @default process.geteuid()
   */
  uid?: number;
  /** Where owner and group names are looked up when the image has no account files (see `AccountOptions`). */
  accounts?: AccountOptions;
}

export interface ExecuteResult {
  status: 'applied' | 'already-applied' | 'nothing-to-do';
  steps: number;
  /** True when an interrupted execute of this plan was carried on rather than started afresh. */
  resumed: boolean;
  /** True when an interrupted execute of another plan was rolled back first. */
  recovered: boolean;
  /**
   * Steps whose owner or group (a file's or directory's owner=/group=) was not applied because
   * execute was not running as root; absent when there were none. Say so to the operator.
   */
  ownersNotApplied?: number;
}

/** The effective uid (-1 where the platform has none: never root). */
function effectiveUid(): number {
  return process.geteuid?.() ?? -1;
}

/** The notice for a result whose owners were not applied, or null: print it once. */
export function ownersNotice(r: ExecuteResult): string | null {
  return r.ownersNotApplied
    ? `not running as root: owners and groups not applied (${r.ownersNotApplied} actions)`
    : null;
}

/**
 * Applies a prepared plan. The image ends either fully updated or untouched: all steps are
 * journalled (fsync) before the first change, each displaced path is kept as a backup until
 * the commit point, and any failure or cancellation rolls back. After a SIGKILL, executing the
 * same plan again resumes it; any other execute (or `recover`) rolls it back first.
 */
export async function execute(
  image: Image,
  p: Plan,
  cache: ContentCache,
  opts: ExecuteOptions = {},
): Promise<ExecuteResult> {
  checkPlan(p, image, opts.host ?? os.hostname());
  const fsl = opts.fs ?? realFs;
  return image.withLock('execute', async () => {
    const result: ExecuteResult = { status: 'applied', steps: 0, resumed: false, recovered: false };
    let journal = await Journal.load(image.root, fsl);
    if (journal && journal.intent.plan === p.digest) {
      result.steps = journal.intent.steps.length;
      if (!(await journal.isCommitted())) {
        result.resumed = true;
        await run(image, journal, cache, fsl, opts);
        noteOwners(result, journal.intent.steps, opts);
      }
      await appendHistory(image.root, {
        op: 'execute',
        plan: p.digest,
        outcome: 'applied',
        steps: result.steps,
        resumedAt: journal.done.size,
      });
      await finish(image, journal, fsl);
      return result;
    }
    if (journal) {
      await settle(image, journal, cache, fsl);
      result.recovered = true;
    }
    const state = await image.readState();
    if (state.lastPlan === p.digest) {
      await appendHistory(image.root, { op: 'execute', plan: p.digest, outcome: 'already-applied', steps: 0 });
      return { ...result, status: 'already-applied' };
    }
    if (state.token !== p.stateToken) throw stalePlan(image, p, state.token);
    if (p.changes.length === 0) return { ...result, status: 'nothing-to-do' };

    const steps = await buildSteps(image, p, cache, fsl, opts);
    const bootId = currentBootId();
    journal = await Journal.begin(image.root, fsl, {
      plan: p.digest,
      steps,
      createdDirs: await missingParents(image.root, steps, fsl),
      ...(bootId ? { bootId } : {}),
    });
    result.steps = steps.length;
    await run(image, journal, cache, fsl, opts, true);
    noteOwners(result, steps, opts);
    await appendHistory(image.root, { op: 'execute', plan: p.digest, outcome: 'applied', steps: steps.length });
    await finish(image, journal, fsl);
    return result;
  });
}

/** Rolls back (or, if it had committed, completes) an execute that was interrupted. */
export async function recover(
  image: Image,
  cache: ContentCache,
  opts: { fs?: FsLayer } = {},
): Promise<'none' | 'rolled-back' | 'completed'> {
  const fsl = opts.fs ?? realFs;
  return image.withLock('recover', async () => {
    const journal = await Journal.load(image.root, fsl);
    if (!journal) return 'none';
    return settle(image, journal, cache, fsl);
  });
}

async function settle(
  image: Image,
  journal: Journal,
  cache: ContentCache,
  fsl: FsLayer,
): Promise<'rolled-back' | 'completed'> {
  const plan = journal.intent.plan;
  const steps = journal.intent.steps.length;
  if (await journal.isCommitted()) {
    await appendHistory(image.root, { op: 'recover', plan, outcome: 'applied', steps });
    await finish(image, journal, fsl);
    return 'completed';
  }
  await rollback(image, journal, cache, fsl);
  await appendHistory(image.root, { op: 'recover', plan, outcome: 'rolled-back', steps, resumedAt: journal.done.size });
  return 'rolled-back';
}

async function run(
  image: Image,
  journal: Journal,
  cache: ContentCache,
  fsl: FsLayer,
  opts: ExecuteOptions,
  fresh = false,
): Promise<void> {
  const root = (opts.uid ?? effectiveUid()) === 0;
  const runner = new StepRunner(image.root, journal, cache, fsl, fresh, root);
  const steps = journal.intent.steps;
  const total = steps.length;
  let last = 0;
  const report = (done: number) => {
    const now = Date.now();
    if (done === total || now - last >= 100) {
      last = now;
      opts.onProgress?.({ stepsDone: done, stepsTotal: total });
    }
  };
  let done = 0;
  const one = async (i: number) => {
    if (opts.signal?.aborted)
      throw new ImageError(
        'CANCELLED',
        `Execute of ${image.root} was cancelled at step ${i} of ${total}; rolled back`,
        { step: i },
      );
    if (!journal.done.has(i)) {
      await runner.apply(i, steps[i]);
      await journal.markDone(i);
    }
    report(++done);
    // The file-system layer is mostly synchronous: let timers and I/O (heartbeats, a cancel) run.
    if (done % 32 === 0) await new Promise((r) => setImmediate(r));
  };
  try {
    for (let i = 0; i < total;) {
      // Consecutive file and symlink writes touch distinct paths whose directories already
      // exist (directories come first), so several run at once; everything else runs alone,
      // in journal order. Order within such a run does not matter to resume or rollback.
      let j = i;
      while (j < total && PARALLEL_OPS.has(steps[j].op)) j++;
      if (j === i) await one(i++);
      else {
        await eachLimited(acrossDirectories(steps, i, j), PARALLEL_WRITES, (k) => one(k));
        i = j;
      }
    }
    // One syncfs makes every written file durable before the commit point (an fsync per
    // file would cost more than the writes themselves on 50,000-file updates).
    await fsl.syncFs(image.root);
    await journal.commit();
  } catch (e) {
    const err = asImageError(e, 'execute failed at', image.root);
    try {
      await rollback(image, journal, cache, fsl);
    } catch (re) {
      throw new ImageError(
        'IO_ERROR',
        `${err.message}; rolling back also failed (${(re as Error).message}); the journal is kept and the next execute or recover finishes the rollback`,
        { cause: err.code },
        { cause: re },
      );
    }
    await appendHistory(image.root, {
      op: 'execute',
      plan: journal.intent.plan,
      outcome: 'rolled-back',
      steps: total,
      error: { code: err.code, message: err.message },
    }).catch(() => undefined);
    throw new ImageError(
      err.code,
      `${err.message} (the image was rolled back to its state before the update)`,
      { ...err.details, rolledBack: true },
      { cause: e },
    );
  }
}

/** Counts the steps whose ids were not applied because this execute is not root. */
function noteOwners(result: ExecuteResult, steps: readonly Step[], opts: ExecuteOptions): void {
  if ((opts.uid ?? effectiveUid()) === 0) return;
  // Files and directories; a rewritten account file only keeps the owner it had.
  const n = steps.filter(
    (s) => (s.op === 'write' || s.op === 'mkdir') && (s.uid !== undefined || s.gid !== undefined),
  ).length;
  if (n > 0) result.ownersNotApplied = n;
}

const PARALLEL_OPS: ReadonlySet<Step['op']> = new Set(['write', 'symlink']);
/** File writes in flight at once: enough to keep the thread pool (4 threads) and the disk busy. */
const PARALLEL_WRITES = 8;

/**
 * Steps from..to-1 reordered so that consecutive ones lie in different directories (the first
 * file of each directory, then the second of each...). Creating and renaming a file lock its
 * directory: eight writes into one directory at once spun on that lock, which made an install
 * up to 9x slower than cp -a when file creation was slow (ext4 without a journal skips inodes
 * freed in the last minutes, one check per creation).
 */
export function acrossDirectories(steps: readonly Step[], from: number, to: number): number[] {
  const seen = new Map<string, number>();
  const rank: number[] = [];
  for (let i = from; i < to; i++) {
    const p = steps[i].path;
    const dir = p.slice(0, Math.max(0, p.lastIndexOf('/')));
    const n = seen.get(dir) ?? 0;
    seen.set(dir, n + 1);
    rank.push(n);
  }
  return Array.from({ length: to - from }, (_, k) => from + k).sort((a, b) => rank[a - from] - rank[b - from] || a - b);
}

async function rollback(image: Image, journal: Journal, cache: ContentCache, fsl: FsLayer): Promise<void> {
  // A directory's old owner is given back when this process may (a no-op for steps that set none).
  const runner = new StepRunner(image.root, journal, cache, fsl, false, effectiveUid() === 0);
  const steps = journal.intent.steps;
  for (let i = steps.length - 1; i >= 0; i--) await runner.undo(i, steps[i]);
  const dirs = [...journal.intent.createdDirs].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const d of dirs) {
    try {
      await fsl.rmdir(runner.full(d));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY') throw e;
    }
  }
  await journal.remove();
}

/**
 * After the commit point: backups of removed directories that still hold files nobody packaged
 * are salvaged to var/pkg/lost+found (as pkg(5) does); everything else in the journal goes.
 */
async function finish(image: Image, journal: Journal, fsl: FsLayer): Promise<void> {
  const steps = journal.intent.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.op !== 'remove' || s.existed !== 'dir') continue;
    const bak = journal.backupPath(i);
    let entries: string[];
    try {
      entries = await fsl.readdir(bak);
    } catch {
      continue;
    }
    if (entries.length === 0) continue;
    const dest = path.join(image.root, 'var/pkg/lost+found', `${s.path.replace(/\//g, '%2F')}-${Date.now()}`);
    await mkdirp(fsl, path.dirname(dest));
    await fsl.rename(bak, dest);
  }
  await journal.remove();
  // Version directories of replaced manifests are empty now; tidy them (best effort).
  for (const s of steps) {
    if (s.op !== 'remove' || !s.path.startsWith('var/pkg/pkg/')) continue;
    for (const dir of [path.dirname(s.path), path.dirname(path.dirname(s.path))]) {
      await fsl.rmdir(path.join(image.root, dir)).catch(() => undefined);
    }
  }
}

async function mkdirp(fsl: FsLayer, dir: string): Promise<void> {
  try {
    await fsl.lstat(dir);
  } catch {
    await mkdirp(fsl, path.dirname(dir));
    await fsl.mkdir(dir, 0o755).catch((e) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    });
  }
}

async function buildSteps(
  image: Image,
  p: Plan,
  cache: ContentCache,
  fsl: FsLayer,
  opts: ExecuteOptions,
): Promise<Step[]> {
  const actions = await withPool(opts.origins, (pool) => planActions(image, p, cache, pool));
  const files = actions.filter((c) => c.to?.type === 'file');
  const present = await cache.presentFiles(files.map((c) => c.to!.hash!));
  const missing = files.find((c) => !present.has(c.to!.hash!));
  if (missing) {
    throw new ImageError(
      'NOT_PREPARED',
      `Plan is not prepared: content ${missing.to!.hash} for ${missing.path} (${missing.owner}) is not in the content cache; run prepare first`,
      { path: missing.path, hash: missing.to!.hash },
    );
  }
  // Paths found absent: nothing can lie below them (a fresh install looks up 50,000 paths, most
  // under directories that do not exist yet; one lstat each was seconds of its execute).
  const absent = new Set<string>();
  const underAbsent = (rel: string) => {
    for (let k = rel.indexOf('/'); k !== -1; k = rel.indexOf('/', k + 1)) if (absent.has(rel.slice(0, k))) return true;
    return false;
  };
  const onDisk = async (rel: string): Promise<OnDisk> => {
    if (underAbsent(rel)) return { existed: null };
    const full = path.join(image.root, rel);
    try {
      const st = await fsl.lstat(full);
      const existed = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
      return {
        existed,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        hash: (algorithm) => hashFile(full, algorithm),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        absent.add(rel);
        return { existed: null };
      }
      throw asImageError(e, 'cannot inspect', full);
    }
  };
  const steps = await stepsFor(actions, onDisk);
  const state = await image.readState();
  const manifests = await planManifests(image, p, cache, state);
  const variants = image.variants();

  // Hardlinks to files this plan rewrites follow them to their new inode: the hardlinks the image
  // has after the plan, as the diff chose them (variants, facets, the selected mediation).
  const afterList = [...manifests.kept, ...manifests.next];
  const keepAfter = actionFilter(afterList, variants, filterSettings(p.settings ?? settingsOf(image)));
  const after = afterList.flatMap((m) => m.manifest.actions.filter((a) => a.type === 'hardlink' && keepAfter(a)));
  steps.push(...(await relinkSteps(steps, after, onDisk)));

  // Users and groups are decided against the account files as the file steps leave them; then
  // every owner=/group= name resolves, even one the same plan delivers. The account files are
  // rewritten after the file steps (which may deliver them) and before the metadata.
  const accounts = await planAccounts(image.root, manifests, variants, steps, cache, onDisk, opts.accounts);
  applyIds(steps, actions, accounts.idsOf);
  steps.push(...accounts.steps());

  // Metadata last: the new manifests, then state.json. Until the commit point they are backed
  // up like any file, so a rollback also restores what the image says is installed.
  const packages = { ...state.packages };
  for (const c of p.changes) {
    if (c.from) {
      const rel = manifestRelPath(Fmri.parse(c.from));
      steps.push({ op: 'remove', path: rel, existed: (await onDisk(rel)).existed });
      delete packages[c.stem];
    }
  }
  for (const c of p.changes) {
    if (c.to) {
      const rel = manifestRelPath(Fmri.parse(c.to));
      steps.push({ op: 'write-manifest', path: rel, digest: c.manifest!, existed: (await onDisk(rel)).existed });
      packages[c.stem] = { fmri: c.to, manifest: c.manifest! };
    }
  }
  const next = nextState(state, { packages, lastPlan: p.digest });
  steps.push({ op: 'write-text', path: STATE_FILE, text: JSON.stringify(next, null, 2) + '\n', existed: 'file' });
  return steps;
}

async function missingParents(root: string, steps: Step[], fsl: FsLayer): Promise<string[]> {
  const known = new Map<string, boolean>();
  const created: string[] = [];
  for (const s of steps) {
    const parts = s.path.split('/');
    let cur = '';
    for (let k = 0; k < parts.length - 1; k++) {
      cur = cur ? `${cur}/${parts[k]}` : parts[k];
      if (known.has(cur)) continue;
      let present = true;
      try {
        await fsl.lstat(path.join(root, cur));
      } catch {
        present = false;
      }
      known.set(cur, present);
      if (!present) created.push(cur);
    }
    if (s.op === 'mkdir') known.set(s.path, true); // a directory the plan itself creates is undone by its own step
  }
  return created;
}

function hashFile(p: string, algorithm: 'sha1' | 'sha256'): Promise<string | null> {
  return new Promise((resolve) => {
    const h = createHash(algorithm);
    createReadStream(p)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', () => resolve(null));
  });
}
