import { ActionChange } from './action-diff';
import { Action, attr, hardlinkTarget, payloadHashAlgorithm } from './manifest';

type Existed = 'dir' | 'file' | 'link' | null;

/**
 * The numeric owner and group a `file` or `dir` action's `owner=`/`group=` name, resolved through
 * the image's own etc/passwd and etc/group when the intent is written (so a resumed execute
 * applies the same ids). Absent when the action names none; applied only when running as root.
 */
export interface Ids {
  uid?: number;
  gid?: number;
}

/**
 * One change to one path, as recorded in the journal before anything is touched. `existed` is
 * what lay at the path when the intent was written: it tells a rollback whether to restore a
 * backup or delete what the step created.
 */
export type Step =
  | ({
      op: 'mkdir';
      path: string;
      mode: number;
      existed: Existed;
      oldMode?: number;
      oldUid?: number;
      oldGid?: number;
    } & Ids)
  | ({ op: 'write'; path: string; hash: string; mode: number; existed: Existed } & Ids)
  | { op: 'symlink'; path: string; target: string; existed: Existed }
  | { op: 'hardlink'; path: string; target: string; existed: Existed }
  | { op: 'remove'; path: string; existed: Existed }
  | { op: 'copy-aside'; path: string; source: string; sourceStep: number; existed: Existed }
  | { op: 'write-manifest'; path: string; digest: string; existed: Existed }
  /** `mode` (default: as created, 0644 under the usual umask) for files such as etc/shadow that must not be world-readable. */
  | ({ op: 'write-text'; path: string; text: string; existed: Existed; mode?: number } & Ids);

export interface OnDisk {
  existed: Existed;
  mode?: number;
  /** Owner and group of what is there now (a directory's, restored by a rollback). */
  uid?: number;
  gid?: number;
  /** SHA-256 of the file now on disk, for `preserve` decisions (computed only when asked). */
  hash?: (algorithm: 'sha1' | 'sha256') => Promise<string | null>;
}

export function modeOf(a: Action, fallback: number): number {
  const m = attr(a, 'mode');
  return m ? parseInt(m, 8) : fallback;
}

/**
 * Turns the action diff into steps, deciding `preserve` now (from what is on disk before any
 * change) so the journal alone says what to do and a resumed execute decides the same way.
 * pkg(5)'s rules: a preserved file edited locally keeps the edit (`true`), gets the new version
 * beside it as `.new` (`renamenew`), or is kept as `.old` while the new one is installed
 * (`renameold`); `abandon` files are left alone once installed.
 */
export async function stepsFor(changes: ActionChange[], onDisk: (path: string) => Promise<OnDisk>): Promise<Step[]> {
  const steps: Step[] = [];
  for (const c of changes) {
    const d = await onDisk(c.path);
    if (c.kind === 'remove') {
      if (attr(c.from!, 'preserve') === 'abandon') continue;
      if (d.existed) steps.push({ op: 'remove', path: c.path, existed: d.existed });
      continue;
    }
    const a = c.to!;
    switch (a.type) {
      case 'dir':
        steps.push({
          op: 'mkdir',
          path: c.path,
          mode: modeOf(a, 0o755),
          existed: d.existed,
          ...(d.existed === 'dir' ? { oldMode: d.mode } : {}),
          // What a rollback gives back to a directory that stays.
          ...(d.existed === 'dir' && d.uid !== undefined ? { oldUid: d.uid, oldGid: d.gid } : {}),
        });
        break;
      case 'link':
        steps.push({ op: 'symlink', path: c.path, target: attr(a, 'target')!, existed: d.existed });
        break;
      case 'hardlink':
        steps.push({ op: 'hardlink', path: c.path, target: hardlinkTarget(a), existed: d.existed });
        break;
      case 'file': {
        const write: Step = {
          op: 'write',
          path: c.path,
          hash: a.hash!,
          mode: modeOf(a, 0o644),
          existed: d.existed,
        };
        const preserve = attr(a, 'preserve');
        if (!preserve || d.existed !== 'file') {
          steps.push(write);
          break;
        }
        if (c.kind === 'add' || preserve === 'abandon') break; // an existing file is the operator's: keep it
        const current = await d.hash!(payloadHashAlgorithm(c.from?.hash ?? a.hash!));
        if (current === c.from?.hash || current === a.hash) {
          steps.push(write);
          break;
        }
        if (preserve === 'renamenew') {
          const side = c.path + '.new';
          steps.push({ ...write, path: side, existed: (await onDisk(side)).existed });
        } else if (preserve === 'renameold') {
          const side = c.path + '.old';
          steps.push({
            op: 'copy-aside',
            path: side,
            source: c.path,
            sourceStep: steps.length + 1,
            existed: (await onDisk(side)).existed,
          });
          steps.push(write);
        }
        // preserve=true (and legacy): the local edit stays.
        break;
      }
    }
  }
  return steps;
}

/**
 * Gives each write and mkdir step the ids of its action's owner=/group= (`idsOf`, which throws
 * for an unknown name). A `renamenew` write (to `<path>.new`) takes its action's.
 */
export function applyIds(
  steps: Step[],
  changes: readonly ActionChange[],
  idsOf: (a: Action, change: ActionChange) => Ids,
): void {
  const byPath = new Map<string, ActionChange>();
  for (const c of changes) if (c.to && (c.to.type === 'file' || c.to.type === 'dir')) byPath.set(c.path, c);
  for (const s of steps) {
    if (s.op !== 'write' && s.op !== 'mkdir') continue;
    const c = byPath.get(s.path) ?? (s.path.endsWith('.new') ? byPath.get(s.path.slice(0, -4)) : undefined);
    if (!c) continue;
    const ids = idsOf(c.to!, c);
    if (ids.uid !== undefined) s.uid = ids.uid;
    if (ids.gid !== undefined) s.gid = ids.gid;
  }
}

/**
 * Hardlink steps for links whose target file this plan rewrites. A write replaces its path by
 * rename, which gives the path a new inode: a hardlink the plan does not otherwise change would
 * keep the old content on the old inode. pkg(5) re-creates such hardlinks after the files
 * (src/modules/client/imageplan.py; verify in hardlink.py requires path and target to share an
 * inode). `installed` is every hardlink action of the image after the plan; links already given
 * a step are skipped. Returns the steps to append after the plan's other file steps.
 */
export async function relinkSteps(
  steps: readonly Step[],
  installed: readonly Action[],
  onDisk: (path: string) => Promise<OnDisk>,
): Promise<Step[]> {
  const rewritten = new Set(steps.filter((s) => s.op === 'write').map((s) => s.path));
  const linked = new Set(steps.filter((s) => s.op === 'hardlink').map((s) => s.path));
  const out: Step[] = [];
  for (const a of installed) {
    if (a.type !== 'hardlink') continue;
    const p = attr(a, 'path')!;
    const target = hardlinkTarget(a);
    if (!rewritten.has(target) || linked.has(p)) continue;
    linked.add(p);
    out.push({ op: 'hardlink', path: p, target, existed: (await onDisk(p)).existed });
  }
  return out;
}
