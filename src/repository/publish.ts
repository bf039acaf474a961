import { promises as fsp } from 'fs';
import * as path from 'path';
import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Action, AttrValue, attr, manifestFmri, parseManifest, payloadHashAlgorithm } from '../model/manifest';
import { validateForPublication } from '../model/publication-rules';
import { imagePathProblem } from '../model/paths';
import { assertNotPublished, commitPackage, resolvePublishFmri } from './commit-package';
import { StoredContent, describeStoredContent, hasContent, storeContent } from './content-store';
import { LockOptions } from './repository-lock';

export interface PublishManifestOptions {
  /**
   * Manifest text, read as pkgsend reads it (parseManifest's `pkgsend` option); it must contain
   * `set name=pkg.fmri value=...`. A file or license action may give its payload hash (SHA-256,
   * or the SHA-1 pkg(5) writes), or none (no token, NOHASH, or a token naming its payload file).
   */
  manifest: string;
  /**
   * The content directory. An action's payload is read from `<contentDir>/<file>`, where file is
   * the action's positional payload token when it names one (`license lic_CDDL license=CDDL`),
   * else its `path` (for a license with neither, hashed: its `license` name). Required for every
   * payload without a SHA-256 hash the repository already holds.
   */
  contentDir?: string;
  /** Overrides the FMRI's publisher (which must then agree) and the repository default. */
  publisher?: string;
  /** Timestamp for an FMRI version without one. @default now */
  timestamp?: Date;
  /** See LockOptions.waitMs. */
  lockWaitMs?: number;
}

/** Where one file or license action's payload comes from. */
interface PayloadSource {
  /** The manifest line the action starts on. */
  line: number;
  /** `file usr/bin/x`, `license CDDL`: names the action in messages. */
  what: string;
  /** `<contentDir>/<file>`, or null without a content directory. */
  file: string | null;
}

/**
 * pkgsend-like publication of a manifest. Payloads are taken from the content directory (and
 * checked against the manifest's hash when it gives one), or, for a SHA-256 hash, from content
 * the repository already holds; file and license actions gain their SHA-256 payload hash,
 * pkg.size, pkg.csize and chash. Every action is checked before any content is stored.
 * @throws ImageError BAD_MANIFEST naming the line: a payload that cannot be found (no
 *   `contentDir` for an action without a hash, no file there, a SHA-1 payload only the
 *   repository could hold); HASH_MISMATCH; the errors of parseManifest and
 *   `validateForPublication`; BAD_REQUEST for an FMRI already published.
 */
export async function publishManifest(root: string, opts: PublishManifestOptions): Promise<Fmri> {
  const parsed = parseManifest(opts.manifest, 'manifest', { pkgsend: true });
  const lines = parsed.lines as readonly number[];
  validateForPublication(parsed, 'manifest');
  const raw = manifestFmri(parsed);
  if (!raw)
    throw new ImageError('BAD_MANIFEST', "manifest: expected a 'set name=pkg.fmri value=<fmri>' action, found none");
  const sources = parsed.actions.map((a, i) => payloadSource(a, lines[i], opts.contentDir));
  const fmri = await resolvePublishFmri(root, raw, opts);
  // Checked again under the lock; this early check only avoids storing content for nothing.
  await assertNotPublished(root, fmri);
  const publisher = fmri.publisher as string;
  const done = new Map<string, StoredContent>();
  const actions: Action[] = [];
  for (const [i, a] of parsed.actions.entries()) {
    const src = sources[i];
    if (src === null) {
      actions.push(a);
      continue;
    }
    const key = `${a.hash ?? ''}\0${src.file ?? ''}`;
    let info = done.get(key);
    if (!info) {
      info = await storedPayload(root, publisher, a, src);
      done.set(key, info);
    }
    actions.push(withPayloadInfo(a, info));
  }
  return commitPackage(root, fmri, actions, lockOptions(opts.lockWaitMs));
}

/**
 * Where the payload of a file or license action is to be read from (null for other actions),
 * refusing, before anything is stored, an action whose payload could never be found.
 */
function payloadSource(a: Action, line: number, contentDir: string | undefined): PayloadSource | null {
  if (a.type !== 'file' && a.type !== 'license') return null;
  const what = `${a.type} ${a.type === 'file' ? attr(a, 'path') : attr(a, 'license')}`;
  const fail = (why: string) => payloadError(line, what, why, a);
  // pkgsend's order: the payload token, else the path attribute; a hashed license may also
  // be found by its name (this repository's earlier rule, kept).
  const rel = a.payload ?? attr(a, 'path') ?? (a.hash !== null ? attr(a, 'license') : undefined);
  if (rel === undefined)
    throw fail(
      'names no payload file; give it as the positional token (license <file> license=...) or as path=, as pkgsend requires',
    );
  if (contentDir === undefined) {
    if (a.hash === null)
      throw fail(
        `has no payload hash, so its payload must come from a content directory: give --dir <dir> holding ${rel}`,
      );
    if (payloadHashAlgorithm(a.hash) === 'sha1') throw fail(sha1Reason(a.hash, rel));
    return { line, what, file: null };
  }
  const why = imagePathProblem(rel);
  if (why) throw fail(`cannot read its payload from the content directory: '${rel}' ${why}`);
  return { line, what, file: path.join(contentDir, ...rel.split('/')) };
}

/** Stores (or finds stored) the payload of one action, as `payloadSource` located it. */
async function storedPayload(root: string, publisher: string, a: Action, src: PayloadSource): Promise<StoredContent> {
  if (src.file !== null && (await isRegularFile(src.file)))
    return storeContent(root, publisher, src.file, { expectedHash: a.hash ?? undefined, what: src.what });
  const where = src.file !== null ? `no file at ${src.file}` : 'no content directory given';
  if (a.hash === null) throw payloadError(src.line, src.what, `has no payload: ${where}`, a);
  if (payloadHashAlgorithm(a.hash) === 'sha1')
    throw payloadError(src.line, src.what, `${sha1Reason(a.hash, src.file ?? 'it')}; ${where}`, a);
  if (await hasContent(root, publisher, a.hash)) return describeStoredContent(root, publisher, a.hash);
  throw payloadError(src.line, src.what, `has no content (hash ${a.hash}): not in repository ${root}, and ${where}`, a);
}

/**
 * Why a SHA-1 payload needs its file: pkg(5) repositories keep content by the SHA-1 the manifest
 * names, this one by SHA-256 (and its depot and origins fetch by that name), so the repository
 * can never already hold it.
 */
function sha1Reason(hash: string, file: string): string {
  return (
    `names its payload by SHA-1 (${hash}, as pkg(5) writes it); this repository keeps content by SHA-256 only, ` +
    `so it can take the payload only from the content directory, checked against that SHA-1: give --dir <dir> holding ${file}`
  );
}

function payloadError(line: number, what: string, why: string, a: Action): ImageError {
  return new ImageError('BAD_MANIFEST', `manifest: line ${line}: ${what} ${why}`, {
    source: 'manifest',
    line,
    ...(a.hash !== null ? { hash: a.hash } : {}),
  });
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

async function isRegularFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}
