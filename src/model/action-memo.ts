import { ActionChange } from './action-diff';

/**
 * Action diffs derived in this process. A worker runs plan, prepare and execute of one image one
 * after another, and each re-derived the same diff from the same manifests (0.13 s for a
 * 1,000-package update, a sixth of its prepare). An entry is used only while the image still has
 * the state token it was derived from: the diff depends on the installed packages and the
 * image's variants, and both change the token. Bounded by the changes held; oldest go first.
 */
const MAX_CHANGES = 250_000;
const memo = new Map<string, { token: string; actions: ActionChange[] }>();
let held = 0;

/** The key: image root, content cache (the derivation stores new manifests there) and plan digest. */
export function actionMemoKey(imageRoot: string, cacheRoot: string | undefined, planDigest: string): string {
  return `${imageRoot}\0${cacheRoot ?? ''}\0${planDigest}`;
}

export function rememberActions(key: string, token: string, actions: ActionChange[]): void {
  forget(key);
  if (actions.length > MAX_CHANGES) return;
  memo.set(key, { token, actions });
  held += actions.length;
  for (const [k] of memo) {
    if (held <= MAX_CHANGES) break;
    forget(k);
  }
}

/** A copy of the remembered list (callers may reorder or filter it), or null. */
export function recalledActions(key: string, token: string): ActionChange[] | null {
  const e = memo.get(key);
  if (!e || e.token !== token) return null;
  memo.delete(key); // most recently used last
  memo.set(key, e);
  return e.actions.slice();
}

export function clearActionMemo(): void {
  memo.clear();
  held = 0;
}

function forget(key: string): void {
  const e = memo.get(key);
  if (!e) return;
  held -= e.actions.length;
  memo.delete(key);
}
