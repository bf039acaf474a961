import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

const MAIN = path.join(__dirname, '../src/pkg-cli/main.ts');

describe('pkg command line for images', () => {
  it('creates a host and a zone, installs, audits, updates and reports nothing to do with exit 4', async () => {
    const dir = await tempDir('cli');
    const env = { ...process.env, LINKED_IMAGES_CACHE: path.join(dir, 'cache'), INIT_CWD: dir };
    const pkg = (...args: string[]) => {
      const r = spawnSync(process.execPath, ['--require', 'ts-node/register', MAIN, ...args], {
        cwd: path.join(__dirname, '..'),
        env,
        encoding: 'utf8',
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    await fs.mkdir(path.join(dir, 't/etc'), { recursive: true });
    await fs.writeFile(path.join(dir, 't/etc/motd'), 'v1\n');
    assert.equal(pkg('repo-create', 'repo', '--publisher', 'omnios').code, 0);
    assert.equal(
      pkg(
        'publish',
        'repo',
        '--fmri',
        'sys@1.0',
        '--dir',
        't',
        '--action',
        'depend type=parent fmri=feature/package/dependency/self',
      ).code,
      0,
    );
    assert.equal(pkg('image-create', 'host', '--publisher', 'omnios=repo').code, 0);
    assert.equal(pkg('image-create', 'zone1', '--zone', '--publisher', 'omnios=repo').code, 0);
    assert.equal(pkg('attach-linked', '-R', 'host', 'zone:z1', 'zone1').code, 0);
    assert.match(pkg('list-linked', '-R', 'host').out, new RegExp(`zone:z1\\t${path.join(dir, 'zone1')}`));
    assert.equal(pkg('install', '-R', 'host', 'sys').code, 0);
    const zoneInstall = pkg('install', '-R', 'zone1', 'sys');
    assert.match(zoneInstall.out, /0 fetched, the rest cached/); // the host already fetched it
    assert.deepEqual(pkg('audit-linked', '-R', 'host'), { code: 0, out: 'zone:z1\tsynced\n', err: '' });

    await fs.writeFile(path.join(dir, 't/etc/motd'), 'v2\n');
    assert.equal(pkg('publish', 'repo', '--fmri', 'sys@1.1', '--dir', 't').code, 0);
    // pkg(5): updating the parent syncs its children, so the zone follows sys to 1.1.
    const hostUpdate = pkg('update', '-R', 'host');
    assert.equal(hostUpdate.code, 0, hostUpdate.err);
    assert.match(hostUpdate.out, /^zone:z1: sync$/m);
    assert.equal(await fs.readFile(path.join(dir, 'zone1/etc/motd'), 'utf8'), 'v2\n');
    assert.deepEqual(pkg('audit-linked', '-R', 'host'), { code: 0, out: 'zone:z1\tsynced\n', err: '' });
    const again = pkg('update', '-R', 'zone1');
    assert.equal(again.code, 4);
    assert.match(again.out, /No updates available for this image/);
  });

  it('names a missing -R and an unknown package, with pkg(5) exit codes', async () => {
    const dir = await tempDir('cli');
    const env = { ...process.env, INIT_CWD: dir, LINKED_IMAGES_CACHE: path.join(dir, 'cache') };
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--require', 'ts-node/register', MAIN, ...args], {
        cwd: path.join(__dirname, '..'),
        env,
        encoding: 'utf8',
      });
    const noRoot = run('update');
    assert.equal(noRoot.status, 2);
    assert.match(noRoot.stderr, /required option '-R <image root>' not specified/);
    assert.equal(run('repo-create', 'repo', '--publisher', 'p').status, 0);
    assert.equal(run('image-create', 'img', '--publisher', 'p=repo').status, 0);
    const unknown = run('install', '-R', 'img', 'nosuch');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^pkg: UNKNOWN_PACKAGE: No package 'nosuch'/);
    const notImage = run('installed', '-R', 'repo');
    assert.match(notImage.stderr, /BAD_IMAGE: Not an image/);
  });
});
