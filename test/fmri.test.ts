import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImageError } from '../src/model/errors';
import { Fmri, Version, compareVersions, isPublisherName, shortVersion, timestampOf } from '../src/model/fmri';

/** Asserts that `fn` throws a BAD_FMRI ImageError naming `text` and saying what was expected. */
function assertBadFmri(fn: () => unknown, text: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected an ImageError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_FMRI');
    assert.equal(e.retryable, false);
    assert.ok(e.message.includes(`'${text}'`), `message should quote ${JSON.stringify(text)}: ${e.message}`);
    assert.match(e.message, /expected/);
    return true;
  });
}

const sign = (n: number) => Math.sign(n);

describe('Fmri.parse and toString', () => {
  it('reads every component of a full pkg:// FMRI and prints it back unchanged', () => {
    const text = 'pkg://omnios/system/zones@0.5.11,5.11-151046.0:20230503T121526Z';
    const f = Fmri.parse(text);
    assert.equal(f.publisher, 'omnios');
    assert.equal(f.name, 'system/zones');
    assert.equal(f.stem, 'system/zones');
    assert.deepEqual(f.version?.release, [0, 5, 11]);
    assert.deepEqual(f.version?.build, [5, 11]);
    assert.deepEqual(f.version?.branch, [151046, 0]);
    assert.equal(f.version?.timestamp, '20230503T121526Z');
    assert.equal(f.toString(), text);
    assert.equal(f.toShortString(), 'system/zones@0.5.11,5.11-151046.0:20230503T121526Z');
  });

  it('prints pkg:/ and pkg:// forms exactly as given', () => {
    for (const text of [
      'pkg:/web/server/nginx@1.18.0-2020.0.1.0',
      'pkg:/SUNWcs',
      'pkg://openindiana.org/web/server/nginx',
      'pkg://test/incorp@1.0',
      'pkg://my-pub.1.example/a.b+c/d_e-f@0-0',
      'pkg://-pub/x@1.00',
      'pkg:/feature/package/dependency/self',
      'pkg:/x@1.2.3:20260101T000000Z',
      'pkg:/x@1,5.11',
    ]) {
      assert.equal(Fmri.parse(text).toString(), text);
    }
  });

  it('prints a bare name[@version] in the pkg:/ form, which parses back to the same FMRI', () => {
    const cases: Array<[string, string]> = [
      ['SUNWcs', 'pkg:/SUNWcs'],
      ['library/zlib@1.2.11', 'pkg:/library/zlib@1.2.11'],
      ['shell/zsh@4.3.9-0.133', 'pkg:/shell/zsh@4.3.9-0.133'],
    ];
    for (const [bare, printed] of cases) {
      const f = Fmri.parse(bare);
      assert.equal(f.publisher, null);
      assert.equal(f.toString(), printed);
      assert.equal(Fmri.parse(f.toString()).toString(), printed);
      assert.ok(Fmri.parse(printed).equals(f));
    }
    assert.equal(Fmri.parse('library/zlib@1.2.11').toShortString(), 'library/zlib@1.2.11');
    assert.equal(Fmri.parse('pkg://p/library/zlib').toShortString(), 'library/zlib');
  });

  it('builds FMRIs with of, withPublisher and withVersion without touching the other parts', () => {
    const v = Version.parse('1.0-1');
    assert.equal(Fmri.of('a/b', v, 'pub').toString(), 'pkg://pub/a/b@1.0-1');
    assert.equal(Fmri.of('a/b', null).toString(), 'pkg:/a/b');
    const f = Fmri.parse('a/b@2.0');
    assert.equal(f.withPublisher('omnios').toString(), 'pkg://omnios/a/b@2.0');
    assert.equal(f.toString(), 'pkg:/a/b@2.0', 'the original is unchanged');
    assert.equal(f.withVersion(null).toString(), 'pkg:/a/b');
    assert.equal(f.withVersion(v).toString(), 'pkg:/a/b@1.0-1');
    assertBadFmri(() => f.withPublisher('bad pub'), 'pkg://bad pub/x');
    assertBadFmri(() => Fmri.of('-x', null), '-x');
  });

  // src/modules/fmri.py PkgFmri.__lt__: publisher first (None before any), then name, then version.
  it('orders FMRIs by publisher (none first), then name, then version with no version first, as pkg(5)', () => {
    assert.ok(Fmri.parse('a@1').compare(Fmri.parse('b@0')) < 0);
    assert.ok(Fmri.parse('b').compare(Fmri.parse('a@9')) > 0);
    assert.ok(Fmri.parse('a').compare(Fmri.parse('a@0')) < 0);
    assert.ok(Fmri.parse('a@1.9').compare(Fmri.parse('a@1.10')) < 0);
    assert.ok(Fmri.parse('z@9').compare(Fmri.parse('pkg://p/a@1')) < 0, 'no publisher sorts before any');
    assert.ok(Fmri.parse('pkg://p2/a@1').compare(Fmri.parse('pkg://p1/z@9')) > 0, 'the publisher decides first');
    assert.ok(Fmri.parse('pkg://p1/a@2').compare(Fmri.parse('pkg://p2/a@2')) < 0);
    assert.equal(Fmri.parse('pkg://p1/a@2').compare(Fmri.parse('pkg://p1/a@2,5.12')), 0, 'the build is not compared');
    const sorted = ['pkg://b/x@1', 'x@2', 'pkg://a/y@1', 'pkg://a/x@1', 'x@1', 'pkg://a/x']
      .map((t) => Fmri.parse(t))
      .sort((a, b) => a.compare(b))
      .map(String);
    assert.deepEqual(sorted, ['pkg:/x@1', 'pkg:/x@2', 'pkg://a/x', 'pkg://a/x@1', 'pkg://a/y@1', 'pkg://b/x@1']);
  });

  // src/modules/fmri.py PkgFmri.__eq__: publisher, name and version all equal; None equals only None.
  it('treats FMRIs as equal only with the same publisher (or both none), name and version', () => {
    const a = Fmri.parse('pkg://p1/a@2-1');
    assert.ok(a.equals(Fmri.parse('pkg://p1/a@2,5.11-1')), 'the build is not compared');
    assert.ok(a.equals(Fmri.parse('//p1/a@2-1')));
    assert.ok(!a.equals(Fmri.parse('a@2-1')), 'a publisher does not equal none');
    assert.ok(!Fmri.parse('a@2-1').equals(a));
    assert.ok(Fmri.parse('a@2-1').equals(Fmri.parse('pkg:///a@2-1')));
    assert.ok(!a.equals(Fmri.parse('pkg://p2/a@2-1')));
    assert.ok(!a.equals(Fmri.parse('pkg://p1/a@2-1.0')));
    assert.ok(!a.equals(Fmri.parse('pkg://p1/a')));
    assert.ok(Fmri.parse('pkg://p1/a').equals(Fmri.parse('pkg://p1/a')));
    assert.ok(Fmri.parse('a@1.00').equals(Fmri.parse('a@1.0')), 'versions compare by value');
  });

  it('serialises FMRIs and versions to JSON as their text', () => {
    const f = Fmri.parse('pkg://p/a@1.00-2:20260101T000000Z');
    assert.equal(
      JSON.stringify({ f, v: f.version }),
      '{"f":"pkg://p/a@1.00-2:20260101T000000Z","v":"1.00-2:20260101T000000Z"}',
    );
    assert.equal(JSON.stringify(Version.parse('99999999999999999999')), '"99999999999999999999"');
  });
});

