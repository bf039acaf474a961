import { promises as fsp } from 'fs';
import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { ActionChange } from '../model/action-diff';
import { ImageError, ioError } from '../model/errors';
import { Action, appliesTo, attr } from '../model/manifest';
import {
  AccountDb,
  AccountTable,
  diffAccounts,
  GROUP_COLUMNS,
  OwnedAccount,
  PASSWD_COLUMNS,
  SHADOW_COLUMNS,
} from '../model/passwd-files';
import { Ids, OnDisk, Step } from '../model/steps';
import { PlanManifests } from './plan-manifests';

const FILES = { passwd: 'etc/passwd', shadow: 'etc/shadow', group: 'etc/group' } as const;
type Which = keyof typeof FILES;
const COLUMNS: Record<Which, number> = { passwd: PASSWD_COLUMNS, shadow: SHADOW_COLUMNS, group: GROUP_COLUMNS };
/** Modes for an account file the image did not have yet (pkg(5) keeps an existing file's mode and owner). */
const NEW_MODE: Record<Which, number> = { passwd: 0o644, shadow: 0o400, group: 0o644 };

export interface AccountOptions {
  /**
   * Where names are looked up when the image has no etc/passwd or etc/group at all (yet): as
   * pkg(5) does (portable/os_unix.py "bootstrap ourselves from the current environment"), the
   * host's files under this root. @default '/'
   */
  hostRoot?: string;
  /** The time lastchg (days since 1970) of new shadow entries is taken from. @default now */
  now?: Date;
}

/** What a plan does to the image's accounts, decided before the journal is written. */
export interface AccountPlan {
  /**
   * The write-text steps for etc/group, etc/passwd, etc/shadow (only those that change), in that
   * order. Asked for after the file steps got their ids (`applyIds`): a rewritten account file
   * the plan also delivers keeps that delivery's mode and owner.
   */
  steps(): Step[];
  /**
   * The uid/gid of a file or dir action's owner=/group= names, looked up in the image's account
   * files as they will be after this plan (so a file may be owned by a user the same plan
   * delivers).
   * @throws ImageError BAD_IMAGE naming the action, the name and the file it was looked up in
   */
  idsOf(a: Action, change: ActionChange): Ids;
}

/**
 * Plans the `user` and `group` actions of a plan and the owner lookups of its files. The account
 * files start from what the plan's file steps leave at etc/passwd, etc/shadow and etc/group (a
 * package may deliver them: their content is then read from the content cache) or else what the
 * image has; the user and group changes are applied to them (see `AccountDb`); each file that
 * changes becomes one write-text step, journalled like any file so a rollback restores it.
 * @param fileSteps the plan's file-system steps so far (their writes of the account files count)
 * @throws ImageError BAD_IMAGE for an account file that is not a regular file, or an action
 *   that cannot be installed (see `AccountDb`); IO_ERROR when a file cannot be read
 */
