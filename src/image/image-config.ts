import { ErrorCode, ImageError } from '../model/errors';
import { Fmri, isPublisherName } from '../model/fmri';
import { LINK_NAME_RE, type ChildRef } from '../model/linked-image';

export { LINK_NAME_RE, type ChildRef };

/**
 * Shapes of the two metadata files and their validation. image.json and state.json are
 * written by several processes (and by hand, in an emergency), so every read is checked
 * field by field and an error names the field: "field 'publishers[1].sticky': expected a
 * boolean, got \"yes\"".
 */
export interface PublisherConfig {
  name: string;
  origins: string[];
  sticky: boolean;
  enabled: boolean;
  /**
   * pkg(5)'s `nochild` publisher property: a parent's publisher so marked is not required in its
   * children by the linked-image publisher check. Absent means false (the field is then not written).
   */
  nochild?: boolean;
}

export interface LinkedParent {
  name: string;
  model: 'push';
  parent: string;
}

export interface ImageConfig {
  format: 1;
  publishers: PublisherConfig[];
  variants: Record<string, string>;
  properties: Record<string, string>;
  linked: LinkedParent | null;
  children: ChildRef[];
  /**
   * Facets set by the administrator (`pkg change-facet`): `facet.<name>` or a glob such as
   * `facet.locale.*` -> true/false. Absent when none is set (pkg(5)'s defaults apply: see
   * src/model/facets.ts).
   */
  facets?: Record<string, boolean>;
  /** Mediations set by the administrator (`pkg set-mediator`), by mediator name. Absent when none is set. */
  mediators?: Record<string, MediatorChoice>;
}

/** An administrator's choice for one mediator: a version, an implementation (`name` or `name@version`), or both. */
export interface MediatorChoice {
  version?: string;
  implementation?: string;
}

export interface ImageState {
  token: string;
  generation: number;
  lastPlan: string | null;
  packages: Record<string, { fmri: string; manifest: string }>;
}

export const VARIANT_NAME_RE = /^variant\.[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const PROPERTY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;

/** Throws for `field` (a path like `publishers[1].sticky`). */
export type Fail = (field: string, expected: string, got: unknown) => never;

/** A Fail that throws `code` with a message starting `what` and details { field, ... }. */
export function failWith(code: ErrorCode, what: string, details: Record<string, unknown> = {}): Fail {
  return (field, expected, got) => {
    throw new ImageError(code, `${what}: field '${field}': expected ${expected}, got ${show(got)}`, {
      ...details,
      field,
    });
  };
}

export function checkConfig(v: unknown, fail: Fail): ImageConfig {
  const o = record(v, '(top level)', fail);
  if (o.format !== 1) fail('format', '1', o.format);
  const children = list(o.children, 'children', fail).map((c, i) => checkChild(c, `children[${i}]`, fail));
  for (const key of ['name', 'path'] as const) {
    const seen = new Set<string>();
    children.forEach((c, i) =>
      seen.has(c[key]) ? fail(`children[${i}].${key}`, `a ${key} no other child has`, c[key]) : seen.add(c[key]),
    );
  }
  return {
    format: 1,
    publishers: checkPublishers(o.publishers, 'publishers', fail),
    variants: stringRecord(o.variants, 'variants', VARIANT_NAME_RE, "'variant.<name>'", fail),
    properties: stringRecord(o.properties, 'properties', PROPERTY_NAME_RE, 'letters, digits, _ . -', fail),
    linked: o.linked === null ? null : checkLinked(o.linked, 'linked', fail),
    children,
    ...(o.facets === undefined ? {} : { facets: checkFacets(o.facets, 'facets', fail) }),
    ...(o.mediators === undefined ? {} : { mediators: checkMediators(o.mediators, 'mediators', fail) }),
  };
}

/** A facet name (pkg(5): `facet.` then anything without white space; `*` and `?` are globs). */
export const FACET_NAME_RE = /^facet\.[^\s=]+$/;
/** A mediator name (pkg(5) mediator.valid_mediator: alphanumerics, `-` `_` `.`). */
export const MEDIATOR_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A mediator version: a dot sequence of non-negative integers (pkg(5)'s DotSequence). */
export const MEDIATOR_VERSION_RE = /^\d+(\.\d+)*$/;
/** A mediator implementation: alphanumerics, optionally `@` and a dot sequence. */
export const MEDIATOR_IMPL_RE = /^[A-Za-z0-9_.-]+(@\d+(\.\d+)*)?$/;

function checkFacets(v: unknown, field: string, fail: Fail): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [k, val] of Object.entries(record(v, field, fail))) {
    if (!FACET_NAME_RE.test(k)) fail(field, "keys of the form 'facet.<name>'", k);
    if (typeof val !== 'boolean') fail(`${field}[${JSON.stringify(k)}]`, 'a boolean', val);
    out[k] = val as boolean;
  }
  return out;
}

function checkMediators(v: unknown, field: string, fail: Fail): Record<string, MediatorChoice> {
  const out: Record<string, MediatorChoice> = {};
  for (const [k, val] of Object.entries(record(v, field, fail))) {
    if (!MEDIATOR_NAME_RE.test(k)) fail(field, 'mediator names (letters, digits, _ . -)', k);
    const f = `${field}[${JSON.stringify(k)}]`;
    const o = record(val, f, fail);
    const choice: MediatorChoice = {};
    if (o.version !== undefined) {
      if (typeof o.version !== 'string' || !MEDIATOR_VERSION_RE.test(o.version))
        fail(`${f}.version`, 'a dot sequence of numbers like 3.11', o.version);
      choice.version = o.version as string;
    }
    if (o.implementation !== undefined) {
      if (typeof o.implementation !== 'string' || !MEDIATOR_IMPL_RE.test(o.implementation))
        fail(`${f}.implementation`, 'a name, optionally @<version>', o.implementation);
      choice.implementation = o.implementation as string;
    }
    if (choice.version === undefined && choice.implementation === undefined)
      fail(f, 'a version, an implementation or both', o);
    out[k] = choice;
  }
  return out;
}

