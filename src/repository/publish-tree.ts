import { Stats, promises as fsp } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Action, parseAction } from '../model/manifest';
import { imagePathProblem } from '../model/paths';
import { validateForPublication } from '../model/publication-rules';
import { assertNotPublished, commitPackage, resolvePublishFmri } from './commit-package';
import { storeContent } from './content-store';
import { lockOptions, withPayloadInfo } from './publish';

export interface PublishTreeOptions {
  /** `name@version`, optionally `pkg://pub/name@version`. */
  fmri: string;
  /** The directory whose contents become the package (its root is the image root). */
  dir: string;
  summary?: string;
  /** Depend action attributes, e.g. `type=require fmri=pkg:/foo@1.0`. */
  depends?: string[];
  /** Whole extra action lines, e.g. `set name=variant.opensolaris.zone value=global value=nonglobal`. */
  actions?: string[];
  /** @default 'root' */
  owner?: string;
  /** @default 'bin' */
  group?: string;
  publisher?: string;
  /** Timestamp for a version without one. @default now */
  timestamp?: Date;
  /** See LockOptions.waitMs. */
  lockWaitMs?: number;
}

interface TreeEntry {
  rel: string;
  abs: string;
  st: Stats;
}

/**
 * Publishes the tree under `opts.dir` as one package, in path order so the same tree always
 * yields the same manifest. Files are stored as they are walked; a second path to an inode
 * already seen becomes a hardlink to the first (in path order).
 */
export async function publishTree(root: string, opts: PublishTreeOptions): Promise<Fmri> {
  const fmri = await resolvePublishFmri(root, Fmri.parse(opts.fmri), opts);
  await assertNotPublished(root, fmri);
  const publisher = fmri.publisher as string;
  const owner = opts.owner ?? 'root';
  const group = opts.group ?? 'bin';
  const actions: Action[] = [];
  if (opts.summary !== undefined)
    actions.push({ type: 'set', hash: null, attrs: { name: 'pkg.summary', value: opts.summary } });
  const extra = (opts.actions ?? []).map((line, i) => {
    const a = parseAction(line, i + 1, '--action');
    if (a.type === 'set' && a.attrs.name === 'pkg.fmri')
      throw new ImageError('BAD_REQUEST', `--action ${i + 1}: pkg.fmri is set from --fmri, not by an extra action`);
    return a;
  });
  const depends = (opts.depends ?? []).map((text, i) => parseAction(`depend ${text}`, i + 1, '--depend'));
  // Named by their place on the command line, as parse errors are.
  validateForPublication({ actions: extra, lines: extra.map((_, i) => i + 1) }, '--action');
  validateForPublication({ actions: depends, lines: depends.map((_, i) => i + 1) }, '--depend');
  actions.push(...extra, ...depends);

  const firstPathOfInode = new Map<string, string>();
  for (const e of await walk(opts.dir)) {
    if (e.st.isDirectory()) {
      actions.push({ type: 'dir', hash: null, attrs: { path: e.rel, mode: '0755', owner, group } });
    } else if (e.st.isSymbolicLink()) {
      const target = await fsp.readlink(e.abs).catch((err) => {
        throw ioError('Cannot read link', e.abs, err);
      });
      actions.push({ type: 'link', hash: null, attrs: { path: e.rel, target } });
    } else if (e.st.isFile()) {
      const inode = `${e.st.dev}:${e.st.ino}`;
      const first = e.st.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
      if (first !== undefined) {
        actions.push({
          type: 'hardlink',
          hash: null,
          attrs: { path: e.rel, target: path.posix.relative(path.posix.dirname(e.rel), first) },
        });
        continue;
      }
      if (e.st.nlink > 1) firstPathOfInode.set(inode, e.rel);
      const info = await storeContent(root, publisher, e.abs, { what: `file ${e.rel}` });
      const mode = (e.st.mode & 0o7777).toString(8).padStart(4, '0');
      actions.push(
        withPayloadInfo({ type: 'file', hash: info.hash, attrs: { path: e.rel, mode, owner, group } }, info),
      );
    } else {
      throw new ImageError(
        'BAD_REQUEST',
        `Cannot publish ${e.abs}: expected a directory, regular file or symbolic link`,
        { path: e.abs },
      );
    }
  }
  return commitPackage(root, fmri, actions, lockOptions(opts.lockWaitMs));
}

/** Every entry below `dir` (not `dir` itself), sorted by image path. */
async function walk(dir: string): Promise<TreeEntry[]> {
  try {
    if (!(await fsp.stat(dir)).isDirectory())
      throw new ImageError('BAD_REQUEST', `Expected --dir ${dir} to be a directory`, { path: dir });
  } catch (e) {
    if (e instanceof ImageError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ImageError('BAD_REQUEST', `Expected --dir ${dir} to exist`, { path: dir });
    throw ioError('Cannot read', dir, e);
  }
  const out: TreeEntry[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(abs);
    } catch (e) {
      throw ioError('Cannot list', abs, e);
    }
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const why = imagePathProblem(childRel);
      if (why) throw new ImageError('BAD_REQUEST', `Cannot publish '${childRel}': the path ${why}`, { path: childRel });
      const childAbs = path.join(abs, name);
      const st = await fsp.lstat(childAbs).catch((e) => {
        throw ioError('Cannot stat', childAbs, e);
      });
      out.push({ rel: childRel, abs: childAbs, st });
      if (st.isDirectory()) await visit(childAbs, childRel);
    }
  };
  await visit(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
