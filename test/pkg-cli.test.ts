import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pkgProcess } from './helpers/pkg-process';
import { tempDir } from './fixtures/repository-tree';

const CWD = path.resolve(__dirname, '..');

const pkg = pkgProcess;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('pkg command line', () => {
  let tmp: string;
  let repo: string;
  let tree: string;

  before(async () => {
    tmp = await tempDir();
    repo = path.join(tmp, 'repo');
    tree = path.join(tmp, 'tree');
    await fsp.mkdir(path.join(tree, 'etc'), { recursive: true });
    await fsp.writeFile(path.join(tree, 'etc/motd'), 'hello\n');
  });
  after(() => fsp.rm(tmp, { recursive: true, force: true }));

  it('creates a repository, publishes two versions and lists the newest, or all with --all', async () => {
    const created = await pkg('repo-create', repo, '--publisher', 'example.com');
    assert.equal(created.code, 0, created.stderr);
    const p1 = await pkg(
      'publish',
      repo,
      '--fmri',
      'web/app@1.0',
      '--dir',
      tree,
      '--summary',
      'The app',
      '--depend',
      'type=require fmri=pkg:/web/lib@1',
    );
    assert.equal(p1.code, 0, p1.stderr);
    assert.match(p1.stdout, /^pkg:\/\/example\.com\/web\/app@1\.0:\d{8}T\d{6}Z\n$/);
    const p2 = await pkg(
      'publish',
      repo,
      '--fmri',
      'web/app@1.1',
      '--dir',
      tree,
      '--action',
      'set name=variant.arch value=i386',
    );
    assert.equal(p2.code, 0, p2.stderr);

    const newest = await pkg('list', repo);
    assert.equal(newest.code, 0, newest.stderr);
    const lines = newest.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/));
    assert.deepEqual(lines[0], ['NAME', 'VERSION', 'PUBLISHER']);
    assert.equal(lines.length, 2);
    assert.equal(lines[1][0], 'web/app');
    assert.match(lines[1][1], /^1\.1:/);
    assert.equal(lines[1][2], 'example.com');

    const all = await pkg('list', `file://${repo}`, '--all', '-H');
    assert.deepEqual(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1].split(':')[0]),
      ['1.0', '1.1'],
    );
  });

  it('publishes a manifest with its content directory, and reports a hash mismatch with its code', async () => {
    const data = 'payload\n';
    const hash = createHash('sha256').update(data).digest('hex');
    await fsp.writeFile(path.join(tmp, 'payload.txt'), data);
    await fsp.writeFile(
      path.join(tmp, 'good.p5m'),
      `set name=pkg.fmri value=tool@2.0\nfile ${hash} path=payload.txt mode=0644 owner=root group=bin\n`,
    );
    const ok = await pkg('publish-manifest', repo, path.join(tmp, 'good.p5m'), '--dir', tmp);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^pkg:\/\/example\.com\/tool@2\.0:/);

    await fsp.writeFile(
      path.join(tmp, 'bad.p5m'),
      `set name=pkg.fmri value=tool@3.0\nfile ${'0'.repeat(64)} path=payload.txt mode=0644\n`,
    );
    const bad = await pkg('publish-manifest', repo, path.join(tmp, 'bad.p5m'), '--dir', tmp);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^pkg: HASH_MISMATCH: .*payload\.txt/);
  });

  it('exits 2 naming the missing or bad flag on bad usage', async () => {
    const noFmri = await pkg('publish', repo, '--dir', tree);
    assert.equal(noFmri.code, 2);
    assert.match(noFmri.stderr, /required option '--fmri <name@version>' not specified/);
    assert.match(noFmri.stderr, /Usage: pkg publish/);
    const noPub = await pkg('repo-create', path.join(tmp, 'other'));
    assert.equal(noPub.code, 2);
    assert.match(noPub.stderr, /required option '--publisher <p>' not specified/);
    const badPort = await pkg('serve', repo, '--port', 'eighty');
    assert.equal(badPort.code, 2);
    assert.match(
      badPort.stderr,
      /option '--port <N>' argument 'eighty' is invalid\. Expected an integer from 0 to 65535/,
    );
    const unknown = await pkg('list', repo, '--colour');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--colour'/);
    const noValue = await pkg('serve', repo, '--port');
    assert.equal(noValue.code, 2);
    assert.match(noValue.stderr, /option '--port <N>' argument missing/);
    const badWait = await pkg('publish', repo, '--fmri', 'x@1', '--dir', tree, '--lock-wait', '-5');
    assert.equal(badWait.code, 2);
    assert.match(
      badWait.stderr,
      /option '--lock-wait <ms>' argument '-5' is invalid\. Expected an integer from 0 to 3600000/,
    );
    const extra = await pkg('repo-add-publisher', repo, 'p', 'surplus');
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /too many arguments\. Expected 2 arguments but got 3/);
    const noArg = await pkg('list');
    assert.equal(noArg.code, 2);
    assert.match(noArg.stderr, /missing required argument 'origin-url-or-repo-path'/);
    const badPublisher = await pkg('image-create', path.join(tmp, 'img'), '--publisher', 'no-equals-sign');
    assert.equal(badPublisher.code, 2);
    assert.match(
      badPublisher.stderr,
      /option '--publisher <name>=<origin>' argument 'no-equals-sign' is invalid\. Expected <name>=<origin URL or repository path>/,
    );
    const noCommand = await pkg('frobnicate');
    assert.equal(noCommand.code, 2);
    assert.match(noCommand.stderr, /unknown command 'frobnicate'/);
  });

  it('prints help for a command and exits 0', async () => {
    const help = await pkg('publish', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: pkg publish <repo> --fmri/);
    const overview = await pkg('--help');
    assert.equal(overview.code, 0);
    assert.match(overview.stdout, /repo-create/);
  });

  it('reports an image error as "pkg: CODE: message" with its exit code', async () => {
    const r = await pkg('list', path.join(tmp, 'not-a-repo'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pkg: BAD_REPOSITORY: .*not-a-repo/);
  });

  it('serves a repository until SIGTERM, then exits 0', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--require', 'ts-node/register', 'src/pkg-cli/main.ts', 'serve', repo, '--port', '0'],
      { cwd: CWD },
    );
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (c) => {
          out += c;
          const m = /^serving (.+) at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
          if (m) {
            assert.equal(m[1], repo);
            resolve(m[2]);
          }
        });
        child.on('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
      });
      const catalog = await get(`${url}example.com/catalog/0/`);
      assert.equal(catalog.status, 200);
      assert.deepEqual(Object.keys(JSON.parse(catalog.body).packages).sort(), ['tool', 'web/app']);
      const listed = await pkg('list', url, '-H');
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim().split('\n').length, 2);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