// The forms pkg(5)'s own tests accept (src/tests/api/t_fmri.py: testpublisher, test_pkgname_grammar,
// testbadfmri*) and what src/modules/fmri.py does with them.
describe('FMRI forms as pkg(5) reads them', () => {
  it("reads '/', '///' and 'pkg:///' as no publisher and '//pub/' as publisher pub", () => {
    for (const s of ['pkg:///name', 'pkg:/name', '///name', '/name', 'name']) {
      const f = Fmri.parse(s);
      assert.equal(f.publisher, null, s);
      assert.equal(f.name, 'name', s);
      assert.equal(f.toString(), 'pkg:/name');
    }
    for (const s of ['pkg://test/name', '//test/name']) assert.equal(Fmri.parse(s).publisher, 'test', s);
    const v = Fmri.parse('/test@1.0,5.11-0');
    assert.deepEqual([v.publisher, v.name, String(v.version)], [null, 'test', '1.0,5.11-0']);
    const p = Fmri.parse('//publisher/test@1.0,5.11-0');
    assert.deepEqual([p.publisher, p.name, p.toString()], ['publisher', 'test', 'pkg://publisher/test@1.0,5.11-0']);
    assert.equal(Fmri.parse('pkg:///a/b@1.0').toString(), 'pkg:/a/b@1.0');
  });

  it('drops trailing white space, as fmri.py does (str.rstrip), and still refuses any other', () => {
    for (const s of ['name@1.0\t', 'name@1.0 ', 'pkg://p/name@1.0\n', 'name \u3000', 'name@1.0\r\n']) {
      const f = Fmri.parse(s);
      assert.equal(f.name, 'name', JSON.stringify(s));
    }
    assert.equal(String(Fmri.parse('pkg://p/name@1.0\n')), 'pkg://p/name@1.0');
    for (const s of [' name', 'na me', 'name@1.0 x', '\tname', 'name\ufeff', ' '])
      assertBadFmri(() => Fmri.parse(s), s);
  });

  it('refuses what t_fmri.py refuses', () => {
    for (const s of [
      '',
      '@',
      '@1,1-1',
      'pkg:',
      'pkg://',
      'pkg://foo',
      'pkg://foo/',
      'pkg:/',
      'pkg://@',
      'pkg:/@',
      'pkg:/pkg:',
      'pkg://foo/pkg:',
      'pkg://origin/SUNWxwssu@',
      'pkg://origin/SUNWxwssu@0.5.11,5.11-0.72:20070231T203926Z',
      'pkg://origin/SUNWxwssu@0.5.11,5.11-0.72:20070231T203',
      'pkg://origin/SUNWxwssu@0.5.11,5.11-:20070922T153047Z',
      'pkg://origin/SUNWxwssu@0.5.11,5.11-',
      'application//office@0.5.11,5.11-0.96',
      'application/office/@0.5.11,5.11-0.96',
      'app/.cool@0.5.11,5.11-0.96',
      'BRCMbnx@0.5.aa,5.aa-0.aa',
      '//pub',
      '//pub@1/name',
    ]) {
      assertBadFmri(() => Fmri.parse(s), s);
    }
    for (const c of ' `~!@#$%^&*()=[{]}\\|;:",<>?') {
      if (c === '@' || c === ' ') continue; // '@' starts the version and ' ' ends the FMRI: both refused above
      assertBadFmri(() => Fmri.parse(`invalid${c}pkg@1.0,5.11-0`), `invalid${c}pkg@1.0,5.11-0`);
    }
    for (const c of '_-.+') {
      assertBadFmri(() => Fmri.parse(`${c}invalidpkg@1.0,5.11-0`), `${c}invalidpkg@1.0,5.11-0`);
      assertBadFmri(() => Fmri.parse(`test/${c}pkg@1.0,5.11-0`), `test/${c}pkg@1.0,5.11-0`);
      assert.equal(Fmri.parse(`a${c}test@1.0,5.11-0`).name, `a${c}test`);
    }
    for (const ok of ['a.b', 'a.b@1.0', 'a/b/c', 'a--b---', 'a___b__', 'a+++b+++', 'pkg:/abcdef01234.-+_/GHIJK@1.0'])
      Fmri.parse(ok);
  });

  it("takes the last '@' as the start of the version", () => {
    assertBadFmri(() => Fmri.parse('name@1.0@2'), 'name@1.0@2');
    assertBadFmri(() => Fmri.parse('pkg://p/na@me@1'), 'pkg://p/na@me@1');
  });
});

