import { createHash } from 'crypto';
import { promises as fsp } from 'fs';
import { ImageError, ioError } from '../model/errors';
import { compareVersions } from '../model/fmri';
import { facetTags } from '../model/facets';
import { Manifest, attr, values } from '../model/manifest';
import { writeFileAtomic } from '../image/atomic-write';
import { catalogPath } from './layout';

export interface CatalogEntry {
  /** Full version string, timestamp included. */
  version: string;
  /** SHA-256 hex of the manifest text as stored: the "manifest digest". */
  manifest: string;
  /** From the manifest's depend actions, all types; `facets`: the action's facet tags (e.g. facet.version-lock.*). */
  depends: { type: string; fmri: string[]; facets?: Record<string, string> }[];
  /** From `set name=variant.* value=...` actions. */
  variants?: Record<string, string[]>;
  /** pkg.summary */
  summary?: string;
  /** `set name=pkg.obsolete value=true` */
  obsolete?: boolean;
  /** `set name=pkg.renamed value=true` */
  renamed?: boolean;
}

export interface Catalog {
  publisher: string;
  /** When the catalog last changed (ISO time); absent only in hand-made catalogs. */
  updated?: string;
  /** Per stem, oldest to newest by Version.compare. */
  packages: Record<string, CatalogEntry[]>;
}

export function manifestDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The catalog's summary of one package, taken from its parsed manifest and stored text. */
export function catalogEntryOf(version: string, manifest: Manifest, text: string): CatalogEntry {
  const entry: CatalogEntry = { version, manifest: manifestDigest(text), depends: [] };
  const variants: Record<string, string[]> = {};
  for (const a of manifest.actions) {
    if (a.type === 'depend') {
      const facets = facetTags(a);
      entry.depends.push({ type: attr(a, 'type') as string, fmri: values(a, 'fmri'), ...(facets ? { facets } : {}) });
    }
    if (a.type !== 'set') continue;
    const name = attr(a, 'name') as string;
    if (name.startsWith('variant.')) variants[name] = values(a, 'value');
    else if (name === 'pkg.summary') entry.summary = attr(a, 'value');
    else if (name === 'pkg.obsolete' && attr(a, 'value') === 'true') entry.obsolete = true;
    else if (name === 'pkg.renamed' && attr(a, 'value') === 'true') entry.renamed = true;
  }
  if (Object.keys(variants).length) entry.variants = variants;
  return entry;
}

/** A copy of `catalog` with `entry` added under `stem`, keeping each stem's list oldest→newest. */
export function withCatalogEntry(
  catalog: Catalog,
  stem: string,
  entry: CatalogEntry,
  updated: Date = new Date(),
): Catalog {
  const list = [...(catalog.packages[stem] ?? []), entry].sort((a, b) => compareVersions(a.version, b.version));
  const packages: Record<string, CatalogEntry[]> = {};
  for (const k of [...Object.keys(catalog.packages), ...(catalog.packages[stem] ? [] : [stem])].sort()) {
    packages[k] = k === stem ? list : catalog.packages[k];
  }
  return { publisher: catalog.publisher, updated: updated.toISOString(), packages };
}

export function emptyCatalog(publisher: string, updated: Date = new Date()): Catalog {
  return { publisher, updated: updated.toISOString(), packages: {} };
}

/** Parses and shape-checks catalog JSON; anything malformed is BAD_REPOSITORY naming `source`. */
export function parseCatalog(text: string, source: string): Catalog {
  const bad = (why: string) => new ImageError('BAD_REPOSITORY', `Malformed catalog ${source}: ${why}`, { source });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) throw bad('expected a JSON object');
  if (typeof raw.publisher !== 'string') throw bad("expected 'publisher' to be a string");
  if (!isObject(raw.packages)) throw bad("expected 'packages' to be an object");
  for (const [stem, list] of Object.entries(raw.packages)) {
    if (!Array.isArray(list)) throw bad(`expected packages['${stem}'] to be an array`);
    list.forEach((e: unknown, i) => {
      const where = `packages['${stem}'][${i}]`;
      if (!isObject(e)) throw bad(`expected ${where} to be an object`);
      if (typeof e.version !== 'string') throw bad(`expected ${where}.version to be a string`);
      if (typeof e.manifest !== 'string') throw bad(`expected ${where}.manifest to be a string`);
      if (
        !Array.isArray(e.depends) ||
        !e.depends.every((d) => isObject(d) && typeof d.type === 'string' && Array.isArray(d.fmri))
      ) {
        throw bad(`expected ${where}.depends to be a list of { type, fmri[] }`);
      }
    });
  }
  return raw as unknown as Catalog;
}

export async function readCatalogFile(root: string, publisher: string): Promise<Catalog> {
  const file = catalogPath(root, publisher);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ImageError(
        'NOT_FOUND',
        `Publisher '${publisher}' has no catalog in repository ${root} (expected ${file})`,
        { publisher, path: file },
      );
    }
    throw ioError('Cannot read', file, e);
  }
  return parseCatalog(text, file);
}

export async function writeCatalogFile(root: string, catalog: Catalog): Promise<void> {
  await writeFileAtomic(catalogPath(root, catalog.publisher), JSON.stringify(catalog, null, 1) + '\n');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
