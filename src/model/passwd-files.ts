import { ImageError } from './errors';
import { Action, attr, values } from './manifest';

/**
 * One of an image's colon-separated account files (etc/passwd, etc/shadow, etc/group), edited as
 * pkg(5) edits them (src/modules/cfgfiles.py, CfgFile): a line with the file's number of columns
 * is an entry keyed by its first column; any other line (a `+`/`-` NIS line, a comment, a blank
 * or malformed line) is kept verbatim where it was. Edited entries keep their place; new ones go
 * at the end. Node-free: the text comes and goes as strings.
 */
export class AccountTable {
  private readonly rows: { text: string; fields: string[] | null }[] = [];

  /**
   * @param text the file's content ('' for an empty file)
   * @param columns entries have this many `:`-separated fields (passwd 7, shadow 9, group 4)
   * @param where the file's path, for messages
   */
  constructor(
    text: string,
    readonly columns: number,
    readonly where: string,
  ) {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) {
      const fields = line.split(':');
      const entry = !/^[+-]/.test(line) && fields.length === columns;
      this.rows.push({ text: line, fields: entry ? fields : null });
    }
  }

  /** The fields of `name`'s entry (a copy), or undefined. */
  get(name: string): string[] | undefined {
    const row = this.rows.find((r) => r.fields?.[0] === name);
    return row ? [...row.fields!] : undefined;
  }

  /** Every entry's fields, in file order. */
  entries(): string[][] {
    return this.rows.filter((r) => r.fields).map((r) => [...r.fields!]);
  }

  /** Replaces the entry named by `fields[0]` in place, or appends it. */
  set(fields: string[]): void {
    const row = { text: fields.join(':'), fields: [...fields] };
    const at = this.rows.findIndex((r) => r.fields?.[0] === fields[0]);
    if (at === -1) this.rows.push(row);
    else this.rows[at] = row;
  }

  /** Removes `name`'s entry; false when there was none. */
  remove(name: string): boolean {
    const at = this.rows.findIndex((r) => r.fields?.[0] === name);
    if (at === -1) return false;
    this.rows.splice(at, 1);
    return true;
  }

  /** The smallest system id (0-99) no entry has in `column`, as pkg(5)'s getnextuid/getnextgid. */
  nextFreeId(column: number, what: string): string {
    const used = new Set(this.entries().map((f) => f[column]));
    for (let i = 0; i < 100; i++) if (!used.has(String(i))) return String(i);
    throw new ImageError('BAD_IMAGE', `No free system ${what} (0-99) left in ${this.where}`, { file: this.where });
  }

  /** The file's text: one line each, newline-terminated (as pkg(5) writes it). */
  toText(): string {
    return this.rows.map((r) => r.text + '\n').join('');
  }
}

export const PASSWD_COLUMNS = 7;
export const SHADOW_COLUMNS = 9;
export const GROUP_COLUMNS = 4;

/** Attributes of a `user` action kept from the entry on disk when it differs (pkg(5)'s use_existing_attrs). */
const USE_EXISTING = ['password', 'lastchg', 'min', 'max', 'expire', 'flag', 'warn', 'inactive'];
const PASSWD_FIELDS = ['username', 'password', 'uid', 'gid', 'gcos-field', 'home-dir', 'login-shell'];
const SHADOW_FIELDS = ['username', 'password', 'lastchg', 'min', 'max', 'warn', 'inactive', 'expire', 'flag'];

/**
 * An image's account files as one database, with pkg(5)'s semantics of `user` and `group` actions
 * (src/modules/actions/user.py, group.py, cfgfiles.py). A table is null when the image has no such
 * file: an action that needs it then fails, as in pkg(5) ("cannot be installed without user
 * database files present").
 */
export class AccountDb {
  constructor(
    readonly passwd: AccountTable | null,
    readonly shadow: AccountTable | null,
    readonly group: AccountTable | null,
  ) {}

  /** The uid of `name` in etc/passwd, or undefined (also when there is no etc/passwd). */
  uidOf(name: string): number | undefined {
    const f = this.passwd?.get(name);
    return f && /^\d+$/.test(f[2]) ? Number(f[2]) : undefined;
  }