describe('publisher names (misc.valid_pub_prefix)', () => {
  it('accepts letters, digits, dots and dashes, a leading dash included, in FMRIs and alone', () => {
    for (const ok of ['omnios', 'openindiana.org', 'ooce', 'my-pub.1', '1pub', '-pub', '-', 'a.', 'a..b', '10.0.0.1']) {
      assert.ok(isPublisherName(ok), ok);
      assert.equal(Fmri.parse(`pkg://${ok}/x@1`).publisher, ok);
    }
  });

  it("refuses '_', a leading '.', and anything else, naming the rule", () => {
    for (const no of ['my_pub', '_pub', '.pub', 'pub/x', 'pub x', 'pub!', 'püb', 'a:b', '[::1]', 'pub\n']) {
      assert.ok(!isPublisherName(no), no);
    }
    for (const no of ['my_pub', '.pub', 'pub!', 'a:b']) {
      assert.throws(
        () => Fmri.parse(`pkg://${no}/x@1`),
        (e: unknown) =>
          e instanceof ImageError && e.code === 'BAD_FMRI' && e.message.includes("pkg(5)'s publisher-name rule"),
      );
    }
    assert.equal(isPublisherName(''), false);
  });
});

describe('Version ordering', () => {
  // [lower, higher]
  const ordered: Array<[string, string, string]> = [
    ['1.9', '1.10', 'dot-sequences compare numerically, not as text'],
    ['1.2', '1.2.0', 'a shorter release sorts before a longer one with the same prefix'],
    ['1.2.0', '1.3', 'an earlier element decides before length'],
    ['0.5.11', '0.5.12', 'the last element decides'],
    ['1.0-99', '1.1-0', 'the release decides before the branch'],
    ['1.0', '1.0-0', 'a missing branch sorts before a present one'],
    ['1.0-0.9', '1.0-0.10', 'branches compare numerically'],
    ['1.0-1', '1.0-1.0', 'a shorter branch sorts first'],
    ['1.0-1:20260101T000000Z', '1.0-2:20250101T000000Z', 'the branch decides before the timestamp'],
    ['1.0-1', '1.0-1:20000101T000000Z', 'a missing timestamp sorts before a present one'],
    ['1.0-1:20251231T235959Z', '1.0-1:20260101T000000Z', 'timestamps compare in time order'],
    ['1.0:20260101T000000Z', '1.0-0', 'a timestamp does not make up for a missing branch'],
  ];
  for (const [lo, hi, why] of ordered) {
    it(`puts ${lo} before ${hi}: ${why}`, () => {
      const a = Version.parse(lo),
        b = Version.parse(hi);
      assert.equal(sign(a.compare(b)), -1);
      assert.equal(sign(b.compare(a)), 1);
      assert.equal(sign(compareVersions(lo, hi)), -1);
      assert.ok(!a.equals(b));
    });
  }

  it('does not compare the build release', () => {
    const a = Version.parse('1.0,5.11-1:20260101T000000Z');
    const b = Version.parse('1.0,5.12-1:20260101T000000Z');
    const c = Version.parse('1.0-1:20260101T000000Z');
    assert.equal(a.compare(b), 0);
    assert.equal(a.compare(c), 0);
    assert.ok(a.equals(b) && b.equals(c));
    assert.equal(a.toString(), '1.0,5.11-1:20260101T000000Z', 'but it is kept for printing');
  });

  // src/modules/version.py DotSequence.dotsequence_val refuses a zero-padded element only when
  // its value is above 0; src/tests/api/t_version.py refuses '1.0001'.
  it("accepts zero-padded zeros ('00', '1.00') as 0, equal to '0', printed as written", () => {
    for (const [padded, plain] of [
      ['00', '0'],
      ['1.00', '1.0'],
      ['000.1', '0.1'],
      ['1.0-00', '1.0-0'],
      ['1,00-1', '1,0-1'],
    ]) {
      const a = Version.parse(padded);
      assert.equal(a.compare(Version.parse(plain)), 0, padded);
      assert.ok(a.equals(Version.parse(plain)));
      assert.equal(a.toString(), padded);
    }
    assert.deepEqual(Version.parse('1.00').release, [1, 0]);
    assert.ok(Version.parse('1.00').matches(Version.parse('1.0')));
    for (const bad of ['01', '1.0001', '1.01', '1.0-01', '1,05']) assertBadFmri(() => Version.parse(bad), bad);
  });

  it('compares elements beyond 2^53 exactly, as pkg(5) (Python integers) does', () => {
    const big = '9007199254740993'; // 2^53 + 1: a double would read it as 2^53
    assert.equal(Version.parse(big).compare(Version.parse('9007199254740992')), 1);
    assert.equal(Version.parse('1.' + big).compare(Version.parse('1.9007199254740992')), 1);
    assert.equal(Version.parse('99999999999999999999').compare(Version.parse('99999999999999999998')), 1);
    assert.equal(Version.parse('99999999999999999999').compare(Version.parse('100000000000000000000')), -1);
    assert.equal(Version.parse('1-' + big).compare(Version.parse('1-' + big)), 0);
    assert.equal(Version.parse('5').compare(Version.parse('12345678901234567890')), -1);
    assert.equal(Version.parse('12345678901234567890').compare(Version.parse('5')), 1);
    assert.deepEqual(Version.parse('9007199254740991.9007199254740992').release, [9007199254740991, 9007199254740992n]);
    assert.ok(Version.parse('1.' + big + '.3').matches(Version.parse('1.' + big)));
    assert.ok(!Version.parse('1.9007199254740992.3').matches(Version.parse('1.' + big)));
    assert.equal(Version.parse('1.' + big).toString(), '1.' + big);
  });

  it('sorts a shuffled list of fifteen versions into pkg(5) order', () => {
    const expected = [
      '0.5.11',
      '0.5.11-0.151',
      '0.5.11-0.151.1',
      '0.5.11-0.151.1.8',
      '0.5.11,5.11-0.151.1.8:20111115T010203Z',
      '0.5.11-0.151.1.8:20111116T000000Z',
      '0.5.11-0.151.1.9',
      '0.5.11-0.151.1.10',
      '0.5.11-0.151.2',
      '0.5.12',
      '1.2',
      '1.2.0',
      '1.9',
      '1.10',
      '1.10-0',
    ];
    const shuffled = [
      '1.10',
      '0.5.11-0.151.1.10',
      '1.2.0',
      '0.5.11-0.151.1.8:20111116T000000Z',
      '0.5.11',
      '1.10-0',
      '0.5.11-0.151.2',
      '1.9',
      '0.5.11-0.151',
      '0.5.11,5.11-0.151.1.8:20111115T010203Z',
      '0.5.12',
      '0.5.11-0.151.1.9',
      '1.2',
      '0.5.11-0.151.1',
      '0.5.11-0.151.1.8',
    ];
    assert.equal(shuffled.length, 15);
    assert.deepEqual([...shuffled].sort(), [...expected].sort(), 'the same versions');
    // Several starting orders, so the result cannot depend on where the sort started.
    for (let r = 0; r < shuffled.length; r++) {
      const input = [...shuffled.slice(r), ...shuffled.slice(0, r)].map((s) => Version.parse(s));
      assert.deepEqual(input.sort((a, b) => a.compare(b)).map(String), expected);
    }
    assert.deepEqual([...shuffled].reverse().sort(compareVersions), expected);
  });
});

