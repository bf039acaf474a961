import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, ImageError } from '../src/model/errors';
import { clearManifestMemo, parseManifestOnce } from '../src/model/manifest-memo';
import {
  Action,
  actionKey,
  actionsEqual,
  appliesTo,
  attr,
  hardlinkTarget,
  manifestFmri,
  parseAction,
  parseManifest,
  payloadHashAlgorithm,
  printAction,
  printManifest,
  values,
} from '../src/model/manifest';
import { imagePathProblem } from '../src/model/paths';

const FIXTURES = path.join(__dirname, 'fixtures', 'manifests');
const fixtureNames = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.p5m'))
  .sort();
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const SHA1 = '1d5eac1aab628317f9c088d21e4afda9c754bb76';

/** Asserts that `fn` throws an ImageError with `code` whose message contains every string in `parts`. */
function assertFails(fn: () => unknown, code: ErrorCode, ...parts: Array<string | RegExp>): ImageError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ImageError, `expected an ImageError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of parts) {
    if (typeof p === 'string')
      assert.ok(caught.message.includes(p), `message should contain ${JSON.stringify(p)}: ${caught.message}`);
    else assert.match(caught.message, p);
  }
  return caught;
}

describe('parsing each action type', () => {
  const cases: Array<[string, Partial<Action>]> = [
    [
      'set name=pkg.summary value="A summary"',
      { type: 'set', hash: null, attrs: { name: 'pkg.summary', value: 'A summary' } },
    ],
    [
      `file ${H1} path=usr/bin/x owner=root group=bin mode=0555`,
      { type: 'file', hash: H1, attrs: { path: 'usr/bin/x', owner: 'root', group: 'bin', mode: '0555' } },
    ],
    [
      'dir path=usr/bin owner=root group=bin mode=0755',
      { type: 'dir', hash: null, attrs: { path: 'usr/bin', owner: 'root', group: 'bin', mode: '0755' } },
    ],
    ['link path=usr/bin/y target=x', { type: 'link', hash: null, attrs: { path: 'usr/bin/y', target: 'x' } }],
    ['hardlink path=usr/bin/z target=x', { type: 'hardlink', hash: null, attrs: { path: 'usr/bin/z', target: 'x' } }],
    [
      'depend type=require fmri=pkg:/a@1.0',
      { type: 'depend', hash: null, attrs: { type: 'require', fmri: 'pkg:/a@1.0' } },
    ],
    ['depend type=optional fmri=a', { type: 'depend', hash: null, attrs: { type: 'optional', fmri: 'a' } }],
    [
      'depend type=incorporate fmri=a@1.2-0.1',
      { type: 'depend', hash: null, attrs: { type: 'incorporate', fmri: 'a@1.2-0.1' } },
    ],
    [
      'depend type=parent fmri=feature/package/dependency/self',
      { type: 'depend', hash: null, attrs: { type: 'parent', fmri: 'feature/package/dependency/self' } },
    ],
    [
      'depend fmri=pkg:/a fmri=pkg:/b@2 type=require-any',
      { type: 'depend', hash: null, attrs: { fmri: ['pkg:/a', 'pkg:/b@2'], type: 'require-any' } },
    ],
    [`license ${H1} license=CDDL`, { type: 'license', hash: H1, attrs: { license: 'CDDL' } }],
    [
      'legacy pkg=SUNWcs arch=i386 desc="Core Solaris"',
      { type: 'legacy', hash: null, attrs: { pkg: 'SUNWcs', arch: 'i386', desc: 'Core Solaris' } },
    ],
    [
      'user username=webservd uid=80 group=webservd',
      { type: 'user', hash: null, attrs: { username: 'webservd', uid: '80', group: 'webservd' } },
    ],
    ['group groupname=webservd gid=80', { type: 'group', hash: null, attrs: { groupname: 'webservd', gid: '80' } }],
    [
      'driver name=zcons perms="* 0600 root sys"',
      { type: 'driver', hash: null, attrs: { name: 'zcons', perms: '* 0600 root sys' } },
    ],
    [
      `signature ${SHA1} algorithm=rsa-sha256 version=0`,
      { type: 'signature', hash: SHA1, attrs: { algorithm: 'rsa-sha256', version: '0' } },
    ],
    [
      'signature algorithm=sha256 value=abc version=0',
      { type: 'signature', hash: null, attrs: { algorithm: 'sha256', value: 'abc', version: '0' } },
    ],
  ];
  for (const [line, want] of cases) {
    it(`parses ${line.split(' ')[0]}: ${line.slice(0, 60)}`, () => {
      assert.deepEqual(parseAction(line), want);
    });
  }

  it('keeps attributes in the order given', () => {
    assert.deepEqual(Object.keys(parseAction('dir mode=0755 path=a owner=root group=bin').attrs), [
      'mode',
      'path',
      'owner',
      'group',
    ]);
  });
});

describe('attribute values', () => {
  const value = (text: string) => parseAction(`set name=x value=${text}`).attrs.value;

  it('reads double- and single-quoted values with spaces', () => {
    assert.equal(value('"a b  c"'), 'a b  c');
    assert.equal(value("'a b c'"), 'a b c');
    assert.equal(value('""'), '');
    assert.equal(value("''"), '');
  });

  it('unescapes backslash-quote and backslash-backslash inside quotes and keeps other backslashes', () => {
    assert.equal(value('"a \\"b\\" c"'), 'a "b" c');
    assert.equal(value("'it\\'s'"), "it's");
    assert.equal(value('\'a "b" c\''), 'a "b" c');
    assert.equal(value('"it\'s"'), "it's");
    assert.equal(value('"a\\\\b"'), 'a\\b');
    assert.equal(value('"C:\\dir x"'), 'C:\\dir x', 'pkg(5) removes a backslash only before a quote or a backslash');
  });

  it('takes unquoted values up to the next blank, quotes and = included', () => {
    assert.equal(value('a=b=c'), 'a=b=c');
    assert.equal(value('foo"bar"baz'), 'foo"bar"baz');
    assert.equal(value('trailing\\'), 'trailing\\');
    assert.equal(value('svc:/system/manifest-import:default'), 'svc:/system/manifest-import:default');
  });

  it('joins adjacent quoted pieces into one value, as pkg(5) does', () => {
    assert.equal(value('"foo " "bar baz"'), 'foo bar baz');
    assert.equal(value('"a" \'"b"\'  "c"'), 'a"b"c');
  });

  it('makes a list of a repeated key, in order', () => {
    const a = parseAction('set name=x value=one value="two words" value=\'three\' value=""');
    assert.deepEqual(a.attrs.value, ['one', 'two words', 'three', '']);
    assert.deepEqual(values(a, 'value'), ['one', 'two words', 'three', '']);
    assert.equal(attr(a, 'value'), 'one');
    assert.deepEqual(values(a, 'name'), ['x']);
    assert.deepEqual(values(a, 'missing'), []);
    assert.equal(attr(a, 'missing'), undefined);
  });

  it('separates tokens by spaces and tabs only, keeping other white space inside a value', () => {
    const a = parseAction('set\tname=x \t value=a\u00a0b');
    assert.deepEqual(a.attrs, { name: 'x', value: 'a\u00a0b' });
  });

  it('accepts keys with the odd characters real manifests use', () => {
    const a = parseAction(
      'dir path=a facet.locale.ca_ES@valencia=true com.sun,test=false facet.version-lock.system/library=true pkg.linted.pkglint.dupaction010.2=true',
    );
    assert.deepEqual(Object.keys(a.attrs), [
      'path',
      'facet.locale.ca_ES@valencia',
      'com.sun,test',
      'facet.version-lock.system/library',
      'pkg.linted.pkglint.dupaction010.2',
    ]);
  });

  it('stores keys named like Object.prototype members as plain attributes', () => {
    const a = parseAction('set name=x value=y constructor=c toString=t hasOwnProperty=h');
    assert.deepEqual(a.attrs, { name: 'x', value: 'y', constructor: 'c', toString: 't', hasOwnProperty: 'h' });
    assert.equal(Object.getPrototypeOf(a.attrs), Object.prototype);
  });

  it('rejects a __proto__ key, which would replace the attribute object prototype', () => {
    assertFails(() => parseAction('set name=x value=y __proto__=z'), 'BAD_MANIFEST', "'__proto__'");
  });

  it('rejects malformed tokens with a message saying what was expected', () => {
    assertFails(() => parseAction('set name=x value=y stray'), 'BAD_MANIFEST', "expected key=value, got 'stray'");
    assertFails(() => parseAction('set name=x =y value=z'), 'BAD_MANIFEST', "invalid attribute name ''");
    assertFails(() => parseAction('set name=x va"lue=z'), 'BAD_MANIFEST', 'invalid attribute name');
    assertFails(() => parseAction('set name=x value='), 'BAD_MANIFEST', "attribute 'value' has no value");
    // pkg(5) reads what follows a closing quote as the next key: 'b' is then a key without '='.
    assertFails(() => parseAction('set name=x value="a"b'), 'BAD_MANIFEST', "expected key=value, got 'b'");
    assertFails(() => parseAction('set name=x value="a'), 'BAD_MANIFEST', "unterminated quoted value for 'value'");
    assertFails(() => parseAction('set name=x value="a\\"'), 'BAD_MANIFEST', 'unterminated');
    assertFails(() => parseAction('set name=x value=a\0b'), 'BAD_MANIFEST', 'NUL');
  });
});

describe('payload hashes', () => {
  it('reads the hash as a positional token or as hash=, giving the same action', () => {
    const positional = parseAction(`file ${H1} path=a mode=0644`);
    const named = parseAction(`file hash=${H1} path=a mode=0644`);
    const quoted = parseAction(`file path=a hash="${H1}" mode=0644`);
    assert.deepEqual(named, positional);
    assert.deepEqual(quoted, positional);
    assert.equal(positional.hash, H1);
    assert.equal(positional.attrs.hash, undefined);
    assert.equal(printAction(named), `file ${H1} path=a mode=0644`);
  });

  it('accepts hash= repeating the positional hash and rejects one that differs', () => {
    assert.deepEqual(parseAction(`file ${H1} path=a hash=${H1}`), { type: 'file', hash: H1, attrs: { path: 'a' } });
    assertFails(
      () => parseAction(`file ${H1} path=a hash=${H2}`),
      'BAD_MANIFEST',
      'differs from the payload hash',
      'expected',
    );
  });

  it('accepts the 40-hex SHA-1 payload hashes pkg(5) writes, and reports which digest a hash is', () => {
    const a = parseAction(
      `file ${SHA1} chash=43dbb3e0bc142f399b61d171f926e8f91adcffe2 path=usr/sbin/prtdiag pkg.content-hash=gelf:sha512t_256:${H1} pkg.csize=5490 pkg.size=13572`,
    );
    assert.equal(a.hash, SHA1);
    assert.equal(payloadHashAlgorithm(a.hash!), 'sha1');
    assert.equal(payloadHashAlgorithm(H1), 'sha256');
    assert.equal(a.attrs['pkg.content-hash'], `gelf:sha512t_256:${H1}`);
  });

  it('rejects payload hashes that are not 40 or 64 lower-case hex digits', () => {
    for (const h of ['abc123', 'NOHASH', H1.toUpperCase(), H1 + 'a', H1.slice(1), SHA1 + '0', 'g'.repeat(64)]) {
      assertFails(
        () => parseAction(`file ${h} path=a`),
        'BAD_MANIFEST',
        `'${h}'`,
        'expected 64 (SHA-256) or 40 (SHA-1)',
      );
    }
  });

  it('requires a payload for file and license, and allows none on other types', () => {
    assertFails(() => parseAction('file path=a'), 'BAD_MANIFEST', 'file action needs a payload hash');
    assertFails(() => parseAction('license license=CDDL'), 'BAD_MANIFEST', 'license action needs a payload hash');
    assertFails(() => parseAction(`dir ${H1} path=a`), 'BAD_MANIFEST', `expected key=value, got '${H1}'`);
    assertFails(() => parseAction(`file path=a ${H1}`), 'BAD_MANIFEST', 'expected key=value');
  });

  it('prints a signature hash that is not a plain token as hash=, so it reads back', () => {
    const a: Action = { type: 'signature', hash: 'odd value=x', attrs: { algorithm: 'sha256' } };
    assert.equal(printAction(a), 'signature hash="odd value=x" algorithm=sha256');
    assert.deepEqual(parseAction(printAction(a)), a);
  });
});

// Expected values from pkg(5)'s action parser (src/modules/actions/_actions.c fromstr, _common.c,
// attribute.py) and its test vectors (src/tests/api/t_action.py).
describe("pkg(5)'s action parser rules", () => {
  it('reads the set shorthand <name>=<value> as name= and value= (attribute.py; t_action.py)', () => {
    assert.deepEqual(parseAction('set pkg.obsolete=true'), parseAction('set name=pkg.obsolete value=true'));
    assert.deepEqual(parseAction('set pkg.obsolete=true').attrs, { name: 'pkg.obsolete', value: 'true' });
    assert.deepEqual(parseAction('set info.keywords=a info.keywords="b c"').attrs, {
      name: 'info.keywords',
      value: ['a', 'b c'],
    });
    // One attribute, whatever it is called: pkg(5) reads `set name=x` as name=name value=x.
    assert.deepEqual(parseAction('set name=x').attrs, { name: 'name', value: 'x' });
    assert.deepEqual(parseAction('set value=x').attrs, { name: 'value', value: 'x' });
    assert.equal(actionKey(parseAction('set pkg.renamed=true')), 'pkg.renamed');
    assert.equal(manifestFmri(parseManifest('set pkg.fmri=pkg://p/a@1.0\n'))?.toString(), 'pkg://p/a@1.0');
    assertFails(() => parseAction('set a=1 b=2'), 'BAD_MANIFEST', "set action is missing 'name='");
  });

  it('reads a quoted value followed directly by a key as two attributes (t_action.py act_strings)', () => {
    assert.deepEqual(parseAction(`set name=foo value='"bar"'value='"foo"'`).attrs, {
      name: 'foo',
      value: ['"bar"', '"foo"'],
    });
    assert.deepEqual(parseAction('file NOHASH path="a b"mode=0644', 1, 'x', { pkgsend: true }).attrs, {
      path: 'a b',
      mode: '0644',
    });
    assert.equal(parseAction(`set name=pkg.description value='foo ''bar ''baz'`).attrs.value, 'foo bar baz');
    assert.equal(parseAction(`set name=pkg.description value='foo "bar" '"baz"`).attrs.value, 'foo "bar" baz');
  });

  it('parses the unknown action type: any attributes, no key, no payload, nothing installed', () => {
    const a = parseAction('unknown path=/opt/x foo=bar foo=baz');
    assert.deepEqual(a, { type: 'unknown', hash: null, attrs: { path: 'opt/x', foo: ['bar', 'baz'] } });
    assert.equal(actionKey(a), null);
    assert.equal(printAction(a), 'unknown path=opt/x foo=bar foo=baz');
    assertFails(() => parseAction(`unknown ${H1} path=a`), 'BAD_MANIFEST', 'unknown action has no payload');
  });

  it('drops the leading slashes of a path and refuses a path that is then empty (_common.c)', () => {
    assert.equal(parseAction(`file ${H1} name=foo path=/tmp/foo`).attrs.path, 'tmp/foo');
    assert.equal(parseAction('dir path=//usr/bin').attrs.path, 'usr/bin');
    assert.equal(parseAction('link path=/a target=/b').attrs.target, '/b', 'only path is changed');
    assert.equal(parseAction(`license ${H1} license=x path=/lic`).attrs.path, 'lic');
    assertFails(() => parseAction('dir path=/'), 'PATH_OUTSIDE_IMAGE', "path '/' is empty");
    assertFails(() => parseAction('unknown path=""'), 'BAD_MANIFEST', 'unknown action has an empty path');
    assertFails(() => parseAction('unknown path=a path=b'), 'BAD_MANIFEST', "'path=' more than once");
  });

  it('refuses a key attribute given twice (_common.c KeyAttributeMultiValueError; t_action.py)', () => {
    for (const [line, key] of [
      [`file ${H1} path=foo path=foo mode=777 owner=root group=root`, 'path'],
      ['link path=foo path=foo target=link', 'path'],
      ['dir path=foo path=foo mode=777 owner=root group=root', 'path'],
      ['set name=a name=b value=c', 'name'],
      [`license ${H1} license=a license=b`, 'license'],
      ['legacy pkg=a pkg=b', 'pkg'],
      ['user username=a username=b', 'username'],
      ['group groupname=a groupname=b', 'groupname'],
      ['driver name=a name=b', 'name'],
      ['depend type=require type=require-any fmri=foo', 'type'],
    ]) {
      assertFails(() => parseAction(line), 'BAD_MANIFEST', `'${key}=' more than once`);
    }
    // Lists are fine elsewhere: t_action.py's driver with two aliases.
    const driver = parseAction('driver alias=pci1234,56 alias=pci4567,89 class=scsi name=lsimega');
    assert.deepEqual(driver.attrs.alias, ['pci1234,56', 'pci4567,89']);
  });

  it("refuses attributes no action may have: 'data', and 'hash' on a type without payload (_actions.c)", () => {
    assertFails(() => parseAction(`file ${H1} path=/tmp/foo data=rubbish`), 'BAD_MANIFEST', "'data' is not allowed");
    assertFails(() => parseAction('set name=a value=b data=c'), 'BAD_MANIFEST', "'data' is not allowed");
    for (const type of ['set name=a value=b', 'dir path=a', 'link path=a target=b', 'depend type=require fmri=a'])
      assertFails(() => parseAction(`${type} hash=${H1}`), 'BAD_MANIFEST', 'has no payload, so no hash=');
    assert.equal(parseAction(`signature hash=abc algorithm=sha256 value=v`).hash, 'abc');
  });

  it('refuses what t_action.py test_action_errors refuses', () => {
    for (const line of [
      'moop bar=baz',
      'setbar=baz quux=quark',
      'moop',
      'setbar=baz',
      'file 12345 path=/tmp/foo name="foo bar',
      'file 12345 path=/tmp/foo name="foo bar\\',
      'file 12345 path=/tmp/foo "name=foo bar',
      'file 12345 path=/tmp/foo na"me=foo bar',
      'file 1234 path=/tmp/foo "foo"=bar',
      'file 1234 path=/tmp/foo =""',
      'file path=/tmp/foo =',
      'file 1234 path=/tmp/foo =',
      'file 1234 path=/tmp/foo ==',
      'file 1234 path=/tmp/foo broken=',
      'file 1234 path=/tmp/foo broken= ',
      'file 1234 path=/tmp/foo broken=\t',
      'file 1234 path=/tmp/foo broken',
      'file 1234 path=/tmp/foo bro ken',
      'file 1234 path=/tmp/foo\tbro\tken',
      "file 1234 path ='/tmp/foo",
      'file 1234 path\t=/tmp/foo',
      'depend type=unknown fmri=foo@1.0',
      'depend fmri=foo@1.0',
      'depend type=require',
      'depend type=require fmri=foo fmri=bar',
      'file 1234 owner=foo',
      'driver alias=pci1234,56 alias=pci4567,89 class=scsi',
      'file xyz789 hash=abc123 path=usr/bin/foo mode=0755 owner=root group=bin',
    ]) {
      // pkgsend reading, so that '12345' is a payload path, as pkg(5)'s parser takes any token.
      assert.throws(() => parseAction(line, 1, 'x', { pkgsend: true }), ImageError, line);
    }
    parseAction('file abc123 hash=abc123 path=usr/bin/foo mode=0755 owner=root group=bin', 1, 'x', { pkgsend: true });
  });

  it("parses, prints and parses back t_action.py's act_strings", () => {
    const strings = [
      'set name=foo value=foo',
      'set name=foo value=""',
      "set name=foo value=f'o'o",
      `set name=foo value='f"o "o'`,
      `set name=foo value='b"a "r' value='f"o "o'`,
      `set name=foo value='f"o \\' "o'`,
      `set name=foo value='"foo"'`,
      `set name=foo value='"bar"'value='"foo"'`,
      'set name=foo value=ab value="" value=c',
      'file 12345 name=foo attr=bar attr=bar path=/tmp/foo',
      'file 12345 name=foo     path=/tmp/foo attr=bar   ',
      'file 12345 name="foo bar"  attr="bar baz" path=/tmp/foo',
      "file 12345 name='f\\'o\\'o' value=bar path=/tmp/foo",
      'file 12345 name=foo\tvalue=bar path=/tmp/foo',
      'driver alias=pci1234,56 alias=pci4567,89 class=scsi name=lsimega',
      'signature 12345 algorithm=foo',
    ];
    for (const line of strings) {
      const a = parseAction(line, 1, 'x', { pkgsend: true });
      assert.deepEqual(parseAction(printAction(a), 1, 'x', { pkgsend: true }), a, line);
    }
    assert.equal(parseAction("file 12345 name='f\\'o\\'o' path=a", 1, 'x', { pkgsend: true }).attrs.name, "f'o'o");
    assert.equal(
      parseAction('file 12345 name=foo"bar"baz path=a', 1, 'x', { pkgsend: true }).attrs.name,
      'foo"bar"baz',
    );
  });
});

