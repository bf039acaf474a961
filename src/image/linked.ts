import { promises as fs } from 'fs';
import * as path from 'path';
import { ImageError, isImageError } from '../model/errors';
import { ChildRef, Image, LINK_NAME_RE, LinkedParent } from './image';

/**
 * Push-model linked images, as for zones: the parent lists its children in image.json
 * (`children`) and each child names its parent (`linked`). Both sides are changed under both
 * locks, parent first then child, so two attach/detach calls cannot deadlock each other.
 *
 * Crash order: attach writes the parent side first and detach clears the child side first.
 * Either way an interrupted call leaves "the parent lists a child that does not name it",
 * which the same call repeated completes (attach) or cleans up (detach). The other order
 * would strand a child that names a parent that does not list it: attach would then refuse
 * (ALREADY_LINKED) and detach would not find the name (NO_SUCH_CHILD).
 */
export async function attachChild(parent: Image, child: Image, name: string): Promise<void> {
  if (typeof name !== 'string' || !LINK_NAME_RE.test(name)) {
    throw new ImageError(
      'BAD_REQUEST',
      `Invalid linked image name ${JSON.stringify(name)}: expected zone:<name> or system:<name>, the name starting with a letter or digit, then letters, digits, _ . -`,
      { name },
    );
  }
  const [p, c] = [await realRoot(parent), await realRoot(child)];
  if (p === c)
    throw new ImageError(
      'BAD_REQUEST',
      `Cannot attach image ${child.root} to itself as ${name}: expected a child image other than the parent`,
      { name, parent: parent.root, child: child.root },
    );
  if (p.startsWith(c.endsWith(path.sep) ? c : c + path.sep)) {
    throw new ImageError(
      'BAD_REQUEST',
      `Cannot attach ${child.root} as ${name} of ${parent.root}: the parent lies inside the child; expected a child outside the parent's ancestors`,
      { name, parent: parent.root, child: child.root },
    );
  }
  await parent.withLock('attach-linked', () =>
    child.withLock('attach-linked', async () => {
      await Promise.all([parent.reload(), child.reload()]);
      const pc = parent.config();
      const linked = child.config().linked;
      if (linked) {
        throw new ImageError(
          'ALREADY_LINKED',
          `Image ${child.root} is already linked as ${linked.name} to parent ${linked.parent}; detach it first`,
          { name, child: child.root, linked },
        );
      }
      if (pc.linked?.parent === child.root || pc.linked?.parent === c) {
        throw new ImageError(
          'BAD_REQUEST',
          `Cannot attach ${child.root} as ${name} of ${parent.root}: it is the parent's own parent; expected no cycle`,
          { name },
        );
      }
      const sameName = pc.children.find((x) => x.name === name);
      const samePath = pc.children.find((x) => x.path === child.root);
      // A previous attach of exactly this pair that stopped after the parent side: finish it.
      const resuming = sameName !== undefined && sameName === samePath;
      if (!resuming && sameName) {
        throw new ImageError(
          'ALREADY_LINKED',
          `Parent ${parent.root} already has a child named ${name} (${sameName.path}); expected a name unique among its children: ${names(pc.children)}`,
          { name, existing: sameName },
        );
      }
      if (!resuming && samePath) {
        throw new ImageError(
          'ALREADY_LINKED',
          `Image ${child.root} is already a child of ${parent.root} as ${samePath.name}`,
          { name, existing: samePath },
        );
      }
      if (!resuming)
        await parent.updateConfig((cfg) => ({ ...cfg, children: [...cfg.children, { name, path: child.root }] }));
      const link: LinkedParent = { name, model: 'push', parent: parent.root };
      await child.updateConfig((cfg) => ({ ...cfg, linked: link }));
    }),
  );
}

/**
 * Detaches the child `name`. The child is opened from the recorded path; if it is no longer
 * an image (zone deleted) or names another parent, only the parent side changes.
 */
export async function detachChild(parent: Image, name: string): Promise<void> {
  await parent.withLock('detach-linked', async () => {
    await parent.reload();
    const ref = childNamed(parent, name);
    const child = await openIfImage(ref.path);
    const clearParent = () =>
      parent.updateConfig((cfg) => ({ ...cfg, children: cfg.children.filter((x) => x.name !== ref.name) }));
    if (!child) return clearParent();
    await child.withLock('detach-linked', async () => {
      await child.reload();
      const linked = child.config().linked;
      if (linked && linked.name === ref.name && linked.parent === parent.root)
        await child.updateConfig((cfg) => ({ ...cfg, linked: null }));
      await clearParent();
    });
  });
}

/** The parent's children as last loaded: names `zone:<name>`/`system:<name>`, absolute paths. */
export function listChildren(parent: Image): ChildRef[] {
  return parent.config().children;
}

/**
 * The child `name` of `parent` (as last loaded). A bare name is taken as a zone, as pkg(5) does
 * (`z1` is `zone:z1`). Throws NO_SUCH_CHILD (exit 1, pkg(5)'s EXIT_OOPS) naming the attached
 * children when the parent has no such child.
 */
export function childNamed(parent: Image, name: string): ChildRef {
  const { children } = parent.config();
  const ref = children.find((x) => x.name === name) ?? children.find((x) => x.name === `zone:${name}`);
  if (ref) return ref;
  throw new ImageError(
    'NO_SUCH_CHILD',
    `Image ${parent.root} has no child named ${JSON.stringify(name)}; attached children: ${names(children)}`,
    { name, children: children.map((x) => x.name) },
  );
}

export function parentOf(child: Image): LinkedParent | null {
  return child.config().linked;
}

async function openIfImage(root: string): Promise<Image | null> {
  try {
    return await Image.open(root);
  } catch (e) {
    // Only "not an image any more" is ignored; a malformed or unreadable child is reported,
    // since it may still name this parent and would then stay linked.
    if (isImageError(e, 'BAD_IMAGE') && e.details?.missing) return null;
    throw e;
  }
}

async function realRoot(img: Image): Promise<string> {
  return fs.realpath(img.root).catch(() => img.root);
}

function names(children: ChildRef[]): string {
  return children.length ? children.map((x) => x.name).join(', ') : '(none)';
}