describe('Version.matches (CONSTRAINT_AUTO)', () => {
  const cases: Array<[string, string, boolean, string]> = [
    ['1.2.7', '1.2', true, 'a longer release matches at the precision given'],
    ['1.2', '1.2', true, 'the same release matches'],
    ['1.3', '1.2', false, 'a different element does not match'],
    ['1.20', '1.2', false, 'elements compare as numbers, not text prefixes'],
    ['1', '1.2', false, 'a release shorter than the spec does not match'],
    ['1.2.7-0.1:20260101T000000Z', '1.2', true, 'a spec without branch or timestamp matches any'],
    ['1.2.7-0.151.4', '1.2-0.151', true, 'the branch matches at the precision given'],
    ['1.2.7-0.152', '1.2-0.151', false, 'a different branch does not match'],
    ['1.2.7-0', '1.2-0.151', false, 'a branch shorter than the spec does not match'],
    ['1.2.7', '1.2-0', false, 'a spec branch needs a branch'],
    ['1.2-0:20260101T000000Z', '1.2-0:20260101T000000Z', true, 'the same timestamp matches'],
    ['1.2-0:20260101T000001Z', '1.2-0:20260101T000000Z', false, 'a timestamp matches only exactly'],
    ['1.2-0', '1.2-0:20260101T000000Z', false, 'a spec timestamp needs a timestamp'],
    ['1.2,5.12-0', '1.2,5.11-0', true, 'the build release is ignored'],
  ];
  for (const [v, spec, want, why] of cases) {
    it(`${want ? 'matches' : 'does not match'} ${v} against ${spec}: ${why}`, () => {
      assert.equal(Version.parse(v).matches(Version.parse(spec)), want);
    });
  }
});

