import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSegment, setError, setStatus, stageCounts, STATUS } from '../src/workflows/segment-state';
import { progressLine } from '../src/workflows/progress-line';

/** Four children: z1 updated, z2 cancelled while executing, z3 failed in prepare, z4 prepared, not yet executed. */
function segment() {
  const s = newSegment(['zone:z1', 'zone:z2', 'zone:z3', 'zone:z4']);
  setStatus(s, 0, STATUS.updated);
  setError(s, 1, { stage: 'execute', code: 'CANCELLED', message: 'cancelled during execute' }, true);
  setError(s, 2, { stage: 'prepare', code: 'IO_ERROR', message: 'disk full' }, false);
  setStatus(s, 3, STATUS.prepared);
  return s;
}

describe('stageCounts', () => {
  it('counts a child cancelled in a stage as cancelled there, not failed', () => {
    const c = stageCounts(segment(), new Set(), 'execute');
    assert.deepEqual(c.execute, { done: 1, working: 0, waiting: 1, failed: 0, cancelled: 1 });
    assert.deepEqual(c.prepare, { done: 3, working: 0, waiting: 0, failed: 1 });
  });

  it('once the run is over, a child still waiting was never worked on: skipped, not waiting', () => {
    const c = stageCounts(segment(), new Set(), 'execute', true);
    assert.deepEqual(c.execute, { done: 1, working: 0, waiting: 0, failed: 0, cancelled: 1, skipped: 1 });
  });

  it('a child deferred by the window is skipped in execute while the run still goes', () => {
    const s = segment();
    setStatus(s, 3, STATUS.deferred);
    assert.equal(stageCounts(s, new Set(), 'execute').execute.skipped, 1);
    assert.equal(stageCounts(s, new Set(), 'execute').execute.waiting, 0);
  });

  it('a child working now is working', () => {
    assert.equal(stageCounts(segment(), new Set(['zone:z4']), 'execute').execute.working, 1);
  });

  it('the status line names cancelled and skipped children and counts them in the total', () => {
    const c = stageCounts(segment(), new Set(), 'execute', true);
    assert.equal(
      progressLine('execute', c.execute, []),
      'Executing: Linked images: 1/3 done; 1 cancelled; 1 skipped; 0 working',
    );
  });
});
