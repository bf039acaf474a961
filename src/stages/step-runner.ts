import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { ImageError, ioError, isImageError } from '../model/errors';
import { FsLayer } from '../image/fs-layer';
import { Journal } from './journal';
import { Ids, Step } from '../model/steps';

/**
 * Applies and undoes journal steps. Every step is idempotent, so a resumed execute may redo
 * steps whose completion was not yet flushed to the journal:
 *   - what lies at a path is moved to backup/<i> only if backup/<i> does not exist yet;
 *   - new content is built in a temp file and renamed over the path (atomic; rename never
 *     follows a symlink in its last component, it replaces the link itself). File and symlink
 *     writes build it beside the path, as `.li-tmp.<i>` (as pkg(5) does with mkstemp in the
 *     target's directory): a rename across directories takes the kernel's file-system-wide
 *     rename lock, and 40,000 temp files in one directory queue on that directory's lock. The
 *     temp file is created exclusively (a symlink planted at its name is never followed), and
 *     undo removes a leftover one. Other steps (few) build in the journal's tmp/<i>.
 * A child image is written by the host as root, so no step may follow a symlink planted in the
 * child: every parent directory of a path is lstat-ed (and created if missing) before use.
 * Residual race: a process inside the child could swap a checked directory for a symlink
 * between the check and the write; Node has no openat(O_NOFOLLOW), so updates assume the
 * child's processes do not fight the update (pkg(5) makes the same assumption for zones).
 */
export class StepRunner {
  private readonly safeDirs = new Set<string>(['']);

  constructor(
    private readonly root: string,
    private readonly journal: Journal,
    private readonly cache: ContentCache,
    private readonly fs: FsLayer,
    /** A journal begun by this execute has no backups yet: skip looking for them (one lstat per step). */
    private readonly fresh = false,
    /**
     * Whether steps apply their owner and group (uid/gid): only root may give a file away, so
     * execute sets this when running as root and reports the ids it could not apply otherwise.
     */
    private readonly owners = false,
  ) {}

  full(rel: string): string {
    return path.join(this.root, rel);
  }

  async apply(i: number, s: Step): Promise<void> {
    const target = this.full(s.path);
    // A removal never creates directories: when a parent is gone (a resumed execute already
    // moved it to the backup), the path is gone too and there is nothing left to do.
    if (!(await this.safeParents(s.path, s.op !== 'remove'))) return;
    switch (s.op) {
      case 'mkdir': {
        if (s.existed === 'dir' && (await this.kind(target)) === 'dir') {
          await this.chown(target, s);
          await this.fs.chmod(target, s.mode);
          break;
        }
        await this.displace(i, target);
        if ((await this.kind(target)) !== 'dir') await this.fs.mkdir(target, s.mode);
        await this.chown(target, s);
        await this.fs.chmod(target, s.mode);
        this.safeDirs.add(s.path);
        break;
      }
      case 'write': {
        const tmp = besideTmp(target, i);
        await this.exclusively(tmp, () => this.fs.copyFile(this.cache.filePath(s.hash), tmp, true));
        // Owner before mode: a chown clears the set-id bits a mode such as 04555 sets.
        await this.chown(tmp, s);
        await this.fs.chmod(tmp, s.mode);
        // Nothing lay here when this execute's intent was written moments ago: no backup to make.
        if (!(this.fresh && s.existed === null)) await this.displace(i, target);
        await this.fs.rename(tmp, target);
        break;
      }
      case 'write-manifest': {
        const text = await this.cache.getManifest(s.digest);
        if (text === null)
          throw new ImageError(
            'NOT_PREPARED',
            `Manifest ${s.digest} is no longer in the content cache; prepare the plan again`,
            { digest: s.digest },
          );
        await this.replaceWithText(i, target, text);
        break;
      }
      case 'write-text':
        await this.replaceWithText(i, target, s.text, s);
        break;
      case 'symlink': {
        const tmp = besideTmp(target, i);
        await this.exclusively(tmp, () => this.fs.symlink(s.target, tmp));
        if (!(this.fresh && s.existed === null)) await this.displace(i, target);
        await this.fs.rename(tmp, target);
        break;
      }
      case 'hardlink': {
        await this.safeParents(s.target);
        const src = this.full(s.target);
        if ((await this.kind(src)) !== 'file') {
          throw new ImageError(
            'PATH_OUTSIDE_IMAGE',
            `Refusing hardlink ${s.path} -> ${s.target}: the target is not a regular file inside the image`,
            { path: s.path, target: s.target },
          );
        }
        const tmp = this.journal.tmpPath(i);
        await this.fs.rmTree(tmp);
        await this.fs.link(src, tmp);
        await this.displace(i, target);
        await this.fs.rename(tmp, target);
        break;
      }
      case 'copy-aside': {
        // The source may already sit in its own step's backup if that step ran before a crash.
        const bak = this.journal.backupPath(s.sourceStep);
        const from = (await this.kind(bak)) ? bak : this.full(s.source);
        const tmp = this.journal.tmpPath(i);
        await this.fs.copyFile(from, tmp);
        await this.displace(i, target);
        await this.fs.rename(tmp, target);
        break;
      }
      case 'remove':
        await this.displace(i, target);
        break;
    }
  }

