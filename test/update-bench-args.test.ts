import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUpdateArgs, scaledZones, UPDATE_PARTS, UsageError } from '../bench/update-args';

describe('parseUpdateArgs (npm run bench)', () => {
  it('runs every part once at full size by default', () => {
    assert.deepEqual(parseUpdateArgs([]), {
      rounds: 1,
      only: [...UPDATE_PARTS],
      zonesScale: 1,
      json: null,
      keep: false,
      help: false,
    });
  });

  it("reads rounds, a subset of parts in the bench's order, a zone scale, a JSON file and --keep", () => {
    assert.deepEqual(
      parseUpdateArgs([
        '--rounds',
        '3',
        '--only',
        'legacy, overhead',
        '--zones-scale',
        '0.1',
        '--json',
        '/tmp/f.json',
        '--keep',
      ]),
      {
        rounds: 3,
        only: ['overhead', 'legacy'],
        zonesScale: 0.1,
        json: '/tmp/f.json',
        keep: true,
        help: false,
      },
    );
    assert.equal(parseUpdateArgs(['-h']).help, true);
  });

  it('refuses what it cannot run, naming the flag and the value', () => {
    const bad: [string[], RegExp][] = [
      [['--rounds', '0'], /option '--rounds <R>' argument '0' is invalid\. Expected an integer >= 1\./],
      [['--rounds', '1.5'], /--rounds .* '1.5' is invalid/],
      [['--rounds', 'many'], /--rounds .* 'many' is invalid/],
      [['--rounds'], /option '--rounds <R>' argument missing/],
      [['--zones-scale', '0'], /option '--zones-scale <F>' argument '0' is invalid\. Expected a number > 0\./],
      [['--zones-scale=-1'], /--zones-scale .* '-1' is invalid/],
      [['--zones-scale', 'x'], /--zones-scale .* 'x' is invalid/],
      [
        ['--only', 'overhead,speed'],
        /option '--only <PARTS>' argument 'overhead,speed' is invalid\. Expected some of overhead, speedup, duplicates, legacy\./,
      ],
      [['--only', ','], /--only/],
      [['--json', ''], /--json/],
      [['--colour'], /unknown option '--colour'/],
      [['surplus'], /too many arguments/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => parseUpdateArgs(argv),
        (e: Error) => e instanceof UsageError && message.test(e.message) && e.message.includes('Usage: npm run bench'),
        argv.join(' '),
      );
    }
  });
});

describe('scaledZones', () => {
  it('multiplies and rounds, never below one zone', () => {
    assert.equal(scaledZones(200, 1), 200);
    assert.equal(scaledZones(200, 0.1), 20);
    assert.equal(scaledZones(50, 0.25), 13);
    assert.equal(scaledZones(20, 0.01), 1);
  });
});
