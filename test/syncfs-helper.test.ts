import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SyncFsHelper, SyncFsPool } from '../src/image/syncfs-helper';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

describe('the syncfs helper', () => {
  it("flushes the file system of a path, and fails with sync's status for a path that does not exist", async () => {
    const helper = new SyncFsHelper();
    const dir = await tempDir('sync');
    await helper.syncFs(dir);
    await assert.rejects(
      helper.syncFs(path.join(dir, 'nope')),
      (e: Error & { code?: string }) => e.code === 'ESYNC' && /sync -f .*nope failed \(exit 1\)/.test(e.message),
    );
    await helper.syncFs(dir); // one failure does not break the helper
  });

  it('answers requests in order when several wait, and spreads them over the pool', async () => {
    const pool = new SyncFsPool(2);
    const dir = await tempDir('sync');
    const results = await Promise.allSettled(
      [dir, path.join(dir, 'x'), dir, path.join(dir, 'y'), dir].map((p) => pool.syncFs(p)),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
  });

  it('starts a new shell when its shell died', async () => {
    const helper = new SyncFsHelper();
    const dir = await tempDir('sync');
    await helper.syncFs(dir);
    const child = (helper as unknown as { child: { kill(s: string): void; once(e: string, f: () => void): void } })
      .child;
    // The idle helper keeps nothing alive (by design), so hold the event loop while its shell exits.
    const hold = setInterval(() => undefined, 1000);
    await new Promise<void>((r) => {
      child.once('exit', r);
      child.kill('SIGKILL');
    }).finally(() => clearInterval(hold));
    await helper.syncFs(dir);
    assert.notEqual((helper as unknown as { child: unknown }).child, child);
  });

  it('does not keep a process alive once nothing waits for it', async () => {
    const script = `require('ts-node/register'); const { syncFsHelper } = require(${JSON.stringify(path.join(__dirname, '../src/image/syncfs-helper'))}); syncFsHelper.syncFs('/tmp').then(() => console.log('synced'));`;
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '..'),
      timeout: 30_000,
    });
    assert.equal(stdout.trim(), 'synced');
    assert.ok(Date.now() - t0 < 30_000);
  });
});
