import { ImageError } from './errors';
import { Fmri, Version } from './fmri';
import { ParentState, parentConstraintProblem } from './parent-constraint';

/** One installable version of a package, as the catalog (or the installed manifest) describes it. */
export interface Candidate {
  fmri: Fmri; // always with publisher and version
  /** `facets`: the depend action's facet tags; the caller drops the ones the image's facets exclude. */
  depends: { type: string; fmri: string[]; facets?: Record<string, string> }[];
  manifest: string; // digest of the manifest text
  installed: boolean;
  /** pkg.obsolete=true: a version with no content; selecting it removes the package. */
  obsolete?: boolean;
  /** pkg.renamed=true: a version with no content that requires its new name. */
  renamed?: boolean;
}

export interface SolveInput {
  installed: ReadonlyMap<string, Candidate>;
  /** Candidates for a stem, newest first, already limited to what the image may use (publisher, variants). */
  available: (stem: string) => Candidate[];
  /** Installed stems allowed to move; the others stay unless a parent constraint forces them. */
  update: ReadonlySet<string>;
  install: { stem: string; version: Version | null }[];
  remove: ReadonlySet<string>;
  /** Set for child images: `depend type=parent` is checked against it. */
  parent: ParentState | null;
}

interface Bound {
  by: Fmri;
  kind: 'require' | 'optional' | 'incorporate' | 'exclude';
  version: Version | null;
}

/**
 * Chooses the newest allowed version of every package in the resulting image.
 * Domains are filtered up front by what does not depend on other choices (no downgrade,
 * requested version, parent constraint); then a fixpoint applies the constraints the selected
 * versions put on each other (require/optional minimums, incorporate locks, excludes). When a
 * package has no version left that fits, the newest constraining version that can still move
 * is dropped from its own domain and the loop runs again: each round removes one candidate,
 * so it ends, and the answer prefers newer versions of the constraining packages.
 */
export function solve(input: SolveInput): Map<string, Candidate> {
  const reasons: string[] = [];
  const domains = new Map<string, Candidate[]>();
  const explicitInstall = new Set(input.install.map((i) => i.stem));

  const parentFilter = (stem: string, cands: Candidate[]): Candidate[] => {
    if (!input.parent) return cands;
    const ok = cands.filter((c) => parentProblems(c, input.parent!).length === 0);
    if (ok.length === 0 && cands.length > 0) {
      for (const c of cands.slice(0, 3))
        for (const p of parentProblems(c, input.parent)) reasons.push(`${c.fmri.toShortString()}: ${p}`);
      reasons.push(`No version of '${stem}' satisfies the parent image`);
    }
    return ok;
  };

  for (const stem of input.remove) {
    if (!input.installed.has(stem))
      throw new ImageError('UNKNOWN_PACKAGE', `Cannot remove '${stem}': it is not installed`, { stem });
  }
  const wanted = new Map(input.install.map((i) => [i.stem, i.version]));
  for (const [stem, inst] of input.installed) {
    if (input.remove.has(stem)) continue;
    const newer = input.available(stem).filter((c) => c.fmri.version!.compare(inst.fmri.version!) > 0);
    const movable = input.update.has(stem) || explicitInstall.has(stem);
    // A package not named in the request stays where it is unless something selected needs it
    // newer (pkg(5) moves dependencies as far as needed): its preference runs the other way.
    let dom = movable ? [...newer, inst] : [inst, ...[...newer].reverse()];
    if (input.parent && parentProblems(inst, input.parent).length > 0) dom = [...newer, inst]; // a parent change forces a sync
    const version = wanted.get(stem);
    if (version) {
      const matching = dom.filter((c) => c.fmri.version!.matches(version));
      if (matching.length === 0)
        reasons.push(
          `No version of '${stem}' matches ${version}; available: ${dom.map((c) => c.fmri.version).join(', ')}`,
        );
      dom = matching;
    }
    domains.set(stem, parentFilter(stem, trimUnsatisfiable(dom, input, reasons)));
  }
  for (const want of input.install) {
    if (input.installed.has(want.stem)) continue;
    const all = input.available(want.stem);
    if (all.length === 0)
      throw new ImageError(
        'UNKNOWN_PACKAGE',
        `No package '${want.stem}' in the catalogs of the image's enabled publishers`,
        { stem: want.stem },
      );
    const versionMatches = want.version ? all.filter((c) => c.fmri.version!.matches(want.version!)) : all;
    if (versionMatches.length === 0)
      reasons.push(
        `No version of '${want.stem}' matches ${want.version}; available: ${all.map((c) => c.fmri.version).join(', ')}`,
      );
    // pkg(5): an obsolete version installs nothing, so it is no answer to a request to install.
    const matching = versionMatches.filter((c) => !c.obsolete);
    if (versionMatches.length > 0 && matching.length === 0)
      reasons.push(`All versions of '${want.stem}'${want.version ? ' matching ' + want.version : ''} are obsolete`);
    domains.set(want.stem, parentFilter(want.stem, trimUnsatisfiable(matching, input, reasons)));
  }

  const selected = new Map<string, Candidate>();
  const budget = 10 + [...domains.values()].reduce((n, d) => n + d.length, 0) * 4;
  for (let round = 0; ; round++) {
    if (round > budget) throw unsatisfiable(['The constraints did not settle on one answer'], reasons);
    for (const [stem, dom] of domains) {
      if (dom.length === 0) throw unsatisfiable([`No version of '${stem}' can be installed`], reasons);
    }
    const bounds = new Map<string, Bound[]>();
    let grew = false;
    const current = (stem: string) => selected.get(stem) ?? domains.get(stem)?.[0];
    for (const stem of [...domains.keys()]) {
      const c = current(stem)!;
      for (const d of c.depends) grew = applyDependency(c, d, domains, bounds, input, reasons) || grew;
    }
    if (grew) continue;
    let changed = false;
    let conflict: { stem: string; bounds: Bound[] } | null = null;
    for (const [stem, dom] of domains) {
      const bs = bounds.get(stem) ?? [];
      const pick = dom.find((c) => bs.every((b) => fitsCandidate(c, b)));
      if (!pick) {
        conflict = { stem, bounds: bs };
        break;
      }
      if (selected.get(stem) !== pick) {
        selected.set(stem, pick);
        changed = true;
      }
    }
    if (conflict) {
      const movable = conflict.bounds
        .map((b) => b.by)
        .filter((by) => (domains.get(by.name)?.length ?? 0) > 1)
        .sort((a, b) => b.version!.compare(a.version!));
      if (movable.length === 0) {
        throw unsatisfiable(
          conflict.bounds.map(
            (b) =>
              `${b.by.toShortString()} needs ${conflict!.stem}${b.version ? '@' + b.version : ''} (${b.kind}); available: ${(domains.get(conflict!.stem) ?? []).map((c) => c.fmri.version).join(', ') || 'none'}`,
          ),
          reasons,
        );
      }
      const drop = movable[0];
      const dom = domains.get(drop.name)!;
      domains.set(
        drop.name,
        dom.filter((c) => c.fmri !== current(drop.name)!.fmri),
      );
      selected.delete(drop.name);
      continue;
    }
    if (!changed) break;
  }
  return withoutObsoleteAndRenamed(selected);
}

