import * as path from 'path';
import { ContentCache } from '../../src/cache/content-cache';
import { execute } from '../../src/stages/execute';
import { Fmri } from '../../src/model/fmri';
import { Image } from '../../src/image/image';
import { plan, PlanRequest } from '../../src/stages/plan';
import { prepare } from '../../src/stages/prepare';
import { ParentState } from '../../src/model/parent-constraint';
import { createRepository, publishTree } from '../../src/repository';
import { attachChild } from '../../src/image/linked';
import { tempDir, writeTree } from './tree';

export type TreeSpec = Parameters<typeof writeTree>[1];

/** A repository with publisher `pub` in a fresh temp dir. */
export async function makeRepo(pub = 'test'): Promise<string> {
  const repo = path.join(await tempDir('repo'), 'repo');
  await createRepository(repo, { publisher: pub });
  return repo;
}

/** Publishes `name@version` whose payload is the given tree; returns the full FMRI. */
export async function publishPkg(
  repo: string,
  fmri: string,
  tree: TreeSpec,
  opts: { depends?: string[]; actions?: string[]; publisher?: string } = {},
): Promise<Fmri> {
  const dir = await tempDir('tree');
  await writeTree(dir, tree);
  return publishTree(repo, { fmri, dir, depends: opts.depends, actions: opts.actions, publisher: opts.publisher });
}

/** An image using `origin` for publisher `pub`. */
export async function makeImage(
  origin: string,
  opts: { pub?: string; zone?: 'global' | 'nonglobal'; root?: string } = {},
): Promise<Image> {
  const root = opts.root ?? path.join(await tempDir('img'), 'root');
  return Image.create(root, {
    publishers: [{ name: opts.pub ?? 'test', origins: [origin], sticky: true, enabled: true }],
    variants: { 'variant.opensolaris.zone': opts.zone ?? 'global' },
  });
}

export async function makeCache(): Promise<ContentCache> {
  return ContentCache.open(path.join(await tempDir('cache'), 'cache'));
}

/** plan + prepare + execute, as one update. */
export async function update(
  image: Image,
  cache: ContentCache,
  request: PlanRequest = {},
  parent?: ParentState | null,
) {
  const p = await plan(image, request, parent, { cache });
  await prepare(image, p, cache);
  const result = await execute(image, p, cache);
  return { plan: p, result };
}

export function fileUrl(p: string): string {
  return 'file://' + p;
}

/**
 * A parent image and a zone attached to it as `zone:z1`, both on `repo` (published already),
 * with `install.parent` and `install.child` installed (FMRI patterns), and their content cache.
 */
export async function linkedImages(
  repo: string,
  install: { parent: string[]; child: string[] },
): Promise<{ parent: Image; child: Image; cache: ContentCache }> {
  const parent = await makeImage(fileUrl(repo), { root: path.join(await tempDir('host'), 'root') });
  const child = await makeImage(fileUrl(repo), { zone: 'nonglobal', root: path.join(await tempDir('zone'), 'root') });
  await attachChild(parent, child, 'zone:z1');
  await child.reload();
  const cache = await makeCache();
  await update(parent, cache, { install: install.parent });
  await update(child, cache, { install: install.child });
  return { parent, child, cache };
}
