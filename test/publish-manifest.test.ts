import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attr, parseManifest } from '../src/model/manifest';
import { contentPath, createRepository, manifestPath, publishManifest, publishTree } from '../src/repository';
import { readCatalogFile } from '../src/repository/catalog';
import { gunzip, tempDir } from './fixtures/repository-tree';
import { isCode } from './helpers/expect-error';
import { pkgProcess } from './helpers/pkg-process';

const T1 = new Date('2026-01-01T10:00:00Z');
const digest = (alg: string, b: Buffer | string) => createHash(alg).update(b).digest('hex');
const sha256 = (b: Buffer | string) => digest('sha256', b);
const sha1 = (b: Buffer | string) => digest('sha1', b);
const PUB = 'example.com';

// A source manifest the way pkg(5)'s own are written (src/pkg/manifests/*.p5m): file actions
// without payload hash, the license payload named by its positional token; pkgsend reads the
// payloads from its -d directory (src/modules/actions/__init__.py set_action_data).
describe('publish-manifest with pkgsend manifests', () => {
  let tmp: string;
  let repo: string;
  let content: string;
  const tool = Buffer.from('#!/bin/sh\necho tool\n');
  const conf = Buffer.from('key=value\n');
  const lic = Buffer.from('Common Development and Distribution License\n');

  before(async () => {
    tmp = await tempDir();
    repo = path.join(tmp, 'repo');
    content = path.join(tmp, 'proto');
    await createRepository(repo, { publisher: PUB });
    await fsp.mkdir(path.join(content, 'usr/bin'), { recursive: true });
    await fsp.mkdir(path.join(content, 'etc'), { recursive: true });
    await fsp.writeFile(path.join(content, 'usr/bin/tool'), tool);
    await fsp.writeFile(path.join(content, 'etc/tool.conf'), conf);
    await fsp.writeFile(path.join(content, 'lic_CDDL'), lic);
  });
  after(() => fsp.rm(tmp, { recursive: true, force: true }));

  const stored = async (stem: string, version: string) =>
    parseManifest(await fsp.readFile(manifestPath(repo, PUB, stem, version), 'utf8'));
  const catalogHas = async (stem: string) => (await readCatalogFile(repo, PUB)).packages[stem] !== undefined;

  it('fills each payload hash from the content directory: path, NOHASH, a named file, a license file', async () => {
    const manifest = [
      'set name=pkg.fmri value=tools/tool@1.0',
      'set pkg.summary="A tool"',
      'dir path=usr/bin mode=0755 owner=root group=bin',
      'file path=usr/bin/tool mode=0555 owner=root group=bin',
      'file NOHASH path=/etc/tool.conf mode=0644 owner=root group=bin preserve=true',
      'file usr/bin/tool path=usr/bin/tool2 mode=0555 owner=root group=bin',
      'license lic_CDDL license=CDDL',
    ].join('\n');
    const fmri = await publishManifest(repo, { manifest, contentDir: content, timestamp: T1 });
    assert.equal(String(fmri), 'pkg://example.com/tools/tool@1.0:20260101T100000Z');
    const m = await stored('tools/tool', '1.0:20260101T100000Z');
    const by = (key: string, value: string) => m.actions.find((a) => attr(a, key) === value)!;
    assert.equal(by('path', 'usr/bin/tool').hash, sha256(tool));
    assert.equal(by('path', 'etc/tool.conf').hash, sha256(conf), 'NOHASH: from the path, its leading / dropped');
    assert.equal(by('path', 'usr/bin/tool2').hash, sha256(tool), 'the positional token names the payload file');
    assert.equal(by('license', 'CDDL').hash, sha256(lic), "the license's token names its payload file");
    assert.equal(attr(by('license', 'CDDL'), 'pkg.size'), String(lic.length));
    assert.deepEqual(by('name', 'pkg.summary').attrs, { name: 'pkg.summary', value: 'A tool' }, 'the set shorthand');
    assert.ok(m.actions.every((a) => a.payload === undefined));
    for (const data of [tool, conf, lic]) {
      assert.deepEqual(gunzip(await fsp.readFile(contentPath(repo, PUB, sha256(data)))), data);
    }
  });

  it('without --dir, refuses an action without payload hash, naming it and its line, and stores nothing', async () => {
    const manifest = [
      'set name=pkg.fmri value=tools/nodir@1.0',
      '# a comment',
      'dir path=usr mode=0755',
      'file path=usr/bin/nodir mode=0555',
    ].join('\n');
    await assert.rejects(
      publishManifest(repo, { manifest }),
      isCode(
        'BAD_MANIFEST',
        'manifest: line 4: file usr/bin/nodir has no payload hash',
        '--dir <dir> holding usr/bin/nodir',
      ),
    );
    await assert.rejects(
      publishManifest(repo, { manifest: 'set name=pkg.fmri value=tools/nodir@1.0\nlicense lic_X license=X\n' }),
      isCode('BAD_MANIFEST', 'line 2: license X has no payload hash', 'holding lic_X'),
    );
    assert.equal(await catalogHas('tools/nodir'), false);
  });

  it('refuses a payload the content directory lacks, and a license naming no payload file', async () => {
    await assert.rejects(
      publishManifest(repo, {
        manifest: 'set name=pkg.fmri value=tools/missing@1.0\nfile path=usr/bin/absent mode=0555\n',
        contentDir: content,
      }),
      isCode(
        'BAD_MANIFEST',
        'line 2: file usr/bin/absent has no payload: no file at',
        path.join('usr', 'bin', 'absent'),
      ),
    );
    await assert.rejects(
      publishManifest(repo, {
        manifest: 'set name=pkg.fmri value=tools/missing@1.0\nlicense license=CDDL\n',
        contentDir: content,
      }),
      isCode('BAD_MANIFEST', 'line 2: license CDDL names no payload file', 'positional token'),
    );
    assert.equal(await catalogHas('tools/missing'), false);
  });

  // A manifest pkg(5) published names payloads by SHA-1 (its repositories keep content so);
  // this repository keeps content by SHA-256 only.
  it('takes a SHA-1 payload from the content directory, checked against it, and publishes it by SHA-256', async () => {
    const manifest = `set name=pkg.fmri value=tools/sha1@1.0\nfile ${sha1(tool)} path=usr/bin/tool mode=0555 chash=${'0'.repeat(40)}\n`;
    await publishManifest(repo, { manifest, contentDir: content, timestamp: T1 });
    const m = await stored('tools/sha1', '1.0:20260101T100000Z');
    const file = m.actions.find((a) => a.type === 'file')!;
    assert.equal(file.hash, sha256(tool));
    assert.equal(attr(file, 'chash'), sha256(await fsp.readFile(contentPath(repo, PUB, sha256(tool)))));

    const wrong = sha1('other bytes');
    await assert.rejects(
      publishManifest(repo, {
        manifest: `set name=pkg.fmri value=tools/sha1@2.0\nfile ${wrong} path=usr/bin/tool mode=0555\n`,
        contentDir: content,
      }),
      isCode('HASH_MISMATCH', 'file usr/bin/tool', `expected SHA-1 ${wrong}`, sha1(tool)),
    );
    assert.equal((await readCatalogFile(repo, PUB)).packages['tools/sha1'].length, 1);
  });

  it('refuses a SHA-1 payload without its file, saying why the repository cannot hold it', async () => {
    const manifest = `set name=pkg.fmri value=tools/sha1only@1.0\nfile ${sha1(tool)} path=usr/bin/tool mode=0555\n`;
    await assert.rejects(
      publishManifest(repo, { manifest }),
      isCode('BAD_MANIFEST', 'line 2: file usr/bin/tool names its payload by SHA-1', 'by SHA-256 only', '--dir'),
    );
    await assert.rejects(
      publishManifest(repo, { manifest, contentDir: path.join(tmp, 'empty') }),
      isCode('BAD_MANIFEST', 'line 2', 'SHA-1', 'no file at'),
    );
    assert.equal(await catalogHas('tools/sha1only'), false);
  });

  // src/modules/actions/generic.py _validate and attribute.py validate, called at publication.
  it('refuses what pkg(5) refuses at publication, naming the line', async () => {
    const refused: Array<[string, string]> = [
      ['dir path=opt variant.arch=i386 variant.arch=sparc', "dir action has 'variant.arch=' more than once"],
      ['dir path=opt facet.doc=true facet.doc=false', "'facet.doc=' more than once"],
      ['dir path=opt reboot-needed=true reboot-needed=false', "'reboot-needed=' more than once"],
      ['set name=pkg.summary value=a value=b', 'pkg.summary has more than one value'],
      ['set name=pkg.obsolete value=true value=false', 'pkg.obsolete has more than one value'],
      ['set name=pkg.additional-update-on-uninstall value=A@1 value=&@M', 'is not an FMRI'],
    ];
    for (const [line, why] of refused) {
      await assert.rejects(
        publishManifest(repo, { manifest: `set name=pkg.fmri value=tools/invalid@1.0\n\n${line}\n` }),
        isCode('BAD_MANIFEST', 'manifest: line 3: ', why, 'at publication'),
        line,
      );
    }
    await assert.rejects(
      publishTree(repo, { fmri: 'tools/invalid@1.0', dir: content, actions: ['dir path=x facet.a=1 facet.a=2'] }),
      isCode('BAD_MANIFEST', '--action: line 1', "'facet.a=' more than once"),
    );
    assert.equal(await catalogHas('tools/invalid'), false);
    // Lists pkg(5) publishes: a set action's values, and an unknown actuator that is an FMRI.
    await publishManifest(repo, {
      manifest:
        'set name=pkg.fmri value=tools/valid@1.0\nset name=info.keywords value=a value=b\n' +
        'set name=pkg.additional-update-on-update value=A@1\nset name=variant.arch value=i386 value=sparc\n',
      timestamp: T1,
    });
  });

  it('exits 1 (not the usage code 2) on the command line, with the line in the message', async () => {
    const file = path.join(tmp, 'nodir.p5m');
    await fsp.writeFile(file, 'set name=pkg.fmri value=tools/cli@1.0\nfile path=usr/bin/tool mode=0555\n');
    const noDir = await pkgProcess('publish-manifest', repo, file);
    assert.equal(noDir.code, 1, noDir.stderr);
    assert.match(noDir.stderr, /^pkg: BAD_MANIFEST: manifest: line 2: file usr\/bin\/tool has no payload hash/);
    await fsp.writeFile(file, `set name=pkg.fmri value=tools/cli@1.0\nfile ${sha1(tool)} path=usr/bin/tool\n`);
    const sha1NoDir = await pkgProcess('publish-manifest', repo, file);
    assert.equal(sha1NoDir.code, 1, sha1NoDir.stderr);
    assert.match(sha1NoDir.stderr, /SHA-1/);
    const ok = await pkgProcess('publish-manifest', repo, file, '--dir', content);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^pkg:\/\/example\.com\/tools\/cli@1\.0:/);
  });
});
