import { promises as fsp } from 'fs';
import * as path from 'path';
import { ImageError, ioError } from '../model/errors';
import { Fmri, Version, compareVersions, timestampOf } from '../model/fmri';
import { Action, parseManifest, printManifest } from '../model/manifest';
import { validateForPublication } from '../model/publication-rules';
import { writeFileAtomic } from '../image/atomic-write';
import { Catalog, catalogEntryOf, readCatalogFile, withCatalogEntry, writeCatalogFile } from './catalog';
import { ensurePublisher } from './create-repository';
import { assertPublisherName, catalogPath, manifestPath } from './layout';
import { readRepositoryConfig } from './repository-config';
import { LockOptions, withRepositoryLock } from './repository-lock';

/**
 * The FMRI a package is published as: publisher from `opts`, else the FMRI, else the
 * repository default; a version without a timestamp gets one, as pkgsend does.
 */
export async function resolvePublishFmri(
  root: string,
  raw: Fmri,
  opts: { publisher?: string; timestamp?: Date },
): Promise<Fmri> {
  const config = await readRepositoryConfig(root);
  if (!raw.version) {
    throw new ImageError('BAD_FMRI', `Expected a package FMRI with a version (name@version), got '${raw}'`, {
      fmri: String(raw),
    });
  }
  if (opts.publisher !== undefined && raw.publisher && opts.publisher !== raw.publisher) {
    throw new ImageError(
      'PUBLISHER_MISMATCH',
      `Package ${raw} names publisher '${raw.publisher}' but publisher '${opts.publisher}' was asked for`,
      {
        fmri: String(raw),
        publisher: opts.publisher,
      },
    );
  }
  const publisher = opts.publisher ?? raw.publisher ?? config.defaultPublisher;
  if (!publisher) {
    throw new ImageError(
      'BAD_REQUEST',
      `Package ${raw} names no publisher and repository ${root} has no default publisher`,
      { fmri: String(raw) },
    );
  }
  assertPublisherName(publisher);
  let version = raw.version;
  if (!version.timestamp) version = Version.parse(`${version}:${timestampOf(opts.timestamp ?? new Date())}`);
  return Fmri.of(raw.name, version, publisher);
}

/** BAD_REQUEST when `fmri` (publisher, name and full version) is already in the catalog. */
export async function assertNotPublished(root: string, fmri: Fmri): Promise<void> {
  const publisher = fmri.publisher as string;
  try {
    await fsp.access(catalogPath(root, publisher));
  } catch {
    return; // A publisher that does not exist yet has no packages.
  }
  const catalog: Catalog = await readCatalogFile(root, publisher);
  const version = String(fmri.version);
  if ((catalog.packages[fmri.stem] ?? []).some((e) => compareVersions(e.version, version) === 0)) {
    throw new ImageError(
      'BAD_REQUEST',
      `Package ${fmri} is already published in repository ${root}; publish a new version instead`,
      {
        fmri: String(fmri),
      },
    );
  }
}

/**
 * Writes the manifest and then the catalog entry, under the repository lock. The caller has
 * already stored every payload, so a crash at any point leaves no catalog entry whose
 * manifest or content is missing (at worst an unlisted manifest or unreferenced content).
 */
export async function commitPackage(
  root: string,
  fmri: Fmri,
  actions: readonly Action[],
  opts: LockOptions = {},
): Promise<Fmri> {
  const publisher = fmri.publisher as string;
  const head: Action = { type: 'set', hash: null, attrs: { name: 'pkg.fmri', value: String(fmri) } };
  const rest = actions.filter((a) => !(a.type === 'set' && a.attrs.name === 'pkg.fmri'));
  const text = printManifest({ actions: [head, ...rest] });
  // Parse what is about to be stored, so nothing unparseable or unpublishable enters the repository.
  const parsed = parseManifest(text, `manifest of ${fmri}`);
  validateForPublication(parsed, `manifest of ${fmri}`);
  return withRepositoryLock(
    root,
    async () => {
      await ensurePublisher(root, publisher);
      await assertNotPublished(root, fmri);
      const version = String(fmri.version);
      const file = manifestPath(root, publisher, fmri.stem, version);
      await fsp.mkdir(path.dirname(file), { recursive: true }).catch((e) => {
        throw ioError('Cannot create', path.dirname(file), e);
      });
      await writeFileAtomic(file, text);
      const catalog = await readCatalogFile(root, publisher);
      await writeCatalogFile(root, withCatalogEntry(catalog, fmri.stem, catalogEntryOf(version, parsed, text)));
      return fmri;
    },
    opts,
  );
}
