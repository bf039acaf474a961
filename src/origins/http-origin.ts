import * as http from 'http';
import { PassThrough, Readable } from 'stream';
import { ImageError } from '../model/errors';
import type { Fmri } from '../model/fmri';
import { Catalog, parseCatalog } from '../repository/catalog';
import { assertOffset } from './file-origin';
import { Frame, readFrames } from './frame-reader';
import { Exchange, RequestSpec, responseBody, readText, sendRequest, statusError } from './http-exchange';
import { FILELIST_MAX_HASHES, assertContentHash, assertPublisherName } from '../repository/layout';
import type { RepositoryOrigin } from './origin';

export interface HttpOriginOptions {
  /** Socket inactivity after which a request fails (REPOSITORY_UNAVAILABLE, or TRUNCATED_CONTENT mid-body). @default 30000 */
  timeoutMs?: number;
  /** Concurrent connections to the server. @default 16 */
  maxSockets?: number;
}

/** A repository served by a pkg.depotd-like HTTP server (see depot.ts). */
export class HttpOrigin implements RepositoryOrigin {
  readonly url: string;
  private readonly host: string;
  private readonly port: number;
  /** The URL's path without a trailing slash ('' at the server root). */
  private readonly prefix: string;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(url: string, opts: HttpOriginOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:' || u.search || u.hash || u.username) {
      throw new ImageError(
        'BAD_REQUEST',
        `Unsupported repository origin '${url}': expected http://host:port[/prefix]`,
        { url },
      );
    }
    this.url = url;
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = u.port ? Number(u.port) : 80;
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, scheduling: 'lifo' });
  }

  async publishers(): Promise<string[]> {
    const what = 'publisher list';
    const text = await this.getText('/publisher/0/', what);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new ImageError('BAD_REPOSITORY', `${what} from ${this.url}: not valid JSON (${(e as Error).message})`, {
        url: this.url,
      });
    }
    const list = (body as { publishers?: unknown })?.publishers;
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) {
      throw new ImageError('BAD_REPOSITORY', `${what} from ${this.url}: expected {"publishers": [string, ...]}`, {
        url: this.url,
      });
    }
    return list as string[];
  }

  async catalog(publisher: string): Promise<Catalog> {
    assertPublisherName(publisher);
    const source = `catalog of '${publisher}' from ${this.url}`;
    const catalog = parseCatalog(await this.getText(`/${publisher}/catalog/0/`, source), source);
    if (catalog.publisher !== publisher) {
      throw new ImageError(
        'BAD_REPOSITORY',
        `Malformed ${source}: expected publisher '${publisher}', got '${catalog.publisher}'`,
        { url: this.url },
      );
    }
    return catalog;
  }

  async manifest(publisher: string, fmri: Fmri): Promise<string> {
    assertPublisherName(publisher);
    if (!fmri.version)
      throw new ImageError('BAD_REQUEST', `Expected an FMRI with a version to fetch a manifest, got '${fmri}'`, {
        fmri: String(fmri),
      });
    return this.getText(
      `/${publisher}/manifest/0/${encodeURIComponent(fmri.toShortString())}`,
      `manifest of ${fmri.toShortString()}`,
    );
  }

  async openFile(
    publisher: string,
    hash: string,
    offset: number,
    signal?: AbortSignal,
  ): Promise<{ stream: Readable; offset: number; size: number }> {
    assertPublisherName(publisher);
    assertContentHash(hash);
    assertOffset(offset);
    const what = `content ${hash}`;
    const ex = await this.send('GET', `/${publisher}/file/0/${hash}`, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      signal,
    });
    const { res } = ex;
    if (res.statusCode === 416 && offset > 0) {
      res.resume();
      const total = /^bytes \*\/(\d+)$/.exec(res.headers['content-range'] ?? '');
      // Resuming a download that already has every byte: nothing left to send.
      if (total && Number(total[1]) === offset) return { stream: new PassThrough().end(), offset, size: offset };
      throw new ImageError(
        'BAD_REQUEST',
        `Cannot read ${what} from offset ${offset}: ${this.url} holds only ${total ? total[1] : 'fewer'} bytes`,
        { hash, offset },
      );
    }
    if (res.statusCode === 200) {
      const size = Number(res.headers['content-length']);
      if (!/^\d+$/.test(res.headers['content-length'] ?? ''))
        throw this.protocolError(ex, `${what}: expected a Content-Length`);
      return { stream: responseBody(ex, `${what} from ${this.url}`), offset: 0, size };
    }
    if (res.statusCode === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
      if (!range || Number(range[1]) !== offset)
        throw this.protocolError(
          ex,
          `${what}: expected Content-Range 'bytes ${offset}-…/…', got '${res.headers['content-range'] ?? ''}'`,
        );
      return { stream: responseBody(ex, `${what} from ${this.url}`), offset, size: Number(range[3]) };
    }
    throw await statusError(ex, what, this.url);
  }

  async *openFiles(publisher: string, hashes: string[], signal?: AbortSignal): AsyncIterable<Frame> {
    assertPublisherName(publisher);
    for (const h of hashes) assertContentHash(h);
    // The depot caps one request at FILELIST_MAX_HASHES; longer lists go in batches.
    for (let i = 0; i < hashes.length; i += FILELIST_MAX_HASHES) {
      const batch = hashes.slice(i, i + FILELIST_MAX_HASHES);
      const what = `file list of ${batch.length} from ${this.url}`;
      const ex = await this.send('POST', `/${publisher}/filelist/0/`, {
        body: Buffer.from(JSON.stringify({ hashes: batch })),
        signal,
      });
      if (ex.res.statusCode !== 200) throw await statusError(ex, what, this.url);
      yield* readFrames(responseBody(ex, what), batch, what);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private async getText(path: string, what: string): Promise<string> {
    const ex = await this.send('GET', path, {});
    if (ex.res.statusCode !== 200) throw await statusError(ex, what, this.url);
    return readText(responseBody(ex, `${what} from ${this.url}`));
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    o: Pick<RequestSpec, 'headers' | 'body' | 'signal'>,
  ): Promise<Exchange> {
    return sendRequest({
      agent: this.agent,
      host: this.host,
      port: this.port,
      method,
      path: this.prefix + path,
      url: this.url,
      timeoutMs: this.timeoutMs,
      ...o,
    });
  }

  private protocolError(ex: Exchange, why: string): ImageError {
    ex.req.destroy();
    return new ImageError('BAD_REPOSITORY', `${why} from ${this.url}`, { url: this.url });
  }
}
