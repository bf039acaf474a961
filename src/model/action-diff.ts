import { ImageError } from './errors';
import { Action, actionKey, actionsEqual, appliesTo, attr, FS_TYPES, Manifest } from './manifest';

export interface OwnedManifest {
  fmri: string;
  manifest: Manifest;
}

export interface ActionChange {
  kind: 'add' | 'update' | 'remove';
  path: string;
  /** The package delivering `to` (or, for a removal, the one that delivered `from`). */
  owner: string;
  from: Action | null;
  to: Action | null;
}

/**
 * The file-system actions that turn the old versions of the changed packages into the new ones,
 * in the order execute must apply them: removals (contents before their directories, deepest
 * first), then directories (shallowest first), then files and symlinks, then hardlinks (their
 * targets must exist first). A path is changed when its action differs (payload hash, mode,
 * type...), not merely because its package's version did. Unchanged packages still count:
 * a directory they also deliver is not removed, and a path they own cannot be taken over.
 */
export function diffActions(input: {
  old: OwnedManifest[];
  next: OwnedManifest[];
  kept: OwnedManifest[];
  variants: Readonly<Record<string, string>>;
}): ActionChange[] {
  const oldMap = indexActions(input.old, input.variants, true);
  const newMap = indexActions(input.next, input.variants, false);
  const keptMap = indexActions(input.kept, input.variants, true);
  const changes: ActionChange[] = [];
  for (const [path, n] of newMap) {
    const o = oldMap.get(path);
    const k = keptMap.get(path);
    if (k && !(k.action.type === 'dir' && n.action.type === 'dir' && actionsEqual(k.action, n.action))) {
      throw conflict(path, k.owner, n.owner);
    }
    if (o) {
      if (!actionsEqual(o.action, n.action))
        changes.push({ kind: 'update', path, owner: n.owner, from: o.action, to: n.action });
    } else if (!k) changes.push({ kind: 'add', path, owner: n.owner, from: null, to: n.action });
  }
  for (const [path, o] of oldMap) {
    if (!newMap.has(path) && !keptMap.has(path))
      changes.push({ kind: 'remove', path, owner: o.owner, from: o.action, to: null });
  }
  return orderForExecution(changes);
}

interface Owned {
  action: Action;
  owner: string;
}

function indexActions(
  list: OwnedManifest[],
  variants: Readonly<Record<string, string>>,
  tolerant: boolean,
): Map<string, Owned> {
  const map = new Map<string, Owned>();
  for (const { fmri, manifest } of list) {
    for (const a of manifest.actions) {
      if (!FS_TYPES.has(a.type) || !appliesTo(a, variants)) continue;
      const path = actionKey(a)!;
      const prev = map.get(path);
      if (prev && !(prev.action.type === 'dir' && a.type === 'dir' && actionsEqual(prev.action, a))) {
        // Already-installed state is what it is; only new deliveries may not collide.
        if (!tolerant) throw conflict(path, prev.owner, fmri);
        continue;
      }
      if (!prev) map.set(path, { action: a, owner: fmri });
    }
  }
  return map;
}

function conflict(path: string, a: string, b: string): ImageError {
  return new ImageError(
    'CONFLICTING_ACTIONS',
    `Conflicting actions for path '${path}': delivered differently by ${a} and ${b}`,
    { path, packages: [a, b] },
  );
}

const depth = (p: string) => p.split('/').length;

function orderForExecution(changes: ActionChange[]): ActionChange[] {
  const removes = changes.filter((c) => c.kind === 'remove');
  const writes = changes.filter((c) => c.kind !== 'remove');
  const byPath = (a: ActionChange, b: ActionChange) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const isDir = (c: ActionChange) => (c.to ?? c.from)!.type === 'dir';
  const rank = (c: ActionChange) =>
    (c.to ?? c.from)!.type === 'dir' ? 0 : (c.to ?? c.from)!.type === 'hardlink' ? 2 : 1;
  removes.sort((a, b) => Number(isDir(a)) - Number(isDir(b)) || depth(b.path) - depth(a.path) || byPath(a, b));
  writes.sort((a, b) => rank(a) - rank(b) || (rank(a) === 0 ? depth(a.path) - depth(b.path) : 0) || byPath(a, b));
  return [...removes, ...writes];
}

/** Bytes a file action installs (pkg.size), 0 when not recorded. */
export function actionSize(a: Action | null): number {
  const s = a ? attr(a, 'pkg.size') : undefined;
  return s ? Number(s) || 0 : 0;
}

/** Compressed bytes a file action downloads (pkg.csize), falling back to its size. */
export function actionCsize(a: Action): number {
  const s = attr(a, 'pkg.csize');
  return s ? Number(s) || 0 : actionSize(a);
}
