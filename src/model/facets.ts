import type { Action } from './manifest';

/**
 * An image's facets as pkg(5) evaluates them (src/modules/facet.py and _allow_facet in
 * src/modules/_varcet.c): the administrator's (`local`) values and the ones inherited from
 * a linked parent (`inherited`: its `facet.version-lock.*`), which mask local values of the
 * same name. Names may be globs (`*`, `?`). Node-free, so plans and workflows share it.
 */
export interface FacetSettings {
  local?: Readonly<Record<string, boolean>>;
  inherited?: Readonly<Record<string, boolean>>;
}

/** Where a facet's value comes from, as `pkg facet` prints it. */
export type FacetSource = 'local' | 'parent' | 'system';

/** The facets a child inherits from its parent (pkg(5) linkedimage pushes only these). */
export const INHERITED_FACET_PREFIX = 'facet.version-lock.';

/**
 * The compiled lookup of one FacetSettings. pkg(5)'s order: an exact name first; else the
 * patterns, inherited before local, longer before shorter, then lexically; else the system
 * default: false for `facet.debug.*` and `facet.optional.*`, true for everything else.
 */
export class Facets {
  private readonly exact = new Map<string, { value: boolean; source: FacetSource }>();
  private readonly patterns: { key: string; re: RegExp; value: boolean; source: FacetSource }[] = [];
  /** True when no facet is set: every action passes except debug/optional ones. */
  readonly empty: boolean;

  constructor(settings: FacetSettings = {}) {
    const inherited = settings.inherited ?? {};
    const local = settings.local ?? {};
    const order = (a: string, b: string) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0);
    for (const [names, source] of [
      [Object.keys(inherited).sort(order), 'parent'],
      [Object.keys(local).sort(order), 'local'],
    ] as const) {
      for (const key of names) {
        if (this.exact.has(key)) continue; // inherited masks local
        const value = source === 'parent' ? inherited[key] : local[key];
        this.exact.set(key, { value, source });
        this.patterns.push({ key, re: globToRegExp(key), value, source });
      }
    }
    this.empty = this.exact.size === 0;
  }

  /** The value of facet `name` and where it comes from (`key`: the set name or pattern that matched). */
  lookup(name: string): { value: boolean; source: FacetSource; key: string | null } {
    const hit = this.exact.get(name);
    if (hit) return { ...hit, key: name };
    for (const p of this.patterns) if (p.re.test(name)) return { value: p.value, source: p.source, key: p.key };
    const value = !(name.startsWith('facet.debug.') || name.startsWith('facet.optional.'));
    return { value, source: 'system', key: null };
  }

  value(name: string): boolean {
    return this.lookup(name).value;
  }

  /**
   * Whether the facet tags `tags` (attribute name -> value, e.g. `facet.doc.man=true`) let an
   * action in. pkg(5)'s rule: a tag whose value is `all` must be true in the image; of the
   * other tags at least one must be true; an action without tags always passes. A tag given
   * as a list is refused, as pkg(5) does.
   */
  allowTags(tags: Readonly<Record<string, string | readonly string[]>>): boolean {
    let any: boolean | null = null;
    for (const k in tags) {
      if (!k.startsWith('facet.')) continue;
      const v = tags[k];
      if (typeof v !== 'string') return false;
      const on = this.value(k);
      if (v === 'all') {
        if (!on) return false;
      } else if (on) any = true;
      else if (any === null) any = false;
    }
    return any !== false;
  }

  /** allowTags for an action's attributes. */
  allowAction(a: Action): boolean {
    return this.allowTags(a.attrs);
  }
}

/** The facet tags of an action (`facet.*` attributes), or undefined when it has none. */
export function facetTags(a: Action): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k in a.attrs) {
    if (!k.startsWith('facet.')) continue;
    const v = a.attrs[k];
    (out ??= {})[k] = Array.isArray(v) ? v.join(' ') : (v as string);
  }
  return out;
}

/** The inherited part of a parent's facets: its `facet.version-lock.*` values, local or inherited. */
export function inheritableFacets(settings: FacetSettings): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const src of [settings.local ?? {}, settings.inherited ?? {}])
    for (const [k, v] of Object.entries(src)) if (k.startsWith(INHERITED_FACET_PREFIX)) out[k] = v;
  return out;
}

/** fnmatch as pkg(5) uses it: `*` any run, `?` one character, `[...]` a class; the whole name must match. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += `[${cls}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
