import { createReadStream, promises as fsp } from 'fs';
import { PassThrough, Readable } from 'stream';
import { fileURLToPath } from 'url';
import { ImageError, ioError } from '../model/errors';
import type { Frame } from './frame-reader';
import type { Fmri } from '../model/fmri';
import { Catalog, readCatalogFile } from '../repository/catalog';
import { assertContentHash, assertPublisherName, contentPath, manifestPath } from '../repository/layout';
import type { RepositoryOrigin } from './origin';
import { listPublishers, readRepositoryConfig } from '../repository/repository-config';

/** A repository on a local (or mounted) file system, read in place. */
export class FileOrigin implements RepositoryOrigin {
  readonly root: string;

  constructor(readonly url: string) {
    try {
      this.root = fileURLToPath(url);
    } catch (e) {
      throw new ImageError(
        'BAD_REQUEST',
        `Invalid file origin '${url}': ${(e as Error).message}; expected file:///absolute/path`,
        { url },
      );
    }
  }

  async publishers(): Promise<string[]> {
    await readRepositoryConfig(this.root);
    return listPublishers(this.root);
  }

  async catalog(publisher: string): Promise<Catalog> {
    assertPublisherName(publisher);
    await readRepositoryConfig(this.root);
    return readCatalogFile(this.root, publisher);
  }

  async manifest(publisher: string, fmri: Fmri): Promise<string> {
    assertPublisherName(publisher);
    if (!fmri.version)
      throw new ImageError('BAD_REQUEST', `Expected an FMRI with a version to fetch a manifest, got '${fmri}'`, {
        fmri: String(fmri),
      });
    const file = manifestPath(this.root, publisher, fmri.stem, String(fmri.version));
    try {
      return await fsp.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ImageError(
          'NOT_FOUND',
          `No manifest for ${fmri.toShortString()} from publisher '${publisher}' in ${this.url}`,
          { publisher, fmri: String(fmri) },
        );
      }
      throw ioError('Cannot read', file, e);
    }
  }

  async openFile(
    publisher: string,
    hash: string,
    offset: number,
    signal?: AbortSignal,
  ): Promise<{ stream: Readable; offset: number; size: number }> {
    assertOffset(offset);
    const { file, size } = await this.stat(publisher, hash);
    if (offset > size) {
      throw new ImageError(
        'BAD_REQUEST',
        `Cannot read content ${hash} from offset ${offset}: it is only ${size} bytes`,
        { hash, offset, size },
      );
    }
    // Resuming a complete download: an empty stream (createReadStream cannot express an empty range).
    const stream: Readable = offset === size ? new PassThrough().end() : createReadStream(file, { start: offset });
    return { stream: cancellable(stream, signal), offset, size };
  }

  async *openFiles(publisher: string, hashes: string[], signal?: AbortSignal): AsyncIterable<Frame> {
    // Like the depot: every hash is checked before anything is handed out.
    const found = [];
    for (const hash of hashes) found.push({ hash, ...(await this.stat(publisher, hash)) });
    for (const f of found) {
      yield { hash: f.hash, size: f.size, stream: cancellable(createReadStream(f.file), signal) };
    }
  }

  close(): void {}

  private async stat(publisher: string, hash: string): Promise<{ file: string; size: number }> {
    assertPublisherName(publisher);
    assertContentHash(hash);
    const file = contentPath(this.root, publisher, hash);
    try {
      return { file, size: (await fsp.stat(file)).size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ImageError('NOT_FOUND', `No content ${hash} from publisher '${publisher}' in ${this.url}`, {
          publisher,
          hash,
        });
      }
      throw ioError('Cannot read', file, e);
    }
  }
}

export function assertOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ImageError('BAD_REQUEST', `Expected offset to be a non-negative integer, got ${offset}`, { offset });
  }
}

/** Destroys `stream` with CANCELLED when `signal` aborts (or has already aborted). */
export function cancellable<S extends Readable>(stream: S, signal: AbortSignal | undefined): S {
  if (!signal) return stream;
  const cancel = () => stream.destroy(new ImageError('CANCELLED', 'Download cancelled'));
  if (signal.aborted) {
    process.nextTick(cancel);
    return stream;
  }
  signal.addEventListener('abort', cancel, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', cancel));
  return stream;
}
