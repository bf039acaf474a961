import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressBoard } from '../src/workflows/legacy/progress-board';

const ZONES = ['zone:z1', 'zone:z2', 'zone:z3'];
const ZERO = { done: 0, working: 0, waiting: 0, failed: 0 };

describe('ProgressBoard: stages and counts', () => {
  it('starts in the starting stage with every child waiting and no stage counted', () => {
    const s = new ProgressBoard(ZONES).snapshot();
    assert.equal(s.stage, 'starting');
    assert.deepEqual(s.stages, { 'publisher-check': ZERO, plan: ZERO, prepare: ZERO, execute: ZERO });
    assert.deepEqual(s.working, []);
    assert.deepEqual(s.children, Object.fromEntries(ZONES.map((z) => [z, { state: 'waiting', stage: null }])));
    assert.equal(s.line, 'Startup: Linked images: checking the parent image');
  });

  it('counts the children a stage begins with as waiting in that stage', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    const s = b.snapshot();
    assert.equal(s.stage, 'plan');
    assert.deepEqual(s.stages.plan, { done: 0, working: 0, waiting: 3, failed: 0 });
    assert.deepEqual(s.children['zone:z2'], { state: 'waiting', stage: 'plan' });
  });

  it('moves a child between the buckets as its state changes, keeping the total', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('execute', ZONES);
    b.set('zone:z1', 'working');
    b.set('zone:z2', 'working');
    assert.deepEqual(b.snapshot().stages.execute, { done: 0, working: 2, waiting: 1, failed: 0 });
    b.set('zone:z1', 'done');
    b.set('zone:z2', 'failed');
    assert.deepEqual(b.snapshot().stages.execute, { done: 1, working: 0, waiting: 1, failed: 1 });
  });

  it("counts 'nothing-to-do' as done", () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    b.set('zone:z3', 'nothing-to-do');
    assert.deepEqual(b.snapshot().stages.plan, { done: 1, working: 0, waiting: 2, failed: 0 });
    assert.equal(b.snapshot().children['zone:z3'].state, 'nothing-to-do');
  });

  it('does not count a child twice when the same state is set again', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    b.set('zone:z1', 'working');
    b.set('zone:z1', 'working');
    assert.deepEqual(b.snapshot().stages.plan, { done: 0, working: 1, waiting: 2, failed: 0 });
  });

  it('ignores a child it does not know, and a child not yet in any stage', () => {
    const b = new ProgressBoard(ZONES);
    b.set('zone:z1', 'working');
    b.begin('plan', ['zone:z2']);
    b.set('zone:nope', 'working');
    b.set('zone:z1', 'done');
    const s = b.snapshot();
    assert.deepEqual(s.stages.plan, { done: 0, working: 0, waiting: 1, failed: 0 });
    assert.deepEqual(s.children['zone:z1'], { state: 'waiting', stage: null });
    assert.equal(s.children['zone:nope'], undefined);
  });

  it('keeps the state and stage of children a new stage does not list, and the earlier stage counts', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    b.set('zone:z1', 'done');
    b.set('zone:z2', 'done');
    b.set('zone:z3', 'nothing-to-do');
    b.begin('prepare', ['zone:z1', 'zone:z2']);
    const s = b.snapshot();
    assert.deepEqual(s.stages.plan, { done: 3, working: 0, waiting: 0, failed: 0 });
    assert.deepEqual(s.stages.prepare, { done: 0, working: 0, waiting: 2, failed: 0 });
    assert.deepEqual(s.children['zone:z3'], { state: 'nothing-to-do', stage: 'plan' });
    assert.deepEqual(s.children['zone:z1'], { state: 'waiting', stage: 'prepare' });
  });

  it('starts the counts of a stage begun again from the children it lists', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('execute', ZONES);
    b.set('zone:z1', 'failed');
    b.begin('execute', ['zone:z1']);
    assert.deepEqual(b.snapshot().stages.execute, { done: 0, working: 0, waiting: 1, failed: 0 });
  });

  it('lists as working only the children working in the current stage', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ['zone:z1']);
    b.set('zone:z1', 'working'); // left working when the next stage began without it
    b.begin('prepare', ['zone:z2', 'zone:z3']);
    b.set('zone:z3', 'working');
    assert.deepEqual(b.snapshot().working, ['zone:z3']);
  });

  it('hands out snapshots that later changes (and changes to them) do not affect', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    const s = b.snapshot();
    s.stages.plan.done = 99;
    s.children['zone:z1'].state = 'failed';
    b.set('zone:z2', 'working');
    assert.deepEqual(s.stages.plan, { done: 99, working: 0, waiting: 3, failed: 0 });
    assert.deepEqual(b.snapshot().stages.plan, { done: 0, working: 1, waiting: 2, failed: 0 });
    assert.equal(b.snapshot().children['zone:z1'].state, 'waiting');
  });

  it('ends in the finished stage, keeping the counts', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('execute', ['zone:z1']);
    b.set('zone:z1', 'done');
    b.finish();
    const s = b.snapshot();
    assert.equal(s.stage, 'finished');
    assert.deepEqual(s.stages.execute, { done: 1, working: 0, waiting: 0, failed: 0 });
    assert.deepEqual(s.working, []);
  });
});

describe("ProgressBoard: pkg(5)'s status line", () => {
  it('says how many of the stage are done and names the working children', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    b.set('zone:z1', 'done');
    b.set('zone:z2', 'working');
    b.set('zone:z3', 'working');
    assert.equal(b.snapshot().line, 'Planning: Linked images: 1/3 done; 2 working: zone:z2 zone:z3');
  });

  it('says 0 working, with no names, when nobody works', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('prepare', ZONES);
    assert.equal(b.snapshot().line, 'Preparing: Linked images: 0/3 done; 0 working');
  });

  it('mentions failures only when there are some', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('execute', ZONES);
    b.set('zone:z1', 'failed');
    b.set('zone:z2', 'done');
    assert.equal(b.snapshot().line, 'Executing: Linked images: 1/3 done; 1 failed; 0 working');
  });

  it('labels the publisher check as a startup step', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('publisher-check', ['zone:z1']);
    b.set('zone:z1', 'working');
    assert.equal(b.snapshot().line, 'Startup: Linked image publisher check: 0/1 done; 1 working: zone:z1');
  });

  it('prints the working children it is given, and none when given none', () => {
    const b = new ProgressBoard(ZONES);
    b.begin('plan', ZONES);
    b.set('zone:z1', 'working');
    assert.equal(b.line(['zone:z1']), 'Planning: Linked images: 0/3 done; 1 working: zone:z1');
    assert.equal(b.line(), 'Planning: Linked images: 0/3 done; 0 working');
  });

  it('says the run finished once finish() is called', () => {
    const b = new ProgressBoard(ZONES);
    b.finish();
    assert.equal(b.line(), 'Finished processing linked images.');
  });
});