// pkgsend reads a source manifest's file and license payloads as src/modules/actions/__init__.py
// (internalizestr, set_action_data) does; pkg(5)'s own source manifests (src/pkg/manifests) are
// written so, e.g. `file path=usr/lib/brand/ipkg/attach mode=0755` and `license cr_Oracle license=cr_Oracle`.
describe('pkgsend manifests (payloads without a hash)', () => {
  const send = (line: string) => parseAction(line, 1, 'x', { pkgsend: true });

  it('reads a file or license without payload hash, or with NOHASH, as having none', () => {
    for (const line of ['file path=usr/bin/tool mode=0555', 'file NOHASH path=usr/bin/tool mode=0555']) {
      assert.deepEqual(send(line), { type: 'file', hash: null, attrs: { path: 'usr/bin/tool', mode: '0555' } });
    }
    assert.deepEqual(send('license license=CDDL path=lic/CDDL'), {
      type: 'license',
      hash: null,
      attrs: { license: 'CDDL', path: 'lic/CDDL' },
    });
  });

  it('reads any other positional token (or hash=) as the payload file, relative to the content directory', () => {
    assert.deepEqual(send('license lic_CDDL license=CDDL'), {
      type: 'license',
      hash: null,
      attrs: { license: 'CDDL' },
      payload: 'lic_CDDL',
    });
    assert.equal(send('file proto/bin/tool path=usr/bin/tool').payload, 'proto/bin/tool');
    assert.equal(send('file /proto/bin/tool path=usr/bin/tool').payload, 'proto/bin/tool');
    assert.equal(send('file hash="my payload" path=a').payload, 'my payload');
    assert.equal(printAction(send('file hash="my payload" path=a')), 'file hash="my payload" path=a');
    assert.equal(printAction(send('license lic_CDDL license=CDDL')), 'license lic_CDDL license=CDDL');
    assertFails(() => send('file ../outside path=a'), 'BAD_MANIFEST', "payload '../outside' contains '..'");
  });

  it('keeps a real hash as the payload hash', () => {
    assert.deepEqual(send(`file ${H1} path=a`), { type: 'file', hash: H1, attrs: { path: 'a' } });
    assert.equal(send(`file ${SHA1} path=a`).hash, SHA1);
  });

  it('refuses them outside pkgsend reading, saying where they belong', () => {
    assertFails(() => parseAction('file path=usr/bin/tool mode=0555'), 'BAD_MANIFEST', 'publish-manifest');
    assertFails(
      () => parseAction('license lic_CDDL license=CDDL'),
      'BAD_MANIFEST',
      "'lic_CDDL' is not a hash",
      '--dir',
    );
  });

  it('gives the line each action starts on', () => {
    const m = parseManifest('# c\nset name=a value=b\n\nfile path=x \\\n  mode=0644\nlicense l license=L\n', 'm', {
      pkgsend: true,
    });
    assert.deepEqual(m.lines, [2, 4, 6]);
    assert.equal(parseManifest('set name=a value=b\n').lines, undefined);
  });
});

