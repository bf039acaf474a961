import { close, createReadStream, open, promises as fsp, read } from 'fs';
import type { FileHandle } from 'fs/promises';
import type { IncomingMessage, ServerResponse } from 'http';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { Fmri, isPublisherName } from '../model/fmri';
import { parseByteRange } from './byte-range';
import {
  FILELIST_MAX_BODY,
  FILELIST_MAX_HASHES,
  catalogPath,
  contentPath,
  isContentHash,
  manifestPath,
  publisherDir,
} from '../repository/layout';
import { listPublishers } from '../repository/repository-config';

export interface DepotRequest {
  req: IncomingMessage;
  res: ServerResponse;
  root: string;
  /** Body bytes sent so far. */
  bytes: number;
}

const SMALL_FILE = 256 * 1024;
const READ_AHEAD = 16;
const COALESCE = 64 * 1024;

const VERSIONS = [
  'pkg-server linked-images',
  'versions 0',
  'publisher 0',
  'catalog 0',
  'manifest 0',
  'file 0',
  'filelist 0',
  '',
].join('\n');

/**
 * Routes one request. Path segments are percent-decoded and any '.' or '..' segment (raw or
 * encoded) is refused before routing; every name that reaches the file system is then
 * checked (publisher name, 64-hex hash, parsed FMRI) and encoded by layout.ts, so no request
 * can name a file outside the repository.
 */
export async function handleDepotRequest(r: DepotRequest, countRange: () => void): Promise<void> {
  const { req } = r;
  const raw = (req.url ?? '/').split('?')[0];
  if (!raw.startsWith('/')) return text(r, 400, `Expected an absolute path, got '${raw}'`);
  let segs: string[];
  try {
    segs = raw.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return text(r, 400, `Malformed percent-encoding in '${raw}'`);
  }
  if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop();
  if (segs.some((s) => s === '.' || s === '..' || s.includes('\0'))) return text(r, 404, 'Not found');
  const method = req.method ?? 'GET';
  const isGet = method === 'GET' || method === 'HEAD';
  const [a, b, c, d] = segs;

  if (segs.length === 2 && a === 'versions' && b === '0') return isGet ? text(r, 200, VERSIONS) : notAllowed(r, 'GET');
  if (segs.length === 2 && a === 'publisher' && b === '0') {
    if (!isGet) return notAllowed(r, 'GET');
    return send(r, 200, 'application/json', JSON.stringify({ publishers: await listPublishers(r.root) }) + '\n');
  }
  if (segs.length < 3 || c !== '0' || !['catalog', 'manifest', 'file', 'filelist'].includes(b))
    return text(r, 404, `No such resource: ${raw}`);
  if (!isPublisherName(a) || !(await isDir(publisherDir(r.root, a)))) return text(r, 404, `Unknown publisher '${a}'`);

  if (b === 'catalog' && segs.length === 3)
    return isGet ? sendFile(r, catalogPath(r.root, a), 'application/json') : notAllowed(r, 'GET');
  if (b === 'manifest' && segs.length === 4) return isGet ? manifest(r, a, d) : notAllowed(r, 'GET');
  if (b === 'file' && segs.length === 4) {
    if (!isGet) return notAllowed(r, 'GET');
    if (!isContentHash(d)) return text(r, 400, `Expected a 64-hex-digit content hash, got '${d}'`);
    return file(r, a, d, countRange);
  }
  if (b === 'filelist' && segs.length === 3) return method === 'POST' ? fileList(r, a) : notAllowed(r, 'POST');
  return text(r, 404, `No such resource: ${raw}`);
}

async function manifest(r: DepotRequest, publisher: string, spec: string): Promise<void> {
  let fmri: Fmri;
  try {
    fmri = Fmri.parse(spec);
  } catch (e) {
    return text(r, 400, (e as Error).message);
  }
  if (!fmri.version || fmri.publisher) return text(r, 400, `Expected name@version, got '${spec}'`);
  return sendFile(r, manifestPath(r.root, publisher, fmri.stem, String(fmri.version)), 'text/plain; charset=utf-8');
}

