import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextWait } from '../src/client/watch/backoff-poller';
import { childLine, LineRenderer } from '../src/client/watch/line-renderer';
import type { PendingActivity, RunSnapshot } from '../src/client/watch/run-snapshot';
import { buildRunView, POLLER_STALE_MS } from '../src/client/watch/run-view';
import { ttyFrame } from '../src/client/watch/tty-renderer';
import type { Progress } from '../src/contract/run-types';

const T0 = Date.parse('2026-01-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000);

const counts = { done: 0, working: 0, waiting: 0, failed: 0 };
function progress(line: string, over: Partial<Progress> = {}): Progress {
  return {
    stage: 'prepare',
    line,
    working: [],
    workingCount: 0,
    stages: { 'publisher-check': counts, plan: counts, prepare: counts, execute: counts },
    children: 2,
    execution: 1,
    partitions: null,
    ...over,
  };
}

function activity(over: Partial<PendingActivity>): PendingActivity {
  return {
    activityId: 'prepare/zone:z1',
    stage: 'prepare',
    name: 'zone:z1',
    state: 'started',
    attempt: 1,
    maximumAttempts: 20,
    lastFailure: null,
    nextAttemptAt: null,
    lastStartedAt: at(0),
    lastHeartbeatAt: at(0),
    heartbeat: null,
    lastWorker: 'w1',
    ...over,
  };
}

const livePollers = (s: number) => [
  {
    name: 'linked-images@h1',
    kind: 'host' as const,
    pollers: [{ identity: 'w1', lastAccessAt: at(s - 5) }],
    error: null,
  },
  { name: 'wf', kind: 'workflow' as const, pollers: [{ identity: 'w1', lastAccessAt: at(s - 5) }], error: null },
];

function snapshot(s: number, over: Partial<RunSnapshot> = {}): RunSnapshot {
  return {
    workflowId: 'run-1',
    runId: 'r1',
    status: 'running',
    at: at(s),
    progress: progress('Downloading: Linked images: 0/2 done; 1 working: zone:z1'),
    partition: null,
    pending: [],
    pendingOf: 'run-1',
    host: 'h1',
    queues: livePollers(s),
    ...over,
  };
}

describe('the watch view model', () => {
  it('shows a child prepare by bytes, with a rate and an ETA from two readings of the same attempt', () => {
    const hb = (done: number) => ({ stage: 'prepare' as const, done, total: 400e6, unit: 'bytes' as const });
    const v1 = buildRunView(
      snapshot(10, { pending: [activity({ heartbeat: hb(100e6), lastHeartbeatAt: at(10) })] }),
      null,
    );
    assert.equal(v1.children[0].progress?.ratePerSec, null, 'one reading has no rate');
    assert.equal(v1.children[0].progress?.fraction, 0.25);
    const v2 = buildRunView(
      snapshot(20, { pending: [activity({ heartbeat: hb(200e6), lastHeartbeatAt: at(20) })] }),
      v1,
    );
    const p = v2.children[0].progress!;
    assert.equal(p.ratePerSec, 10e6);
    assert.equal(p.etaSec, 20);
    assert.equal(p.detail, '200 MB of 400 MB');
    assert.match(childLine(v2.children[0]), /^zone:z1 prepare: working 50% 200 MB of 400 MB, 10 MB\/s, 20s left$/);
    assert.deepEqual(v2.warnings, []);
    // A new attempt starts its rate afresh.
    const v3 = buildRunView(
      snapshot(30, { pending: [activity({ attempt: 2, heartbeat: hb(50e6), lastHeartbeatAt: at(30) })] }),
      v2,
    );
    assert.equal(v3.children[0].progress?.ratePerSec, null);
  });

  it("shows execute by bytes when its heartbeat has them (a big file is not '1 of 26 steps')", () => {
    const v = buildRunView(
      snapshot(5, {
        pending: [
          activity({
            activityId: 'execute/zone:z1',
            stage: 'execute',
            heartbeat: {
              stage: 'execute',
              done: 1,
              total: 26,
              unit: 'steps',
              bytesDone: 100e6,
              bytesTotal: 400e6,
            },
          }),
        ],
      }),
      null,
    );
    const p = v.children[0].progress!;
    assert.equal(p.unit, 'bytes');
    assert.equal(p.fraction, 0.25);
    assert.equal(p.detail, '100 MB of 400 MB, step 1 of 26');
    // An older heartbeat (steps only) still shows.
    const old = buildRunView(
      snapshot(5, { pending: [activity({ heartbeat: { stage: 'execute', done: 3, total: 26, unit: 'steps' } })] }),
      null,
    );
    assert.equal(old.children[0].progress?.detail, '3 of 26 steps');
  });

  it('shows a child waiting for its retry with the attempt, the last error and when it is tried again', () => {
    const v = buildRunView(
      snapshot(100, {
        pending: [
          activity({
            state: 'scheduled',
            attempt: 3,
            lastFailure: { type: 'LOCKED', message: 'image locked by pid 15913' },
            nextAttemptAt: at(120),
          }),
        ],
      }),
      null,
    );
    const c = v.children[0];
    assert.equal(c.state, 'retrying');
    assert.equal(c.problem, 'LOCKED: image locked by pid 15913, retry 3 of 20 in 20 s');
    assert.match(
      childLine(c),
      /zone:z1 prepare: retrying, attempt 3\/20; LOCKED: image locked by pid 15913, retry 3 of 20 in 20 s/,
    );
    // Once the time passed and no worker took it, it waits for a worker.
    const later = buildRunView(
      snapshot(130, {
        pending: [
          {
            ...activity({}),
            state: 'scheduled',
            attempt: 3,
            lastFailure: { type: 'LOCKED', message: 'x' },
            nextAttemptAt: at(120),
          },
        ],
      }),
      v,
    );
    assert.equal(later.children[0].state, 'waiting for a worker');
    assert.equal(later.children[0].problem, 'LOCKED: x, retry 3 of 20 waiting for a worker');
  });

  it('marks a started child that sent no heartbeat for 30 s as stalled', () => {
    const v = buildRunView(
      snapshot(100, { pending: [activity({ lastStartedAt: at(50), lastHeartbeatAt: at(60) })] }),
      null,
    );
    assert.equal(v.children[0].stalled, 'no heartbeat for 40 s');
    const fresh = buildRunView(
      snapshot(100, { pending: [activity({ lastStartedAt: at(50), lastHeartbeatAt: at(95) })] }),
      null,
    );
    assert.equal(fresh.children[0].stalled, null);
  });

  it('warns when no worker polls the host queue or the workflow queue, or the run does not answer', () => {
    const none = buildRunView(
      snapshot(1000, {
        progress: null,
        queues: [
          { name: 'linked-images@h1', kind: 'host', pollers: [], error: null },
          {
            name: 'wf',
            kind: 'workflow',
            pollers: [{ identity: 'w', lastAccessAt: at(1000 - POLLER_STALE_MS / 1000 - 10) }],
            error: null,
          },
        ],
      }),
      null,
    );
    assert.equal(none.warnings.length, 3);
    assert.match(none.warnings[0], /^no worker polls linked-images@h1: the host's activities wait/);
    assert.match(none.warnings[1], /^no worker polls the workflow task queue wf \(last poll 100 s ago\)/);
    assert.match(none.warnings[2], /does not answer its progress query/);
    // A closed run warns about nothing.
    assert.deepEqual(
      buildRunView(snapshot(1000, { status: 'completed', progress: null, queues: [] }), null).warnings,
      [],
    );
  });

  it("gives a partitioned run's line with the partition at work", () => {
    const outer = progress('Downloading: ...', {
      stages: { 'publisher-check': counts, plan: counts, prepare: { ...counts, done: 30 }, execute: counts },
      children: 120,
      partitions: { workflowIds: ['run-1/children-1', 'run-1/children-2'], active: 'run-1/children-2' },
    });
    const v = buildRunView(
      snapshot(1, {
        progress: outer,
        partition: {
          index: 2,
          count: 2,
          workflowId: 'run-1/children-2',
          progress: progress('Downloading: Linked images: 3/60 done'),
        },
      }),
      null,
    );
    assert.equal(
      v.stageLine,
      'Downloading: Linked images: 3/60 done (partition 2 of 2; 30 of all 120 children done in the partitions before)',
    );
  });
});

describe('the watch renderers', () => {
  it('draws a bar with a percentage per working child, and the warnings, in the terminal frame', () => {
    const v = buildRunView(
      snapshot(1, {
        pending: [activity({ heartbeat: { stage: 'prepare', done: 50, total: 100, unit: 'bytes' } })],
        queues: [{ name: 'linked-images@h1', kind: 'host', pollers: [], error: null }],
      }),
      null,
    );
    const frame = ttyFrame(v);
    assert.equal(frame[0], 'Downloading: Linked images: 0/2 done; 1 working: zone:z1');
    assert.match(frame[1], /zone:z1 prepare +\[█{12}░{12}\] +50% +50 B of 100 B/);
    assert.match(frame[2], /^! no worker polls linked-images@h1/);
  });

  it('prints a line per change in plain mode, not per countdown second, and says when a child ended', () => {
    const lines: string[] = [];
    const r = new LineRenderer((l) => lines.push(l));
    const retry = (s: number) =>
      snapshot(s, {
        pending: [
          activity({
            state: 'scheduled',
            attempt: 2,
            lastFailure: { type: 'LOCKED', message: 'locked' },
            nextAttemptAt: at(30),
          }),
        ],
      });
    r.update(buildRunView(retry(10), null));
    r.update(buildRunView(retry(11), null));
    r.update(buildRunView(snapshot(40, { progress: progress('Executing: Linked images: 1/2 done') }), null));
    assert.deepEqual(lines, [
      'Downloading: Linked images: 0/2 done; 1 working: zone:z1',
      '  zone:z1 prepare: retrying, attempt 2/20; LOCKED: locked, retry 2 of 20 in 20 s',
      'Executing: Linked images: 1/2 done',
      '  zone:z1 prepare: ended',
    ]);
  });

  it('stretches the poll while nothing changes and after errors, up to the maximum', () => {
    assert.equal(nextWait(1000, 10_000, 0, 0), 1000);
    assert.equal(nextWait(1000, 10_000, 2, 0), 2250);
    assert.equal(nextWait(1000, 10_000, 20, 0), 10_000);
    assert.equal(nextWait(1000, 10_000, 0, 3), 8000);
    assert.equal(nextWait(1000, 10_000, 0, 9), 10_000);
  });
});
