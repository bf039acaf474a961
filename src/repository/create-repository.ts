import { promises as fsp } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';
import { writeFileAtomic } from '../image/atomic-write';
import { emptyCatalog, writeCatalogFile } from './catalog';
import { assertPublisherName, catalogPath, configPath, publisherDir } from './layout';
import { formatRepositoryConfig, readRepositoryConfig } from './repository-config';
import { LockOptions, withRepositoryLock } from './repository-lock';

/**
 * Creates an empty repository at `root` (which may exist, e.g. an empty directory).
 * `pkg5.repository` is written last: it is what marks a directory as a repository, so a
 * crash part-way leaves something `createRepository` can simply be run on again.
 */
export async function createRepository(root: string, opts: { publisher: string }): Promise<void> {
  assertPublisherName(opts.publisher);
  try {
    await fsp.access(configPath(root));
    throw new ImageError('BAD_REQUEST', `${root} already holds a package repository (found ${configPath(root)})`, {
      path: root,
    });
  } catch (e) {
    if (e instanceof ImageError) throw e;
  }
  await ensurePublisher(root, opts.publisher);
  await writeFileAtomic(configPath(root), formatRepositoryConfig(opts.publisher));
}

/** Adds an empty publisher to an existing repository; BAD_REQUEST if it is already there. */
export async function addPublisher(root: string, publisher: string, opts: LockOptions = {}): Promise<void> {
  assertPublisherName(publisher);
  await readRepositoryConfig(root);
  await withRepositoryLock(
    root,
    async () => {
      if (!(await ensurePublisher(root, publisher))) {
        throw new ImageError('BAD_REQUEST', `Publisher '${publisher}' is already in repository ${root}`, {
          publisher,
          path: root,
        });
      }
    },
    opts,
  );
}

/**
 * Makes the publisher's directories and an empty catalog if they are missing.
 * Returns false when the publisher already had a catalog. Call with the lock held
 * (or before the repository exists).
 */
export async function ensurePublisher(root: string, publisher: string): Promise<boolean> {
  const dir = publisherDir(root, publisher);
  try {
    for (const sub of ['catalog', 'pkg', 'file']) await fsp.mkdir(path.join(dir, sub), { recursive: true });
  } catch (e) {
    throw ioError('Cannot create', dir, e);
  }
  try {
    await fsp.access(catalogPath(root, publisher));
    return false;
  } catch {
    await writeCatalogFile(root, emptyCatalog(publisher));
    return true;
  }
}