  /** The gid of `name` in etc/group, or undefined (also when there is no etc/group). */
  gidOf(name: string): number | undefined {
    const f = this.group?.get(name);
    return f && /^\d+$/.test(f[2]) ? Number(f[2]) : undefined;
  }

  /**
   * Installs (adds or updates) a `group` action: a new group gets the action's gid or the lowest
   * free system gid; an existing one keeps its members, keeps its gid when the action gives
   * none, and when the gid changes the users whose primary group it is follow (pkg(5) group.py).
   * @throws ImageError BAD_IMAGE when the image has no etc/group
   */
  installGroup(a: Action, what: string): void {
    const group = this.need(this.group, 'etc/group', what);
    const name = attr(a, 'groupname')!;
    const want = attr(a, 'gid');
    const cur = group.get(name);
    let gid: string;
    let members = '';
    if (cur) {
      gid = want ?? cur[2];
      members = cur[3];
      if (gid !== cur[2] && this.passwd) {
        for (const u of this.passwd.entries())
          if (u[3] === cur[2]) this.passwd.set([...u.slice(0, 3), gid, ...u.slice(4)]);
      }
    } else gid = want ?? group.nextFreeId(2, 'gid');
    // pkg(5) delivers no group password: the field is always empty.
    group.set([name, '', gid, members]);
  }

  /** Removes a `group` action's entry (already gone: nothing to do). */
  removeGroup(a: Action): void {
    this.group?.remove(attr(a, 'groupname')!);
  }

  /**
   * Installs (adds or updates) a `user` action as pkg(5)'s UserAction.install does: etc/passwd
   * gets `name:x:uid:gid:gcos:home:shell` (defaults: the lowest free system uid, `& User`, `/`,
   * empty shell) and etc/shadow `name:password:lastchg:min:max:warn:inactive:expire:flag`
   * (password `*LK*` unless given, lastchg `days`); `group=` is resolved through etc/group and
   * `group-list=` becomes the user's supplementary groups there. For a user already on disk, the
   * password and ageing fields on disk win unless they still equal what the old action said, or
   * the new password is `NP` or `*LK*` (pkg(5)'s three-way merge); its uid stays when the action
   * gives none.
   * @param old the action this one replaces (null for a new one)
   * @param days today, in days since 1970-01-01 (shadow's lastchg)
   * @throws ImageError BAD_IMAGE when etc/passwd, etc/shadow or etc/group is missing, or the
   *   group (or a group-list group) is not in etc/group
   */
  installUser(a: Action, old: Action | null, days: number, what: string): void {
    const passwd = this.need(this.passwd, 'etc/passwd', what);
    const shadow = this.need(this.shadow, 'etc/shadow', what);
    const group = this.need(this.group, 'etc/group', what);
    const name = attr(a, 'username')!;
    const groupName = attr(a, 'group');
    if (groupName === undefined)
      throw new ImageError('BAD_MANIFEST', `${what}: a user action needs group= (pkg(5) requires it)`, { user: name });
    const gid = this.gidOf(groupName);
    if (gid === undefined) throw this.unknown(what, 'group', groupName, group.where);

    const disk = this.userOnDisk(name);
    const defaults: Record<string, string> = {
      password: '*LK*',
      uid: disk?.uid ?? passwd.nextFreeId(2, 'uid'),
      'gcos-field': '& User',
      'home-dir': '/',
      'login-shell': '',
      lastchg: String(days),
      min: '',
      max: '',
      warn: '',
      inactive: '',
      expire: '',
      flag: '',
    };
    const out: Record<string, string> = { ...defaults };
    for (const k of Object.keys(a.attrs)) if (k !== 'group-list') out[k] = attr(a, k)!;
    out.username = name;
    out.gid = String(gid);
    if (disk) {
      // The old action's view of each field, defaults included (lastchg and uid have none: they are dynamic).
      const before: Record<string, string> = {};
      if (old) {
        for (const [k, v] of Object.entries(defaults)) if (k !== 'uid' && k !== 'lastchg') before[k] = v;
        for (const k of Object.keys(old.attrs)) before[k] = attr(old, k)!;
      }
      for (const k of USE_EXISTING) {
        if (disk[k] === undefined || before[k] === disk[k]) continue;
        if (k === 'password' && (out.password === 'NP' || out.password === '*LK*')) continue;
        out[k] = disk[k];
      }
    }
    passwd.set(PASSWD_FIELDS.map((k) => (k === 'password' ? 'x' : out[k])));
    shadow.set(SHADOW_FIELDS.map((k) => out[k]));

    const wanted = new Set(values(a, 'group-list'));
    for (const g of wanted) if (!group.get(g)) throw this.unknown(what, 'group-list group', g, group.where);
    for (const g of group.entries()) {
      const members = g[3] ? g[3].split(',') : [];
      const has = members.includes(name);
      if (has === wanted.has(g[0])) continue;
      const next = has ? members.filter((m) => m !== name) : [...members, name];
      group.set([g[0], g[1], g[2], next.join(',')]);
    }
  }

