import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fmri, Version } from '../src/model/fmri';
import { ImageError } from '../src/model/errors';
import { ParentState } from '../src/model/parent-constraint';
import { Candidate, solve, SolveInput } from '../src/model/solver';
import { isCode } from './helpers/expect-error';

/** `name@version` plus its `depend` actions as `type:fmri[|fmri...]`, e.g. 'require:lib@1.1'. */
function cand(fmri: string, ...depends: string[]): Candidate {
  return {
    fmri: Fmri.parse(`pkg://test/${fmri}`),
    depends: depends.map((d) => {
      const colon = d.indexOf(':');
      return { type: d.slice(0, colon), fmri: d.slice(colon + 1).split('|') };
    }),
    manifest: `digest-of-${fmri}`,
    installed: false,
  };
}

/**
 * A solve over a catalog (candidates in any order; `available` gives them newest first, as
 * the plan stage does) and the installed `name@version`s, which must be in the catalog.
 */
function run(opts: {
  catalog: Candidate[];
  installed?: string[];
  update?: string[];
  install?: string[];
  remove?: string[];
  parent?: Record<string, string>;
}): Map<string, Candidate> {
  const byStem = new Map<string, Candidate[]>();
  for (const c of opts.catalog) byStem.set(c.fmri.name, [...(byStem.get(c.fmri.name) ?? []), c]);
  for (const list of byStem.values()) list.sort((a, b) => b.fmri.version!.compare(a.fmri.version!));
  const installed = new Map<string, Candidate>();
  for (const i of opts.installed ?? []) {
    const c = opts.catalog.find((x) => x.fmri.toShortString() === i);
    assert.ok(c, `installed ${i} is in the catalog`);
    installed.set(c.fmri.name, { ...c, installed: true });
  }
  const input: SolveInput = {
    installed,
    available: (stem) => byStem.get(stem) ?? [],
    update: new Set(opts.update ?? []),
    install: (opts.install ?? []).map((s) => {
      const at = s.indexOf('@');
      return at === -1 ? { stem: s, version: null } : { stem: s.slice(0, at), version: Version.parse(s.slice(at + 1)) };
    }),
    remove: new Set(opts.remove ?? []),
    parent: opts.parent
      ? ({
          packages: Object.fromEntries(Object.entries(opts.parent).map(([s, v]) => [s, `pkg://test/${s}@${v}`])),
        } satisfies ParentState)
      : null,
  };
  return solve(input);
}

/** The answer as sorted `name@version`s. */
const picked = (m: Map<string, Candidate>) => [...m.values()].map((c) => c.fmri.toShortString()).sort();

/** The UNSATISFIABLE error's reasons (details.reasons), after checking its code and shape. */
function reasonsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ImageError, String(e));
    assert.equal(e.code, 'UNSATISFIABLE', e.message);
    assert.equal(e.retryable, false);
    const reasons = (e.details as { reasons: string[] }).reasons;
    assert.equal(e.message, `No solution was found for the requested update:\n  ${reasons.join('\n  ')}`);
    return reasons;
  }
  assert.fail('expected solve to throw UNSATISFIABLE');
}

const A = [cand('a@1.0'), cand('a@1.1'), cand('a@1.2')];

