import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DuplicateFigure,
  legacyFigure,
  overheadFigure,
  speedupFigures,
  worstDuplicates,
} from '../bench/update-figures';
import { duplicateAllowance, duplicatesPass, overheadTarget, updateRows } from '../bench/update-rows';

const dup = (d: Partial<DuplicateFigure> = {}): DuplicateFigure => ({
  crash: false,
  maxPlansPerChild: 1,
  downloadedBytes: 1_000_500,
  uniqueBytes: 1_000_000,
  uniqueFiles: 10,
  inFlightBytes: 0,
  zones: 20,
  concurrency: 8,
  ...d,
});

describe('the figures of npm run bench', () => {
  it('overhead: ratio is workflow over direct', () => {
    assert.deepEqual(overheadFigure({ zones: 50, stageMs: 200, concurrency: 8 }, 6, 5), {
      zones: 50,
      stageMs: 200,
      workflowSeconds: 6,
      directSeconds: 5,
      ratio: 1.2,
      concurrency: 8,
    });
  });

  it('speed-up: each concurrency against concurrency 1, in order of concurrency; none without concurrency 1', () => {
    const f = speedupFigures(
      [
        { concurrency: 8, seconds: 5, directSeconds: 6 },
        { concurrency: 1, seconds: 40, directSeconds: 33 },
        { concurrency: 2, seconds: 20, directSeconds: 16.5 },
      ],
      { zones: 50, stageMs: 200 },
    );
    assert.deepEqual(
      f.map((s) => [s.concurrency, s.speedup, s.directSpeedup]),
      [
        [1, 1, 1],
        [2, 2, 2],
        [8, 8, 5.5],
      ],
    );
    assert.deepEqual(f[2], {
      concurrency: 8,
      seconds: 5,
      speedup: 8,
      directSeconds: 6,
      directSpeedup: 5.5,
      zones: 50,
      stageMs: 200,
    });
    assert.throws(
      () => speedupFigures([{ concurrency: 2, seconds: 1, directSeconds: 1 }], { zones: 1, stageMs: 0 }),
      /Expected a run at concurrency 1 to compare with, got concurrencies 2/,
    );
  });

  it('legacy: speed-up is legacy over workflow', () => {
    assert.deepEqual(legacyFigure(20, 8, 30, 3), {
      zones: 20,
      legacySeconds: 30,
      workflowSeconds: 3,
      speedup: 10,
      concurrency: 8,
    });
  });

  it('duplicates: of several rounds the one with a child planned most, then with the most bytes beyond the unique ones', () => {
    const a = dup({ downloadedBytes: 1_000_100 });
    const b = dup({ downloadedBytes: 1_200_000 });
    const c = dup({ maxPlansPerChild: 2, downloadedBytes: 1_000_000 });
    assert.equal(worstDuplicates([a, b]), b);
    assert.equal(worstDuplicates([a, c, b]), c);
    assert.throws(() => worstDuplicates([]), RangeError);
  });
});

describe('targets and table rows', () => {
  it('overhead may be 2× without stage work and 1.2× with it', () => {
    assert.equal(overheadTarget(0), 2);
    assert.equal(overheadTarget(200), 1.2);
  });

  it('duplicates pass with one plan per child and no more bytes than unique, headers and (after a crash) the in-flight file', () => {
    assert.equal(duplicateAllowance(dup()), 1_000_000 + 10 * 100);
    assert.equal(duplicatesPass(dup()), true);
    assert.equal(duplicatesPass(dup({ downloadedBytes: 1_001_001 })), false);
    assert.equal(duplicatesPass(dup({ maxPlansPerChild: 2 })), false);
    assert.equal(duplicatesPass(dup({ crash: true, downloadedBytes: 1_800_000, inFlightBytes: 900_000 })), true);
    assert.equal(duplicatesPass(dup({ crash: true, downloadedBytes: 2_000_000, inFlightBytes: 900_000 })), false);
  });

  it("one row per figure, PASS or MISS where there is a target, in the parts' order", () => {
    const rows = updateRows({
      overhead: [
        overheadFigure({ zones: 50, stageMs: 0, concurrency: 8 }, 3, 1),
        overheadFigure({ zones: 50, stageMs: 200, concurrency: 8 }, 5.5, 5),
      ],
      speedup: speedupFigures(
        [
          { concurrency: 1, seconds: 42, directSeconds: 33 },
          { concurrency: 4, seconds: 11, directSeconds: 9 },
          { concurrency: 8, seconds: 6, directSeconds: 6 },
        ],
        { zones: 50, stageMs: 200 },
      ),
      duplicates: [dup(), dup({ crash: true, maxPlansPerChild: 2 })],
      legacy: legacyFigure(20, 8, 40, 2),
    });
    assert.deepEqual(
      rows.map((r) => [r.phase, r.ratio, r.target, r.result]),
      [
        ['overhead: 50 zones, 0 ms/stage, C=8', '3.00×', '≤ 2.00×', 'MISS'],
        ['overhead: 50 zones, 200 ms/stage, C=8', '1.10×', '≤ 1.20×', 'PASS'],
        ['speed-up: 50 zones, 200 ms/stage, C=1', '1.00×', '', ''],
        ['speed-up: 50 zones, 200 ms/stage, C=4', '3.82×', '', ''],
        ['speed-up: 50 zones, 200 ms/stage, C=8', '7.00×', '≥ 6.00×', 'PASS'],
        ['duplicates: 20 zones, C=8, no crash', '1.00×', '1 plan/child, ≤ unique + headers', 'PASS'],
        [
          'duplicates: 20 zones, C=8, worker SIGKILLed mid-prepare',
          '1.00×',
          '1 plan/child, ≤ unique + in flight + headers',
          'MISS',
        ],
        ['legacy: 20 zones, pkg processes vs workflow C=8', '20.00×', '', ''],
      ],
    );
    assert.equal(rows[0].measured, 'workflow 3.00 s');
    assert.equal(rows[0].baseline, 'direct 1.00 s');
    assert.equal(rows[4].baseline, 'C=1 42.00 s; direct 5.50×');
    assert.equal(rows[6].measured, '2 plan(s)/child, 1.0 MB served');
    assert.deepEqual(updateRows({ overhead: [], speedup: [], duplicates: [], legacy: null }), []);
  });
});
