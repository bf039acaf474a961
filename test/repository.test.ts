import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Fmri } from '../src/model/fmri';
import { attr, parseManifest } from '../src/model/manifest';
import {
  addPublisher,
  contentPath,
  createRepository,
  manifestDigest,
  manifestPath,
  openOrigin,
  publishManifest,
  publishTree,
} from '../src/repository';
import { readCatalogFile } from '../src/repository/catalog';
import { gunzip, makeTree, readAll, tempDir } from './fixtures/repository-tree';
import { isCode } from './helpers/expect-error';

const T1 = new Date('2026-01-01T10:00:00Z');
const T2 = new Date('2026-01-02T10:00:00Z');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('file repositories', () => {
  let tmp: string;
  let repo: string;
  let tree: string;
  let files: Record<string, Buffer>;

  before(async () => {
    tmp = await tempDir();
    repo = path.join(tmp, 'repo');
    tree = path.join(tmp, 'tree');
    files = await makeTree(tree);
    await createRepository(repo, { publisher: 'example.com' });
  });
  after(() => fsp.rm(tmp, { recursive: true, force: true }));

  it('creates pkg5.repository naming the default publisher, and an empty catalog', async () => {
    assert.equal(
      await fsp.readFile(path.join(repo, 'pkg5.repository'), 'utf8'),
      '[repository]\nversion = 4\n\n[publisher]\nprefix = example.com\n',
    );
    const catalog = JSON.parse(
      await fsp.readFile(path.join(repo, 'publisher/example.com/catalog/catalog.json'), 'utf8'),
    );
    assert.equal(catalog.publisher, 'example.com');
    assert.deepEqual(catalog.packages, {});
  });

  it('refuses to create a repository where one already exists', async () => {
    await assert.rejects(createRepository(repo, { publisher: 'other' }), isCode('BAD_REQUEST', repo, 'already'));
  });

  // pkg(5)'s publisher-name rule (src/modules/misc.py valid_pub_prefix) refuses '_' and allows a leading '-'.
  it('rejects a bad publisher name, naming it', async () => {
    await assert.rejects(
      createRepository(path.join(tmp, 'bad'), { publisher: 'no such/pub' }),
      isCode('BAD_REQUEST', "'no such/pub'"),
    );
    await assert.rejects(
      addPublisher(repo, 'under_score'),
      isCode('BAD_REQUEST', "'under_score'", 'publisher-name rule'),
    );
    await createRepository(path.join(tmp, 'dash'), { publisher: '-dash' });
    await assert.rejects(
      publishTree(repo, { fmri: 'x@1', dir: tree, publisher: 'bad pub' }),
      isCode('BAD_REQUEST', "'bad pub'"),
    );
  });

  it('publishes a tree as dir, file, link and hardlink actions in path order', async () => {
    const fmri = await publishTree(repo, { fmri: 'web/server@1.0', dir: tree, summary: 'A web server', timestamp: T1 });
    assert.equal(String(fmri), 'pkg://example.com/web/server@1.0:20260101T100000Z');
    const text = await fsp.readFile(manifestPath(repo, 'example.com', 'web/server', '1.0:20260101T100000Z'), 'utf8');
    assert.ok(text.startsWith('set name=pkg.fmri value=pkg://example.com/web/server@1.0:20260101T100000Z\n'));
    const m = parseManifest(text);
    const fs = m.actions.filter((a) => a.type !== 'set').map((a) => `${a.type} ${attr(a, 'path')}`);
    assert.deepEqual(fs, [
      'dir etc',
      'file etc/empty',
      'file etc/motd',
      'dir usr',
      'dir usr/bin',
      'file usr/bin/tool',
      'link usr/bin/tool-link',
      'hardlink usr/bin/tool2',
      'dir usr/lib',
      'file usr/lib/big.bin',
    ]);
    const byPath = new Map(m.actions.map((a) => [attr(a, 'path'), a]));
    assert.equal(attr(byPath.get('usr/bin/tool')!, 'mode'), '0755');
    assert.equal(attr(byPath.get('etc/motd')!, 'mode'), '0644');
    assert.equal(attr(byPath.get('etc')!, 'mode'), '0755');
    assert.equal(attr(byPath.get('etc')!, 'owner'), 'root');
    assert.equal(attr(byPath.get('etc')!, 'group'), 'bin');
    assert.equal(attr(byPath.get('usr/bin/tool-link')!, 'target'), 'tool');
    assert.equal(attr(byPath.get('usr/bin/tool2')!, 'target'), 'tool');
    assert.equal(m.actions.find((a) => a.attrs.name === 'pkg.summary')?.attrs.value, 'A web server');

    for (const [p, data] of Object.entries(files)) {
      const a = byPath.get(p)!;
      assert.equal(a.hash, sha256(data), p);
      const stored = await fsp.readFile(contentPath(repo, 'example.com', a.hash!));
      assert.deepEqual(gunzip(stored), data, `${p} decompresses to the original bytes`);
      assert.equal(attr(a, 'pkg.size'), String(data.length));
      assert.equal(attr(a, 'pkg.csize'), String(stored.length));
      assert.equal(attr(a, 'chash'), sha256(stored));
      assert.equal(path.basename(path.dirname(contentPath(repo, 'example.com', a.hash!))), a.hash!.slice(0, 2));
    }

    const catalog = await readCatalogFile(repo, 'example.com');
    assert.deepEqual(catalog.packages['web/server'], [
      { version: '1.0:20260101T100000Z', manifest: manifestDigest(text), depends: [], summary: 'A web server' },
    ]);
  });

  it('publishing the same tree again stores no content twice', async () => {
    const before = await countContent(repo, 'example.com');
    await publishTree(repo, { fmri: 'web/server@1.0.1', dir: tree, timestamp: T1 });
    assert.equal(await countContent(repo, 'example.com'), before);
  });

  it('keeps each stem oldest to newest whatever the publication order', async () => {
    await publishTree(repo, { fmri: 'web/server@2.0', dir: tree, timestamp: T1 });
    await publishTree(repo, { fmri: 'web/server@0.9', dir: tree, timestamp: T2 });
    await publishTree(repo, { fmri: 'web/server@2.0', dir: tree, timestamp: T2 });
    const catalog = await readCatalogFile(repo, 'example.com');
    assert.deepEqual(
      catalog.packages['web/server'].map((e) => e.version),
      [
        '0.9:20260102T100000Z',
        '1.0:20260101T100000Z',
        '1.0.1:20260101T100000Z',
        '2.0:20260101T100000Z',
        '2.0:20260102T100000Z',
      ],
    );
  });

  it('rejects publishing an FMRI that already exists and leaves the catalog alone', async () => {
    const before = await fsp.readFile(path.join(repo, 'publisher/example.com/catalog/catalog.json'), 'utf8');
    await assert.rejects(
      publishTree(repo, { fmri: 'web/server@1.0', dir: tree, timestamp: T1 }),
      isCode('BAD_REQUEST', 'web/server@1.0:20260101T100000Z', 'already published'),
    );
    assert.equal(await fsp.readFile(path.join(repo, 'publisher/example.com/catalog/catalog.json'), 'utf8'), before);
  });

  it('publishes over what a crash left behind: a manifest without its catalog entry', async () => {
    const leftover = manifestPath(repo, 'example.com', 'crashed/pkg', '1.0:20260101T100000Z');
    await fsp.mkdir(path.dirname(leftover), { recursive: true });
    await fsp.writeFile(
      leftover,
      'set name=pkg.fmri value=pkg://example.com/crashed/pkg@1.0:20260101T100000Z\nset name=half value=written\n',
    );
    const empty = path.join(tmp, 'empty-crash');
    await fsp.mkdir(empty);
    await publishTree(repo, { fmri: 'crashed/pkg@1.0', dir: empty, timestamp: T1 });
    const [entry] = (await readCatalogFile(repo, 'example.com')).packages['crashed/pkg'];
    assert.equal(entry.manifest, manifestDigest(await fsp.readFile(leftover, 'utf8')));
    assert.doesNotMatch(await fsp.readFile(leftover, 'utf8'), /half/);
  });

  it('records depends, variants, summary and obsolescence in the catalog entry', async () => {
    const empty = path.join(tmp, 'empty');
    await fsp.mkdir(empty);
    await publishTree(repo, {
      fmri: 'pkg://example.com/group/web@1.0',
      dir: empty,
      depends: ['type=require fmri=pkg:/web/server@1.0', 'type=require-any fmri=pkg:/a fmri=pkg:/b'],
      actions: ['set name=variant.opensolaris.zone value=global value=nonglobal', 'set name=pkg.obsolete value=true'],
      timestamp: T1,
    });
    const [entry] = (await readCatalogFile(repo, 'example.com')).packages['group/web'];
    assert.deepEqual(entry.depends, [
      { type: 'require', fmri: ['pkg:/web/server@1.0'] },
      { type: 'require-any', fmri: ['pkg:/a', 'pkg:/b'] },
    ]);
    assert.deepEqual(entry.variants, { 'variant.opensolaris.zone': ['global', 'nonglobal'] });
    assert.equal(entry.obsolete, true);
  });

  it('publishes a manifest whose payloads come from a content directory, adding sizes and chash', async () => {
    const content = path.join(tmp, 'content');
    await fsp.mkdir(path.join(content, 'opt'), { recursive: true });
    const data = Buffer.from('new payload\n');
    await fsp.writeFile(path.join(content, 'opt/new.txt'), data);
    const manifest = [
      'set name=pkg.fmri value=tools/new@3.1',
      'dir path=opt mode=0755 owner=root group=bin',
      `file ${sha256(data)} path=opt/new.txt mode=0644 owner=root group=bin`,
      // Already in the repository from the tree: no content file needed.
      `file ${sha256(files['etc/motd'])} path=opt/motd mode=0644 owner=root group=bin`,
    ].join('\n');
    const fmri = await publishManifest(repo, { manifest, contentDir: content, timestamp: T2 });
    assert.equal(String(fmri), 'pkg://example.com/tools/new@3.1:20260102T100000Z');
    const stored = parseManifest(
      await fsp.readFile(manifestPath(repo, 'example.com', 'tools/new', '3.1:20260102T100000Z'), 'utf8'),
    );
    const motd = stored.actions.find((a) => a.attrs.path === 'opt/motd')!;
    assert.equal(attr(motd, 'pkg.size'), String(files['etc/motd'].length));
    const gz = await fsp.readFile(contentPath(repo, 'example.com', sha256(data)));
    assert.equal(
      attr(
        stored.actions.find((a) => a.attrs.path === 'opt/new.txt')!,
        'chash',
      ),
      sha256(gz),
    );
  });

  it('refuses content that does not match the manifest hash, naming the path', async () => {
    const content = path.join(tmp, 'content-bad');
    await fsp.mkdir(content);
    await fsp.writeFile(path.join(content, 'a.txt'), 'actual bytes');
    const wrong = sha256('expected bytes');
    const manifest = `set name=pkg.fmri value=bad/hash@1.0\nfile ${wrong} path=a.txt mode=0644 owner=root group=bin\n`;
    await assert.rejects(
      publishManifest(repo, { manifest, contentDir: content }),
      isCode('HASH_MISMATCH', 'a.txt', wrong),
    );
    assert.equal((await readCatalogFile(repo, 'example.com')).packages['bad/hash'], undefined);
    await assert.rejects(fsp.access(contentPath(repo, 'example.com', wrong)));
  });

  it('refuses a manifest without pkg.fmri, or with content it cannot find', async () => {
    await assert.rejects(
      publishManifest(repo, { manifest: 'dir path=x mode=0755\n' }),
      isCode('BAD_MANIFEST', 'pkg.fmri'),
    );
    const manifest = `set name=pkg.fmri value=no/content@1.0\nfile ${sha256('nowhere')} path=a.txt mode=0644\n`;
    await assert.rejects(
      publishManifest(repo, { manifest }),
      isCode('BAD_MANIFEST', 'line 2', 'file a.txt', 'no content'),
    );
  });

  it('adds a publisher and publishes to it, with the FMRI naming it', async () => {
    await addPublisher(repo, 'extra.org');
    await assert.rejects(addPublisher(repo, 'extra.org'), isCode('BAD_REQUEST', 'extra.org'));
    const fmri = await publishManifest(repo, {
      manifest: 'set name=pkg.fmri value=pkg://extra.org/thing@1\n',
      timestamp: T1,
    });
    assert.equal(String(fmri), 'pkg://extra.org/thing@1:20260101T100000Z');
    await assert.rejects(
      publishManifest(repo, {
        manifest: 'set name=pkg.fmri value=pkg://extra.org/thing@2\n',
        publisher: 'example.com',
      }),
      isCode('PUBLISHER_MISMATCH', 'extra.org', 'example.com'),
    );
  });

  it('serialises concurrent publishers in one process', async () => {
    const empty = path.join(tmp, 'empty2');
    await fsp.mkdir(empty);
    const fmris = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => publishTree(repo, { fmri: `many/pkg@${n}`, dir: empty, timestamp: T1 })),
    );
    assert.equal(fmris.length, 5);
    assert.equal((await readCatalogFile(repo, 'example.com')).packages['many/pkg'].length, 5);
  });

  it('fails with LOCKED while another live process holds the lock, and takes over a dead one', async () => {
    const lock = path.join(repo, 'lock');
    const live = { pid: process.ppid, host: os.hostname(), since: new Date().toISOString() };
    await fsp.writeFile(lock, JSON.stringify(live));
    const empty = path.join(tmp, 'empty');
    await assert.rejects(
      publishTree(repo, { fmri: 'locked/pkg@1', dir: empty, lockWaitMs: 0 }),
      isCode('LOCKED', String(process.ppid), lock),
    );
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await fsp.writeFile(lock, JSON.stringify({ ...live, pid: dead }));
    await publishTree(repo, { fmri: 'locked/pkg@1', dir: empty, lockWaitMs: 0, timestamp: T1 });
    await assert.rejects(fsp.access(lock), 'the lock is released after publishing');
  });

  describe('read through a file:// origin', () => {
    it('lists publishers and reads the catalog and manifests', async () => {
      const origin = openOrigin(pathToFileURL(repo).href);
      assert.deepEqual(await origin.publishers(), ['example.com', 'extra.org']);
      const catalog = await origin.catalog('example.com');
      assert.equal(catalog.packages['web/server'].length, 5);
      const text = await origin.manifest('example.com', Fmri.parse('web/server@1.0:20260101T100000Z'));
      assert.equal(manifestDigest(text), catalog.packages['web/server'][1].manifest);
      await assert.rejects(
        origin.manifest('example.com', Fmri.parse('web/server@7.0:20260101T100000Z')),
        isCode('NOT_FOUND', 'web/server@7.0'),
      );
      await assert.rejects(origin.catalog('nobody'), isCode('NOT_FOUND', 'nobody'));
    });

    it('opens a content file whole or from an offset', async () => {
      const origin = openOrigin(pathToFileURL(repo).href);
      const hash = sha256(files['usr/lib/big.bin']);
      const gz = await fsp.readFile(contentPath(repo, 'example.com', hash));
      const whole = await origin.openFile('example.com', hash, 0);
      assert.equal(whole.size, gz.length);
      assert.deepEqual(await readAll(whole.stream), gz);
      const tail = await origin.openFile('example.com', hash, 1000);
      assert.equal(tail.offset, 1000);
      assert.deepEqual(await readAll(tail.stream), gz.subarray(1000));
      const done = await origin.openFile('example.com', hash, gz.length);
      assert.equal((await readAll(done.stream)).length, 0);
      await assert.rejects(origin.openFile('example.com', sha256('absent'), 0), isCode('NOT_FOUND'));
      await assert.rejects(origin.openFile('example.com', 'abc', 0), isCode('BAD_REQUEST', 'abc'));
    });

    it('yields several files in the order asked', async () => {
      const origin = openOrigin(pathToFileURL(repo).href);
      const order = ['usr/bin/tool', 'etc/empty', 'usr/lib/big.bin', 'etc/motd'];
      const got: string[] = [];
      for await (const f of origin.openFiles(
        'example.com',
        order.map((p) => sha256(files[p])),
      )) {
        const p = order[got.length];
        assert.equal(f.hash, sha256(files[p]));
        const data = gunzip(await readAll(f.stream));
        assert.deepEqual(data, files[p]);
        got.push(p);
      }
      assert.deepEqual(got, order);
      const missing = sha256('absent');
      await assert.rejects(
        async () => {
          for await (const f of origin.openFiles('example.com', [sha256(files['etc/motd']), missing]))
            f.stream.resume();
        },
        isCode('NOT_FOUND', missing),
      );
    });

    it('rejects origins it cannot read', async () => {
      assert.throws(
        () => openOrigin('ftp://example.com/repo'),
        isCode('BAD_REQUEST', 'ftp://example.com/repo', 'file://', 'http://'),
      );
      assert.throws(() => openOrigin('/no/scheme'), isCode('BAD_REQUEST', '/no/scheme'));
      await assert.rejects(
        openOrigin(pathToFileURL(tmp).href).publishers(),
        isCode('BAD_REPOSITORY', 'pkg5.repository'),
      );
    });
  });
});

async function countContent(root: string, pub: string): Promise<number> {
  let n = 0;
  const dir = path.join(root, 'publisher', pub, 'file');
  for (const sub of await fsp.readdir(dir)) n += (await fsp.readdir(path.join(dir, sub))).length;
  return n;
}