describe('solve: version selection', () => {
  it('moves a package named in `update` to its newest available version', () => {
    assert.deepEqual(picked(run({ catalog: A, installed: ['a@1.0'], update: ['a'] })), ['a@1.2']);
  });

  it('keeps an installed package not named in the request where it is', () => {
    assert.deepEqual(
      picked(run({ catalog: [...A, cand('b@1.0'), cand('b@2.0')], installed: ['a@1.0', 'b@1.0'], update: ['b'] })),
      ['a@1.0', 'b@2.0'],
    );
  });

  it('never downgrades: older catalog versions are not candidates for an installed package', () => {
    assert.deepEqual(picked(run({ catalog: A, installed: ['a@1.2'], update: ['a'] })), ['a@1.2']);
  });

  it('returns the installed candidate object itself for a package that stays', () => {
    const m = run({ catalog: A, installed: ['a@1.1'] });
    assert.equal(m.get('a')!.installed, true);
  });

  it('installs a new package at its newest version when no version is requested', () => {
    assert.deepEqual(picked(run({ catalog: A, install: ['a'] })), ['a@1.2']);
  });

  it('matches a requested version at the precision given (1.1 matches 1.1.5, not 1.2)', () => {
    const catalog = [cand('a@1.0'), cand('a@1.1'), cand('a@1.1.5'), cand('a@1.2')];
    assert.deepEqual(picked(run({ catalog, install: ['a@1.1'] })), ['a@1.1.5']);
  });

  it('moves an installed package to a requested version named in `install`', () => {
    assert.deepEqual(picked(run({ catalog: A, installed: ['a@1.0'], install: ['a@1.1'] })), ['a@1.1']);
  });

  it('refuses a requested version no candidate matches, listing what is available', () => {
    const reasons = reasonsOf(() => run({ catalog: A, install: ['a@2'] }));
    assert.ok(reasons.includes("No version of 'a' matches 2; available: 1.2, 1.1, 1.0"), reasons.join('\n'));
    assert.ok(reasons.includes("No version of 'a' can be installed"), reasons.join('\n'));
  });

  it('refuses a requested version older than the installed one, listing only the versions it may move to (no downgrade)', () => {
    const reasons = reasonsOf(() => run({ catalog: A, installed: ['a@1.1'], install: ['a@1.0'] }));
    assert.ok(reasons.includes("No version of 'a' matches 1.0; available: 1.2, 1.1"), reasons.join('\n'));
  });

  it('refuses to install a package no catalog has, with UNKNOWN_PACKAGE', () => {
    assert.throws(
      () => run({ catalog: A, install: ['nope'] }),
      isCode('UNKNOWN_PACKAGE', "No package 'nope' in the catalogs of the image's enabled publishers"),
    );
  });

  it('removes an installed package named in `remove`', () => {
    assert.deepEqual(picked(run({ catalog: [...A, cand('b@1.0')], installed: ['a@1.0', 'b@1.0'], remove: ['b'] })), [
      'a@1.0',
    ]);
  });

  it('refuses to remove a package that is not installed, with UNKNOWN_PACKAGE', () => {
    assert.throws(
      () => run({ catalog: A, installed: ['a@1.0'], remove: ['b'] }),
      isCode('UNKNOWN_PACKAGE', "Cannot remove 'b': it is not installed"),
    );
  });

  it('returns an empty answer for an empty image and an empty request', () => {
    assert.equal(run({ catalog: A }).size, 0);
  });
});

