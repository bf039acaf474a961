import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { approvalCommands, planTable } from '../src/client/approval/plan-lines';
import { controlAction } from '../src/client/controls/control-action';
import { resultTable } from '../src/client/progress-printer';
import { controlStateLines } from '../src/client/controls/control-state-lines';
import {
  instantValue,
  maxFailuresValue,
  problemsWithOptions,
  stageCapsValue,
  windowLengthValue,
} from '../src/client/update-options';
import { controlLines, untilText } from '../src/client/watch/control-lines';
import { LineRenderer } from '../src/client/watch/line-renderer';
import type { RunSnapshot } from '../src/client/watch/run-snapshot';
import { buildRunView } from '../src/client/watch/run-view';
import { ttyFrame } from '../src/client/watch/tty-renderer';
import { UsageError } from '../src/command-line/usage-error';
import type { ControlState } from '../src/contract/controls';
import { updateInputProblems, windowProblems } from '../src/contract/input';
import type { Progress, UpdateResult } from '../src/contract/run-types';

const T0 = Date.parse('2026-12-05T23:00:00Z');
const DIGEST = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d';

function state(over: Partial<ControlState> = {}): ControlState {
  return {
    paused: false,
    concurrency: 2,
    stageConcurrency: {},
    maxFailures: 0,
    failures: 0,
    skipped: 0,
    approval: 'not-required',
    setDigest: null,
    window: null,
    holding: null,
    ...over,
  };
}

const ctx = { workflowId: 'run-1', now: T0, plans: null, timeZone: 'UTC' };

describe('npm run update: the run-control option values', () => {
  it('reads --stage-concurrency as caps per stage and refuses unknown stages, repeats and non-integers', () => {
    assert.deepEqual(stageCapsValue('prepare=8,execute=2'), { prepare: 8, execute: 2 });
    assert.deepEqual(stageCapsValue(' publisher-check = 0 , plan=-1'), { 'publisher-check': 0, plan: -1 });
    for (const bad of ['prepare', 'exec=2', 'prepare=1.5', 'prepare=8,prepare=2', 'prepare=abc', ''])
      assert.throws(() => stageCapsValue(bad), InvalidArgumentError, bad);
    assert.throws(
      () => stageCapsValue('exec=2'),
      /'exec=2': Expected stage=N.*publisher-check, plan, prepare, execute/,
    );
  });

  it("reads --max-failures as a count or a percentage, in the input schema's words when it is neither", () => {
    assert.equal(maxFailuresValue('3'), 3);
    assert.equal(maxFailuresValue('10%'), '10%');
    assert.equal(maxFailuresValue('100%'), '100%');
    for (const bad of ['150%', '-1', 'abc', '1.5', '%'])
      assert.throws(() => maxFailuresValue(bad), /Expected a count \(an integer >= 0\) or a percentage/, bad);
  });

  it('takes --not-before / --not-after only with a UTC offset', () => {
    assert.equal(instantValue('2026-12-06T02:00:00+01:00'), '2026-12-06T02:00:00+01:00');
    assert.equal(instantValue('2026-12-06T01:00Z'), '2026-12-06T01:00Z');
    for (const bad of ['2026-12-06T02:00', '2026-12-06', 'tomorrow', '2026-13-45T02:00:00Z'])
      assert.throws(() => instantValue(bad), /Expected an ISO 8601 time with its offset/, bad);
  });

  it('takes --window-length as a duration above 0', () => {
    assert.equal(windowLengthValue('4h'), '4h');
    assert.equal(windowLengthValue('90 minutes'), '90 minutes');
    for (const bad of ['0s', '0h', 'soon', '4', '-1h'])
      assert.throws(() => windowLengthValue(bad), /Expected a duration above 0 like '90m' or '4h'/, bad);
  });

  it('names the option that set each field the input schema refuses', () => {
    const input = {
      image: '/x',
      host: 'h',
      window: { notBefore: '2026-12-06T05:00:00Z', notAfter: '2026-12-06T02:00:00Z' },
      hostTimeout: '0s',
    };
    const problems = problemsWithOptions([
      ...updateInputProblems(input),
      ...windowProblems({ notAfter: '2026-12-05T00:00:00Z' }, T0),
    ]);
    assert.deepEqual(
      problems.map((p) => p.replace(/: .*/, '')),
      ["option '--host-timeout'", "option '--not-before/--not-after/--window-length'", "option '--not-after'"],
    );
    assert.match(problems[1], /window: notAfter: expected a time after notBefore/);
    assert.match(problems[2], /window\.notAfter: the window closed at 2026-12-05T00:00:00Z/);
    assert.deepEqual(problemsWithOptions(['something else']), ['something else']);
  });
});

