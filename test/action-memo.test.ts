import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionChange } from '../src/model/action-diff';
import { actionMemoKey, clearActionMemo, recalledActions, rememberActions } from '../src/model/action-memo';

const changes = (n: number, path: string): ActionChange[] =>
  Array.from({ length: n }, () => ({ kind: 'add', path, owner: 'pkg:/x@1', from: null, to: null }));

describe('action memo (action diffs remembered in this process)', () => {
  it('is keyed by image, content cache and plan digest, and answers only for the state token it was derived from', () => {
    clearActionMemo();
    rememberActions(actionMemoKey('/img', '/cache', 'd1'), 'T1', changes(2, 'a'));
    assert.equal(recalledActions(actionMemoKey('/img', '/cache', 'd1'), 'T1')?.length, 2);
    assert.equal(recalledActions(actionMemoKey('/img', '/cache', 'd1'), 'T2'), null);
    assert.equal(recalledActions(actionMemoKey('/img', undefined, 'd1'), 'T1'), null);
    assert.equal(recalledActions(actionMemoKey('/other', '/cache', 'd1'), 'T1'), null);
  });

  it('holds at most 250,000 changes, dropping the least recently used plan first', () => {
    clearActionMemo();
    const key = (d: string) => actionMemoKey('/img', '/cache', d);
    rememberActions(key('a'), 'T', changes(100_000, 'a'));
    rememberActions(key('b'), 'T', changes(100_000, 'b'));
    assert.ok(recalledActions(key('a'), 'T')); // a is now the most recently used
    rememberActions(key('c'), 'T', changes(100_000, 'c'));
    assert.equal(recalledActions(key('b'), 'T'), null);
    assert.equal(recalledActions(key('a'), 'T')?.[0].path, 'a');
    assert.equal(recalledActions(key('c'), 'T')?.[0].path, 'c');
    rememberActions(key('huge'), 'T', changes(250_001, 'h')); // never held: it would evict everything
    assert.equal(recalledActions(key('huge'), 'T'), null);
    assert.ok(recalledActions(key('c'), 'T'));
    clearActionMemo();
  });
});