describe('manifest lines', () => {
  it('skips comments and blank lines', () => {
    const m = parseManifest('# comment\n\n   \n\t# indented comment\nset name=a value=b\n#set name=c value=d\n');
    assert.equal(m.actions.length, 1);
    assert.deepEqual(m.actions[0].attrs, { name: 'a', value: 'b' });
    assert.deepEqual(parseManifest('').actions, []);
    assert.deepEqual(parseManifest('# only a comment').actions, []);
  });

  it('joins continued lines, dropping the leading blanks of each continuation', () => {
    const m = parseManifest('set name=pkg.summary \\\n    value="foo \\\n    bar"\ndir path=a\n');
    assert.equal(m.actions.length, 2);
    assert.deepEqual(m.actions[0].attrs, { name: 'pkg.summary', value: 'foo bar' });
  });

  it('reads a long value split into quoted pieces over continued lines', () => {
    const m = parseManifest('set name=pkg.description value="foo " \\\n      "bar baz"\n');
    assert.equal(m.actions[0].attrs.value, 'foo bar baz');
  });

  it('tolerates CRLF line ends, including on continued lines', () => {
    const lf = 'set name=a value="x y"\n# c\n\ndir path=usr \\\n  mode=0755\nset name=b value=c\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    assert.deepEqual(parseManifest(crlf), parseManifest(lf));
    assert.equal(parseManifest(crlf).actions.length, 3);
  });

  it('reads a manifest without a final newline', () => {
    assert.equal(parseManifest('set name=a value=b\nset name=c value=d').actions.length, 2);
  });
});

