import type { Readable } from 'stream';
import { ImageError } from '../model/errors';
import type { Fmri } from '../model/fmri';
import type { Catalog } from '../repository/catalog';
import type { Frame } from './frame-reader';
import { FileOrigin } from './file-origin';
import { HttpOrigin, HttpOriginOptions } from './http-origin';

/** A repository read through its origin URL, the way a pkg(5) client sees a publisher's origin. */
export interface RepositoryOrigin {
  readonly url: string;
  publishers(): Promise<string[]>;
  catalog(publisher: string): Promise<Catalog>;
  /** Raw manifest text; NOT_FOUND if absent. */
  manifest(publisher: string, fmri: Fmri): Promise<string>;
  /**
   * Compressed bytes of one content file from `offset` (HTTP Range). `offset` in the result is
   * where the stream actually starts (0 if a server ignored Range); `size` is the full compressed size.
   */
  openFile(
    publisher: string,
    hash: string,
    offset: number,
    signal?: AbortSignal,
  ): Promise<{ stream: NodeJS.ReadableStream & Readable; offset: number; size: number }>;
  /**
   * Several (small) content files in one request, in the order asked. The caller consumes each
   * yielded stream fully before asking for the next.
   */
  openFiles(publisher: string, hashes: string[], signal?: AbortSignal): AsyncIterable<Frame>;
  /** Frees keep-alive sockets. */
  close(): void;
}

/** Opens `file:///abs/path` or `http://host:port[/prefix]`. */
export function openOrigin(url: string, opts: HttpOriginOptions = {}): RepositoryOrigin {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed?.protocol === 'file:') return new FileOrigin(url);
  if (parsed?.protocol === 'http:') return new HttpOrigin(url, opts);
  throw new ImageError(
    'BAD_REQUEST',
    `Unsupported repository origin '${url}': expected file:///absolute/path or http://host:port[/prefix]`,
    { url },
  );
}
