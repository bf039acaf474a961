import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.join(__dirname, '..');

/** A program that writes lines to stdout forever, with or without exitQuietlyOnClosedPipe; its reader goes away after the first chunk. */
async function readerGoesAway(quiet: boolean): Promise<{ code: number | null; stderr: string }> {
  const program = `
    ${quiet ? "require('./src/command-line/closed-pipe').exitQuietlyOnClosedPipe();" : ''}
    setInterval(() => process.stdout.write('line\\n'.repeat(1000)), 1);
  `;
  const child = spawn(process.execPath, ['--require', 'ts-node/register', '-e', program], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.once('data', () => child.stdout.destroy()); // as `| head -1` does
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, stderr };
}

describe('exitQuietlyOnClosedPipe (`npm run control -- <id> show | head -1`)', () => {
  it('exits 0 without a word when the reader of stdout goes away; without it, Node prints EPIPE and exits 1', async () => {
    assert.deepEqual(await readerGoesAway(true), { code: 0, stderr: '' });
    const loud = await readerGoesAway(false);
    assert.equal(loud.code, 1);
    assert.match(loud.stderr, /EPIPE/);
  });
});
