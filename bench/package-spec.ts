import { promises as fs } from 'fs';
import * as path from 'path';
import { binaryPayload, fileSize, Rng, seedOf, textPayload } from './payload';

export const PUBLISHER = 'bench';
/** Fixed so that the same parameters always publish the same manifests (and digests). */
export const PUBLISH_TIME = new Date('2026-01-01T00:00:00Z');

/** How one package's ~M file-system actions split into directories, files and symlinks. */
export interface PackageLayout {
  dirs: number;
  files: number;
  links: number;
}

/** ~10% directories (at least `opt` and the package's own), ~10% symlinks, the rest files: 50 → 5/40/5. */
export function layoutFor(actionsPerPackage: number): PackageLayout {
  if (!Number.isInteger(actionsPerPackage) || actionsPerPackage < 3)
    throw new Error(`Expected --actions-per-package to be an integer ≥ 3, got ${actionsPerPackage}`);
  const dirs = Math.max(2, Math.round(actionsPerPackage / 10));
  const links = Math.max(0, Math.min(Math.round(actionsPerPackage / 10), actionsPerPackage - dirs - 1));
  return { dirs, files: actionsPerPackage - dirs - links, links };
}

export function stemOf(i: number): string {
  return `bench/p${String(i).padStart(5, '0')}`;
}

export type TreeEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; mode: number; data: Buffer }
  | { kind: 'link'; path: string; target: string };

interface FileSlot {
  index: number;
  path: string;
  mode: number;
}

/**
 * The tree of package `i` at version 1 or 2. Version 2 rewrites a quarter of the files
 * (10 of 40), drops another one and adds a new one; directories and symlinks stay.
 */
export function packageTree(i: number, version: 1 | 2, layout: PackageLayout): TreeEntry[] {
  const base = `opt/p${String(i).padStart(5, '0')}`;
  const subs = ['bin', 'lib', 'share', 'etc', 'include', 'libexec', 'man', 'doc'];
  const dirs = ['opt', base];
  for (let k = 0; k < layout.dirs - 2; k++) dirs.push(`${base}/${subs[k % subs.length]}${k >= subs.length ? k : ''}`);
  const fileDirs = dirs.slice(1);

  const slot = (j: number): FileSlot => {
    const dir = fileDirs[j % fileDirs.length];
    const exec = dir.endsWith('/bin');
    return {
      index: j,
      path: `${dir}/f${String(j).padStart(3, '0')}${exec ? '' : j % 3 === 0 ? '.so' : '.txt'}`,
      mode: exec ? 0o755 : 0o644,
    };
  };
  let slots: FileSlot[] = Array.from({ length: layout.files }, (_, j) => slot(j));
  const revision = new Map<number, number>();
  if (version === 2) {
    // A seeded shuffle: the first quarter of the files change, the next one goes away.
    const pick = new Rng(seedOf(i, 0xc4a96e));
    const order = slots.map((s) => s.index);
    for (let k = order.length - 1; k > 0; k--) {
      const r = pick.int(0, k);
      [order[k], order[r]] = [order[r], order[k]];
    }
    const changes = Math.max(1, Math.round(layout.files / 4));
    for (const j of order.slice(0, changes)) revision.set(j, 2);
    if (layout.files > changes) {
      const gone = order[changes];
      slots = slots.filter((s) => s.index !== gone);
      slots.push(slot(layout.files)); // a new file, in a path version 1 did not have
    }
  }

  const out: TreeEntry[] = dirs.map((p) => ({ kind: 'dir' as const, path: p }));
  for (const s of slots) {
    const rng = new Rng(seedOf(i, s.index, revision.get(s.index) ?? 1));
    const size = fileSize(rng);
    const data = s.path.endsWith('.txt') || rng.float() < 0.3 ? textPayload(rng, size) : binaryPayload(rng, size);
    out.push({ kind: 'file', path: s.path, mode: s.mode, data });
  }
  const linkDir = fileDirs[Math.min(2, fileDirs.length - 1)];
  for (let k = 0; k < layout.links; k++) {
    const to = slot(k % layout.files).path;
    out.push({ kind: 'link', path: `${linkDir}/l${k}`, target: path.posix.relative(linkDir, to) });
  }
  return out;
}

export async function writePackageTree(root: string, entries: TreeEntry[]): Promise<void> {
  for (const e of entries) {
    const full = path.join(root, e.path);
    if (e.kind === 'dir') await fs.mkdir(full, { recursive: true });
    else if (e.kind === 'link') await fs.symlink(e.target, full);
    else {
      await fs.writeFile(full, e.data);
      await fs.chmod(full, e.mode); // writeFile's mode is masked by the umask
    }
  }
}