describe('solve: require, optional, require-any and group dependencies', () => {
  it('brings in a required package that is not installed, at its newest version', () => {
    const catalog = [cand('app@1.0', 'require:lib@1.1'), cand('lib@1.0'), cand('lib@1.1'), cand('lib@1.3')];
    assert.deepEqual(picked(run({ catalog, install: ['app'] })), ['app@1.0', 'lib@1.3']);
  });

  it('moves an installed dependency only as far as the new minimum needs', () => {
    const catalog = [
      cand('app@1.0', 'require:lib@1.0'),
      cand('app@2.0', 'require:lib@1.1'),
      cand('lib@1.0'),
      cand('lib@1.1'),
      cand('lib@1.2'),
    ];
    assert.deepEqual(picked(run({ catalog, installed: ['app@1.0', 'lib@1.0'], update: ['app'] })), [
      'app@2.0',
      'lib@1.1',
    ]);
  });

  it('moves a dependency named in `update` to its newest version regardless of the minimum', () => {
    const catalog = [cand('app@2.0', 'require:lib@1.1'), cand('lib@1.0'), cand('lib@1.1'), cand('lib@1.2')];
    assert.deepEqual(picked(run({ catalog, installed: ['app@2.0', 'lib@1.0'], update: ['app', 'lib'] })), [
      'app@2.0',
      'lib@1.2',
    ]);
  });

  it('refuses a dependency that no enabled publisher provides', () => {
    const reasons = reasonsOf(() => run({ catalog: [cand('app@1.0', 'require:lib@1.0')], install: ['app'] }));
    assert.ok(reasons.includes('app@1.0 requires lib@1.0, which no enabled publisher provides'), reasons.join('\n'));
    // pkg(5) trims a version whose require cannot be met (pkg_solver.py _TRIM_DEP_MISSING): no app is left.
    assert.ok(reasons.includes("No version of 'app' can be installed"), reasons.join('\n'));
  });

  it('refuses to remove a package another installed package requires', () => {
    const catalog = [cand('app@1.0', 'require:lib@1.0'), cand('lib@1.0')];
    const reasons = reasonsOf(() => run({ catalog, installed: ['app@1.0', 'lib@1.0'], remove: ['lib'] }));
    assert.ok(reasons.includes("app@1.0 requires 'lib', which the request removes"), reasons.join('\n'));
  });

  it('does not install an optional dependency that is absent', () => {
    const catalog = [cand('app@1.0', 'optional:doc@1.0'), cand('doc@1.0')];
    assert.deepEqual(picked(run({ catalog, install: ['app'] })), ['app@1.0']);
  });

  it('treats an optional dependency that is installed as a minimum version', () => {
    const catalog = [
      cand('app@1.0'),
      cand('app@2.0', 'optional:doc@1.1'),
      cand('doc@1.0'),
      cand('doc@1.1'),
      cand('doc@1.2'),
    ];
    assert.deepEqual(picked(run({ catalog, installed: ['app@1.0', 'doc@1.0'], update: ['app'] })), [
      'app@2.0',
      'doc@1.1',
    ]);
  });

  it('ignores group dependencies (they never add packages)', () => {
    const catalog = [cand('app@1.0', 'group:extra'), cand('extra@1.0')];
    assert.deepEqual(picked(run({ catalog, install: ['app'] })), ['app@1.0']);
  });

  it('satisfies require-any with the first listed package that is available', () => {
    const catalog = [cand('app@1.0', 'require-any:missing@1|gawk@1|mawk@1'), cand('gawk@1.0'), cand('mawk@1.0')];
    assert.deepEqual(picked(run({ catalog, install: ['app'] })), ['app@1.0', 'gawk@1.0']);
  });

  it('satisfies require-any with any listed package already in the image', () => {
    const catalog = [cand('app@1.0', 'require-any:gawk@1|mawk@1'), cand('gawk@1.0'), cand('mawk@1.0')];
    assert.deepEqual(picked(run({ catalog, installed: ['mawk@1.0'], install: ['app'] })), ['app@1.0', 'mawk@1.0']);
  });

  it('refuses require-any when none of the listed packages is available', () => {
    const reasons = reasonsOf(() => run({ catalog: [cand('app@1.0', 'require-any:x@1|y@1')], install: ['app'] }));
    assert.ok(reasons.includes('app@1.0 requires one of x@1, y@1, none of which is available'), reasons.join('\n'));
  });
});

describe('solve: incorporate and exclude', () => {
  const LIB = [cand('lib@1.0'), cand('lib@1.1'), cand('lib@1.1.5'), cand('lib@1.2')];

  it('locks an incorporated package to the versions matching the incorporation', () => {
    const catalog = [cand('entire@1.0', 'incorporate:lib@1.1'), ...LIB];
    assert.deepEqual(picked(run({ catalog, installed: ['entire@1.0', 'lib@1.0'], update: ['lib'] })), [
      'entire@1.0',
      'lib@1.1.5',
    ]);
  });

  it('does not bring in an incorporated package that is not installed', () => {
    const catalog = [cand('entire@1.0', 'incorporate:lib@1.1'), ...LIB];
    assert.deepEqual(picked(run({ catalog, install: ['entire'] })), ['entire@1.0']);
  });

  it('falls back to an older incorporation when the newest cannot be satisfied', () => {
    const catalog = [cand('entire@1.0', 'incorporate:lib@1.1'), cand('entire@2.0', 'incorporate:lib@3.0'), ...LIB];
    assert.deepEqual(picked(run({ catalog, installed: ['entire@1.0', 'lib@1.0'], update: ['entire', 'lib'] })), [
      'entire@1.0',
      'lib@1.1.5',
    ]);
  });

  it('refuses an incorporation nothing satisfies, naming who needs what and what is available', () => {
    const catalog = [cand('entire@1.0', 'incorporate:lib@1.1'), cand('lib@1.2')];
    const reasons = reasonsOf(() => run({ catalog, installed: ['entire@1.0', 'lib@1.2'] }));
    assert.deepEqual(reasons, ['entire@1.0 needs lib@1.1 (incorporate); available: 1.2']);
  });

  it('keeps an excluded version and everything newer out', () => {
    const catalog = [cand('app@1.0', 'exclude:lib@1.1.5'), ...LIB];
    assert.deepEqual(picked(run({ catalog, installed: ['app@1.0', 'lib@1.0'], update: ['lib'] })), [
      'app@1.0',
      'lib@1.1',
    ]);
  });

  it('refuses when an exclude leaves the installed version no room (no downgrade)', () => {
    const catalog = [cand('app@2.0', 'exclude:lib@1.1'), ...LIB];
    const reasons = reasonsOf(() => run({ catalog, installed: ['app@2.0', 'lib@1.2'] }));
    assert.deepEqual(reasons, ['app@2.0 needs lib@1.1 (exclude); available: 1.2']);
  });
});