describe('errors name the line', () => {
  // Line numbers count comments, blank lines and continuation lines.
  const prefix = [
    '# header comment',
    'set name=pkg.fmri value=pkg://p/a@1.0',
    '',
    'dir path=usr mode=0755 \\',
    '    owner=root',
  ];
  const BAD_LINE = prefix.length + 1; // 6
  const withBad = (bad: string) => [...prefix, bad, 'dir path=usr/bin', ''].join('\n');
  const cases: Array<[string, string, string]> = [
    ['an unknown action type', 'frobnicate path=a', "unknown action type 'frobnicate'; expected one of set, file"],
    ['a file without path', `file ${H1} mode=0644`, "file action is missing 'path='"],
    ['a depend without type', 'depend fmri=pkg:/a', "depend action is missing 'type='"],
    ['a depend without fmri', 'depend type=require', "depend action is missing 'fmri='"],
    ['a bad depend type', 'depend type=requires fmri=pkg:/a', "depend type 'requires' is not one of require, optional"],
    ['a bad depend FMRI', 'depend type=require fmri=pkg:/a@1..2', "Invalid FMRI 'pkg:/a@1..2'"],
    ['an unterminated quote', 'set name=a value="b c', "unterminated quoted value for 'value'"],
    ['a bad mode', 'dir path=opt mode=0999', "mode '0999' is not an octal mode like 0644"],
    ['a bad hash', 'file 12345 path=opt/x', "payload hash '12345' is not a hash"],
    ['a repeated path', 'dir path=a path=b', "dir action has 'path=' more than once"],
    ['a bad preserve value', `file ${H1} path=a preserve=sometimes`, "preserve 'sometimes' is not one of true"],
  ];
  for (const [what, bad, message] of cases) {
    it(`reports ${what} as BAD_MANIFEST at line ${BAD_LINE}`, () => {
      const e = assertFails(
        () => parseManifest(withBad(bad), 'pkg.p5m'),
        'BAD_MANIFEST',
        `pkg.p5m: line ${BAD_LINE}: `,
        message,
      );
      assert.deepEqual(e.details, { source: 'pkg.p5m', line: BAD_LINE });
    });
  }

  it('reports a trailing continuation at the end of the text at its line', () => {
    assertFails(
      () => parseManifest('set name=a value=b\nset name=c \\\n', 'm'),
      'BAD_MANIFEST',
      'm: line 2: ',
      'continuation',
    );
    assertFails(
      () => parseManifest('set name=a value=b\nset name=c value=d \\\n', 'm'),
      'BAD_MANIFEST',
      'm: line 2: ',
      'continuation',
    );
    assertFails(() => parseManifest('set name=a value=b \\', 'm'), 'BAD_MANIFEST', 'm: line 1: ', 'continuation');
  });

  it('reports an error inside a continued action at the line the action starts on', () => {
    const text = 'set name=a value=b\ndir path=opt \\\n  owner=root \\\n  mode=bad\n';
    assertFails(() => parseManifest(text, 'm'), 'BAD_MANIFEST', 'm: line 2: ', "mode 'bad'");
  });

  it('counts lines the same with CRLF line ends', () => {
    assertFails(
      () => parseManifest(withBad('frobnicate').replace(/\n/g, '\r\n'), 'm'),
      'BAD_MANIFEST',
      `m: line ${BAD_LINE}: `,
    );
  });

  it('accepts octal modes with and without a leading zero, and special bits', () => {
    for (const mode of ['0644', '644', '0755', '04555', '2755', '01777', '0000']) {
      assert.equal(parseAction(`dir path=a mode=${mode}`).attrs.mode, mode);
    }
    for (const mode of ['0999', '12', '077777', 'rwxr-xr-x', '0x1ff', '']) {
      assertFails(() => parseAction(`dir path=a mode=${mode === '' ? '""' : mode}`), 'BAD_MANIFEST', 'mode');
    }
  });

  it('accepts every preserve value pkg(5) knows, including install-only', () => {
    for (const p of ['true', 'renameold', 'renamenew', 'legacy', 'abandon', 'install-only']) {
      assert.equal(parseAction(`file ${H1} path=a preserve=${p}`).attrs.preserve, p);
    }
  });

  it('accepts several fmri= only on require-any and group-any dependencies', () => {
    assert.deepEqual(values(parseAction('depend type=group-any fmri=a fmri=b fmri=c'), 'fmri'), ['a', 'b', 'c']);
    assertFails(
      () => parseAction('depend type=require fmri=a fmri=b'),
      'BAD_MANIFEST',
      "depend action has 'fmri=' more than once",
    );
    assertFails(() => parseAction('depend type=require-any fmri=a fmri=b@01'), 'BAD_MANIFEST', "Invalid FMRI 'b@01'");
  });

  it('requires the key attributes of every type', () => {
    for (const [line, key] of [
      ['set name=a other=b', 'value'],
      ['set value=a other=b', 'name'],
      ['dir mode=0755', 'path'],
      ['link path=a', 'target'],
      ['hardlink target=a', 'path'],
      [`license ${H1} path=x`, 'license'],
      ['legacy arch=i386', 'pkg'],
      ['user uid=1', 'username'],
      ['group gid=1', 'groupname'],
      ['driver alias=x', 'name'],
    ]) {
      assertFails(() => parseAction(line), 'BAD_MANIFEST', `is missing '${key}='`);
    }
  });
});