  /** Removes a `user` action's entries from etc/passwd and etc/shadow and its name from every group (pkg(5) user.py remove). */
  removeUser(a: Action): void {
    const name = attr(a, 'username')!;
    this.passwd?.remove(name);
    this.shadow?.remove(name);
    for (const g of this.group?.entries() ?? []) {
      const members = g[3] ? g[3].split(',') : [];
      if (members.includes(name)) this.group!.set([g[0], g[1], g[2], members.filter((m) => m !== name).join(',')]);
    }
  }

  private userOnDisk(name: string): Record<string, string> | undefined {
    const p = this.passwd?.get(name);
    if (!p) return undefined;
    const out: Record<string, string> = {};
    PASSWD_FIELDS.forEach((k, i) => (out[k] = p[i]));
    const s = this.shadow?.get(name);
    if (s) SHADOW_FIELDS.forEach((k, i) => (out[k] = s[i]));
    return out;
  }

  private need(t: AccountTable | null, file: string, what: string): AccountTable {
    if (t) return t;
    throw new ImageError(
      'BAD_IMAGE',
      `${what} cannot be installed: the image has no ${file} (pkg(5) needs its user database files present)`,
      { file },
    );
  }

  private unknown(what: string, kind: string, name: string, where: string): ImageError {
    return new ImageError('BAD_IMAGE', `${what}: ${kind} '${name}' is not in ${where}`, { name, file: where });
  }
}

/** An image's account action, with the package delivering it. */
export interface OwnedAccount {
  action: Action;
  owner: string;
}

/**
 * The `user` and `group` actions a plan changes, in pkg(5)'s order: removals first (users, then
 * groups), then groups, then users (each by id, those without one last), so a user's group and
 * a file's owner exist when they are needed. An action that is the same in the old and the new
 * manifests is left alone (an operator's edits to its entry stay); one an unchanged package
 * still delivers is not removed.
 */
export function diffAccounts(
  old: OwnedAccount[],
  next: OwnedAccount[],
  kept: OwnedAccount[],
): { removals: OwnedAccount[]; installs: (OwnedAccount & { from: Action | null })[] } {
  const key = (a: Action) => `${a.type}:${attr(a, a.type === 'user' ? 'username' : 'groupname')}`;
  const oldMap = new Map(old.map((o) => [key(o.action), o]));
  const newKeys = new Set(next.map((n) => key(n.action)));
  const keptKeys = new Set(kept.map((k) => key(k.action)));
  const same = (x: Action, y: Action) => JSON.stringify(sorted(x)) === JSON.stringify(sorted(y));
  const installs = next
    .filter((n) => {
      const o = oldMap.get(key(n.action));
      return !o || !same(o.action, n.action);
    })
    .map((n) => ({ ...n, from: oldMap.get(key(n.action))?.action ?? null }));
  const removals = old.filter((o) => !newKeys.has(key(o.action)) && !keptKeys.has(key(o.action)));
  const byId = (idAttr: string) => (x: OwnedAccount, y: OwnedAccount) =>
    Number(attr(x.action, idAttr) ?? 1024) - Number(attr(y.action, idAttr) ?? 1024);
  const of = <T extends OwnedAccount>(list: T[], type: string) => list.filter((x) => x.action.type === type);
  return {
    removals: [...of(removals, 'user'), ...of(removals, 'group')],
    installs: [...of(installs, 'group').sort(byId('gid')), ...of(installs, 'user').sort(byId('uid'))],
  };
}

function sorted(a: Action): [string, string[]][] {
  return Object.keys(a.attrs)
    .sort()
    .map((k) => [k, [...values(a, k)].sort()]);
}
