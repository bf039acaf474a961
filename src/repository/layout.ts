import * as path from 'path';
import { ImageError } from '../model/errors';
import { PUBLISHER_NAME_RULE, isPublisherName } from '../model/fmri';

/**
 * Where things live in a pkg(5)-style file repository. Every name that comes from outside
 * (publisher, stem, version, hash) is validated or URI-encoded here, so a path built by these
 * helpers can never leave `<root>/publisher/<pub>/`.
 */
export const REPOSITORY_CONFIG = 'pkg5.repository';
export const LOCK_FILE = 'lock';

/**
 * Limits on one filelist request, shared by depot and client: 10,000 hashes is more files than
 * any one package holds, and their JSON (~670 kB) fits the 1 MB body cap.
 */
export const FILELIST_MAX_HASHES = 10_000;
export const FILELIST_MAX_BODY = 1024 * 1024;

const HASH_RE = /^[0-9a-f]{64}$/;

/** A content hash: SHA-256 of the uncompressed bytes, 64 lower-case hex digits. */
export function isContentHash(s: string): boolean {
  return HASH_RE.test(s);
}

export function assertContentHash(hash: string, what = 'content hash'): void {
  if (!isContentHash(hash)) {
    throw new ImageError('BAD_REQUEST', `Expected ${what} to be 64 lower-case hex digits (SHA-256), got '${hash}'`, {
      hash,
    });
  }
}

export function assertPublisherName(publisher: string): void {
  if (typeof publisher !== 'string' || !isPublisherName(publisher)) {
    throw new ImageError('BAD_REQUEST', `Invalid publisher name '${publisher}': it ${PUBLISHER_NAME_RULE}`, {
      publisher,
    });
  }
}

export function configPath(root: string): string {
  return path.join(root, REPOSITORY_CONFIG);
}

export function lockPath(root: string): string {
  return path.join(root, LOCK_FILE);
}

export function publishersDir(root: string): string {
  return path.join(root, 'publisher');
}

export function publisherDir(root: string, publisher: string): string {
  assertPublisherName(publisher);
  return path.join(root, 'publisher', publisher);
}

export function catalogPath(root: string, publisher: string): string {
  return path.join(publisherDir(root, publisher), 'catalog', 'catalog.json');
}

export function manifestDir(root: string, publisher: string, stem: string): string {
  return path.join(publisherDir(root, publisher), 'pkg', encodeURIComponent(stem));
}

export function manifestPath(root: string, publisher: string, stem: string, version: string): string {
  return path.join(manifestDir(root, publisher, stem), encodeURIComponent(version));
}

export function contentRoot(root: string, publisher: string): string {
  return path.join(publisherDir(root, publisher), 'file');
}

export function contentPath(root: string, publisher: string, hash: string): string {
  assertContentHash(hash);
  return path.join(contentRoot(root, publisher), hash.slice(0, 2), hash);
}