describe('solve: parent constraints of linked children (depend type=parent)', () => {
  const SELF = 'parent:feature/package/dependency/self';
  const SYS = [cand('sys@1.0', SELF), cand('sys@1.1', SELF), cand('sys@1.2', SELF)];

  it('syncs a parent-constrained package to the parent version even when not named in the request', () => {
    assert.deepEqual(picked(run({ catalog: SYS, installed: ['sys@1.0'], parent: { sys: '1.1' } })), ['sys@1.1']);
  });

  it('does not move a parent-constrained package past the parent version when asked to update it', () => {
    assert.deepEqual(picked(run({ catalog: SYS, installed: ['sys@1.0'], update: ['sys'], parent: { sys: '1.1' } })), [
      'sys@1.1',
    ]);
  });

  it('leaves packages without a parent dependency free to move beyond the parent', () => {
    const catalog = [...SYS, cand('tool@1.0'), cand('tool@2.0')];
    assert.deepEqual(
      picked(run({ catalog, installed: ['sys@1.1', 'tool@1.0'], update: ['tool'], parent: { sys: '1.1' } })),
      ['sys@1.1', 'tool@2.0'],
    );
  });

  it('installs a new parent-constrained package at the parent version', () => {
    assert.deepEqual(picked(run({ catalog: SYS, install: ['sys'], parent: { sys: '1.1' } })), ['sys@1.1']);
  });

  it('refuses a parent-constrained package the parent does not have', () => {
    const reasons = reasonsOf(() => run({ catalog: SYS, install: ['sys'], parent: {} }));
    assert.ok(reasons.includes("sys@1.2: Package 'sys' is not installed in the parent image"), reasons.join('\n'));
    assert.ok(reasons.includes("No version of 'sys' satisfies the parent image"), reasons.join('\n'));
  });

  it('refuses when the parent is older than the child (a child is never downgraded)', () => {
    const reasons = reasonsOf(() => run({ catalog: SYS, installed: ['sys@1.2'], parent: { sys: '1.0' } }));
    assert.ok(reasons.includes('sys@1.2: Parent has older version sys@1.0 than sys@1.2'), reasons.join('\n'));
  });

  it('refuses when the parent has a version the catalog lacks, saying the parent is newer', () => {
    const reasons = reasonsOf(() => run({ catalog: SYS, installed: ['sys@1.0'], parent: { sys: '1.5' } }));
    assert.ok(reasons.includes('sys@1.2: Parent has newer version sys@1.5 than sys@1.2'), reasons.join('\n'));
  });

  it('checks a parent dependency on another package against its minimum version', () => {
    const catalog = [cand('zonetool@1.0', 'parent:kernel@1.0'), cand('zonetool@2.0', 'parent:kernel@2.0')];
    assert.deepEqual(picked(run({ catalog, install: ['zonetool'], parent: { kernel: '1.5' } })), ['zonetool@1.0']);
    assert.deepEqual(picked(run({ catalog, install: ['zonetool'], parent: { kernel: '2.0' } })), ['zonetool@2.0']);
  });

  it('ignores parent dependencies when solving for an image that is not a child', () => {
    assert.deepEqual(picked(run({ catalog: SYS, installed: ['sys@1.0'], update: ['sys'] })), ['sys@1.2']);
  });
});
