import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageError } from '../src/model/errors';
import { Fmri } from '../src/model/fmri';
import {
  Depot,
  RepositoryOrigin,
  contentPath,
  createRepository,
  manifestDigest,
  openOrigin,
  publishTree,
  startDepot,
} from '../src/repository';
import { gunzip, makeTree, readAll, tempDir } from './fixtures/repository-tree';
import { isCode } from './helpers/expect-error';

const PUB = 'example.com';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One raw request, path sent exactly as given (no client-side normalisation). */
function request(
  port: number,
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A throw-away HTTP server on 127.0.0.1 that misbehaves as `handler` says; records the paths asked for. */
async function rawServer(
  handler: http.RequestListener,
): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('HTTP depot and origin', () => {
  let tmp: string;
  let repo: string;
  let files: Record<string, Buffer>;
  let depot: Depot;
  let origin: RepositoryOrigin;
  let bigHash: string;
  let bigGz: Buffer;

  before(async () => {
    tmp = await tempDir();
    repo = path.join(tmp, 'repo');
    const tree = path.join(tmp, 'tree');
    files = await makeTree(tree);
    await createRepository(repo, { publisher: PUB });
    await publishTree(repo, {
      fmri: 'system/zones@1.0',
      dir: tree,
      summary: 'zones',
      timestamp: new Date('2026-01-01T00:00:00Z'),
    });
    depot = await startDepot(repo);
    origin = openOrigin(depot.url);
    bigHash = sha256(files['usr/lib/big.bin']);
    bigGz = await fsp.readFile(contentPath(repo, PUB, bigHash));
  });
  after(async () => {
    origin.close();
    await depot.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  });

  it('listens on loopback and lists its operations and publishers', async () => {
    assert.match(depot.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const versions = await request(depot.port, 'GET', '/versions/0/');
    assert.equal(versions.status, 200);
    assert.match(versions.body.toString(), /^file 0$/m);
    assert.match(versions.body.toString(), /^filelist 0$/m);
    assert.deepEqual(await origin.publishers(), [PUB]);
  });

  it('serves the catalog and manifests the file repository holds', async () => {
    const catalog = await origin.catalog(PUB);
    const [entry] = catalog.packages['system/zones'];
    assert.equal(entry.version, '1.0:20260101T000000Z');
    const text = await origin.manifest(PUB, Fmri.parse('system/zones@1.0:20260101T000000Z'));
    assert.equal(manifestDigest(text), entry.manifest);
    assert.ok(text.startsWith('set name=pkg.fmri value=pkg://example.com/system/zones@1.0:20260101T000000Z\n'));
  });

  it('serves a content file whole, with length, ETag and Accept-Ranges', async () => {
    const r = await request(depot.port, 'GET', `/${PUB}/file/0/${bigHash}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(bigGz.length));
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(r.headers.etag, `"${bigHash}"`);
    assert.deepEqual(r.body, bigGz);
    assert.deepEqual(gunzip(r.body), files['usr/lib/big.bin']);
  });

  it('answers Range requests with 206 and the asked bytes, and 416 beyond the end', async () => {
    const tail = await request(depot.port, 'GET', `/${PUB}/file/0/${bigHash}`, { range: 'bytes=1000-' });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], `bytes 1000-${bigGz.length - 1}/${bigGz.length}`);
    assert.deepEqual(tail.body, bigGz.subarray(1000));
    const mid = await request(depot.port, 'GET', `/${PUB}/file/0/${bigHash}`, { range: 'bytes=10-19' });
    assert.equal(mid.status, 206);
    assert.deepEqual(mid.body, bigGz.subarray(10, 20));
    const beyond = await request(depot.port, 'GET', `/${PUB}/file/0/${bigHash}`, { range: `bytes=${bigGz.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${bigGz.length}`);
    assert.ok(
      depot.stats.log.some((e) => e.range === 'bytes=1000-' && e.status === 206 && e.bytes === bigGz.length - 1000),
    );
  });

  it('resumes a download through the origin with bytes=N-', async () => {
    const before = depot.stats.rangeRequests;
    const { stream, offset, size } = await origin.openFile(PUB, bigHash, 5000);
    assert.equal(offset, 5000);
    assert.equal(size, bigGz.length);
    assert.deepEqual(await readAll(stream), bigGz.subarray(5000));
    assert.equal(depot.stats.rangeRequests, before + 1);
    assert.equal(depot.stats.log.at(-1)?.range, 'bytes=5000-');
    const done = await origin.openFile(PUB, bigHash, bigGz.length);
    assert.equal((await readAll(done.stream)).length, 0);
    await assert.rejects(
      origin.openFile(PUB, bigHash, bigGz.length + 1),
      isCode('BAD_REQUEST', String(bigGz.length + 1)),
    );
  });

  it('answers 404 for unknown content, manifests and publishers, and 400 for a bad hash', async () => {
    assert.equal((await request(depot.port, 'GET', `/${PUB}/file/0/${sha256('nothing')}`)).status, 404);
    assert.equal((await request(depot.port, 'GET', `/${PUB}/file/0/abc123`)).status, 400);
    assert.equal((await request(depot.port, 'GET', `/${PUB}/file/0/${bigHash.toUpperCase()}`)).status, 400);
    assert.equal(
      (await request(depot.port, 'GET', `/${PUB}/manifest/0/${encodeURIComponent('system/zones@9.9')}`)).status,
      404,
    );
    assert.equal((await request(depot.port, 'GET', `/nobody/catalog/0/`)).status, 404);
    assert.equal((await request(depot.port, 'GET', `/no/such/thing`)).status, 404);
    await assert.rejects(origin.manifest(PUB, Fmri.parse('system/zones@9.9')), isCode('NOT_FOUND'));
    await assert.rejects(origin.openFile(PUB, sha256('nothing'), 0), isCode('NOT_FOUND'));
  });

  it('streams several files as frames, in the order asked', async () => {
    const order = ['etc/motd', 'usr/lib/big.bin', 'etc/empty', 'usr/bin/tool', 'etc/motd'];
    const got: Buffer[] = [];
    for await (const f of origin.openFiles(
      PUB,
      order.map((p) => sha256(files[p])),
    )) {
      const gz = await readAll(f.stream);
      assert.equal(gz.length, f.size);
      got.push(gunzip(gz));
    }
    assert.deepEqual(
      got,
      order.map((p) => files[p]),
    );
  });

  it('skips the unread rest of a frame when the caller moves on', async () => {
    const hashes = [sha256(files['usr/lib/big.bin']), sha256(files['etc/motd'])];
    const got: string[] = [];
    for await (const f of origin.openFiles(PUB, hashes)) {
      if (f.hash === bigHash) {
        f.stream.once('readable', () => undefined);
        await new Promise((r) => setImmediate(r));
        continue;
      }
      got.push(gunzip(await readAll(f.stream)).toString());
    }
    assert.deepEqual(got, [files['etc/motd'].toString()]);
  });

  it('refuses a file list naming a missing or malformed hash before sending any content', async () => {
    const missing = sha256('missing');
    const r = await request(
      depot.port,
      'POST',
      `/${PUB}/filelist/0/`,
      { 'content-type': 'application/json' },
      JSON.stringify({ hashes: [bigHash, missing] }),
    );
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), new RegExp(missing));
    const bad = await request(
      depot.port,
      'POST',
      `/${PUB}/filelist/0/`,
      {},
      JSON.stringify({ hashes: ['../../pkg5.repository'] }),
    );
    assert.equal(bad.status, 400);
    const many = await request(
      depot.port,
      'POST',
      `/${PUB}/filelist/0/`,
      {},
      JSON.stringify({ hashes: new Array(10_001).fill(bigHash) }),
    );
    assert.equal(many.status, 413);
    await assert.rejects(
      async () => {
        for await (const f of origin.openFiles(PUB, [bigHash, missing])) f.stream.resume();
      },
      isCode('NOT_FOUND', missing),
    );
  });

  it('serves nothing outside the repository, however the path is spelled', async () => {
    const attempts = [
      '/../pkg5.repository',
      '/publisher/../../pkg5.repository',
      `/${PUB}/catalog/0/../../../../pkg5.repository`,
      '/%2e%2e/pkg5.repository',
      `/${PUB}/file/0/..%2f..%2f..%2f..%2fpkg5.repository`,
      `/${PUB}/file/0/%2e%2e`,
      `/${PUB}/manifest/0/..%2F..%2F..%2F..%2Fpkg5.repository`,
      `/${PUB}/manifest/0/%2e%2e%2f%2e%2e%2fcatalog%2fcatalog.json@1`,
      `/%2e%2e%2f${PUB}/catalog/0/`,
      `/${PUB}%2f..%2f..%2f..%2f/catalog/0/`,
      '/..%5c..%5cpkg5.repository',
      '/%zz/bad-encoding',
    ];
    for (const p of attempts) {
      const r = await request(depot.port, 'GET', p);
      assert.ok(r.status === 404 || r.status === 400, `${p} answered ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /\[repository\]|"packages"/, p);
    }
  });

  it('maps a closed port to REPOSITORY_UNAVAILABLE naming the URL', async () => {
    const gone = await rawServer(() => undefined);
    await gone.close();
    const o = openOrigin(gone.url + '/');
    await assert.rejects(o.catalog(PUB), isCode('REPOSITORY_UNAVAILABLE', gone.url));
    await assert.rejects(o.openFile(PUB, bigHash, 0), (e: unknown) => e instanceof ImageError && e.retryable);
    o.close();
  });

  it('maps a server that never answers to REPOSITORY_UNAVAILABLE once the socket timeout passes', async () => {
    const silent = await rawServer(() => undefined);
    const o = openOrigin(silent.url + '/', { timeoutMs: 100 });
    try {
      await assert.rejects(o.publishers(), isCode('REPOSITORY_UNAVAILABLE', silent.url));
    } finally {
      o.close();
      await silent.close();
    }
  });

  it('fails a body cut short of its Content-Length with TRUNCATED_CONTENT', async () => {
    const srv = await rawServer((req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10));
      setImmediate(() => req.socket.destroy());
    });
    const o = openOrigin(srv.url + '/');
    try {
      const { stream, size } = await o.openFile(PUB, bigHash, 0);
      assert.equal(size, 1000);
      await assert.rejects(readAll(stream), isCode('TRUNCATED_CONTENT', '10 of 1000'));
      await assert.rejects(
        o.catalog(PUB),
        (e: unknown) => e instanceof ImageError && e.code === 'TRUNCATED_CONTENT' && e.retryable,
      );
    } finally {
      o.close();
      await srv.close();
    }
  });

  it('fails a file-list frame shorter than its size with TRUNCATED_CONTENT', async () => {
    const srv = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(`${bigHash} 100\n` + 'x'.repeat(10));
    });
    const o = openOrigin(srv.url + '/');
    try {
      await assert.rejects(
        async () => {
          for await (const f of o.openFiles(PUB, [bigHash])) await readAll(f.stream);
        },
        isCode('TRUNCATED_CONTENT', '10 of 100'),
      );
    } finally {
      o.close();
      await srv.close();
    }
  });

  it('reports a malformed catalog as BAD_REPOSITORY, and asks below the URL prefix', async () => {
    const srv = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"publisher": "example.com", "packages": ');
    });
    const o = openOrigin(srv.url + '/mirror/');
    try {
      await assert.rejects(o.catalog(PUB), isCode('BAD_REPOSITORY', 'catalog'));
      assert.deepEqual(srv.paths, [`/mirror/${PUB}/catalog/0/`]);
    } finally {
      o.close();
      await srv.close();
    }
  });

  it('cancels a download when its signal aborts', async () => {
    const ac = new AbortController();
    const { stream } = await origin.openFile(PUB, bigHash, 0, ac.signal);
    const first = await new Promise<Buffer>((r) => stream.once('data', r));
    assert.ok(first.length > 0);
    ac.abort();
    await assert.rejects(readAll(stream), isCode('CANCELLED'));
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(origin.openFile(PUB, bigHash, 0, pre.signal), isCode('CANCELLED'));
  });

  it('counts requests and bytes sent', () => {
    assert.ok(depot.stats.requests >= depot.stats.log.length);
    assert.equal(
      depot.stats.bytesSent,
      depot.stats.log.reduce((n, e) => n + e.bytes, 0),
    );
    assert.ok(depot.stats.bytesSent > bigGz.length);
  });
});