export function checkPublishers(v: unknown, field: string, fail: Fail): PublisherConfig[] {
  const pubs = list(v, field, fail).map((p, i) => checkPublisher(p, `${field}[${i}]`, fail));
  const seen = new Set<string>();
  pubs.forEach((p, i) =>
    seen.has(p.name) ? fail(`${field}[${i}].name`, 'a name no other publisher has', p.name) : seen.add(p.name),
  );
  return pubs;
}

function checkPublisher(v: unknown, field: string, fail: Fail): PublisherConfig {
  const o = record(v, field, fail);
  if (typeof o.name !== 'string' || !isPublisherName(o.name))
    fail(`${field}.name`, "a publisher name (letters, digits, '-' and '.', not starting with '.')", o.name);
  const origins = list(o.origins, `${field}.origins`, fail).map((u, i) =>
    checkOrigin(u, `${field}.origins[${i}]`, fail),
  );
  if (typeof o.sticky !== 'boolean') fail(`${field}.sticky`, 'a boolean', o.sticky);
  if (typeof o.enabled !== 'boolean') fail(`${field}.enabled`, 'a boolean', o.enabled);
  if (o.nochild !== undefined && typeof o.nochild !== 'boolean') fail(`${field}.nochild`, 'a boolean', o.nochild);
  return {
    name: o.name as string,
    origins,
    sticky: o.sticky as boolean,
    enabled: o.enabled as boolean,
    ...(o.nochild === true ? { nochild: true } : {}),
  };
}

function checkOrigin(v: unknown, field: string, fail: Fail): string {
  const expected = 'a file:// or http(s):// URL';
  if (typeof v !== 'string') return fail(field, expected, v);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return fail(field, expected, v);
  }
  if (url.protocol === 'file:' || ((url.protocol === 'http:' || url.protocol === 'https:') && url.host !== ''))
    return v;
  return fail(field, expected, v);
}

function checkLinked(v: unknown, field: string, fail: Fail): LinkedParent {
  const o = record(v, field, fail);
  if (typeof o.name !== 'string' || !LINK_NAME_RE.test(o.name))
    fail(`${field}.name`, 'zone:<name> or system:<name>', o.name);
  if (o.model !== 'push') fail(`${field}.model`, "'push'", o.model);
  if (!isAbsolute(o.parent)) fail(`${field}.parent`, 'an absolute path', o.parent);
  return { name: o.name as string, model: 'push', parent: o.parent as string };
}

function checkChild(v: unknown, field: string, fail: Fail): ChildRef {
  const o = record(v, field, fail);
  if (typeof o.name !== 'string' || !LINK_NAME_RE.test(o.name))
    fail(`${field}.name`, 'zone:<name> or system:<name>', o.name);
  if (!isAbsolute(o.path)) fail(`${field}.path`, 'an absolute path', o.path);
  return { name: o.name as string, path: o.path as string };
}

export function checkState(v: unknown, fail: Fail): ImageState {
  const o = record(v, '(top level)', fail);
  if (typeof o.token !== 'string' || o.token.length === 0) fail('token', 'a non-empty string', o.token);
  if (!Number.isSafeInteger(o.generation) || (o.generation as number) < 0)
    fail('generation', 'an integer >= 0', o.generation);
  if (o.lastPlan !== null && typeof o.lastPlan !== 'string') fail('lastPlan', 'a string or null', o.lastPlan);
  const packages: ImageState['packages'] = {};
  for (const [stem, rec] of Object.entries(record(o.packages, 'packages', fail))) {
    const field = `packages[${JSON.stringify(stem)}]`;
    const r = record(rec, field, fail);
    let fmri: Fmri | null = null;
    try {
      fmri = typeof r.fmri === 'string' ? Fmri.parse(r.fmri) : null;
    } catch {
      // reported below with the field name
    }
    if (!fmri || !fmri.publisher || !fmri.version) fail(`${field}.fmri`, 'pkg://<publisher>/<name>@<version>', r.fmri);
    if (fmri!.stem !== stem) fail(`${field}.fmri`, `an FMRI whose name is '${stem}' (the key)`, r.fmri);
    if (typeof r.manifest !== 'string' || !DIGEST_RE.test(r.manifest))
      fail(`${field}.manifest`, 'a SHA-256 digest (64 lower-case hex digits)', r.manifest);
    packages[stem] = { fmri: r.fmri as string, manifest: r.manifest as string };
  }
  return {
    token: o.token as string,
    generation: o.generation as number,
    lastPlan: o.lastPlan as string | null,
    packages,
  };
}

function record(v: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'an object', v);
  return v as Record<string, unknown>;
}

function list(v: unknown, field: string, fail: Fail): unknown[] {
  if (!Array.isArray(v)) fail(field, 'an array', v);
  return v as unknown[];
}

function stringRecord(v: unknown, field: string, keyRe: RegExp, keyForm: string, fail: Fail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(record(v, field, fail))) {
    if (!keyRe.test(k)) fail(`${field}`, `keys of the form ${keyForm}`, k);
    if (typeof val !== 'string') fail(`${field}[${JSON.stringify(k)}]`, 'a string', val);
    out[k] = val as string;
  }
  return out;
}

function isAbsolute(v: unknown): boolean {
  return typeof v === 'string' && v.startsWith('/') && !v.includes('\0');
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
