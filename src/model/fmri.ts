import { ImageError } from './errors';

/**
 * One element of a dot-sequence. pkg(5) holds them as Python integers, of any size: a number
 * while it is a safe integer (every real version), a bigint beyond 2^53 so that order and
 * equality stay exact. Each value has one representation, so `!==` compares values.
 */
export type DotElement = number | bigint;

/**
 * pkg(5) versions: `release[,build]-branch:timestamp` (src/modules/version.py). Release, build
 * and branch are dot-sequences of non-negative decimal integers; an element may not be zero
 * padded unless its value is 0 (`00` is 0, `01` is refused), so `1.00` equals `1.0`, though it
 * prints as written. The timestamp is UTC `YYYYMMDDTHHMMSSZ`. Ordering follows pkg(5): release,
 * then branch, then timestamp, a missing component sorting before a present one; the build
 * release is not compared.
 */
export class Version {
  private constructor(
    readonly release: readonly DotElement[],
    readonly build: readonly DotElement[] | null,
    readonly branch: readonly DotElement[] | null,
    readonly timestamp: string | null,
    /** As parsed: pkg(5) prints each dot-sequence as it was written. */
    private readonly text: string,
  ) {}

  /**
   * Parses `release[,build][-branch][:YYYYMMDDTHHMMSSZ]`.
   * @throws ImageError BAD_FMRI naming the text and what was expected.
   */
  static parse(text: string): Version {
    const bad = (why: string) =>
      new ImageError(
        'BAD_FMRI',
        `Invalid version '${text}': ${why}; expected release[,build][-branch][:YYYYMMDDTHHMMSSZ], e.g. 1.2.3,5.11-0.1:20260101T120000Z`,
        { value: text },
      );
    if (typeof text !== 'string' || text.length === 0) throw bad('it is empty');
    let rest = text;
    let timestamp: string | null = null;
    const colon = rest.indexOf(':');
    if (colon !== -1) {
      timestamp = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!isTimestamp(timestamp)) throw bad(`timestamp '${timestamp}' is not YYYYMMDDTHHMMSSZ`);
    }
    let branch: DotElement[] | null = null;
    const dash = rest.indexOf('-');
    if (dash !== -1) {
      branch = dotSequence(rest.slice(dash + 1), 'branch', bad);
      rest = rest.slice(0, dash);
    }
    let build: DotElement[] | null = null;
    const comma = rest.indexOf(',');
    if (comma !== -1) {
      build = dotSequence(rest.slice(comma + 1), 'build release', bad);
      rest = rest.slice(0, comma);
    }
    const release = dotSequence(rest, 'release', bad);
    return new Version(release, build, branch, timestamp, text);
  }

  /** The version as it was written (`1.00` stays `1.00`, as pkg(5) prints it). */
  toString(): string {
    return this.text;
  }

  /** Serialised as its text: a bigint element has no JSON form. */
  toJSON(): string {
    return this.text;
  }

  /** Negative, zero or positive as `this` sorts before, with or after `other`. */
  compare(other: Version): number {
    return (
      compareSeq(this.release, other.release) ||
      compareOptional(this.branch, other.branch, compareSeq) ||
      compareOptional(this.timestamp, other.timestamp, (a, b) => (a < b ? -1 : a > b ? 1 : 0))
    );
  }

  /** pkg(5)'s Version equality: same release, branch and timestamp by value; the build is ignored. */
  equals(other: Version): boolean {
    return this.compare(other) === 0;
  }

  /**
   * pkg(5)'s CONSTRAINT_AUTO match, used by `incorporate` dependencies and version patterns:
   * every component `spec` gives must match at the precision it is given (`1.2` matches
   * `1.2` and `1.2.7`, not `1.3`); components `spec` omits match anything.
   */
  matches(spec: Version): boolean {
    if (!isPrefix(spec.release, this.release)) return false;
    if (spec.branch && !(this.branch && isPrefix(spec.branch, this.branch))) return false;
    if (spec.timestamp && spec.timestamp !== this.timestamp) return false;
    return true;
  }
}