describe('timestamps', () => {
  it('formats a Date as YYYYMMDDTHHMMSSZ in UTC, dropping milliseconds', () => {
    const t = timestampOf(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)));
    assert.equal(t, '20260102T030405Z');
    assert.equal(Version.parse(`1.0-0:${t}`).timestamp, t);
  });

  it('accepts real calendar moments, including leap days and years before 100', () => {
    for (const t of [
      '20240229T000000Z',
      '20000229T235959Z',
      '19991231T235959Z',
      '00500101T000000Z',
      '99991231T235959Z',
    ]) {
      assert.equal(Version.parse(`1:${t}`).timestamp, t);
    }
  });

  it('rejects impossible or malformed timestamps as BAD_FMRI', () => {
    for (const t of [
      '20261301T000000Z',
      '20260001T000000Z',
      '20260132T000000Z',
      '20230229T000000Z',
      '19000229T000000Z',
      '20260101T240000Z',
      '20260101T236000Z',
      '20260101T235960Z',
      '00000101T000000Z',
      '20260101T000000',
      '20260101t000000Z',
      '2026-01-01T00:00:00Z',
      '20260101T0000Z',
      '',
    ]) {
      assertBadFmri(() => Version.parse(`1.0-0:${t}`), `1.0-0:${t}`);
    }
  });
});

