import { readFileSync } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';
import { FsLayer } from '../image/fs-layer';
import type { Step } from '../model/steps';

export const JOURNAL_DIR = 'var/pkg/journal';

export interface Intent {
  plan: string; // digest of the plan being executed
  steps: Step[];
  /** Directories that did not exist when the intent was written and that steps will create implicitly. */
  createdDirs: string[];
  /** The kernel's boot ID when the intent was written (absent where the system has none). */
  bootId?: string;
}

let bootIdCache: string | null | undefined;

/** This boot's ID (Linux: /proc/sys/kernel/random/boot_id), or null where there is none. */
export function currentBootId(): string | null {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache;
}

/**
 * The on-disk journal of one execute, under var/pkg/journal:
 *   intent.json   every step, written and fsynced before the first change (the commit of intent)
 *   done          indices of finished steps, appended in batches (lost tail = steps redone; each is idempotent)
 *   committed     written (fsynced) after the last step: from then on the update is never rolled back
 *   backup/<i>    what step i displaced (renamed, never copied), restored by a rollback
 *   tmp/<i>       step i's new content before it is renamed into place (file and symlink steps
 *                 build theirs beside the path instead, as .li-tmp.<i>; see step-runner.ts)
 * A SIGKILL at any point leaves enough here for the next execute to resume or roll back.
 */
export class Journal {
  private pending: number[] = [];

  private constructor(
    readonly dir: string,
    private readonly fs: FsLayer,
    readonly intent: Intent,
    readonly done: Set<number>,
  ) {}

  static path(root: string): string {
    return path.join(root, JOURNAL_DIR);
  }

  /** The journal left by an earlier execute, or null. An unreadable intent means no change was made yet. */
  static async load(root: string, fsl: FsLayer): Promise<Journal | null> {
    const dir = Journal.path(root);
    let raw: Buffer;
    try {
      raw = await fsl.readFile(path.join(dir, 'intent.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot read journal', dir, e);
      // A journal directory without an intent died before its first change: nothing to undo.
      await fsl.rmTree(dir);
      return null;
    }
    let intent: Intent;
    try {
      intent = JSON.parse(raw.toString('utf8'));
    } catch {
      // intent.json is written whole and fsynced before any step runs, so a torn one means no step ran.
      await fsl.rmTree(dir);
      return null;
    }
    const done = new Set<number>();
    try {
      for (const line of (await fsl.readFile(path.join(dir, 'done'))).toString('utf8').split('\n'))
        if (line) done.add(Number(line));
      // After a host crash the done log may have reached the disk while the files its steps
      // wrote had not (they are flushed once, before the commit point): on another boot every
      // step is redone (each is idempotent) rather than trusted.
      const boot = currentBootId();
      if (intent.bootId && boot && intent.bootId !== boot) done.clear();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot read journal', dir, e);
    }
    return new Journal(dir, fsl, intent, done);
  }

  static async begin(root: string, fsl: FsLayer, intent: Intent): Promise<Journal> {
    const dir = Journal.path(root);
    try {
      await fsl.rmTree(dir);
      await fsl.mkdir(dir, 0o700);
      await fsl.mkdir(path.join(dir, 'backup'), 0o700);
      await fsl.mkdir(path.join(dir, 'tmp'), 0o700);
      await fsl.writeDurable(path.join(dir, 'intent.json'), JSON.stringify(intent));
    } catch (e) {
      await fsl.rmTree(dir).catch(() => undefined);
      throw e instanceof ImageError ? e : ioError('cannot write journal', dir, e);
    }
    return new Journal(dir, fsl, intent, new Set());
  }

  backupPath(i: number): string {
    return path.join(this.dir, 'backup', String(i));
  }

  tmpPath(i: number): string {
    return path.join(this.dir, 'tmp', String(i));
  }

  async isCommitted(): Promise<boolean> {
    try {
      await this.fs.lstat(path.join(this.dir, 'committed'));
      return true;
    } catch {
      return false;
    }
  }

  /** Records a finished step; flushed (with fsync) every `every` steps. */
  async markDone(i: number, every = 256): Promise<void> {
    this.done.add(i);
    this.pending.push(i);
    if (this.pending.length >= every) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const lines = this.pending.map((i) => `${i}\n`).join('');
    this.pending = [];
    await this.fs.append(path.join(this.dir, 'done'), lines, true);
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.fs.writeDurable(path.join(this.dir, 'committed'), this.intent.plan + '\n');
  }

  async remove(): Promise<void> {
    await this.fs.rmTree(this.dir);
  }
}