export async function planAccounts(
  root: string,
  manifests: PlanManifests,
  variants: Readonly<Record<string, string>>,
  fileSteps: readonly Step[],
  cache: ContentCache,
  onDisk: (rel: string) => Promise<OnDisk>,
  opts: AccountOptions = {},
): Promise<AccountPlan> {
  const written = new Map<string, Extract<Step, { op: 'write' }>>();
  for (const s of fileSteps) {
    if (s.op === 'write') written.set(s.path, s);
    else if (s.op === 'remove' || s.op === 'symlink' || s.op === 'hardlink') written.delete(s.path);
  }
  const base: Record<Which, string | null> = { passwd: null, shadow: null, group: null };
  const disk: Partial<Record<Which, OnDisk>> = {};
  for (const which of Object.keys(FILES) as Which[]) {
    const rel = FILES[which];
    disk[which] = await onDisk(rel);
    const w = written.get(rel);
    base[which] = w ? await readText(cache.filePath(w.hash)) : await readImageFile(root, rel, disk[which]!);
  }
  const table = (which: Which) =>
    base[which] === null ? null : new AccountTable(base[which]!, COLUMNS[which], path.join(root, FILES[which]));
  const db = new AccountDb(table('passwd'), table('shadow'), table('group'));

  const accounts = (list: PlanManifests['old']) => {
    const out: OwnedAccount[] = [];
    for (const { fmri, manifest } of list)
      for (const a of manifest.actions)
        if ((a.type === 'user' || a.type === 'group') && appliesTo(a, variants)) out.push({ action: a, owner: fmri });
    return out;
  };
  const { removals, installs } = diffAccounts(
    accounts(manifests.old),
    accounts(manifests.next),
    accounts(manifests.kept),
  );
  const days = Math.floor((opts.now ?? new Date()).getTime() / 86_400_000);
  for (const r of removals) r.action.type === 'user' ? db.removeUser(r.action) : db.removeGroup(r.action);
  for (const i of installs) {
    const what = `${i.action.type} ${attr(i.action, i.action.type === 'user' ? 'username' : 'groupname')} (${i.owner})`;
    if (i.action.type === 'group') db.installGroup(i.action, what);
    else db.installUser(i.action, i.from, days, what);
  }

  const steps = () => {
    const out: Step[] = [];
    for (const which of ['group', 'passwd', 'shadow'] as Which[]) {
      const t = db[which];
      if (!t || t.toText() === base[which]) continue;
      const w = written.get(FILES[which]);
      const d = disk[which]!;
      // A rewritten file keeps the mode and owner of the one it replaces, as pkg(5)'s writefile does.
      const keep = w
        ? {
            mode: w.mode,
            ...(w.uid !== undefined ? { uid: w.uid } : {}),
            ...(w.gid !== undefined ? { gid: w.gid } : {}),
          }
        : d.existed === 'file'
          ? { mode: d.mode ?? NEW_MODE[which], uid: d.uid, gid: d.gid }
          : { mode: NEW_MODE[which] };
      out.push({ op: 'write-text', path: FILES[which], text: t.toText(), existed: d.existed, ...keep });
    }
    return out;
  };

  let host: AccountDb | undefined;
  const hostRoot = opts.hostRoot ?? '/';
  const hostDb = async () => {
    const read = async (rel: string) => readText(path.join(hostRoot, rel)).catch(() => null);
    const p = await read(FILES.passwd);
    const g = await read(FILES.group);
    return new AccountDb(
      p === null ? null : new AccountTable(p, PASSWD_COLUMNS, path.join(hostRoot, FILES.passwd)),
      null,
      g === null ? null : new AccountTable(g, GROUP_COLUMNS, path.join(hostRoot, FILES.group)),
    );
  };
  if (!db.passwd || !db.group) host = await hostDb();
  const lookup = (kind: 'owner' | 'group', name: string, what: string): number => {
    const from = kind === 'owner' ? (db.passwd ? db : host!) : db.group ? db : host!;
    const id = kind === 'owner' ? from.uidOf(name) : from.gidOf(name);
    if (id !== undefined) return id;
    const file =
      (kind === 'owner' ? from.passwd?.where : from.group?.where) ??
      path.join(hostRoot, kind === 'owner' ? FILES.passwd : FILES.group);
    throw new ImageError('BAD_IMAGE', `${what} cannot be installed: ${kind} '${name}' is not in ${file}`, {
      name,
      file,
      kind,
    });
  };
  return {
    steps,
    idsOf(a, change) {
      const owner = attr(a, 'owner');
      const group = attr(a, 'group');
      const what = `${a.type} ${change.path} (${change.owner})`;
      return {
        ...(owner ? { uid: lookup('owner', owner, what) } : {}),
        ...(group ? { gid: lookup('group', group, what) } : {}),
      };
    },
  };
}

async function readText(file: string): Promise<string> {
  return fsp.readFile(file, 'utf8');
}

/** An account file of the image, or null when it has none; never read through a symlink (it could leave the image). */
async function readImageFile(root: string, rel: string, d: OnDisk): Promise<string | null> {
  if (d.existed === null) return null;
  const full = path.join(root, rel);
  if (d.existed !== 'file')
    throw new ImageError('BAD_IMAGE', `${full} is not a regular file; cannot read or update the image's accounts`, {
      path: full,
    });
  try {
    return await readText(full);
  } catch (e) {
    throw ioError('cannot read', full, e);
  }
}