describe('malformed FMRIs', () => {
  const bad: Array<[string, string]> = [
    ['', 'empty'],
    ['pkg://', 'pkg:// without publisher or name'],
    ['pkg://pub', 'publisher without name'],
    ['pkg://pub!/name', 'bad publisher character'],
    ['pkg://.pub/name', 'publisher starting with a dot'],
    ['pkg://pub/', 'empty name after publisher'],
    ['pkg:/', 'empty name after scheme'],
    ['pkg:name', 'scheme without slash'],
    ['-name', 'name starting with -'],
    ['a/-b', 'name part starting with -'],
    ['a//b', 'empty name part'],
    ['na*me', 'bad name character'],
    ['name@', '@ without version'],
    ['@1.0', 'version without name'],
    ['name@01', 'leading zero'],
    ['name@1.01', 'leading zero in a later element'],
    ['name@-1', 'negative'],
    ['name@1.a', 'letters in release'],
    ['name@1..2', 'empty element'],
    ['name@1.2.', 'trailing dot'],
    ['name@.1', 'leading dot'],
    ['name@1.0-', 'empty branch'],
    ['name@1.0-01', 'leading zero in branch'],
    ['name@1.0,', 'empty build'],
    ['name@,5.11', 'build without release'],
    ['name@1.0:', 'empty timestamp'],
    ['name@1.0:20261301T000000Z', 'month 13'],
    ['name@1.0:20260101T000000', 'timestamp without Z'],
    ['name@1.0@2', 'two @'],
    ['name@0012', 'zero padded above 0'],
    [' name', 'leading white space'],
    ['na me', 'inner white space'],
    ['\tname@1.0', 'leading tab'],
    ['name\0', 'NUL'],
    ['name@1.0\0', 'NUL in version'],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${JSON.stringify(text)} (${why}) as BAD_FMRI naming it`, () => {
      assertBadFmri(() => Fmri.parse(text), text);
    });
  }

  it('rejects malformed versions given on their own, naming them', () => {
    for (const text of ['', '01', '-1', '1.a', '1..2', 'v1', '1.0 ', '1,2,3', '1-2-3', '1.0-0:x']) {
      assertBadFmri(() => Version.parse(text), text);
    }
  });

  it('carries the rejected text in the error details', () => {
    try {
      Fmri.parse('name@1..2');
      assert.fail('should have thrown');
    } catch (e) {
      assert.ok(e instanceof ImageError);
      assert.deepEqual(e.details, { value: 'name@1..2' });
      assert.equal(e.toJSON().code, 'BAD_FMRI');
    }
  });
});

describe('shortVersion', () => {
  it('drops the scheme, publisher, name and timestamp, keeping build and branch', () => {
    assert.equal(shortVersion('pkg://demo/web/nginx@1.0:20261125T120000Z'), '1.0');
    assert.equal(shortVersion('pkg:/system/kernel@0.5.11,5.11-151046.0:20240101T000000Z'), '0.5.11,5.11-151046.0');
    assert.equal(shortVersion('web/nginx@1.2.3'), '1.2.3');
  });
  it('keeps the timestamp when asked, and returns an FMRI without a version whole', () => {
    assert.equal(
      shortVersion('pkg://demo/web/nginx@1.0:20261125T120000Z', { timestamp: true }),
      '1.0:20261125T120000Z',
    );
    assert.equal(shortVersion('pkg:/web/nginx'), 'pkg:/web/nginx');
  });
});