/** Adds bounds for one dependency; returns true when it brought a new package into the image. */
function applyDependency(
  c: Candidate,
  d: { type: string; fmri: string[] },
  domains: Map<string, Candidate[]>,
  bounds: Map<string, Bound[]>,
  input: SolveInput,
  reasons: string[],
): boolean {
  const bound = (stem: string, b: Bound) => {
    const list = bounds.get(stem);
    if (list) list.push(b);
    else bounds.set(stem, [b]);
  };
  const one = Fmri.parse(d.fmri[0]);
  switch (d.type) {
    case 'require': {
      if (!domains.has(one.name)) {
        if (input.remove.has(one.name)) {
          reasons.push(`${c.fmri.toShortString()} requires '${one.name}', which the request removes`);
          domains.set(one.name, []);
          return true;
        }
        const acceptable = input
          .available(one.name)
          .filter(
            (x) => !one.version || x.fmri.version!.compare(one.version) >= 0 || x.fmri.version!.matches(one.version),
          );
        const avail = trimUnsatisfiable(
          acceptable.filter((x) => !x.obsolete),
          input,
          reasons,
        );
        if (acceptable.length === 0)
          reasons.push(
            `${c.fmri.toShortString()} requires ${one.toShortString()}, which no enabled publisher provides`,
          );
        else if (!acceptable.some((x) => !x.obsolete))
          reasons.push(
            `${c.fmri.toShortString()} requires ${one.toShortString()}, but all acceptable versions of '${one.name}' are obsolete`,
          );
        domains.set(one.name, avail);
        return true;
      }
      bound(one.name, { by: c.fmri, kind: 'require', version: one.version });
      return false;
    }
    case 'optional':
    case 'group':
      if (domains.has(one.name) && d.type === 'optional')
        bound(one.name, { by: c.fmri, kind: 'optional', version: one.version });
      return false;
    case 'incorporate':
      if (domains.has(one.name) && one.version)
        bound(one.name, { by: c.fmri, kind: 'incorporate', version: one.version });
      return false;
    case 'exclude':
      if (domains.has(one.name)) bound(one.name, { by: c.fmri, kind: 'exclude', version: one.version });
      return false;
    case 'require-any': {
      const any = d.fmri.map((f) => Fmri.parse(f));
      if (any.some((f) => domains.has(f.name))) return false;
      const first = any.find((f) => input.available(f.name).length > 0);
      if (!first) {
        reasons.push(`${c.fmri.toShortString()} requires one of ${d.fmri.join(', ')}, none of which is available`);
        domains.set(any[0].name, []);
      } else
        domains.set(
          first.name,
          input.available(first.name).filter((x) => !x.obsolete),
        );
      return true;
    }
    default:
      return false; // parent: filtered up front; conditional/origin: not modelled
  }
}