describe('npm run control: verbs', () => {
  it('turns each verb and its argument into its Update', () => {
    assert.deepEqual(controlAction('pause', [], {}), { kind: 'update', name: 'pause', args: [] });
    assert.deepEqual(controlAction('resume', [], {}), { kind: 'update', name: 'resume', args: [] });
    assert.deepEqual(controlAction('concurrency', ['4'], {}), {
      kind: 'update',
      name: 'setConcurrency',
      args: [{ concurrency: 4 }],
    });
    assert.deepEqual(controlAction('concurrency', ['-1'], { stage: 'execute' }), {
      kind: 'update',
      name: 'setConcurrency',
      args: [{ stages: { execute: -1 } }],
    });
    assert.deepEqual(controlAction('skip', ['zone:z3'], {}), {
      kind: 'update',
      name: 'skipChild',
      args: [{ child: 'zone:z3' }],
    });
    assert.deepEqual(controlAction('retry', ['zone:z3'], {}), {
      kind: 'update',
      name: 'retryChild',
      args: [{ child: 'zone:z3' }],
    });
    assert.deepEqual(controlAction('approve', [], {}), { kind: 'approve', digest: null });
    assert.deepEqual(controlAction('approve', [], { digest: 'abc' }), { kind: 'approve', digest: 'abc' });
    assert.deepEqual(controlAction('reject', [], { reason: 'not tonight' }), {
      kind: 'update',
      name: 'reject',
      args: [{ reason: 'not tonight' }],
    });
    assert.deepEqual(controlAction('reject', [], {}), { kind: 'update', name: 'reject', args: [{}] });
    assert.deepEqual(controlAction('show', [], {}), { kind: 'show' });
  });

  it('refuses an unknown verb, a missing or extra argument, a bad cap or stage, and an option of another verb', () => {
    const bad: [string, string[], object, RegExp][] = [
      ['frob', [], {}, /unknown verb 'frob'; expected one of pause, resume, concurrency/],
      ['skip', [], {}, /skip takes a child name like zone:z1, got nothing/],
      ['pause', ['now'], {}, /pause takes no argument, got 'now'/],
      ['concurrency', ['0.5'], {}, /concurrency: '0\.5' is not an integer/],
      ['concurrency', ['abc'], {}, /concurrency: 'abc' is not an integer/],
      ['concurrency', ['2'], { stage: 'exec' }, /--stage: unknown stage 'exec'; expected one of publisher-check/],
      ['pause', [], { stage: 'plan' }, /--stage does not go with pause/],
      ['reject', [], { digest: 'x' }, /--digest does not go with reject/],
    ];
    for (const [verb, args, o, re] of bad)
      assert.throws(
        () => controlAction(verb, args, o),
        (e) => e instanceof UsageError && re.test(e.message),
      );
  });

  it('prints the control state in a few lines', () => {
    const lines = controlStateLines(
      state({
        paused: true,
        concurrency: 4,
        stageConcurrency: { execute: 2, prepare: 8 },
        maxFailures: 2,
        failures: 1,
        approval: 'waiting',
        setDigest: DIGEST,
        window: { notBefore: '2026-12-06T02:00:00+01:00', notAfter: '2026-12-06T05:00:00+01:00' },
        holding: 'paused',
      }),
    );
    assert.deepEqual(lines, [
      'paused:      yes (no new child work starts; running work finishes)',
      'concurrency: 4 children at once (prepare 8, execute 2)',
      'failures:    1 of 2 allowed',
      'skipped:     0',
      `approval:    waiting, set digest ${DIGEST}`,
      'window:      2026-12-06T02:00:00+01:00 to 2026-12-06T05:00:00+01:00',
      'holding:     paused',
    ]);
    const plain = controlStateLines(state({ concurrency: 0 }));
    assert.equal(plain[1], 'concurrency: no limit children at once');
    assert.equal(plain[2], 'failures:    0 (fail-fast: none allowed)');
    assert.equal(plain[5], 'window:      none');
    assert.equal(plain[6], 'holding:     nothing (the run moves)');
  });
});

