import {
  chmodSync,
  constants,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  renameSync,
  Stats,
  symlinkSync,
  promises as fs,
} from 'fs';
import { syncFsHelper } from './syncfs-helper';

/**
 * The file-system calls execute makes, injectable so tests can fail any of them (EIO, ENOSPC)
 * at a chosen point and check that the image is rolled back, without monkeypatching `fs`.
 */
export interface FsLayer {
  lstat(p: string): Promise<Stats>;
  mkdir(p: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(p: string): Promise<void>;
  rmdir(p: string): Promise<void>;
  rmTree(p: string): Promise<void>;
  symlink(target: string, p: string): Promise<void>;
  link(existing: string, p: string): Promise<void>;
  /** With `exclusive`, fails with EEXIST when `to` exists (a symlink there is not followed). */
  copyFile(from: string, to: string, exclusive?: boolean): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  /**
   * Sets the numeric owner and group of `p` itself (never of a symlink's target); -1 leaves one
   * as it is. Execute calls it only when running as root, before chmod: a chown clears set-id bits.
   */
  chown(p: string, uid: number, gid: number): Promise<void>;
  readlink(p: string): Promise<string>;
  readdir(p: string): Promise<string[]>;
  readFile(p: string): Promise<Buffer>;
  /** Writes and fsyncs a file, then fsyncs its directory: the data is durable when this resolves. */
  writeDurable(p: string, data: string | Buffer): Promise<void>;
  /** Appends to a file; with `sync`, the append is durable when this resolves. */
  append(p: string, data: string, sync: boolean): Promise<void>;
  /** Flushes the whole file system holding `p` (one syncfs instead of an fsync per file). */
  syncFs(p: string): Promise<void>;
}

async function fsyncPath(p: string): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The real calls. The cheap metadata calls execute makes once or twice per path (lstat, mkdir,
 * rename, symlink, chmod) and the copy of a (small) content file are made synchronously behind
 * the async interface: each thread-pool hand-off cost more than the call itself on a 2-vCPU VM
 * (a 50,000-step install: 4.1 s -> 3.3 s). execute yields to the event loop every few dozen
 * steps, so heartbeats and cancellation still get through.
 */
export const realFs: FsLayer = {
  lstat: async (p) => lstatSync(p),
  mkdir: async (p, mode) => {
    mkdirSync(p, { mode });
  },
  rename: async (a, b) => renameSync(a, b),
  unlink: (p) => fs.unlink(p),
  rmdir: (p) => fs.rmdir(p),
  rmTree: (p) => fs.rm(p, { recursive: true, force: true }),
  symlink: async (t, p) => symlinkSync(t, p),
  link: (a, b) => fs.link(a, b),
  copyFile: async (a, b, exclusive) => copyFileSync(a, b, exclusive ? constants.COPYFILE_EXCL : 0),
  chmod: async (p, m) => chmodSync(p, m),
  chown: async (p, u, g) => lchownSync(p, u, g),
  readlink: (p) => fs.readlink(p),
  readdir: (p) => fs.readdir(p),
  readFile: (p) => fs.readFile(p),
  writeDurable: async (p, data) => {
    const fh = await fs.open(p, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsyncPath(p.slice(0, p.lastIndexOf('/')) || '/');
  },
  append: async (p, data, sync) => {
    const fh = await fs.open(p, 'a');
    try {
      await fh.write(data);
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
  },
  syncFs: (p) => syncFsHelper.syncFs(p),
};
