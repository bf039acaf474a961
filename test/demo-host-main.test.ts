import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Image } from '../src/image/image';
import { listChildren } from '../src/image/linked';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

const ROOT = path.join(__dirname, '..');

/** `npm run demo-host -- <args>` as a process started in `cwd`: its exit code and output. */
function demoHost(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--require', 'ts-node/register', path.join(ROOT, 'src/dev/demo-host-main.ts'), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', INIT_CWD: cwd },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, out })));
}

describe('npm run demo-host', () => {
  it('builds a host of N zones with P packages under a directory relative to the caller, 1.1 to update to', async () => {
    const cwd = await tempDir('li-demo-host');
    const r = await demoHost(['my-host', '--zones', '3', '--packages', '2'], cwd);
    assert.equal(r.code, 0, r.out);
    const dir = path.join(cwd, 'my-host');
    assert.match(r.out, new RegExp(`npm run update -- ${dir}/host -r -C 8`));
    const parent = await Image.open(path.join(dir, 'host'));
    assert.equal((await parent.installed()).size, 2);
    assert.deepEqual(
      listChildren(parent).map((c) => c.name),
      ['zone:z1', 'zone:z2', 'zone:z3'],
    );
  });

  it('refuses a directory that is not empty (exit 1) and bad options (exit 2), naming them', async () => {
    const cwd = await tempDir('li-demo-host');
    await fs.writeFile(path.join(cwd, 'x'), 'x');
    const full = await demoHost(['.'], cwd);
    assert.equal(full.code, 1);
    assert.match(full.out, /expected a directory that does not exist or is empty/);
    // A directory it cannot create (a dangling symbolic link stands there): what failed, no stack.
    await fs.symlink(path.join(cwd, 'nowhere'), path.join(cwd, 'dangling'));
    const blocked = await demoHost(['dangling'], cwd);
    assert.equal(blocked.code, 1);
    assert.match(blocked.out, /^demo-host: Cannot create .*dangling/m);
    assert.doesNotMatch(blocked.out, /^\s+at /m);
    const bad = await demoHost(['h', '--zones', '0'], cwd);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /--zones <N>' argument '0' is invalid\. Expected an integer from 1 to 10000/);
  });
});