/**
 * A package FMRI, as pkg(5)'s PkgFmri reads it (src/modules/fmri.py): `pkg://<publisher>/<name>`,
 * `pkg:/<name>`, `//<publisher>/<name>`, `/<name>` or `<name>`, each with an optional
 * `@<version>` (the last `@` starts it). An empty publisher (`pkg:///name`, `///name`) is no
 * publisher. Trailing white space is dropped (fmri.py strips it); any other is refused.
 */
export class Fmri {
  private constructor(
    readonly publisher: string | null,
    readonly name: string,
    readonly version: Version | null,
  ) {}

  static of(name: string, version: Version | null, publisher: string | null = null): Fmri {
    return Fmri.parse(`${publisher ? `pkg://${publisher}/` : ''}${name}${version ? '@' + version : ''}`);
  }

  /**
   * Parses any of the forms above. The publisher, when there is one, must be a publisher name
   * (see `isPublisherName`): fmri.py itself does not check it, but pkg(5) can neither configure
   * nor publish to a publisher whose name fails that rule.
   * @throws ImageError BAD_FMRI naming the text and what was expected.
   */
  static parse(text: string): Fmri {
    const bad = (why: string) =>
      new ImageError(
        'BAD_FMRI',
        `Invalid FMRI '${text}': ${why}; expected pkg://<publisher>/<name>@<release>[,<build>]-<branch>:<YYYYMMDDTHHMMSSZ>`,
        { value: text },
      );
    if (typeof text !== 'string') throw bad('it is not a string');
    const s = text.replace(TRAILING_BLANKS, '');
    if (s.length === 0) throw bad('it is empty');
    if (/[\s\0]/.test(s)) throw bad('it contains white space or NUL');
    const at = s.lastIndexOf('@');
    let publisher: string | null = null;
    let nameStart = 0;
    const pubStart = s.startsWith('pkg://') ? 6 : s.startsWith('//') ? 2 : -1;
    if (pubStart !== -1) {
      const slash = s.indexOf('/', pubStart);
      if (slash === -1 || (at !== -1 && slash > at)) throw bad("the publisher is not followed by '/'");
      publisher = s.slice(pubStart, slash) || null;
      if (publisher !== null && !isPublisherName(publisher))
        throw bad(`publisher '${publisher}' ${PUBLISHER_NAME_RULE}`);
      nameStart = slash + 1;
    } else if (s.startsWith('pkg:/')) {
      nameStart = 5;
    } else if (s.startsWith('/')) {
      nameStart = 1;
    } else if (s.startsWith('pkg:')) {
      throw bad("the scheme must be 'pkg://publisher/' or 'pkg:/'");
    }
    const name = at === -1 ? s.slice(nameStart) : s.slice(nameStart, at);
    if (!name) throw bad('the package name is missing');
    if (!NAME_RE.test(name))
      throw bad(
        `package name '${name}' must be '/'-separated parts of letters, digits, '_', '-', '.', '+', each starting with a letter or digit`,
      );
    let version: Version | null = null;
    if (at !== -1) {
      try {
        version = Version.parse(s.slice(at + 1));
      } catch (e) {
        throw bad((e as Error).message);
      }
    }
    return new Fmri(publisher, name, version);
  }

  get stem(): string {
    return this.name;
  }

  toString(): string {
    const v = this.version ? '@' + this.version.toString() : '';
    return this.publisher ? `pkg://${this.publisher}/${this.name}${v}` : `pkg:/${this.name}${v}`;
  }

  /** Serialised as its text, as pkg(5) stores FMRIs. */
  toJSON(): string {
    return this.toString();
  }

  /** `name@version`, the short form pkg(5) prints in lists. */
  toShortString(): string {
    return this.version ? `${this.name}@${this.version}` : this.name;
  }

  withPublisher(publisher: string): Fmri {
    return new Fmri(Fmri.parse(`pkg://${publisher}/x`).publisher, this.name, this.version);
  }

  withVersion(version: Version | null): Fmri {
    return new Fmri(this.publisher, this.name, version);
  }

  /**
   * pkg(5)'s FMRI order (PkgFmri.__lt__): by publisher first (none before any, then by name),
   * then package name, then version (none first).
   */
  compare(other: Fmri): number {
    if (this.publisher !== other.publisher) {
      if (this.publisher === null) return -1;
      if (other.publisher === null) return 1;
      return this.publisher < other.publisher ? -1 : 1;
    }
    if (this.name !== other.name) return this.name < other.name ? -1 : 1;
    return compareOptional(this.version, other.version, (a, b) => a.compare(b));
  }

  /**
   * pkg(5)'s FMRI equality (PkgFmri.__eq__): the same publisher (no publisher equals only no
   * publisher), the same name and equal versions (build release ignored).
   */
  equals(other: Fmri): boolean {
    return this.compare(other) === 0;
  }
}

export function compareVersions(a: string | Version, b: string | Version): number {
  return (typeof a === 'string' ? Version.parse(a) : a).compare(typeof b === 'string' ? Version.parse(b) : b);
}

/**
 * pkg(5)'s publisher-name rule (misc.valid_pub_prefix, the host-name pattern): letters, digits,
 * '-' and '.', not starting with '.'. So `_` is refused and a leading `-` allowed. Its other
 * form, a bracketed IPv6 literal such as `[::1]`, is not accepted here.
 */
const PUBLISHER_RE = /^[A-Za-z0-9-][A-Za-z0-9.-]*$/;
/** The publisher-name rule in words, for messages about a name that fails it. */
export const PUBLISHER_NAME_RULE =
  "must be letters, digits, '-' and '.', not starting with '.' (pkg(5)'s publisher-name rule)";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_\-.+]*(\/[A-Za-z0-9][A-Za-z0-9_\-.+]*)*$/;
