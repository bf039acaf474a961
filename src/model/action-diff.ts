import { ImageError } from './errors';
import type { Facets } from './facets';
import { Action, actionKey, actionsEqual, appliesTo, attr, FS_TYPES, Manifest } from './manifest';
import { mediationSelected, MediatorSetting, selectMediations } from './mediators';

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
 * What decides which of a manifest's actions an image installs besides its variants: its
 * facets and its mediator settings (see facets.ts, mediators.ts).
 */
export interface ActionFilterSettings {
  facets?: Facets;
  mediators?: Readonly<Record<string, MediatorSetting>>;
}

/**
 * The file-system actions that turn the old versions of the changed packages into the new ones,
 * in the order execute must apply them: removals (contents before their directories, deepest
 * first), then directories (shallowest first), then files and symlinks, then hardlinks (their
 * targets must exist first). A path is changed when its action differs (payload hash, mode,
 * type...), not merely because its package's version did. Unchanged packages still count:
 * a directory they also deliver is not removed, and a path they own cannot be taken over.
 *
 * Facets and mediators: an action is in the image when the image's facets allow it and, for
 * a mediated link, when its mediation is the selected one of its mediator, selected over every
 * package of that side (kept + old before, kept + next after). `settings` are the ones in
 * effect after the change; `before` (default: the same) the ones the image was installed
 * with, so that a facet or mediator change alone (`change-facet`, `set-mediator`) turns into
 * adds and removes. Links for one path from several packages are no conflict when they are
 * mediated: only the selected one is there.
 * @throws ImageError CONFLICTING_ACTIONS when two packages of the result deliver one path, or
 *   one user or group, differently.
 */
export function diffActions(input: {
  old: OwnedManifest[];
  next: OwnedManifest[];
  kept: OwnedManifest[];
  variants: Readonly<Record<string, string>>;
  settings?: ActionFilterSettings;
  before?: ActionFilterSettings;
}): ActionChange[] {
  checkAccounts(input.kept, input.next, input.variants);
  const after = input.settings ?? {};
  const before = input.before ?? after;
  const keepBefore = actionFilter([...input.kept, ...input.old], input.variants, before);
  const keepAfter = actionFilter([...input.kept, ...input.next], input.variants, after);
  // Kept first: a path an unchanged package delivers is theirs on both sides, whatever an old
  // version of a changed package also delivered there.
  const beforeMap = indexActions([...input.kept, ...input.old], keepBefore, null);
  const keptAfter = indexActions(input.kept, keepAfter, null);
  const newMap = indexActions(input.next, keepAfter, new Map());
  const afterMap = new Map(keptAfter);
  for (const [path, n] of newMap) {
    const k = keptAfter.get(path);
    if (k && !(k.action.type === 'dir' && n.action.type === 'dir' && actionsEqual(k.action, n.action))) {
      throw conflict(path, k.owner, n.owner);
    }
    if (!k) afterMap.set(path, n);
  }
  const changes: ActionChange[] = [];
  for (const [path, n] of afterMap) {
    const o = beforeMap.get(path);
    if (!o) changes.push({ kind: 'add', path, owner: n.owner, from: null, to: n.action });
    else if (!actionsEqual(o.action, n.action))
      changes.push({ kind: 'update', path, owner: n.owner, from: o.action, to: n.action });
  }
  // A directory no package delivers any more stays while a path that remains lies beneath it:
  // pkg(5) keeps such implicit directories (its image plan drops the removal of a directory the
  // remaining actions still need). Removing it would take the other packages' files with it.
  const implied = impliedDirectories(afterMap.keys());
  for (const [path, o] of beforeMap) {
    if (afterMap.has(path) || (o.action.type === 'dir' && implied.has(path))) continue;
    changes.push({ kind: 'remove', path, owner: o.owner, from: o.action, to: null });
  }
  return orderForExecution(changes);
}

/** Every proper ancestor directory of `paths` (image-relative, `/`-separated): `usr/bin/x` gives `usr/bin` and `usr`. */
function impliedDirectories(paths: Iterable<string>): Set<string> {
  const dirs = new Set<string>();
  for (const p of paths)
    for (let k = p.lastIndexOf('/'); k > 0; k = p.lastIndexOf('/', k - 1)) {
      const d = p.slice(0, k);
      if (dirs.has(d)) break; // its own ancestors are in already
      dirs.add(d);
    }
  return dirs;
}

