import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { waitForPartialDownload } from '../bench/partial-download';
import { cleanup, tempDir } from './helpers/tree';

after(cleanup);

const HASH = 'ab'.repeat(32);
const never = new Promise<void>(() => undefined);

describe('waitForPartialDownload', () => {
  it('resolves once a partial download has the bytes asked for, with every partial download and its size', async () => {
    const cache = await tempDir('li-partial');
    const dir = path.join(cache, 'partial');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, `${'cd'.repeat(32)}.gz`), Buffer.alloc(10));
    await fs.writeFile(path.join(dir, `${HASH}.gz.lock`), '{"pid":1}');
    const waiting = waitForPartialDownload(cache, 1000, never);
    await fs.writeFile(path.join(dir, `${HASH}.gz`), Buffer.alloc(999));
    await fs.appendFile(path.join(dir, `${HASH}.gz`), Buffer.alloc(1));
    assert.deepEqual(
      await waiting,
      new Map([
        [HASH, 1000],
        ['cd'.repeat(32), 10],
      ]),
    );
  });

  it('rejects when the run ends first, and when no cache directory ever appears in time', async () => {
    const cache = await tempDir('li-partial-none');
    await assert.rejects(
      waitForPartialDownload(cache, 1, Promise.resolve()),
      /The run ended before a download of 1 bytes or more was in progress/,
    );
    await assert.rejects(
      waitForPartialDownload(path.join(cache, 'missing'), 1, never, 0),
      /No partial download of 1 bytes or more appeared .* within 0 s/,
    );
  });
});