describe('image paths', () => {
  const badPaths: Array<[string, string]> = [
    ['../../x', "contains '..'"],
    ['a/../b', "contains '..'"],
    ['..', "contains '..'"],
    ['a//b', 'not normalised'],
    ['./a', 'not normalised'],
    ['a/.', 'not normalised'],
    ['usr/bin/', 'not normalised'],
    ['a\0b', 'NUL'],
  ];
  for (const [p, why] of badPaths) {
    for (const type of ['file', 'dir', 'link', 'hardlink'] as const) {
      it(`rejects ${type} path=${JSON.stringify(p)} as PATH_OUTSIDE_IMAGE with its line`, () => {
        const payload = type === 'file' ? ` ${H1}` : '';
        const target = type === 'link' || type === 'hardlink' ? ' target=x' : '';
        const text = `set name=a value=b\n\n${type}${payload} path="${p}"${target}\n`;
        const e = assertFails(() => parseManifest(text, 'm'), 'PATH_OUTSIDE_IMAGE', 'm: line 3: ', why);
        assert.deepEqual(e.details, { source: 'm', line: 3 });
      });
    }
  }

  it('rejects an empty path', () => {
    assertFails(() => parseAction('dir path=""'), 'PATH_OUTSIDE_IMAGE', 'is empty');
  });

  it('rejects hardlink targets that resolve outside the image, with the line', () => {
    for (const [p, target] of [
      ['etc/x', '../../../etc/shadow'],
      ['a', '../b'],
      ['a/b', '../../c'],
      ['a/b', '/../c'],
      ['a/b', '..'],
    ]) {
      assertFails(
        () => parseManifest(`\nhardlink path=${p} target=${target}`, 'm'),
        'PATH_OUTSIDE_IMAGE',
        'm: line 2: ',
        `hardlink target '${target}'`,
      );
    }
    assertFails(() => parseAction('hardlink path=a/b target=""'), 'BAD_MANIFEST', 'hardlink target is empty');
  });

  it('resolves hardlink targets against the link directory, or the image root when absolute', () => {
    const target = (p: string, t: string) => hardlinkTarget(parseAction(`hardlink path=${p} target=${t}`));
    assert.equal(target('usr/sbin/prtdiag', '../../usr/lib/platexec'), 'usr/lib/platexec');
    assert.equal(target('usr/bin/rksh93', 'ksh93'), 'usr/bin/ksh93');
    assert.equal(target('usr/bin/vi', '../../dev/cfg/bar2'), 'dev/cfg/bar2');
    assert.equal(target('usr/local/bin/hard-foo', '/usr/bin/foo'), 'usr/bin/foo');
    assert.equal(target('a/b/c', './../d/./e'), 'a/d/e');
    assert.equal(target('top', 'other'), 'other');
  });

  it('allows symlink targets that are absolute or climb with .., since they are only link text', () => {
    for (const t of ['/etc/shadow', '../../../../etc/shadow', '../lib/x', 'a/../../b', '.']) {
      assert.equal(parseAction(`link path=usr/bin/x target=${t}`).attrs.target, t);
    }
    assertFails(() => parseAction('link path=a target=""'), 'BAD_MANIFEST', 'link target is empty');
  });

  it('explains each path problem, and accepts ordinary relative paths', () => {
    for (const ok of [
      'a',
      'usr/bin/ls',
      '.hidden',
      '...',
      'a..b/c',
      'opt/svc/setup-chef:default',
      'usr/lib/rsc.io_!c!g!o_v1.0.0.txt',
    ]) {
      assert.equal(imagePathProblem(ok), null, ok);
    }
    assert.equal(imagePathProblem(''), 'is empty');
    assert.equal(imagePathProblem('a\0'), 'contains a NUL byte');
    assert.match(imagePathProblem('/a')!, /absolute; expected a path relative to the image root/);
    assert.match(imagePathProblem('a/../b')!, /expected a path inside the image/);
    assert.match(imagePathProblem('a//b')!, /not normalised/);
    assert.match(imagePathProblem('a/')!, /trailing/);
  });
});