/** What Python's str.rstrip() drops, which is what fmri.py does to an FMRI before reading it. */
const TRAILING_BLANKS = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** Whether `s` is a publisher name pkg(5) accepts (see PUBLISHER_RE). */
export function isPublisherName(s: string): boolean {
  return PUBLISHER_RE.test(s);
}

function dotSequence(s: string, part: string, bad: (why: string) => ImageError): DotElement[] {
  if (s.length === 0) throw bad(`the ${part} is empty`);
  return s.split('.').map((el) => {
    if (!/^[0-9]+$/.test(el)) throw bad(`${part} element '${el}' is not a non-negative decimal integer`);
    // version.py refuses a zero-padded element only when its value is not 0: '00' is 0.
    if (el.length > 1 && el.charCodeAt(0) === 48) {
      if (/^0+$/.test(el)) return 0;
      throw bad(`${part} element '${el}' is zero padded; expected no leading zeros`);
    }
    // Up to 15 digits is below 2^53; longer ones are exact only as a bigint.
    if (el.length <= 15) return Number(el);
    const big = BigInt(el);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  });
}

function isTimestamp(t: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(t);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  // Checked by hand: Date.UTC reads years 0-99 as 1900-1999. pkg(5) (Python datetime) allows years 1-9999.
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return y >= 1 && days !== undefined && d >= 1 && d <= days && h < 24 && mi < 60 && s < 60;
}

/**
 * The version part of an FMRI string, as plans, output lines and reports show it: `1.0` from
 * `pkg://demo/web/nginx@1.0:20261125T120000Z` (the `:YYYYMMDDTHHMMSSZ` timestamp dropped), or
 * `1.0:20261125T120000Z` with `{ timestamp: true }`. An FMRI without `@` comes back whole. Text
 * only, never throws: it also formats FMRIs read back from histories, which Fmri.parse might reject.
 */
export function shortVersion(fmri: string, opts: { timestamp?: boolean } = {}): string {
  const at = fmri.indexOf('@');
  if (at < 0) return fmri;
  const version = fmri.slice(at + 1);
  return opts.timestamp ? version : version.replace(/:\d{8}T\d{6}Z$/, '');
}

/** The pkg(5) timestamp for a moment, `YYYYMMDDTHHMMSSZ`. */
export function timestampOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function compareSeq(a: readonly DotElement[], b: readonly DotElement[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function compareOptional<T>(a: T | null, b: T | null, cmp: (a: T, b: T) => number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return cmp(a, b);
}

function isPrefix(prefix: readonly DotElement[], seq: readonly DotElement[]): boolean {
  if (prefix.length > seq.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== seq[i]) return false;
  return true;
}
