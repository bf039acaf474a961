import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const DEMO = path.join(__dirname, '..', 'src', 'dev', 'demo.ts');
const demo = (...args: string[]) =>
  spawnSync(process.execPath, ['--require', 'ts-node/register', DEMO, ...args], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    timeout: 60_000,
  });

describe('npm run demo command line', () => {
  it('prints what the demo does for -h and exits 0, without starting anything', () => {
    const r = demo('-h');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: npm run demo/);
    assert.match(r.stdout, /Builds a demo host in \.demo\/host/);
  });

  it('refuses an option it does not know with exit 2, naming it', () => {
    const r = demo('--bogus');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown option '--bogus'/);
  });
});
