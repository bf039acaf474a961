import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';

export interface AtomicWriteOptions {
  /**
   * fsync the file before the rename and the directory after it. Without both, a power loss
   * can leave the new name pointing at an empty or truncated file (ext4/xfs delayed allocation).
   * @default true
   */
  fsync?: boolean;
  /**
   * Fail with IO_ERROR (details.errno 'EEXIST') instead of replacing an existing file. The
   * complete temp file is hard-linked into place, so the name never shows partial content and
   * two racing writers cannot both succeed.
   * @default false
   */
  exclusive?: boolean;
}

/**
 * Replaces `file` with `data` so that readers and a crash see either the old or the new bytes,
 * never a mixture: the data goes to a temp file in the same directory (rename is atomic only
 * within one file system), is flushed, and is then renamed over the target.
 * The temp name holds the pid and random bytes so concurrent writers never share a temp file;
 * it starts with '.' and ends '.tmp' so directory listings can skip leftovers of a crash.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const sync = opts.fsync ?? true;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let step = 'Cannot create temp file for';
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    step = 'Cannot write';
    await handle.writeFile(data);
    if (sync) await handle.sync();
    await handle.close();
    handle = undefined;
    step = opts.exclusive ? 'Cannot create' : 'Cannot replace';
    if (opts.exclusive) {
      await fs.link(tmp, file);
      await fs.unlink(tmp);
    } else {
      await fs.rename(tmp, file);
    }
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e instanceof ImageError ? e : ioError(step, file, e);
  }
  if (sync) await syncDir(dir);
}

/** Makes a rename or unlink inside `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (e) {
    // Some file systems (and platforms other than Linux) refuse fsync on a directory; the
    // rename has happened, so durability is best effort there rather than an error.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF')
      throw ioError('Cannot fsync directory', dir, e);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
