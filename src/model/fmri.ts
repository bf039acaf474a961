import { ImageError } from './errors';

/**
 * pkg(5) versions: `release[,build]-branch:timestamp`. Release, build and branch are
 * dot-sequences of non-negative integers without zero padding; the timestamp is UTC
 * `YYYYMMDDTHHMMSSZ`. Ordering follows pkg(5): release, then branch, then timestamp,
 * a missing component sorting before a present one; the build release is not compared.
 */
export class Version {
  private constructor(
    readonly release: readonly number[],
    readonly build: readonly number[] | null,
    readonly branch: readonly number[] | null,
    readonly timestamp: string | null,
  ) {}

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
    let branch: number[] | null = null;
    const dash = rest.indexOf('-');
    if (dash !== -1) {
      branch = dotSequence(rest.slice(dash + 1), 'branch', bad);
      rest = rest.slice(0, dash);
    }
    let build: number[] | null = null;
    const comma = rest.indexOf(',');
    if (comma !== -1) {
      build = dotSequence(rest.slice(comma + 1), 'build release', bad);
      rest = rest.slice(0, comma);
    }
    const release = dotSequence(rest, 'release', bad);
    return new Version(release, build, branch, timestamp);
  }

  toString(): string {
    let s = this.release.join('.');
    if (this.build) s += ',' + this.build.join('.');
    if (this.branch) s += '-' + this.branch.join('.');
    if (this.timestamp) s += ':' + this.timestamp;
    return s;
  }

  /** Negative, zero or positive as `this` sorts before, with or after `other`. */
  compare(other: Version): number {
    return (
      compareSeq(this.release, other.release) ||
      compareOptional(this.branch, other.branch, compareSeq) ||
      compareOptional(this.timestamp, other.timestamp, (a, b) => (a < b ? -1 : a > b ? 1 : 0))
    );
  }

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
 * `pkg://<publisher>/<name>@<version>`, `pkg:/<name>@<version>` or `<name>[@<version>]`.
 * The stem is the name; publisher and version are optional.
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

  static parse(text: string): Fmri {
    const bad = (why: string) =>
      new ImageError(
        'BAD_FMRI',
        `Invalid FMRI '${text}': ${why}; expected pkg://<publisher>/<name>@<release>[,<build>]-<branch>:<YYYYMMDDTHHMMSSZ>`,
        { value: text },
      );
    if (typeof text !== 'string' || text.length === 0) throw bad('it is empty');
    if (/[\s\0]/.test(text)) throw bad('it contains white space or NUL');
    let rest = text;
    let publisher: string | null = null;
    if (rest.startsWith('pkg://')) {
      rest = rest.slice(6);
      const slash = rest.indexOf('/');
      if (slash <= 0) throw bad('the publisher is missing');
      publisher = rest.slice(0, slash);
      if (!PUBLISHER_RE.test(publisher))
        throw bad(`publisher '${publisher}' may hold only letters, digits, '.', '_' and '-'`);
      rest = rest.slice(slash + 1);
    } else if (rest.startsWith('pkg:/')) {
      rest = rest.slice(5);
    } else if (rest.startsWith('pkg:')) {
      throw bad("the scheme must be 'pkg://publisher/' or 'pkg:/'");
    }
    const at = rest.indexOf('@');
    const name = at === -1 ? rest : rest.slice(0, at);
    if (!name) throw bad('the package name is missing');
    if (!NAME_RE.test(name))
      throw bad(
        `package name '${name}' must be '/'-separated parts of letters, digits, '_', '-', '.', '+', each starting with a letter or digit`,
      );
    let version: Version | null = null;
    if (at !== -1) {
      try {
        version = Version.parse(rest.slice(at + 1));
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

  /** Orders by name, then version (no version first); publishers are not ordered. */
  compare(other: Fmri): number {
    if (this.name !== other.name) return this.name < other.name ? -1 : 1;
    return compareOptional(this.version, other.version, (a, b) => a.compare(b));
  }

  /** Same name, same version (compared as pkg(5) does), same publisher when both have one. */
  equals(other: Fmri): boolean {
    if (this.publisher && other.publisher && this.publisher !== other.publisher) return false;
    return this.compare(other) === 0;
  }
}

export function compareVersions(a: string | Version, b: string | Version): number {
  return (typeof a === 'string' ? Version.parse(a) : a).compare(typeof b === 'string' ? Version.parse(b) : b);
}

const PUBLISHER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_\-.+]*(\/[A-Za-z0-9][A-Za-z0-9_\-.+]*)*$/;

export function isPublisherName(s: string): boolean {
  return PUBLISHER_RE.test(s);
}

function dotSequence(s: string, part: string, bad: (why: string) => ImageError): number[] {
  if (s.length === 0) throw bad(`the ${part} is empty`);
  return s.split('.').map((el) => {
    if (!/^(0|[1-9][0-9]*)$/.test(el))
      throw bad(`${part} element '${el}' is not a non-negative integer without leading zeros`);
    const n = Number(el);
    if (!Number.isSafeInteger(n)) throw bad(`${part} element '${el}' is too large`);
    return n;
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

function compareSeq(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

function compareOptional<T>(a: T | null, b: T | null, cmp: (a: T, b: T) => number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return cmp(a, b);
}

function isPrefix(prefix: readonly number[], seq: readonly number[]): boolean {
  if (prefix.length > seq.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== seq[i]) return false;
  return true;
}
