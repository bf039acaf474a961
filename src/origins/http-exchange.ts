import * as http from 'http';
import { Readable, Transform } from 'stream';
import { ImageError, isImageError } from '../model/errors';

/** One request/response pair, and why (if at all) this side cut it short. */
export interface Exchange {
  req: http.ClientRequest;
  res: http.IncomingMessage;
  state: ExchangeState;
}

interface ExchangeState {
  cancelled: boolean;
  timedOut: boolean;
}

export interface RequestSpec {
  agent: http.Agent;
  host: string;
  port: number;
  method: 'GET' | 'POST';
  path: string;
  /** For messages: the URL asked for. */
  url: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Sends a request and resolves with the response head. Failures before a response
 * (refused, reset, hang-up, timeout) are REPOSITORY_UNAVAILABLE naming the URL. A request
 * that fails on a reused keep-alive socket is sent once more: the server may have closed
 * that idle socket just as it was picked (every request this client makes is idempotent).
 */
export function sendRequest(spec: RequestSpec, attempt = 0): Promise<Exchange> {
  const { signal } = spec;
  const state: ExchangeState = { cancelled: false, timedOut: false };
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(spec.url));
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = spec.body.length;
    }
    const req = http.request({
      agent: spec.agent,
      host: spec.host,
      port: spec.port,
      method: spec.method,
      path: spec.path,
      headers,
      timeout: spec.timeoutMs,
    });
    let responded = false;
    const onAbort = () => {
      state.cancelled = true;
      req.destroy(cancelled(spec.url));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    req.on('timeout', () => {
      state.timedOut = true;
      req.destroy(
        new ImageError('REPOSITORY_UNAVAILABLE', `Repository ${spec.url} did not answer within ${spec.timeoutMs} ms`, {
          url: spec.url,
        }),
      );
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (responded) return; // From here on the body stream reports what went wrong.
      cleanup();
      if (
        !state.cancelled &&
        !state.timedOut &&
        attempt === 0 &&
        req.reusedSocket &&
        (RESET_CODES.has(e.code ?? '') || /socket hang up/.test(e.message))
      ) {
        sendRequest(spec, attempt + 1).then(resolve, reject);
        return;
      }
      reject(state.cancelled ? cancelled(spec.url) : isImageError(e) ? e : unavailable(spec.url, e));
    });
    req.on('response', (res) => {
      responded = true;
      res.once('close', cleanup);
      resolve({ req, res, state });
    });
    req.end(spec.body);
  });
}

/**
 * The response body as a stream that errors with TRUNCATED_CONTENT when the connection ends
 * before Content-Length bytes arrived, and CANCELLED when the caller aborted. Destroying the
 * returned stream early destroys the request, so a half-read socket is never reused.
 */
export function responseBody(ex: Exchange, what: string): Readable {
  const { req, res, state } = ex;
  const header = res.headers['content-length'];
  const expected = header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
  let received = 0;
  const truncated = () =>
    state.cancelled
      ? cancelled(what)
      : new ImageError(
          'TRUNCATED_CONTENT',
          `${what}: the connection ended after ${received}${expected !== null ? ` of ${expected}` : ''} bytes${state.timedOut ? ' (timed out)' : ''}`,
          { what, received, ...(expected !== null ? { expected } : {}) },
        );
  const out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      cb(expected !== null && received < expected ? truncated() : null);
    },
  });
  res.on('error', () => undefined); // Reported through `out` when the body is incomplete.
  res.on('close', () => {
    if (!res.complete) out.destroy(truncated());
  });
  out.on('close', () => {
    if (!res.complete) req.destroy();
  });
  res.pipe(out);
  return out;
}

/** Reads a whole (small) body as UTF-8 text. */
export async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Maps a non-success status to an ImageError, reading a little of the body for its message. */
export async function statusError(ex: Exchange, what: string, url: string): Promise<ImageError> {
  const status = ex.res.statusCode ?? 0;
  let text = '';
  try {
    for await (const c of responseBody(ex, what)) if (text.length < 2048) text += (c as Buffer).toString('utf8');
  } catch {
    // The status alone says enough.
  }
  const detail = text.trim().slice(0, 500);
  const msg = `${what}: ${url} answered ${status}${detail ? `: ${detail}` : ''}`;
  const details = { url, status };
  if (status === 404) return new ImageError('NOT_FOUND', msg, details);
  if (status >= 500 || status === 429 || status === 408) return new ImageError('REPOSITORY_UNAVAILABLE', msg, details);
  if (status >= 400 && status < 500) return new ImageError('BAD_REQUEST', msg, details);
  return new ImageError('BAD_REPOSITORY', `${msg} (expected 200)`, details);
}

export function cancelled(what: string): ImageError {
  return new ImageError('CANCELLED', `Request to ${what} cancelled`, { url: what });
}

function unavailable(url: string, e: NodeJS.ErrnoException): ImageError {
  const code = e.code ?? 'EUNKNOWN';
  return new ImageError(
    'REPOSITORY_UNAVAILABLE',
    `Repository ${url} is unavailable: ${e.message} (${code})`,
    { url, errno: code },
    { cause: e },
  );
}
