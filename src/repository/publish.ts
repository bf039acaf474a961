import { promises as fsp } from 'fs';
import * as path from 'path';
import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Action, AttrValue, attr, manifestFmri, parseManifest } from '../model/manifest';
import { imagePathProblem } from '../model/paths';
import { assertNotPublished, commitPackage, resolvePublishFmri } from './commit-package';
import { StoredContent, describeStoredContent, hasContent, storeContent } from './content-store';
import { LockOptions } from './repository-lock';

export interface PublishManifestOptions {
  /** Manifest text; must contain `set name=pkg.fmri value=...`. File actions must carry their payload hash. */
  manifest: string;
  /** Payloads are read from `<contentDir>/<path>` (license actions: `<contentDir>/<license>`). */
  contentDir?: string;
  /** Overrides the FMRI's publisher (which must then agree) and the repository default. */
  publisher?: string;
  /** Timestamp for an FMRI version without one. @default now */
  timestamp?: Date;
  /** See LockOptions.waitMs. */
  lockWaitMs?: number;
}

/**
 * pkgsend-like publication of a manifest. Each payload is taken from `contentDir` when the
 * file is there (and checked against the manifest's hash), else from content the repository
 * already holds; file and license actions gain pkg.size, pkg.csize and chash.
 */
export async function publishManifest(root: string, opts: PublishManifestOptions): Promise<Fmri> {
  const parsed = parseManifest(opts.manifest, 'manifest');
  const raw = manifestFmri(parsed);
  if (!raw)
    throw new ImageError('BAD_MANIFEST', "manifest: expected a 'set name=pkg.fmri value=<fmri>' action, found none");
  const fmri = await resolvePublishFmri(root, raw, opts);
  // Checked again under the lock; this early check only avoids storing content for nothing.
  await assertNotPublished(root, fmri);
  const publisher = fmri.publisher as string;
  const done = new Map<string, StoredContent>();
  const actions: Action[] = [];
  for (const a of parsed.actions) {
    if ((a.type !== 'file' && a.type !== 'license') || a.hash === null) {
      actions.push(a);
      continue;
    }
    const rel = a.type === 'file' ? (attr(a, 'path') as string) : (attr(a, 'path') ?? (attr(a, 'license') as string));
    const what = `${a.type} ${rel}`;
    const source = opts.contentDir !== undefined ? contentSource(opts.contentDir, rel, what) : null;
    const key = `${a.hash}\0${source ?? ''}`;
    let info = done.get(key);
    if (!info) {
      if (source !== null && (await isRegularFile(source))) {
        info = await storeContent(root, publisher, source, { expectedHash: a.hash, what });
      } else if (await hasContent(root, publisher, a.hash)) {
        info = await describeStoredContent(root, publisher, a.hash);
      } else {
        throw new ImageError(
          'BAD_REQUEST',
          `No content for ${what} (hash ${a.hash}): not in repository ${root}` +
            (source ? ` and no file at ${source}` : ' and no content directory given'),
          { path: rel, hash: a.hash },
        );
      }
      done.set(key, info);
    }
    actions.push(withPayloadInfo(a, info));
  }
  return commitPackage(root, fmri, actions, lockOptions(opts.lockWaitMs));
}

/** The action with pkg.size, pkg.csize and chash (re)set from the stored payload. */
export function withPayloadInfo(a: Action, info: StoredContent): Action {
  const attrs: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(a.attrs))
    if (k !== 'pkg.size' && k !== 'pkg.csize' && k !== 'chash') attrs[k] = v;
  attrs['pkg.size'] = String(info.size);
  attrs['pkg.csize'] = String(info.csize);
  attrs.chash = info.chash;
  return { type: a.type, hash: info.hash, attrs };
}

export function lockOptions(waitMs: number | undefined): LockOptions {
  return waitMs === undefined ? {} : { waitMs };
}

function contentSource(dir: string, rel: string, what: string): string {
  const why = imagePathProblem(rel);
  if (why)
    throw new ImageError(
      'BAD_REQUEST',
      `Cannot read the payload of ${what} from the content directory: '${rel}' ${why}`,
      { path: rel },
    );
  return path.join(dir, ...rel.split('/'));
}

async function isRegularFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}
