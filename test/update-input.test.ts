import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  durationMs,
  failureBudget,
  hostTaskQueue,
  MAX_PARTITION_SIZE,
  parseUpdateInput,
  resolveWindow,
  windowProblems,
} from '../src/contract/input';

/*
 * parseUpdateInput on its own. test/workflow-input.test.ts runs the common bad inputs through a
 * real workflow (missing/relative image, missing host, a host with a space, concurrency 1.5 and
 * "3", children/packages not lists, dryRun "yes", an unknown field, hostTimeout "10",
 * partitionSize 0, non-object input); this file covers the defaults, the limits and the rest.
 */

const BASE = { image: '/zones/global', host: 'h1' };

/** The problems parseUpdateInput reports, after checking the failure's shape. */
function problems(raw: unknown): string[] {
  try {
    parseUpdateInput(raw);
  } catch (e) {
    assert.ok(e instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(e)}`);
    assert.equal(e.type, 'InvalidInput');
    assert.equal(e.nonRetryable, true);
    const list = (e.details?.[0] as { problems: string[] }).problems;
    assert.equal(e.message, `Invalid input: ${list.join('; ')}`);
    return list;
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`);
}

const refuses = (raw: unknown, problem: string) => assert.deepEqual(problems(raw), [problem]);

describe('parseUpdateInput: defaults', () => {
  it('fills in every default when only image and host are given', () => {
    assert.deepEqual(parseUpdateInput(BASE), {
      image: '/zones/global',
      host: 'h1',
      ignore: [],
      concurrency: 1,
      dryRun: false,
      hostTimeout: '10m',
      partitionSize: MAX_PARTITION_SIZE,
      stageConcurrency: {},
      maxFailures: 0,
      approval: false,
    });
  });

  it('leaves children, packages and hostTaskQueue out when not given (all children, all packages, the host queue)', () => {
    const input = parseUpdateInput(BASE);
    assert.equal('children' in input, false);
    assert.equal('packages' in input, false);
    assert.equal('hostTaskQueue' in input, false);
  });

  it('keeps every field given', () => {
    const full = {
      image: '/z',
      host: 'host-1.example.com',
      hostTaskQueue: 'custom-queue',
      children: ['zone:z1', 'system:s1'],
      ignore: ['zone:z2'],
      concurrency: 4,
      packages: ['web/nginx', 'pkg://test/sys@1.0'],
      dryRun: true,
      hostTimeout: '90s',
      partitionSize: 50,
      stageConcurrency: { prepare: 8, execute: 2 },
      maxFailures: '10%',
      approval: true,
      window: { notBefore: '2026-12-06T01:00:00+01:00', notAfter: '2026-12-06T05:00:00Z' },
    };
    assert.deepEqual(parseUpdateInput(full), full);
  });

  it('names the host task queue after the host', () => {
    assert.equal(hostTaskQueue('h1'), 'linked-images@h1');
  });
});

