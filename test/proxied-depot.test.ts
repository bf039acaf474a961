import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Depot, DepotLogEntry } from '../src/repository';
import { servedContentBytes } from '../bench/proxied-depot';

const depot = (log: DepotLogEntry[], requests = log.length) =>
  ({ stats: { requests, bytesSent: 0, rangeRequests: 0, log } }) as unknown as Depot;
const entry = (method: string, p: string, bytes: number): DepotLogEntry => ({ method, path: p, status: 200, bytes });

describe('servedContentBytes', () => {
  it('sums the bodies of file and filelist responses only', () => {
    const log = [
      entry('GET', '/demo/catalog/0/', 5000),
      entry('GET', '/demo/manifest/0/web%2Fnginx@1.1', 700),
      entry('GET', '/demo/file/0/ab12', 1_000_000),
      entry('POST', '/demo/filelist/0/', 3000),
      entry('GET', '/versions/0/', 90),
    ];
    assert.equal(servedContentBytes(depot(log)), 1_003_000);
    assert.equal(servedContentBytes(depot([])), 0);
  });

  it('refuses to sum a log that dropped requests', () => {
    assert.throws(
      () => servedContentBytes(depot([entry('GET', '/demo/file/0/ab12', 1)], 10_001)),
      /kept 1 of 10001 requests/,
    );
  });
});
