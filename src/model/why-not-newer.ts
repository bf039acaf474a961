import { Fmri } from './fmri';
import { parentConstraintProblem } from './parent-constraint';
import type { HeldBack } from './plan-types';
import { Candidate, missingDependency, SolveInput } from './solver';

/**
 * Why the solution leaves packages below the newest version the image could use ("why not
 * newer"): for every installed package the request lets move (and every package it asks to
 * install) whose solved version is older than the newest candidate. The first reason found,
 * in pkg(5)'s order of trimming (pkg_solver.py): the parent image, an incorporation or
 * exclusion by a package of the solution, a dependency of the newest version that cannot be
 * met or conflicts with the solution. Packages the request keeps still are not reported.
 * Sorted by stem.
 */
export function heldBack(input: SolveInput, selected: ReadonlyMap<string, Candidate>): HeldBack[] {
  const stems = new Set<string>(input.install.map((i) => i.stem));
  for (const stem of input.installed.keys()) if (input.update.has(stem) && !input.remove.has(stem)) stems.add(stem);
  const out: HeldBack[] = [];
  for (const stem of [...stems].sort()) {
    const wanted = input.install.find((i) => i.stem === stem)?.version ?? null;
    const newest = input.available(stem).find((c) => !c.obsolete && (!wanted || c.fmri.version!.matches(wanted)));
    if (!newest) continue;
    const have = selected.get(stem);
    // Not in the solution: removed (obsolete, renamed away), which is not being held back.
    if (!have || have.fmri.version!.compare(newest.fmri.version!) >= 0) continue;
    out.push({
      stem,
      version: have.fmri.version!.toString(),
      newest: newest.fmri.version!.toString(),
      reason: reasonFor(stem, newest, input, selected),
    });
  }
  return out;
}

function reasonFor(
  stem: string,
  newest: Candidate,
  input: SolveInput,
  selected: ReadonlyMap<string, Candidate>,
): string {
  if (input.parent) {
    for (const d of newest.depends) {
      if (d.type !== 'parent') continue;
      for (const f of d.fmri) {
        const p = parentConstraintProblem(newest.fmri, f, input.parent);
        if (p) return p;
      }
    }
  }
  const v = newest.fmri.version!;
  for (const [other, c] of selected) {
    if (other === stem) continue;
    for (const d of c.depends) {
      const dep = Fmri.parse(d.fmri[0]);
      if (dep.name !== stem || !dep.version) continue;
      if (d.type === 'incorporate' && !v.matches(dep.version))
        return `incorporated by ${c.fmri.toShortString()} at version ${dep.version}`;
      if (d.type === 'exclude' && (v.compare(dep.version) >= 0 || v.matches(dep.version)))
        return `excluded by ${c.fmri.toShortString()} (version ${dep.version} and newer)`;
    }
  }
  const missing = missingDependency(newest, input);
  if (missing) return `${newest.fmri.toShortString()} ${missing}`;
  for (const d of newest.depends) {
    const dep = Fmri.parse(d.fmri[0]);
    const there = selected.get(dep.name);
    if (!there || !dep.version || dep.name === stem) continue;
    const tv = there.fmri.version!;
    if (d.type === 'require' && tv.compare(dep.version) < 0 && !tv.matches(dep.version))
      return `${newest.fmri.toShortString()} requires ${dep.toShortString()}, but ${dep.name} stays at ${tv}`;
    if (d.type === 'incorporate' && !tv.matches(dep.version))
      return `${newest.fmri.toShortString()} incorporates ${dep.toShortString()}, but ${dep.name} stays at ${tv}`;
    if (d.type === 'exclude' && (tv.compare(dep.version) >= 0 || tv.matches(dep.version)))
      return `${newest.fmri.toShortString()} excludes ${dep.name}@${dep.version} and newer, which the image keeps`;
  }
  if (!input.installed.has(stem) || input.update.has(stem))
    return `${newest.fmri.toShortString()} conflicts with the rest of the solution`;
  return 'not named in the request';
}
