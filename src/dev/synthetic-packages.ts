/** What buildDemoHost publishes for one package version: a tree of small text files and extra actions. */
export interface PackageSpec {
  /** `name@version`, no timestamp (publishing adds one). */
  fmri: string;
  /** Image path -> file text; directories are implied by the paths. */
  tree: Record<string, string>;
  /** Attributes of `depend` actions, e.g. `type=require fmri=pkg:/library/openssl@1.1`. */
  depends?: string[];
  /** Whole extra action lines. */
  actions?: string[];
}

/** pkg(5)'s tie of a zone's package to the parent's version of the same package. */
export const PARENT_DEPEND = 'depend type=parent fmri=feature/package/dependency/self';

/** `synthetic/p00007` for index 7 (zero-based). */
export function syntheticStem(i: number): string {
  return `synthetic/p${String(i).padStart(5, '0')}`;
}

/**
 * `count` small synthetic packages at version 1 (`1.0`) or 2 (`1.1`), for hosts with many
 * packages per zone. Package i delivers two files, both different in every version so an update
 * of 1.0 to 1.1 changes every package:
 *   opt/synthetic/p<i>/bin/run             about 170 bytes
 *   opt/synthetic/p<i>/etc/p<i>.conf       about 30 bytes
 * plus the directories above them (7 actions per package). Two packages of every five
 * (i % 5 < 2, the demo's ratio) carry `depend type=parent`, so a zone's plan follows the parent's.
 * Throws RangeError unless `count` is an integer >= 1.
 */
export function syntheticPackages(count: number, v: 1 | 2): PackageSpec[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`Expected a package count that is an integer >= 1, got ${count}`);
  const ver = v === 1 ? '1.0' : '1.1';
  return Array.from({ length: count }, (_, i) => {
    const stem = syntheticStem(i);
    const base = `opt/${stem}`;
    const leaf = stem.slice(stem.indexOf('/') + 1);
    const script =
      `#!/bin/sh\n# ${stem} ${ver}\n` +
      Array.from({ length: 4 }, (_, k) => `echo "${leaf} version ${ver} step ${k}"\n`).join('');
    return {
      fmri: `${stem}@${ver}`,
      tree: { [`${base}/bin/run`]: script, [`${base}/etc/${leaf}.conf`]: `name=${leaf}\nversion=${ver}\n` },
      ...(i % 5 < 2 ? { actions: [PARENT_DEPEND] } : {}),
    };
  });
}