describe('the live view of the controls', () => {
  it('says nothing for a run that nothing holds and that has no budget', () => {
    assert.deepEqual(controlLines(state(), ctx), []);
  });

  it('says the run is paused, with how to resume it', () => {
    assert.deepEqual(controlLines(state({ paused: true, holding: 'paused' }), ctx), [
      'paused: no new child work starts (resume: npm run control -- run-1 resume)',
    ]);
  });

  it('says the run waits for approval, how many plans, the short set digest and how to approve', () => {
    const [line] = controlLines(state({ approval: 'waiting', setDigest: DIGEST, holding: 'waiting for approval' }), {
      ...ctx,
      plans: 3,
    });
    assert.match(line, /^waiting for approval: 3 plans, set digest 1a2b3c4d5e6f… \(/);
    assert.match(line, /npm run update -- --follow run-1 --approve/);
    assert.match(line, /npm run control -- run-1 approve/);
  });

  it('says when the window opens and how long until then, in the given time zone', () => {
    const window = { notBefore: '2026-12-06T02:00:00Z', notAfter: '2026-12-06T05:00:00Z' };
    assert.deepEqual(controlLines(state({ window, holding: 'waiting for the window (opens ...)' }), ctx), [
      'waiting for the window: opens 2026-12-06 02:00 (in 3h), closes 2026-12-06 05:00',
    ]);
    // Before the window, while earlier stages still run, nothing holds the run: the line says only when it opens.
    assert.deepEqual(controlLines(state({ window }), ctx), [
      'window: opens 2026-12-06 02:00 (in 3h), closes 2026-12-06 05:00',
    ]);
    assert.deepEqual(controlLines(state({ window }), { ...ctx, now: Date.parse('2026-12-06T03:30:00Z') }), [
      'window open, closes 2026-12-06 05:00 (in 1h 30m)',
    ]);
    assert.deepEqual(controlLines(state({ window }), { ...ctx, now: Date.parse('2026-12-06T05:00:00Z') }), [
      'window closed at 2026-12-06 05:00: children not executed by then are deferred',
    ]);
    assert.deepEqual(controlLines(state({ window }), { ...ctx, timeZone: 'Europe/Berlin' }), [
      'window: opens 2026-12-06 03:00 (in 3h), closes 2026-12-06 06:00',
    ]);
    assert.equal(untilText(42_500), '43s');
    assert.equal(untilText(3 * 3600_000 + 5 * 60_000 + 59_000), '3h 5m');
  });

  it('shows the failure budget, the skipped children, and a hold it has no words of its own for', () => {
    assert.deepEqual(controlLines(state({ maxFailures: 2, failures: 1, skipped: 2, holding: 'something new' }), ctx), [
      'failures 1 of 2 allowed',
      'skipped 2 (skipChild)',
      'holding: something new',
    ]);
    assert.deepEqual(controlLines(state({ failures: 1 }), ctx), ['failures 1 (fail-fast: none allowed)']);
  });

  const counts = { done: 0, working: 0, waiting: 0, failed: 0 };
  function snapshot(s: number, controls: ControlState | undefined, over: Partial<RunSnapshot> = {}): RunSnapshot {
    const progress: Progress = {
      stage: 'execute',
      line: 'Executing: Linked images: 0/2 done; 0 working',
      working: [],
      workingCount: 0,
      stages: { 'publisher-check': counts, plan: counts, prepare: counts, execute: counts },
      children: 2,
      execution: 1,
      partitions: null,
      ...(controls ? { controls } : {}),
    };
    return {
      workflowId: 'run-1',
      runId: 'r1',
      status: 'running',
      at: new Date(T0 + s * 1000),
      progress,
      partition: null,
      pending: [],
      pendingOf: 'run-1',
      host: 'h1',
      queues: [],
      ...over,
    };
  }

  it("builds the view's control lines from progress.controls (none without them, none once finished)", () => {
    const paused = state({ paused: true, holding: 'paused' });
    const v = buildRunView(snapshot(0, paused), null, { timeZone: 'UTC' });
    assert.deepEqual(v.controls, paused);
    assert.deepEqual(v.controlLines, ['paused: no new child work starts (resume: npm run control -- run-1 resume)']);
    assert.deepEqual(buildRunView(snapshot(0, undefined), null).controlLines, []);
    assert.deepEqual(buildRunView(snapshot(0, paused, { status: 'completed' }), null).controlLines, []);
    const waiting = state({ approval: 'waiting', setDigest: DIGEST });
    assert.match(buildRunView(snapshot(0, waiting, { plansWaiting: 3 }), null).controlLines[0], /3 plans/);
    assert.match(ttyFrame(v).join('\n'), /^Executing: .*\n\* paused: no new child work starts/);
  });

  it('prints a control line in plain mode when it appears or changes, not when only its countdown moves', () => {
    const lines: string[] = [];
    const r = new LineRenderer((l) => lines.push(l));
    const window = { notBefore: '2026-12-06T02:00:00Z', notAfter: null };
    const holding = 'waiting for the window (opens 2026-12-06T02:00:00Z)';
    const opts = { timeZone: 'UTC' };
    r.update(buildRunView(snapshot(0, state({ window, holding })), null, opts));
    r.update(buildRunView(snapshot(600, state({ window, holding })), null, opts));
    r.update(buildRunView(snapshot(700, state({ window, holding, paused: true })), null, opts));
    r.update(buildRunView(snapshot(800, state({ window, holding })), null, opts));
    assert.deepEqual(
      lines.filter((l) => l.startsWith('* ')),
      [
        '* waiting for the window: opens 2026-12-06 02:00 (in 3h)',
        '* paused: no new child work starts (resume: npm run control -- run-1 resume)',
        '* no longer paused',
      ],
    );
  });
});

describe('plan approval on the command line', () => {
  const plan = (name: string, changes: number, downloadBytes: number | null, planDigest: string, included = true) => ({
    name,
    changes,
    downloadBytes,
    planDigest,
    included,
  });

  it('lists the plans with their changes, download and short digest, the totals and the whole set digest', () => {
    const lines = planTable({
      setDigest: DIGEST,
      parent: plan('parent', 3, 1_200_000, 'aaaaaaaaaaaaaaaa'),
      children: [
        plan('zone:z1', 5, 800_000, 'bbbbbbbbbbbbbbbb'),
        plan('zone:z10', 1, null, 'cccc'),
        plan('zone:z2', 4, 100_000, 'dddddddddddddddd', false),
      ],
    });
    assert.deepEqual(lines, [
      'Plans waiting for approval:',
      '  NAME      CHANGES  DOWNLOAD  PLAN',
      '  parent    3        1.2 MB    aaaaaaaaaaaa…',
      '  zone:z1   5        800 kB    bbbbbbbbbbbb…',
      '  zone:z10  1        -         cccc',
      '  zone:z2   4        100 kB    dddddddddddd…  not in the set (failed or skipped since it was planned)',
      '3 plans in the set, 9 package changes, 2 MB to download (prepared and verified)',
      `Set digest: ${DIGEST}`,
    ]);
  });

  it('gives the exact temporal and npm run control lines to approve or reject', () => {
    const lines = approvalCommands('run-1', DIGEST);
    assert.ok(
      lines.includes(`  temporal workflow update execute -w run-1 --name approve --input '{"digest":"${DIGEST}"}'`),
      lines.join('\n'),
    );
    assert.ok(lines.includes(`  npm run control -- run-1 approve --digest ${DIGEST}`));
    assert.ok(lines.some((l) => l.startsWith('  temporal workflow update execute -w run-1 --name reject')));
  });
});

describe('the final table', () => {
  it('counts deferred and skipped children and says what they mean', () => {
    const r: UpdateResult = {
      resultVersion: 2,
      image: '/h',
      host: 'h',
      status: 'partial',
      exitCode: 3,
      dryRun: false,
      concurrency: 1,
      parent: { name: 'parent', outcome: 'updated', lastStage: 'execute', changes: 5, planDigest: null, error: null },
      counts: { updated: 1, 'nothing-to-do': 0, planned: 0, failed: 0, cancelled: 0, skipped: 1, deferred: 2 },
      failures: [],
      failuresOmitted: 0,
      children: [
        'zone:z1 updated execute 5',
        'zone:z2 deferred prepare 5',
        'zone:z3 deferred prepare 5',
        'zone:z4 skipped plan 5',
      ],
      childrenOmitted: 0,
      executions: 1,
      partitions: 0,
    };
    const lines = resultTable(r);
    assert.match(lines.join('\n'), /^zone:z2 +deferred +prepare +5$/m);
    assert.ok(lines.includes('Children: 1 updated, 1 skipped, 2 deferred; 1 workflow execution'), lines.join('\n'));
    assert.match(lines.join('\n'), /^2 deferred: not executed, the maintenance window closed first/m);
    assert.match(lines.join('\n'), /^1 skipped: left out \(skipChild\)/m);
    const plain = resultTable({ ...r, counts: { ...r.counts, skipped: 0, deferred: 0 } });
    assert.doesNotMatch(plain.join('\n'), /deferred:|skipped:/);
  });
});