describe('parseUpdateInput: limits', () => {
  it('accepts a concurrency of 0 or below (no limit)', () => {
    assert.equal(parseUpdateInput({ ...BASE, concurrency: 0 }).concurrency, 0);
    assert.equal(parseUpdateInput({ ...BASE, concurrency: -1 }).concurrency, -1);
  });

  it(`accepts partition sizes from 1 to ${MAX_PARTITION_SIZE}`, () => {
    assert.equal(MAX_PARTITION_SIZE, 1000);
    assert.equal(parseUpdateInput({ ...BASE, partitionSize: 1 }).partitionSize, 1);
    assert.equal(parseUpdateInput({ ...BASE, partitionSize: 1000 }).partitionSize, 1000);
  });

  it('refuses a partition size above 1000', () => {
    refuses({ ...BASE, partitionSize: 1001 }, 'partitionSize: expected an integer from 1 to 1000, got 1001');
  });

  it('refuses a fractional or negative partition size, or one given as a string', () => {
    refuses({ ...BASE, partitionSize: 2.5 }, 'partitionSize: expected an integer from 1 to 1000, got 2.5');
    refuses({ ...BASE, partitionSize: -3 }, 'partitionSize: expected an integer from 1 to 1000, got -3');
    refuses({ ...BASE, partitionSize: '10' }, 'partitionSize: expected an integer from 1 to 1000, got "10"');
  });

  for (const d of ['90s', '10m', '1h', '500ms', '1.5h', '10 minutes', '1 hour', '30 seconds', '250 milliseconds']) {
    it(`accepts the host timeout '${d}'`, () => {
      assert.equal(parseUpdateInput({ ...BASE, hostTimeout: d }).hostTimeout, d);
    });
  }

  for (const d of ['10d', '-1m', 'm', '1h30m', '']) {
    it(`refuses the host timeout '${d}'`, () => {
      refuses(
        { ...BASE, hostTimeout: d },
        `hostTimeout: expected a duration like '90s', '10m' or '1h', got ${JSON.stringify(d)}`,
      );
    });
  }

  for (const d of ['0s', '0ms', '0.0 minutes', '00h']) {
    it(`refuses the zero host timeout '${d}' (Temporal reads 0 as no limit: a dead host would hang the run)`, () => {
      refuses(
        { ...BASE, hostTimeout: d },
        `hostTimeout: expected a duration above 0 (0 means no limit: a run would wait forever for a host that is down), got ${JSON.stringify(d)}`,
      );
    });
  }

  it('accepts a host timeout that only starts with a zero digit', () => {
    assert.equal(parseUpdateInput({ ...BASE, hostTimeout: '0.5s' }).hostTimeout, '0.5s');
  });

  it('refuses a host timeout given as a number of seconds', () => {
    refuses({ ...BASE, hostTimeout: 600 }, "hostTimeout: expected a duration like '10m', got 600");
  });

  it('accepts host names of letters, digits, dots, dashes and underscores, up to 253 characters', () => {
    for (const host of ['h', 'db-01.example.com', '_sandbox', '10.0.0.7', 'a'.repeat(253)]) {
      assert.equal(parseUpdateInput({ ...BASE, host }).host, host);
    }
  });

  it('refuses a host name of 254 characters', () => {
    const [p] = problems({ ...BASE, host: 'a'.repeat(254) });
    assert.ok(p.startsWith('host: expected a host name (letters, digits, . _ -), got "aaaa'), p);
  });

  it('refuses a host name that is empty, starts with a dash or a dot, or holds other characters', () => {
    for (const host of ['', '-h', '.h', 'h/1', 'h:1', 'höst']) {
      refuses({ ...BASE, host }, `host: expected a host name (letters, digits, . _ -), got ${JSON.stringify(host)}`);
    }
  });

  it('refuses a host task queue that is empty or longer than 1000 characters', () => {
    refuses({ ...BASE, hostTaskQueue: '' }, 'hostTaskQueue: expected a task queue name, got ""');
    const [p] = problems({ ...BASE, hostTaskQueue: 'q'.repeat(1001) });
    assert.ok(p.startsWith('hostTaskQueue: expected at most 1000 characters, got "qqq'), p);
    assert.equal(parseUpdateInput({ ...BASE, hostTaskQueue: 'q'.repeat(1000) }).hostTaskQueue, 'q'.repeat(1000));
  });
});

describe('parseUpdateInput: each field names itself in its error', () => {
  it('image given as a number', () => refuses({ ...BASE, image: 7 }, 'image: expected a string path, got 7'));
  it('host given as a number', () => refuses({ ...BASE, host: 7 }, 'host: expected a host name, got 7'));
  it('hostTaskQueue given as a number', () =>
    refuses({ ...BASE, hostTaskQueue: 7 }, 'hostTaskQueue: expected a task queue name, got 7'));
  it('ignore that is not a list', () =>
    refuses({ ...BASE, ignore: 'zone:z1' }, 'ignore: expected a list of child names, got "zone:z1"'));
  it('an ignored child with a kind other than zone or system', () =>
    refuses({ ...BASE, ignore: ['jail:j1'] }, `ignore.0: expected a child name like 'zone:z1', got "jail:j1"`));
  it('a child name starting with a dot', () =>
    refuses({ ...BASE, children: ['zone:.z'] }, `children.0: expected a child name like 'zone:z1', got "zone:.z"`));
  it('an empty package name', () =>
    refuses({ ...BASE, packages: ['web/nginx', ''] }, 'packages.1: expected a package name, got ""'));
  it('concurrency given as null', () =>
    refuses({ ...BASE, concurrency: null }, 'concurrency: expected an integer (<= 0 means no limit), got null'));
  it('dryRun given as 0', () => refuses({ ...BASE, dryRun: 0 }, 'dryRun: expected true or false, got 0'));
});

describe('parseUpdateInput: the failure', () => {
  it('refuses no input at all as not a JSON object', () => {
    refuses(undefined, 'input: expected a JSON object, got nothing');
  });

  it('names every unknown field in one problem, listing the fields it knows', () => {
    refuses(
      { ...BASE, force: true, verbose: 1 },
      "unknown field(s) 'force', 'verbose'; expected image, host, hostTaskQueue, recursive, children, exclude, ignore, concurrency, packages, dryRun, hostTimeout, stageConcurrency, maxFailures, approval, window, partitionSize",
    );
  });

  it('reports unknown fields together with bad known ones', () => {
    const list = problems({ image: '/z', host: 'h 1', extra: 1 });
    assert.equal(list.length, 2, list.join('\n'));
    assert.ok(list.some((p) => p.startsWith('host: ')));
    assert.ok(list.some((p) => p.startsWith("unknown field(s) 'extra'")));
  });

  it('shortens a long bad value to 60 characters in the message', () => {
    const [p] = problems({ ...BASE, image: 'x'.repeat(100) });
    assert.equal(p, `image: expected an absolute path, got "${'x'.repeat(56)}...`);
  });

  it('lists problems in field order, one per bad field, each with its value', () => {
    assert.deepEqual(
      problems({ image: '/z', host: 'h', concurrency: 'many', partitionSize: 5000, hostTimeout: '5y' }),
      [
        'concurrency: expected an integer (<= 0 means no limit), got "many"',
        "hostTimeout: expected a duration like '90s', '10m' or '1h', got \"5y\"",
        'partitionSize: expected an integer from 1 to 1000, got 5000',
      ],
    );
  });
});

