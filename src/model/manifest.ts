import { ErrorCode, ImageError } from './errors';
import { Fmri } from './fmri';
import { imagePathProblem } from './paths';

/**
 * pkg(5) manifests: one action per line, `<type> [<payload-hash>] key=value ...`. Values may be
 * quoted ("a b" or 'a b', a backslash escapes the quote inside; adjacent quoted pieces are joined,
 * as pkg(5) does; a quoted value may be followed directly by the next key), a repeated key makes a
 * list, a line ending in `\` continues on the next (whose leading blanks are dropped), and `#`
 * starts a comment line. Only space and tab separate tokens, as in pkg(5), so other white space
 * inside an unquoted value stays part of it. The rules are those of pkg(5)'s action parser
 * (src/modules/actions/_actions.c, _common.c and the action classes).
 */
export const ACTION_TYPES = [
  'set',
  'file',
  'dir',
  'link',
  'hardlink',
  'depend',
  'license',
  'legacy',
  'user',
  'group',
  'driver',
  'signature',
  // pkg(5)'s UnknownAction: any attributes, no key and no payload; it installs nothing.
  'unknown',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const DEPEND_TYPES = [
  'require',
  'optional',
  'incorporate',
  'parent',
  'require-any',
  'group',
  'group-any',
  'exclude',
  'conditional',
  'origin',
] as const;

export type AttrValue = string | string[];

export interface Action {
  readonly type: ActionType;
  /**
   * The payload hash of the uncompressed content for `file`, `license`, `signature`: 64 hex digits
   * (SHA-256) or 40 (SHA-1, which is what pkg(5) itself writes); see `payloadHashAlgorithm`.
   */
  readonly hash: string | null;
  /** In the order given; a key given twice holds a list. */
  readonly attrs: Readonly<Record<string, AttrValue>>;
  /**
   * Only in manifests parsed with `{ pkgsend: true }`: where a `file` or `license` action's
   * payload is, relative to the content directory, when the action names it instead of giving
   * its hash (pkgsend's positional token other than a hash or NOHASH, e.g. `lic_CDDL` in
   * `license lic_CDDL license=CDDL`). Absent otherwise.
   */
  readonly payload?: string;
}

export interface Manifest {
  readonly actions: readonly Action[];
  /** Only with `{ pkgsend: true }`: the line each action starts on, for messages at publication. */
  readonly lines?: readonly number[];
}

/** How `parseManifest` and `parseAction` read payloads. */
export interface ParseOptions {
  /**
   * Read the manifest as pkgsend does, as a publication's input: a `file` or `license` action
   * may have no payload hash (no token, or `NOHASH`), or name its payload file with the
   * positional token (see `Action.payload`). Without it (the default, for manifests from a
   * repository or an image) every `file` and `license` action must carry its payload hash.
   * @default false
   */
  pkgsend?: boolean;
}

/** The attribute that identifies an action of each type within an image (pkg(5)'s key_attr). */
const KEY_ATTR: Record<ActionType, string | null> = {
  set: 'name',
  file: 'path',
  dir: 'path',
  link: 'path',
  hardlink: 'path',
  depend: 'fmri',
  license: 'license',
  legacy: 'pkg',
  user: 'username',
  group: 'groupname',
  driver: 'name',
  signature: null,
  unknown: null,
};

const REQUIRED: Record<ActionType, readonly string[]> = {
  set: ['name', 'value'],
  file: ['path'],
  dir: ['path'],
  link: ['path', 'target'],
  hardlink: ['path', 'target'],
  depend: ['type', 'fmri'],
  license: ['license'],
  legacy: ['pkg'],
  user: ['username'],
  group: ['groupname'],
  driver: ['name'],
  signature: [],
  unknown: [],
};

const PAYLOAD_TYPES: ReadonlySet<ActionType> = new Set(['file', 'license', 'signature']);
export const FS_TYPES: ReadonlySet<ActionType> = new Set(['file', 'dir', 'link', 'hardlink']);
/** 40 or 64 lower-case hex digits (a regex with that alternation was a tenth of parsing time). */
function isPayloadHash(h: string): boolean {
  if (h.length !== 40 && h.length !== 64) return false;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
// pkg(5) allows any key without white space, quotes or '='; e.g. facet.locale.ca_ES@valencia.
const KEY_RE = /^[^\s"'=]+$/;
const TYPE_SET: ReadonlySet<string> = new Set(ACTION_TYPES);
/** Attribute names and modes already found valid: a handful of distinct ones recur 100,000 times. */
const goodKeys = new Set<string>();
const goodModes = new Set<string>();
const SINGLE_VALUED = ['path', 'target', 'mode', 'type', 'fmri', 'preserve'];
/** pkgsend's "no payload hash yet" token (pkg(5) also prints a hashless file action with it). */
const NOHASH = 'NOHASH';
const PRESERVE = ['true', 'renameold', 'renamenew', 'legacy', 'abandon', 'install-only'];

/** Which digest a payload hash is: pkg(5) writes SHA-1 (40 hex digits); ours are SHA-256. */
export function payloadHashAlgorithm(hash: string): 'sha1' | 'sha256' {
  return hash.length === 40 ? 'sha1' : 'sha256';
}

/**
 * Parses manifest text. `source` names it in messages (`<source>: line <n>: <why>`).
 * @throws ImageError BAD_MANIFEST (or PATH_OUTSIDE_IMAGE for a path leaving the image) naming
 *   the line an action starts on; BAD_FMRI does not escape: a bad FMRI is a BAD_MANIFEST.
 */
export function parseManifest(text: string, source = 'manifest', opts: ParseOptions = {}): Manifest {
  const actions: Action[] = [];
  const starts: number[] = [];
  const lines = text.split('\n');
  // The empty string after a final newline is not a line: a backslash before it is a dangling continuation.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    // An action continued over several lines is reported at the line it starts on.
    const lineNo = i + 1;
    let line = lines[i].replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\')) {
      if (i + 1 >= lines.length)
        throw manifestError(source, lineNo, 'the last line ends with a continuation backslash; expected another line');
      line = line.slice(0, -1) + lines[++i].replace(/\r$/, '').replace(/^[ \t]+/, '');
    }
    actions.push(parseAction(line, lineNo, source, opts));
    starts.push(lineNo);
  }
  return opts.pkgsend ? { actions, lines: starts } : { actions };
}

// Only space and tab separate tokens, as in pkg(5). Hand-rolled scanning: manifests of a
// 1,000-package image hold 50,000 actions, parsed at every plan.
const isBlank = (c: number) => c === 32 || c === 9;
function skipBlanks(s: string, pos: number): number {
  while (pos < s.length && isBlank(s.charCodeAt(pos))) pos++;
  return pos;
}
function nextBlank(s: string, pos: number): number {
  while (pos < s.length && !isBlank(s.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * Parses one action (continuations already joined). `lineNo` and `source` go into messages.
 * @throws ImageError as parseManifest does.
 */
export function parseAction(line: string, lineNo = 1, source = 'action', opts: ParseOptions = {}): Action {
  const fail = (why: string, code?: ErrorCode) => manifestError(source, lineNo, why, code);
  let from = 0;
  let to = line.length;
  while (from < to && isBlank(line.charCodeAt(from))) from++;
  while (to > from && isBlank(line.charCodeAt(to - 1))) to--;
  const s = from === 0 && to === line.length ? line : line.slice(from, to);
  const spAt = nextBlank(s, 0);
  const sp = spAt === s.length ? -1 : spAt;
  const type = sp === -1 ? s : s.slice(0, sp);
  if (!TYPE_SET.has(type)) {
    throw fail(`unknown action type '${type}'; expected one of ${ACTION_TYPES.join(', ')}`);
  }
  const t = type as ActionType;
  let pos = sp === -1 ? s.length : sp;
  const attrs: Record<string, AttrValue> = {};
  let hash: string | null = null;
  let first = true;
  while (pos < s.length) {
    pos = skipBlanks(s, pos);
    if (pos >= s.length) break;
    const eq = s.indexOf('=', pos);
    // A token without '=' before its end is positional (the payload hash); only the key part
    // is scanned for that, not the whole key=value token twice.
    let keyEnd = pos;
    const stop = eq === -1 ? s.length : eq;
    while (keyEnd < stop && !isBlank(s.charCodeAt(keyEnd))) keyEnd++;
    if (keyEnd < stop || eq === -1) {
      const token = s.slice(pos, keyEnd);
      if (!PAYLOAD_TYPES.has(t)) throw fail(`expected key=value, got '${token}'; a ${t} action has no payload`);
      // As pkg(5): only the first token may be positional, and it is not a key, so no quotes.
      if (!first || token.includes('"') || token.includes("'")) throw fail(`expected key=value, got '${token}'`);
      hash = token;
      pos = keyEnd;
      first = false;
      continue;
    }
    first = false;
    const key = s.slice(pos, eq);
    if (!goodKeys.has(key)) {
      if (!KEY_RE.test(key)) throw fail(`invalid attribute name '${key}'; expected no white space, quotes or '='`);
      // A plain object holds the attributes, so this key would replace its prototype.
      if (key === '__proto__') throw fail("attribute name '__proto__' is not allowed");
      // pkg(5) refuses it on every action type: it would be the constructor's payload argument.
      if (key === 'data') throw fail("attribute name 'data' is not allowed (pkg(5) refuses it)");
      if (goodKeys.size < 10_000) goodKeys.add(key);
    }
    pos = eq + 1;
    let value: string;
    let q = s[pos];
    if (q === '"' || q === "'") {
      value = '';
      for (;;) {
        pos++;
        let run = pos; // start of the plain characters not yet copied into value
        for (;;) {
          if (pos >= s.length) throw fail(`unterminated quoted value for '${key}'`);
          const c = s[pos];
          if (c === '\\' && (s[pos + 1] === q || s[pos + 1] === '\\')) {
            value += s.slice(run, pos) + s[pos + 1];
            pos += 2;
            run = pos;
            continue;
          }
          if (c === q) {
            value += s.slice(run, pos);
            pos++;
            break;
          }
          pos++;
        }
        // pkg(5) joins `"a " "b"` into one value; that is how long values are split over continued lines.
        const next = skipBlanks(s, pos);
        if (s[next] !== '"' && s[next] !== "'") break;
        q = s[next];
        pos = next;
      }
      // Anything else right after the closing quote starts the next key, as in pkg(5):
      // `value='"a"'value='"b"'` is two values.
    } else {
      const end = nextBlank(s, pos);
      value = s.slice(pos, end);
      pos = end;
      if (value.length === 0) throw fail(`attribute '${key}' has no value`);
    }
    if (key === 'hash') {
      if (!PAYLOAD_TYPES.has(t)) throw fail(`a ${t} action has no payload, so no hash=`);
      if (hash !== null && hash !== value)
        throw fail(`hash=${value} differs from the payload hash ${hash}; expected the same value`);
      hash = value;
      continue;
    }
    const prev = Object.hasOwn(attrs, key) ? attrs[key] : undefined;
    attrs[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const keyAttr = KEY_ATTR[t];
  // pkg(5) allows an action's key attribute once (depend: its fmri is checked per type below).
  if (keyAttr !== null && t !== 'depend' && Array.isArray(attrs[keyAttr]))
    throw fail(`${t} action has '${keyAttr}=' more than once; pkg(5) allows its key attribute once`);
  if (t === 'set' && (attrs.name === undefined || attrs.value === undefined)) setShorthand(attrs);
  if (attrs.path !== undefined) stripPathSlashes(attrs, t, fail);
  let payload: string | undefined;
  if (opts.pkgsend && hash !== null && t !== 'signature' && !isPayloadHash(hash)) {
    // pkgsend (actions.set_action_data): NOHASH takes the payload from the path attribute,
    // any other token is the payload file's path, relative to the content directory.
    if (hash !== NOHASH) payload = hash.replace(/^\/+/, '');
    hash = null;
  }
  const action: Action = payload === undefined ? { type: t, hash, attrs } : { type: t, hash, attrs, payload };
  validate(action, fail, opts);
  // After validate, so a NUL inside a path is reported as a bad path (PATH_OUTSIDE_IMAGE).
  if (line.includes('\0')) throw fail('the line contains a NUL byte');
  return action;
}

/**
 * pkg(5)'s `set` shorthand (src/modules/actions/attribute.py): a set action with one attribute
 * and not both name= and value= is `name=<its key> value=<its value>`; so `set pkg.obsolete=true`
 * is `set name=pkg.obsolete value=true`, and, as in pkg(5), `set name=x` is `name=name value=x`.
 */
function setShorthand(attrs: Record<string, AttrValue>): void {
  const keys = Object.keys(attrs);
  if (keys.length !== 1) return; // validate then names what is missing
  const value = attrs[keys[0]];
  delete attrs[keys[0]];
  attrs.name = keys[0];
  attrs.value = value;
}

/**
 * pkg(5) (_common.c) drops the leading '/'s of any action's path, and refuses a path that is
 * then empty, or given more than once.
 */
function stripPathSlashes(
  attrs: Record<string, AttrValue>,
  t: ActionType,
  fail: (why: string, code?: ErrorCode) => ImageError,
): void {
  const path = attrs.path;
  if (Array.isArray(path)) throw fail(`${t} action has 'path=' more than once`);
  if (path.charCodeAt(0) !== 47) return;
  const stripped = path.replace(/^\/+/, '');
  if (stripped.length === 0)
    throw fail(`path '${path}' is empty once its leading '/' is dropped`, 'PATH_OUTSIDE_IMAGE');
  attrs.path = stripped;
}

function validate(a: Action, fail: (why: string, code?: ErrorCode) => ImageError, opts: ParseOptions): void {
  for (const k of REQUIRED[a.type]) if (a.attrs[k] === undefined) throw fail(`${a.type} action is missing '${k}='`);
  // require-any and group-any name several packages, one fmri= each.
  const multiFmri = a.type === 'depend' && (a.attrs.type === 'require-any' || a.attrs.type === 'group-any');
  for (const k of SINGLE_VALUED) {
    if (k === 'fmri' && multiFmri) continue;
    if (Array.isArray(a.attrs[k])) throw fail(`${a.type} action has '${k}=' more than once`);
  }
  if ((a.type === 'file' || a.type === 'license') && !a.hash && !opts.pkgsend) {
    throw fail(`${a.type} action needs a payload hash (only a manifest given to publish-manifest may leave it out)`);
  }
  if (a.hash !== null && a.type !== 'signature' && !isPayloadHash(a.hash)) {
    throw fail(
      `payload hash '${a.hash}' is not a hash; expected 64 (SHA-256) or 40 (SHA-1) lower-case hex digits` +
        ' (a payload named by path or NOHASH is for publish-manifest --dir)',
    );
  }
  if (a.payload !== undefined) {
    const why = imagePathProblem(a.payload);
    if (why) throw fail(`payload '${a.payload}' ${why}; expected a file inside the content directory`);
  }
  if (a.attrs.path !== undefined && !FS_TYPES.has(a.type) && (a.attrs.path as string).length === 0)
    throw fail(`${a.type} action has an empty path`);
  if (FS_TYPES.has(a.type)) {
    const path = a.attrs.path as string;
    const why = imagePathProblem(path);
    if (why) throw fail(`path '${path}' ${why}`, 'PATH_OUTSIDE_IMAGE');
    const mode = a.attrs.mode as string | undefined;
    if (mode !== undefined && !goodModes.has(mode)) {
      if (!/^0?[0-7]{3,4}$/.test(mode)) throw fail(`mode '${mode}' is not an octal mode like 0644`);
      if (goodModes.size < 10_000) goodModes.add(mode);
    }
  }
  if ((a.type === 'link' || a.type === 'hardlink') && (a.attrs.target as string).length === 0)
    throw fail(`${a.type} target is empty`);
  if (a.type === 'hardlink') {
    const why = imagePathProblem(hardlinkTarget(a));
    if (why) throw fail(`hardlink target '${a.attrs.target}' ${why}`, 'PATH_OUTSIDE_IMAGE');
  }
  if (a.type === 'depend') {
    const type = a.attrs.type as string;
    if (!(DEPEND_TYPES as readonly string[]).includes(type))
      throw fail(`depend type '${type}' is not one of ${DEPEND_TYPES.join(', ')}`);
    for (const f of values(a, 'fmri')) {
      try {
        Fmri.parse(f);
      } catch (e) {
        throw fail((e as Error).message);
      }
    }
  }
  if (a.type === 'file' && a.attrs.preserve !== undefined && !PRESERVE.includes(a.attrs.preserve as string)) {
    throw fail(`preserve '${a.attrs.preserve}' is not one of ${PRESERVE.join(', ')}`);
  }
}

/** The hardlink's target as an image path: relative targets resolve against the link's directory. */
export function hardlinkTarget(a: Action): string {
  const target = a.attrs.target as string;
  if (target.startsWith('/')) return normalise(target.slice(1));
  const dir = (a.attrs.path as string).split('/').slice(0, -1);
  return normalise([...dir, target].join('/'));
}

function normalise(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return '../' + p; // escapes: left for checkImagePath to reject
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

function manifestError(source: string, lineNo: number, why: string, code: ErrorCode = 'BAD_MANIFEST'): ImageError {
  return new ImageError(code, `${source}: line ${lineNo}: ${why}`, { source, line: lineNo });
}

export function printAction(a: Action): string {
  const parts: string[] = [a.type];
  // A hash (or pkgsend payload path) that would not read back as one positional token goes out
  // as hash=, as pkg(5) does.
  const token = a.hash ?? a.payload ?? null;
  if (token !== null) parts.push(/^[^\s"'=]+$/.test(token) ? token : `hash=${quote(token)}`);
  for (const [k, v] of Object.entries(a.attrs)) {
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${k}=${quote(one)}`);
  }
  return parts.join(' ');
}

export function printManifest(m: Manifest): string {
  return m.actions.map(printAction).join('\n') + (m.actions.length ? '\n' : '');
}

function quote(v: string): string {
  if (v.length > 0 && !/[\s"'\\]/.test(v)) return v;
  return '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** All values of an attribute, as a list. */
export function values(a: Action, key: string): string[] {
  const v = a.attrs[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The single value of an attribute (the first when it is a list). */
export function attr(a: Action, key: string): string | undefined {
  const v = a.attrs[key];
  return Array.isArray(v) ? v[0] : v;
}

/** The value that identifies the action in an image: a path for file system actions. */
export function actionKey(a: Action): string | null {
  const k = KEY_ATTR[a.type];
  return k ? (attr(a, k) ?? null) : null;
}

/** The package FMRI a manifest declares with `set name=pkg.fmri`. */
export function manifestFmri(m: Manifest): Fmri | null {
  const set = m.actions.find((a) => a.type === 'set' && a.attrs.name === 'pkg.fmri');
  return set ? Fmri.parse(attr(set, 'value') as string) : null;
}

export function manifestSummary(m: Manifest): string | undefined {
  const set = m.actions.find((a) => a.type === 'set' && a.attrs.name === 'pkg.summary');
  return set ? attr(set, 'value') : undefined;
}

/**
 * Whether an action is installed in an image with these variants: every `variant.*` tag
 * the action carries must list the image's value. A variant the image does not set is
 * unconstrained, except `variant.debug.*`, which pkg(5) treats as `false` by default.
 */
export function appliesTo(a: Action, variants: Readonly<Record<string, string>>): boolean {
  // for-in, not Object.entries: a plan derivation asks this of 100,000 actions, and the
  // entries array allocated per action was most of the time.
  for (const k in a.attrs) {
    if (!k.startsWith('variant.')) continue;
    if (a.type === 'set' && k === 'name') continue;
    const have = variants[k] ?? (k.startsWith('variant.debug.') ? 'false' : undefined);
    if (have === undefined) continue;
    const v = a.attrs[k];
    if (Array.isArray(v) ? !v.includes(have) : v !== have) return false;
  }
  return true;
}

/** Same type, payload and attributes, attribute order and list order ignored for lists. */
export function actionsEqual(a: Action, b: Action): boolean {
  if (a.type !== b.type || a.hash !== b.hash || a.payload !== b.payload) return false;
  for (const k in a.attrs) {
    const va = a.attrs[k],
      vb = b.attrs[k];
    if (vb === undefined) return false;
    if (Array.isArray(va) || Array.isArray(vb)) {
      const xa = [...values(a, k)].sort(),
        xb = [...values(b, k)].sort();
      if (xa.length !== xb.length || xa.some((x, i) => x !== xb[i])) return false;
    } else if (va !== vb) return false;
  }
  for (const k in b.attrs) if (!Object.hasOwn(a.attrs, k)) return false;
  return true;
}