async function file(r: DepotRequest, publisher: string, hash: string, countRange: () => void): Promise<void> {
  const opened = await openSized(contentPath(r.root, publisher, hash));
  if (opened === null) return text(r, 404, `No content ${hash}`);
  const { fh, size } = opened;
  const header = r.req.headers.range;
  if (header !== undefined) countRange();
  const range = parseByteRange(header, size);
  const headers: Record<string, string | number> = {
    'content-type': 'application/gzip',
    'accept-ranges': 'bytes',
    etag: `"${hash}"`,
  };
  if (range === 'unsatisfiable') {
    await fh.close();
    r.res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  headers['content-length'] = end - start + 1;
  r.res.writeHead(range ? 206 : 200, headers);
  await streamHandle(r, fh, start, end);
}

/** Frames `<hash> <size>\n<bytes>`, after checking every hash exists so a 404 comes before any byte. */
async function fileList(r: DepotRequest, publisher: string): Promise<void> {
  const body = await readBody(r.req, FILELIST_MAX_BODY);
  if (body === null) {
    r.res.setHeader('connection', 'close');
    return text(r, 413, `Expected a request body of at most ${FILELIST_MAX_BODY} bytes`);
  }
  let hashes: unknown;
  try {
    hashes = (JSON.parse(body.toString('utf8')) as { hashes?: unknown })?.hashes;
  } catch {
    return text(r, 400, 'Expected a JSON body {"hashes": [...]}');
  }
  if (!Array.isArray(hashes)) return text(r, 400, 'Expected a JSON body {"hashes": [...]}');
  if (hashes.length > FILELIST_MAX_HASHES)
    return text(r, 413, `Expected at most ${FILELIST_MAX_HASHES} hashes, got ${hashes.length}`);
  const bad = hashes.find((h) => typeof h !== 'string' || !isContentHash(h));
  if (bad !== undefined) return text(r, 400, `Expected 64-hex-digit content hashes, got '${String(bad)}'`);
  const paths = (hashes as string[]).map((hash) => contentPath(r.root, publisher, hash));
  const sizes = await Promise.all(paths.map(sizeOf));
  const files: { hash: string; path: string; size: number; header: Buffer }[] = [];
  for (const [i, hash] of (hashes as string[]).entries()) {
    const size = sizes[i];
    if (size === null) return text(r, 404, `No content ${hash}`);
    files.push({ hash, path: paths[i], size, header: Buffer.from(`${hash} ${size}\n`, 'latin1') });
  }
  const length = files.reduce((n, f) => n + f.header.length + f.size, 0);
  r.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': length });
  // Small files are read whole, a few ahead of the one being sent: a filelist is mostly small
  // files, where per-file stream set-up, not bandwidth, is the cost.
  const reads = new Map<number, Promise<Buffer | null>>();
  const readAhead = (k: number) => {
    if (k < files.length && !reads.has(k) && files[k].size > 0 && files[k].size <= SMALL_FILE)
      reads.set(k, readKnownSize(files[k].path, files[k].size));
  };
  for (let k = 0; k < READ_AHEAD; k++) readAhead(k);
  // Headers and small bodies are gathered into writes of about 64 KiB: two socket writes per
  // file were most of the depot's kernel time on 40,000-file prepares.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    r.bytes += chunk.length;
    if (!r.res.write(chunk)) await drained(r.res);
  };
  const add = async (b: Buffer) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= COALESCE) await flush();
  };
  for (const [k, f] of files.entries()) {
    readAhead(k + READ_AHEAD);
    if (r.res.destroyed) return;
    await add(f.header);
    if (f.size === 0) continue;
    const whole = reads.get(k);
    if (whole) {
      reads.delete(k);
      const data = await whole;
      if (data === null || data.length !== f.size) return void r.res.destroy(); // content files never change; a short read is a failure
      await add(data);
    } else {
      await flush();
      if (!(await appendFile(r, f.path))) return;
    }
  }
  await flush();
  if (r.res.destroyed) return;
  r.res.end();
}

/**
 * Serves a whole file. Size and bytes come from one open handle: the catalog is replaced by
 * rename while the depot runs, and a stat-then-open could pair the old size with the new file.
 */