/** One problem, starting with `start` (the rest names the value got). */
const refusesWith = (raw: unknown, start: string) => {
  const list = problems(raw);
  assert.equal(list.length, 1, list.join('\n'));
  assert.ok(list[0].startsWith(start), list[0]);
};

describe('parseUpdateInput: the live controls of issue 10', () => {
  it('refuses a failure budget that is not a count or a percentage from 0 to 100', () => {
    for (const bad of [0.5, -1, 'abc', '150%', '10', true])
      refusesWith({ ...BASE, maxFailures: bad }, `maxFailures: expected a count (an integer >= 0) or a percentage`);
    assert.equal(parseUpdateInput({ ...BASE, maxFailures: '100%' }).maxFailures, '100%');
  });

  it('resolves a percentage against the selected children, rounding down', () => {
    assert.equal(failureBudget('10%', 25), 2);
    assert.equal(failureBudget('100%', 7), 7);
    assert.equal(failureBudget(3, 1000), 3);
    assert.equal(failureBudget('0%', 1000), 0);
  });

  it('refuses per-stage caps that are not integers, and unknown stages, naming them', () => {
    refusesWith({ ...BASE, stageConcurrency: { prepare: 0.5 } }, 'stageConcurrency.prepare: expected an integer');
    refusesWith(
      { ...BASE, stageConcurrency: { fetch: 2 } },
      "stageConcurrency: unknown field(s) 'fetch'; expected publisher-check, plan, prepare, execute",
    );
  });

  it('refuses a window without an offset, with notAfter before notBefore, or empty', () => {
    refusesWith(
      { ...BASE, window: { notAfter: '2026-12-06T05:00:00' } },
      'window.notAfter: expected an ISO 8601 time with offset',
    );
    refusesWith(
      { ...BASE, window: { notBefore: '2026-12-06T05:00:00Z', notAfter: '2026-12-06T04:00:00Z' } },
      'window: notAfter: expected a time after notBefore',
    );
    refusesWith({ ...BASE, window: {} }, 'window: expected notBefore, notAfter, length, or some of them');
  });

  it('names a window that has already closed (the workflow checks it at its start, clients before)', () => {
    const now = Date.parse('2026-12-06T06:00:00Z');
    assert.deepEqual(windowProblems({ notAfter: '2026-12-06T07:00:00+01:00' }, now), [
      'window.notAfter: the window closed at 2026-12-06T07:00:00+01:00: nothing could be executed; give a window that ends in the future',
    ]);
    assert.deepEqual(windowProblems({ notAfter: '2026-12-06T07:00:01Z' }, now), []);
    assert.deepEqual(windowProblems(undefined, now), []);
  });

  it('resolves a window given by its length from when it opens (notBefore, or the start)', () => {
    const start = Date.parse('2026-12-06T01:00:00Z');
    assert.deepEqual(resolveWindow({ length: '4h' }, start), { notAfter: '2026-12-06T05:00:00.000Z' });
    assert.deepEqual(resolveWindow({ notBefore: '2026-12-06T02:00:00Z', length: '90m' }, start), {
      notBefore: '2026-12-06T02:00:00Z',
      notAfter: '2026-12-06T03:30:00.000Z',
    });
    assert.deepEqual(resolveWindow({ notAfter: '2026-12-06T05:00:00Z' }, start), { notAfter: '2026-12-06T05:00:00Z' });
    refusesWith(
      { ...BASE, window: { notAfter: '2026-12-06T05:00:00Z', length: '1h' } },
      'window: expected notAfter or length, not both',
    );
    refusesWith({ ...BASE, window: { length: 'soon' } }, "window.length: expected a duration like '90m' or '4h'");
  });

  it('reads durations as Temporal writes them', () => {
    assert.deepEqual(
      ['500ms', '90s', '10m', '4h', '1.5 hours', '2 minutes'].map(durationMs),
      [500, 90_000, 600_000, 14_400_000, 5_400_000, 120_000],
    );
    assert.throws(() => durationMs('4d'), RangeError);
  });
});