/** fits, and pkg(5)'s rule that an obsolete version satisfies no require dependency. */
function fitsCandidate(c: Candidate, b: Bound): boolean {
  if (c.obsolete && b.kind === 'require') return false;
  return fits(c.fmri.version!, b);
}

/**
 * Drops the candidates (never an installed one) with a require dependency nothing can
 * satisfy: no enabled publisher has an acceptable version, or every acceptable one is
 * obsolete, and no installed version fits (pkg(5) trims them the same way, _TRIM_DEP_MISSING
 * and _TRIM_DEP_OBSOLETE in pkg_solver.py). So an update settles on the newest version whose
 * dependencies exist instead of failing on the newest. A dependency on a package the request
 * removes is left to the solve, which names it.
 */
function trimUnsatisfiable(cands: Candidate[], input: SolveInput, reasons: string[]): Candidate[] {
  const out = cands.filter((c) => c.installed || missingDependency(c, input) === null);
  if (out.length === 0)
    for (const c of cands.slice(0, 3)) {
      const why = missingDependency(c, input);
      if (why) reasons.push(`${c.fmri.toShortString()} ${why}`);
    }
  return out;
}

/** Why one of `c`'s require dependencies cannot be met at all, or null. */
export function missingDependency(
  c: Candidate,
  input: Pick<SolveInput, 'available' | 'installed' | 'remove'>,
): string | null {
  for (const d of c.depends) {
    if (d.type !== 'require') continue;
    const one = Fmri.parse(d.fmri[0]);
    if (input.remove.has(one.name)) continue;
    const ok = (v: Version) => !one.version || v.compare(one.version) >= 0 || v.matches(one.version);
    const inst = input.installed.get(one.name);
    if (inst && ok(inst.fmri.version!)) continue;
    const acceptable = input.available(one.name).filter((x) => ok(x.fmri.version!));
    if (acceptable.length === 0) return `requires ${one.toShortString()}, which no enabled publisher provides`;
    if (acceptable.every((x) => x.obsolete))
      return `requires ${one.toShortString()}, but all acceptable versions of '${one.name}' are obsolete`;
  }
  return null;
}

/**
 * The solution as installed: an obsolete version selected means the package goes; a renamed
 * version stays only while a package that is not itself renamed still requires its name,
 * transitively (pkg(5)'s __elide_possible_renames).
 */
function withoutObsoleteAndRenamed(selected: Map<string, Candidate>): Map<string, Candidate> {
  for (const [stem, c] of selected) if (c.obsolete) selected.delete(stem);
  const renamed = [...selected.values()].filter((c) => c.renamed);
  if (renamed.length === 0) return selected;
  const needed = new Set<string>();
  const queue = [...selected.values()].filter((c) => !c.renamed);
  while (queue.length) {
    const c = queue.pop()!;
    for (const d of c.depends) {
      if (d.type !== 'require' && d.type !== 'require-any' && d.type !== 'group') continue;
      for (const f of d.fmri) {
        const name = Fmri.parse(f).name;
        const dep = selected.get(name);
        if (dep?.renamed && !needed.has(name)) {
          needed.add(name);
          queue.push(dep);
        }
      }
    }
  }
  for (const c of renamed) if (!needed.has(c.fmri.name)) selected.delete(c.fmri.name);
  return selected;
}

function fits(v: Version, b: Bound): boolean {
  if (!b.version) return b.kind !== 'exclude';
  switch (b.kind) {
    case 'incorporate':
      return v.matches(b.version);
    case 'exclude':
      return v.compare(b.version) < 0 && !v.matches(b.version);
    default:
      return v.compare(b.version) >= 0 || v.matches(b.version);
  }
}

function parentProblems(c: Candidate, parent: ParentState): string[] {
  const out: string[] = [];
  for (const d of c.depends) {
    if (d.type !== 'parent') continue;
    for (const f of d.fmri) {
      const p = parentConstraintProblem(c.fmri, f, parent);
      if (p) out.push(p);
    }
  }
  return out;
}

function unsatisfiable(main: string[], reasons: string[]): ImageError {
  const all = [...new Set([...reasons, ...main])];
  return new ImageError('UNSATISFIABLE', `No solution was found for the requested update:\n  ${all.join('\n  ')}`, {
    reasons: all,
  });
}
