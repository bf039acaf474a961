import type { ActionChange } from '../model/action-diff';

/**
 * The payload hashes a plan's actions need in the content cache: the `file` actions it delivers
 * (prepare downloads exactly these; src/stages/prepare.ts).
 */
export function contentHashes(actions: readonly ActionChange[]): Set<string> {
  const out = new Set<string>();
  for (const c of actions) if (c.to?.type === 'file' && c.to.hash) out.add(c.to.hash);
  return out;
}

/**
 * True when every file a child's plan delivers is also delivered by its parent's plan: the
 * parent's prepare, which pkg(5) runs before any child's (linked images: the parent first),
 * puts all of it into the host-wide content cache, so the child's own prepare would download
 * nothing. A plan that delivers no file content is within any parent's.
 */
export function contentWithin(child: readonly ActionChange[], parent: ReadonlySet<string>): boolean {
  for (const h of contentHashes(child)) if (!parent.has(h)) return false;
  return true;
}