interface Owned {
  action: Action;
  owner: string;
}

/**
 * Which file-system actions of `list` (one side of a change: every package it holds) the
 * image installs: variants, facets, and for mediated links the mediation selected over `list`.
 */
export function actionFilter(
  list: OwnedManifest[],
  variants: Readonly<Record<string, string>>,
  settings: ActionFilterSettings,
): (a: Action) => boolean {
  const facets = settings.facets;
  const links: Action[] = [];
  for (const { manifest } of list)
    for (const a of manifest.actions)
      if ((a.type === 'link' || a.type === 'hardlink') && a.attrs.mediator !== undefined && appliesTo(a, variants))
        if (!facets || facets.allowAction(a)) links.push(a);
  const selected = links.length ? selectMediations(links, settings.mediators) : null;
  return (a) =>
    FS_TYPES.has(a.type) &&
    appliesTo(a, variants) &&
    (!facets || facets.allowAction(a)) &&
    (!selected || mediationSelected(a, selected));
}

/** Path -> action; `strict` (a map, even empty) refuses two different deliveries of a path, null tolerates them (installed state is what it is). */
function indexActions(
  list: OwnedManifest[],
  keep: (a: Action) => boolean,
  strict: Map<string, Owned> | null,
): Map<string, Owned> {
  const map = strict ?? new Map<string, Owned>();
  for (const { fmri, manifest } of list) {
    for (const a of manifest.actions) {
      if (!keep(a)) continue;
      const path = actionKey(a)!;
      const prev = map.get(path);
      if (prev && !(prev.action.type === 'dir' && a.type === 'dir' && actionsEqual(prev.action, a))) {
        // Already-installed state is what it is; only new deliveries may not collide.
        if (strict) throw conflict(path, prev.owner, fmri);
        continue;
      }
      if (!prev) map.set(path, { action: a, owner: fmri });
    }
  }
  return map;
}

/**
 * Packages may deliver the same user or group only with the same attributes: pkg(5) refuses an
 * operation whose result has two `user username=x` (or `group groupname=x`) actions that differ
 * (imageplan.py __find_inconsistent_attrs, InconsistentActionAttributeError). Checked where a
 * package being installed takes part, as for paths, so that an image is never left with two
 * packages fighting over an account's uid or home.
 * @throws ImageError CONFLICTING_ACTIONS naming the account, both packages and the attributes that differ.
 */
function checkAccounts(kept: OwnedManifest[], next: OwnedManifest[], variants: Readonly<Record<string, string>>): void {
  const seen = new Map<string, { action: Action; owner: string; isNew: boolean }>();
  for (const [list, isNew] of [
    [kept, false],
    [next, true],
  ] as const) {
    for (const { fmri, manifest } of list) {
      for (const a of manifest.actions) {
        if ((a.type !== 'user' && a.type !== 'group') || !appliesTo(a, variants)) continue;
        const key = `${a.type} '${attr(a, a.type === 'user' ? 'username' : 'groupname')}'`;
        const prev = seen.get(key);
        if (!prev) seen.set(key, { action: a, owner: fmri, isNew });
        else if ((isNew || prev.isNew) && !actionsEqual(prev.action, a)) {
          const keys = [...new Set([...Object.keys(prev.action.attrs), ...Object.keys(a.attrs)])].sort();
          const differ = keys.filter((k) => String(prev.action.attrs[k] ?? '') !== String(a.attrs[k] ?? ''));
          throw new ImageError(
            'CONFLICTING_ACTIONS',
            `Conflicting actions for ${key}: delivered by ${prev.owner} and ${fmri} with different ${differ
              .map(
                (k) =>
                  `${k} (${JSON.stringify(prev.action.attrs[k] ?? null)} and ${JSON.stringify(a.attrs[k] ?? null)})`,
              )
              .join(', ')}; packages may deliver one account only with the same attributes`,
            { account: key, packages: [prev.owner, fmri] },
          );
        }
      }
    }
  }
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