  /** Undoes step i whether it ran fully, partly or not at all. */
  async undo(i: number, s: Step): Promise<void> {
    const target = this.full(s.path);
    if (s.op === 'write' || s.op === 'symlink') await this.removeLeftover(besideTmp(target, i));
    const bak = this.journal.backupPath(i);
    if (await this.kind(bak)) {
      await this.clear(target);
      await this.fs.rename(bak, target);
    } else if (s.op === 'mkdir' && s.existed === 'dir') {
      if ((await this.kind(target)) === 'dir') {
        // Only the ids this step changed are given back.
        await this.chown(target, {
          uid: s.uid !== undefined ? s.oldUid : undefined,
          gid: s.gid !== undefined ? s.oldGid : undefined,
        });
        if (s.oldMode !== undefined) await this.fs.chmod(target, s.oldMode);
      }
    } else if (s.op !== 'remove' && s.existed === null) {
      await this.clear(target);
    }
  }

  /**
   * Runs a create-exclusive `make` of `tmp`. Only a resumed execute can find something there
   * (its own leftover, or anything planted since): it is removed and `make` tried again.
   */
  private async exclusively(tmp: string, make: () => Promise<void>): Promise<void> {
    try {
      await make();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await this.fs.rmTree(tmp);
      await make();
    }
  }

  private async removeLeftover(tmp: string): Promise<void> {
    try {
      await this.fs.rmTree(tmp);
    } catch (e) {
      // ENOTDIR: a file stands where the directory was, so nothing can be left inside it.
      if ((e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    }
  }

  /** Moves what lies at `target` into backup/<i>, once. */
  private async displace(i: number, target: string): Promise<void> {
    const bak = this.journal.backupPath(i);
    if (!this.fresh && (await this.kind(bak))) return;
    if (!(await this.kind(target))) return;
    await this.fs.rename(target, bak);
  }

  /** Gives `p` the step's owner and group, when this runner applies them and the step has any. */
  private async chown(p: string, ids: Ids): Promise<void> {
    if (!this.owners || (ids.uid === undefined && ids.gid === undefined)) return;
    await this.fs.chown(p, ids.uid ?? -1, ids.gid ?? -1);
  }

  private async replaceWithText(
    i: number,
    target: string,
    text: string,
    meta: Ids & { mode?: number } = {},
  ): Promise<void> {
    const tmp = this.journal.tmpPath(i);
    await this.fs.writeDurable(tmp, text);
    await this.chown(tmp, meta);
    if (meta.mode !== undefined) await this.fs.chmod(tmp, meta.mode);
    await this.displace(i, target);
    await this.fs.rename(tmp, target);
  }

  private async clear(target: string): Promise<void> {
    const k = await this.kind(target);
    if (!k) return;
    if (k === 'dir') {
      try {
        await this.fs.rmdir(target);
      } catch (e) {
        // Left in place: something other than this update put files in it.
        if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw e;
      }
    } else await this.fs.unlink(target);
  }

  private async kind(p: string): Promise<'dir' | 'file' | 'link' | null> {
    try {
      const st = await this.fs.lstat(p);
      return st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /**
   * Checks each parent directory of an image path without following symlinks, creating missing
   * ones when `create` is set; false when one is missing and was not created.
   */
  async safeParents(rel: string, create = true): Promise<boolean> {
    const parts = rel.split('/');
    let cur = '';
    for (let k = 0; k < parts.length - 1; k++) {
      cur = cur ? `${cur}/${parts[k]}` : parts[k];
      if (this.safeDirs.has(cur)) continue;
      const full = this.full(cur);
      const k2 = await this.kind(full);
      if (k2 === 'link') {
        let to = '?';
        try {
          to = await this.fs.readlink(full);
        } catch {
          /* only for the message */
        }
        throw new ImageError(
          'PATH_OUTSIDE_IMAGE',
          `Refusing to write ${rel} in ${this.root}: '${cur}' is a symlink (to '${to}') and following it could leave the image`,
          { path: rel, symlink: cur, target: to },
        );
      }
      if (k2 === 'file')
        throw new ImageError(
          'BAD_IMAGE',
          `Cannot write ${rel} in ${this.root}: '${cur}' is a file, expected a directory`,
          { path: rel },
        );
      if (!k2) {
        if (!create) return false;
        try {
          await this.fs.mkdir(full, 0o755);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('cannot create directory', full, e);
          continue; // re-checked on the next call: it appeared concurrently
        }
      }
      this.safeDirs.add(cur);
    }
    return true;
  }
}

/** The temp file a write or symlink step builds beside its path. */
export function besideTmp(target: string, i: number): string {
  return path.join(path.dirname(target), `.li-tmp.${i}`);
}

export function asImageError(e: unknown, what: string, where: string): ImageError {
  return isImageError(e) ? e : ioError(what, where, e);
}