describe('variants (appliesTo)', () => {
  const zone = (z: string) => ({ 'variant.opensolaris.zone': z, 'variant.arch': 'i386' });

  it('skips a global-zone action in a non-global zone and keeps it in the global zone', () => {
    const a = parseAction('file ' + H1 + ' path=usr/sbin/zoneadm variant.opensolaris.zone=global');
    assert.equal(appliesTo(a, zone('nonglobal')), false);
    assert.equal(appliesTo(a, zone('global')), true);
  });

  it('applies an action listing both values, and an untagged action, everywhere', () => {
    const both = parseAction('dir path=a variant.opensolaris.zone=global variant.opensolaris.zone=nonglobal');
    const untagged = parseAction('dir path=a');
    for (const z of ['global', 'nonglobal']) {
      assert.equal(appliesTo(both, zone(z)), true);
      assert.equal(appliesTo(untagged, zone(z)), true);
    }
    assert.equal(appliesTo(untagged, {}), true);
  });

  it('needs every variant tag to match', () => {
    const a = parseAction('dir path=a variant.opensolaris.zone=global variant.arch=sparc');
    assert.equal(appliesTo(a, zone('global')), false);
    assert.equal(appliesTo(a, { 'variant.opensolaris.zone': 'global', 'variant.arch': 'sparc' }), true);
  });

  it('leaves a variant the image does not set unconstrained', () => {
    assert.equal(
      appliesTo(parseAction('dir path=a variant.arch=sparc'), { 'variant.opensolaris.zone': 'global' }),
      true,
    );
  });

  it('treats an unset variant.debug.* as false', () => {
    const debug = parseAction('file ' + H1 + ' path=lib/libfoo.so.1 variant.debug.foo=true');
    const nodebug = parseAction('file ' + H1 + ' path=lib/libfoo.so.1 variant.debug.foo=false');
    assert.equal(appliesTo(debug, {}), false);
    assert.equal(appliesTo(nodebug, {}), true);
    assert.equal(appliesTo(debug, { 'variant.debug.foo': 'true' }), true);
    assert.equal(appliesTo(nodebug, { 'variant.debug.foo': 'true' }), false);
  });

  it('ignores facets, and set actions that merely declare a variant', () => {
    assert.equal(appliesTo(parseAction('dir path=a facet.doc.man=true'), zone('global')), true);
    assert.equal(
      appliesTo(parseAction('set name=variant.opensolaris.zone value=global value=nonglobal'), zone('nonglobal')),
      true,
    );
  });
});

