import { ActionChange } from './action-diff';
import { Action, attr, hardlinkTarget, payloadHashAlgorithm } from './manifest';

type Existed = 'dir' | 'file' | 'link' | null;

/**
 * One change to one path, as recorded in the journal before anything is touched. `existed` is
 * what lay at the path when the intent was written: it tells a rollback whether to restore a
 * backup or delete what the step created.
 */
export type Step =
  | { op: 'mkdir'; path: string; mode: number; existed: Existed; oldMode?: number }
  | { op: 'write'; path: string; hash: string; mode: number; existed: Existed }
  | { op: 'symlink'; path: string; target: string; existed: Existed }
  | { op: 'hardlink'; path: string; target: string; existed: Existed }
  | { op: 'remove'; path: string; existed: Existed }
  | { op: 'copy-aside'; path: string; source: string; sourceStep: number; existed: Existed }
  | { op: 'write-manifest'; path: string; digest: string; existed: Existed }
  | { op: 'write-text'; path: string; text: string; existed: Existed };

export interface OnDisk {
  existed: Existed;
  mode?: number;
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
        });
        break;
      case 'link':
        steps.push({ op: 'symlink', path: c.path, target: attr(a, 'target')!, existed: d.existed });
        break;
      case 'hardlink':
        steps.push({ op: 'hardlink', path: c.path, target: hardlinkTarget(a), existed: d.existed });
        break;
      case 'file': {
        const write: Step = { op: 'write', path: c.path, hash: a.hash!, mode: modeOf(a, 0o644), existed: d.existed };
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