async function sendFile(r: DepotRequest, path: string, type: string): Promise<void> {
  const opened = await openSized(path);
  if (opened === null) return text(r, 404, 'Not found');
  if (r.req.method !== 'HEAD' && opened.size > 0 && opened.size <= SMALL_FILE) {
    // Manifests and catalogs are mostly small: read whole rather than set up a stream
    // (a cold plan fetches a thousand of them).
    let data: Buffer;
    try {
      data = Buffer.allocUnsafe(opened.size);
      const { bytesRead } = await opened.fh.read(data, 0, opened.size, 0);
      if (bytesRead !== opened.size) return text(r, 500, 'Short read');
    } finally {
      await opened.fh.close();
    }
    r.res.writeHead(200, { 'content-type': type, 'content-length': opened.size });
    r.bytes += data.length;
    r.res.end(data);
    return;
  }
  r.res.writeHead(200, { 'content-type': type, 'content-length': opened.size });
  await streamHandle(r, opened.fh, 0, opened.size - 1);
}

/** Streams bytes start..end (inclusive) of an open file, then closes it. */
async function streamHandle(r: DepotRequest, fh: FileHandle, start: number, end: number): Promise<void> {
  if (r.req.method === 'HEAD' || end < start) {
    await fh.close();
    r.res.end();
    return;
  }
  await stream(r, fh.createReadStream({ start, end }));
}

async function openSized(path: string): Promise<{ fh: FileHandle; size: number } | null> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (st.isFile()) return { fh, size: st.size };
  } catch {
    // Treated as absent below.
  }
  await fh.close();
  return null;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes one file into a response that stays open for more (a filelist frame), honouring
 * back-pressure. (stream.pipeline with end: false leaves listeners on the response per file.)
 */
async function appendFile(r: DepotRequest, path: string): Promise<boolean> {
  try {
    for await (const chunk of createReadStream(path)) {
      if (r.res.destroyed) return false;
      r.bytes += (chunk as Buffer).length;
      if (!r.res.write(chunk)) await drained(r.res);
    }
    return !r.res.destroyed;
  } catch {
    r.res.destroy();
    return false;
  }
}

/** Pipes a file into the response, counting bytes; a failure mid-body destroys the response (the client sees it cut short). */
async function stream(r: DepotRequest, src: NodeJS.ReadableStream): Promise<boolean> {
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      r.bytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(src, count, r.res);
    return true;
  } catch {
    r.res.destroy();
    return false;
  }
}

function send(r: DepotRequest, status: number, type: string, body: string): void {
  const buf = Buffer.from(body, 'utf8');
  r.res.writeHead(status, { 'content-type': type, 'content-length': buf.length });
  if (r.req.method === 'HEAD') return void r.res.end();
  r.bytes += buf.length;
  r.res.end(buf);
}

function text(r: DepotRequest, status: number, message: string): void {
  send(r, status, 'text/plain; charset=utf-8', message.endsWith('\n') ? message : message + '\n');
}

function notAllowed(r: DepotRequest, allow: string): void {
  r.res.setHeader('allow', allow === 'GET' ? 'GET, HEAD' : allow);
  text(r, 405, `Expected method ${allow}, got ${r.req.method}`);
}

/**
 * The request body, or null once it exceeds `limit`. Reading then stops (the request is left
 * paused, and the 413 answer closes the connection) rather than draining an unbounded body.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.off('data', onData);
        req.pause();
        resolve(null);
      } else chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * A small file of known size in three thread-pool trips (open, read, close); fs.promises.readFile
 * takes five (it stats, and reads again to find the end). Null on any error or short read.
 */
function readKnownSize(path: string, size: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    open(path, 'r', (err, fd) => {
      if (err) return resolve(null);
      const buf = Buffer.allocUnsafe(size);
      read(fd, buf, 0, size, 0, (rerr, n) => close(fd, () => resolve(rerr || n !== size ? null : buf)));
    });
  });
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    const st = await fsp.stat(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isDirectory();
  } catch {
    return false;
  }
}