describe('actionKey, actionsEqual and manifestFmri', () => {
  it('keys each action by the attribute pkg(5) uses', () => {
    const keys: Array<[string, string | null]> = [
      ['set name=pkg.summary value=x', 'pkg.summary'],
      [`file ${H1} path=usr/bin/x`, 'usr/bin/x'],
      ['dir path=usr', 'usr'],
      ['link path=a target=b', 'a'],
      ['hardlink path=c target=b', 'c'],
      ['depend type=require fmri=pkg:/a@1', 'pkg:/a@1'],
      ['depend type=require-any fmri=pkg:/a fmri=pkg:/b', 'pkg:/a'],
      [`license ${H1} license=CDDL`, 'CDDL'],
      ['legacy pkg=SUNWcs', 'SUNWcs'],
      ['user username=u', 'u'],
      ['group groupname=g', 'g'],
      ['driver name=zcons', 'zcons'],
      ['signature algorithm=sha256', null],
    ];
    for (const [line, key] of keys) assert.equal(actionKey(parseAction(line)), key, line);
  });

  it('ignores attribute order and list order when comparing actions', () => {
    const a = parseAction(`file ${H1} path=a mode=0644 owner=root facet.x=1 alias=p alias=q`);
    const b = parseAction(`file ${H1} alias=q owner=root alias=p facet.x=1 mode=0644 path=a`);
    assert.ok(actionsEqual(a, b));
    assert.ok(actionsEqual(b, a));
    assert.ok(actionsEqual(a, a));
  });

  it('tells actions apart by type, hash, a value, a missing attribute or list contents', () => {
    const base = parseAction(`file ${H1} path=a mode=0644 alias=p alias=q`);
    const different = [
      `file ${H2} path=a mode=0644 alias=p alias=q`,
      `file ${H1} path=a mode=0755 alias=p alias=q`,
      `file ${H1} path=a alias=p alias=q`,
      `file ${H1} path=a mode=0644 alias=p alias=q extra=1`,
      `file ${H1} path=a mode=0644 alias=p alias=r`,
      `file ${H1} path=a mode=0644 alias=p alias=q alias=q`,
      `file ${H1} path=a mode=0644 alias=p`,
      `file ${H1} path=a mode2=0644 alias=p alias=q`,
    ];
    for (const line of different) assert.ok(!actionsEqual(base, parseAction(line)), line);
    assert.ok(!actionsEqual(parseAction('link path=a target=b'), parseAction('hardlink path=a target=b')));
    assert.ok(
      !actionsEqual(parseAction(`file ${H1} path=a p=x p=x p=y`), parseAction(`file ${H1} path=a p=x p=y p=y`)),
    );
  });

  it('finds the package FMRI declared by set name=pkg.fmri', () => {
    const m = parseManifest(
      'set name=pkg.summary value=x\nset name=pkg.fmri value=pkg://omnios/system/zones@0.5.11,5.11-151046.0:20230503T121526Z\n',
    );
    const f = manifestFmri(m);
    assert.equal(f?.publisher, 'omnios');
    assert.equal(f?.name, 'system/zones');
    assert.equal(f?.version?.toString(), '0.5.11,5.11-151046.0:20230503T121526Z');
    assert.equal(manifestFmri(parseManifest('set name=pkg.summary value=x\n')), null);
  });

  it('throws BAD_FMRI when the declared package FMRI is malformed', () => {
    assertFails(
      () => manifestFmri(parseManifest('set name=pkg.fmri value=a@1..2\n')),
      'BAD_FMRI',
      "'a@1..2'",
      'expected',
    );
  });
});

