import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parseCommandLine } from '../src/command-line/parse-command-line';
import { UsageError } from '../src/command-line/usage-error';
import { anyInteger, collect, integerIn, nonEmpty, positiveNumber } from '../src/command-line/value-parsers';

function demo(): Command {
  return new Command('demo')
    .argument('<target>')
    .option('-n, --count <n>', 'how many', integerIn(1, 10), 3)
    .option('--tag <t>', 'repeatable', collect)
    .option('--name <s>', 'a name', nonEmpty);
}

describe('parseCommandLine', () => {
  it('returns the options (camelCase, parsed, defaulted) and the arguments', () => {
    const r = parseCommandLine<{ count: number; tag?: string[] }>(demo(), [
      't1',
      '-n',
      '7',
      '--tag',
      'a',
      '--tag',
      'b',
    ]);
    assert.ok(r.help === null);
    assert.deepEqual([r.opts.count, r.opts.tag, r.args], [7, ['a', 'b'], ['t1']]);
    const d = parseCommandLine<{ count: number }>(demo(), ['t1']);
    assert.equal(d.help === null && d.opts.count, 3);
  });

  it('returns the help text for -h instead of writing it or exiting', () => {
    const r = parseCommandLine(demo(), ['-h']);
    assert.match(r.help ?? '', /^Usage: demo \[options\] <target>\n/);
    assert.match(r.help ?? '', /-n, --count <n> +how many \(default: 3\)/);
  });

  it('throws a UsageError naming the option or argument and what was expected', () => {
    const bad: [string[], RegExp][] = [
      [
        ['t1', '--count', '11'],
        /^option '-n, --count <n>' argument '11' is invalid\. Expected an integer from 1 to 10\.$/,
      ],
      [['t1', '--count'], /^option '-n, --count <n>' argument missing$/],
      [['t1', '--bogus'], /^unknown option '--bogus'$/],
      [['t1', '--name', ' '], /^option '--name <s>' argument ' ' is invalid\. Expected a non-empty value\.$/],
      [[], /^missing required argument 'target'$/],
      [['t1', 't2'], /^too many arguments\. Expected 1 argument but got 2\.$/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => parseCommandLine(demo(), argv),
        (e: Error) => e instanceof UsageError && message.test(e.message),
        argv.join(' '),
      );
    }
  });
});

describe('value parsers', () => {
  it('accept what they promise and refuse the rest', () => {
    assert.equal(integerIn(0)('0'), 0);
    assert.throws(() => integerIn(0)('-1'), /Expected an integer >= 0/);
    assert.throws(() => integerIn(0)('1e3'), /Expected an integer >= 0/);
    assert.equal(anyInteger('-3'), -3);
    assert.throws(() => anyInteger('1.5'), /Expected an integer/);
    assert.throws(() => anyInteger(''), /Expected an integer/);
    assert.equal(positiveNumber('0.1'), 0.1);
    assert.throws(() => positiveNumber('0'), /Expected a number > 0/);
    assert.throws(() => positiveNumber('Infinity'), /Expected a number > 0/);
  });
});