describe('fixtures written the way pkg(5) writes manifests', () => {
  it('has the fixtures this suite expects', () => {
    assert.deepEqual(fixtureNames, [
      'core-zones.p5m',
      'every-action.p5m',
      'incorporation-entire.p5m',
      'userland-web-server.p5m',
    ]);
  });

  for (const name of fixtureNames) {
    it(`${name}: parse, print and parse again gives the same manifest, and printing is stable`, () => {
      const first = parseManifest(fixture(name), name);
      assert.ok(first.actions.length > 0);
      const printed = printManifest(first);
      const second = parseManifest(printed, name);
      assert.deepEqual(second, first);
      assert.equal(printManifest(second), printed);
      first.actions.forEach((a, i) => assert.ok(actionsEqual(a, second.actions[i])));
      for (const a of first.actions) assert.deepEqual(parseAction(printAction(a)), a);
    });
  }

  it('reads a published userland manifest: SHA-1 payloads, content hashes, facets, preserve', () => {
    const m = parseManifest(fixture('userland-web-server.p5m'), 'userland-web-server.p5m');
    const count = (t: string) => m.actions.filter((a) => a.type === t).length;
    assert.deepEqual(
      [count('set'), count('dir'), count('file'), count('link'), count('license'), count('depend')],
      [12, 3, 7, 1, 1, 4],
    );
    assert.equal(
      manifestFmri(m)?.toString(),
      'pkg://openindiana.org/web/server/tinyhttpd@1.18.0,5.11-2020.0.1.0:20200421T195136Z',
    );
    const bin = m.actions.find((a) => actionKey(a) === 'usr/sbin/tinyhttpd')!;
    assert.equal(payloadHashAlgorithm(bin.hash!), 'sha1');
    assert.equal(values(bin, 'pkg.content-hash').length, 4);
    assert.match(values(bin, 'pkg.content-hash')[0], /^gelf:sha512t_256:[0-9a-f]{64}$/);
    assert.equal(
      attr(
        m.actions.find((a) => actionKey(a) === 'etc/tinyhttpd/tinyhttpd.conf')!,
        'preserve',
      ),
      'renamenew',
    );
    const classification = m.actions.find((a) => actionKey(a) === 'info.classification')!;
    assert.equal(
      attr(classification, 'value'),
      'org.opensolaris.category.2008:Web Services/Application and Web Servers',
    );
  });

  it('reads a published core manifest and selects the actions of each zone type', () => {
    const m = parseManifest(fixture('core-zones.p5m'), 'core-zones.p5m');
    assert.equal(m.actions.length, 37);
    const global = m.actions.filter((a) =>
      appliesTo(a, { 'variant.opensolaris.zone': 'global', 'variant.arch': 'i386' }),
    );
    const nonglobal = m.actions.filter((a) =>
      appliesTo(a, { 'variant.opensolaris.zone': 'nonglobal', 'variant.arch': 'i386' }),
    );
    assert.equal(global.length, 36, 'everything but the parent dependency');
    assert.equal(nonglobal.length, 24, '13 of the 37 actions are global-zone only');
    assert.ok(nonglobal.some((a) => a.type === 'depend' && a.attrs.type === 'parent'));
    assert.ok(!nonglobal.some((a) => actionKey(a) === 'usr/sbin/zoneadm'));
    const index = m.actions.find((a) => actionKey(a) === 'etc/zones/index')!;
    assert.equal(attr(index, 'original_name'), 'SUNWzoneu:etc/zones/index');
    const description = m.actions.find((a) => actionKey(a) === 'pkg.description')!;
    assert.equal(
      attr(description, 'value'),
      'Solaris Zones configuration and administration, including the "ipkg" and "lipkg" brands',
    );
    const any = m.actions.find((a) => a.type === 'depend' && a.attrs.type === 'require-any')!;
    assert.deepEqual(values(any, 'fmri'), ['pkg:/system/kernel/platform', 'pkg:/system/kernel/platform/virtual']);
    const hl = m.actions.find((a) => a.type === 'hardlink')!;
    assert.equal(hardlinkTarget(hl), 'usr/sbin/zlogin');
    const sig = m.actions.find((a) => a.type === 'signature')!;
    assert.equal(actionKey(sig), null);
    assert.equal(values(sig, 'chain')[0].split(' ').length, 2);
    const drv = m.actions.find((a) => actionKey(a) === 'vioblk')!;
    assert.deepEqual(values(drv, 'alias'), ['pci1af4,1001', 'pciex1af4,1042']);
    assert.equal(
      attr(
        m.actions.find((a) => a.type === 'legacy')!,
        'vendor',
      ),
      'Sun Microsystems, Inc.',
    );
  });

  it('reads an incorporation with facet-tagged, zone-tagged and parent dependencies', () => {
    const m = parseManifest(fixture('incorporation-entire.p5m'), 'incorporation-entire.p5m');
    const deps = m.actions.filter((a) => a.type === 'depend');
    assert.equal(deps.length, 13);
    const byType = (t: string) => deps.filter((a) => a.attrs.type === t).length;
    assert.deepEqual(['require', 'incorporate', 'group', 'optional', 'parent'].map(byType), [4, 6, 1, 1, 1]);
    const locked = deps.find((a) => a.attrs['facet.version-lock.system/library'] === 'true')!;
    assert.equal(attr(locked, 'fmri'), 'pkg://omnios/system/library@0.5.11,5.11-151046.0:20230503T104532Z');
    const partial = { 'variant.opensolaris.zone': 'global', 'variant.opensolaris.imagetype': 'partial' };
    assert.equal(
      deps.filter((a) => appliesTo(a, partial)).length,
      11,
      'no loader and no parent dependency in a partial global image',
    );
  });

  it('reads the hand-written source form: comments, continuations, quoted pieces and hash=', () => {
    const m = parseManifest(fixture('every-action.p5m'), 'every-action.p5m');
    assert.deepEqual([...new Set(m.actions.map((a) => a.type))].sort(), [
      'depend',
      'dir',
      'driver',
      'file',
      'group',
      'hardlink',
      'legacy',
      'license',
      'link',
      'set',
      'signature',
      'user',
    ]);
    const desc = m.actions.find((a) => actionKey(a) === 'pkg.description')!;
    assert.equal(attr(desc, 'value'), 'It\'s "single" quoted and continued over three lines');
    const summary = m.actions.find((a) => actionKey(a) === 'pkg.summary')!;
    assert.equal(attr(summary, 'value'), 'An example with "escaped" quotes and a back\\slash');
    const conf = m.actions.find((a) => actionKey(a) === 'opt/every/every.conf')!;
    assert.match(conf.hash!, /^[0-9a-f]{64}$/);
    assert.deepEqual(conf.attrs, {
      path: 'opt/every/every.conf',
      owner: 'root',
      group: 'bin',
      mode: '0644',
      preserve: 'renameold',
      overlay: 'allow',
      'variant.arch': 'i386',
    });
    assert.deepEqual(
      values(
        m.actions.find((a) => actionKey(a) === 'info.keywords')!,
        'value',
      ),
      ['one', 'two words', 'three', ''],
    );
    assert.equal(
      attr(
        m.actions.find((a) => a.type === 'driver')!,
        'policy',
      ),
      'read_priv_set=net_rawaccess write_priv_set=net_rawaccess',
    );
    assert.equal(
      m.actions.find((a) => a.type === 'depend' && a.attrs.type === 'parent')?.attrs.fmri,
      'feature/package/dependency/self',
    );
  });
});

describe('printing', () => {
  it('round-trips awkward values through printAction and parseAction', () => {
    const awkward = [
      '',
      ' ',
      'plain',
      'two words',
      'a "b" c',
      "it's",
      `both ' and "`,
      'back\\slash',
      'ends with \\',
      '\\"',
      'tab\there',
      'a=b',
      '#not a comment',
      '"leading quote',
      "'leading single",
      'ünïcödé',
      'nbsp\u00a0inside',
      'many   spaces',
    ];
    for (const v of awkward) {
      const a: Action = { type: 'set', hash: null, attrs: { name: 'x', value: v } };
      assert.deepEqual(parseAction(printAction(a)), a, JSON.stringify(v));
    }
    const list: Action = { type: 'set', hash: null, attrs: { name: 'x', value: awkward } };
    assert.deepEqual(parseAction(printAction(list)), list);
  });

  it('prints one action per line, ending in a newline, and nothing for an empty manifest', () => {
    const m = parseManifest('set name=a value=b\ndir path=c\n');
    assert.equal(printManifest(m), 'set name=a value=b\ndir path=c\n');
    assert.equal(printManifest({ actions: [] }), '');
    assert.equal(printAction(parseAction(`file hash=${H1} path=a v="x y" v=z`)), `file ${H1} path=a v="x y" v=z`);
  });
});

describe('parseManifestOnce (parsed manifests kept by digest)', () => {
  it('parses a digest once, parses another digest afresh, and never keeps a manifest that failed to parse', () => {
    const text = 'set name=pkg.fmri value=pkg://t/a@1.0\ndir path=opt mode=0755\n';
    const first = parseManifestOnce(text, 'd1', 'a');
    assert.equal(parseManifestOnce(text, 'd1', 'a'), first, 'the same parse is handed out again');
    assert.notEqual(parseManifestOnce(text, 'd2', 'a'), first);
    assert.deepEqual(parseManifestOnce(text, 'd2', 'a'), first);
    assert.throws(
      () => parseManifestOnce('dir path=a/../b\n', 'd3', 'bad'),
      /bad: line 1: path 'a\/..\/b' contains '..'/,
    );
    assert.throws(
      () => parseManifestOnce('dir path=a/../b\n', 'd3', 'bad'),
      /contains '..'/,
      'still refused: failures are not kept',
    );
    clearManifestMemo();
    assert.notEqual(parseManifestOnce(text, 'd1', 'a'), first, 'cleared');
  });
});
