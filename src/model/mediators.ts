import { attr, type Action } from './manifest';

/**
 * Mediated links as pkg(5) has them (src/modules/mediator.py, imageplan.py's mediation
 * evaluation): `link` and `hardlink` actions tagged `mediator=<name>` with
 * `mediator-version=<dot sequence>` and/or `mediator-implementation=<name>[@<dot sequence>]`,
 * optionally `mediator-priority=vendor|site`. Several packages may deliver a link for the same
 * path; only those of the selected mediation of their mediator are installed. Node-free.
 */
export interface Mediation {
  version: string | null;
  implementation: string | null;
  priority: 'site' | 'vendor' | null;
}

/** An administrator's setting (image.json `mediators`): a version, an implementation, or both. */
export interface MediatorSetting {
  version?: string;
  implementation?: string;
}

/** How a selected version or implementation was chosen, as `pkg mediator` prints it. */
export type MediationSource = 'local' | 'site' | 'vendor' | 'system';

export interface SelectedMediation {
  mediator: string;
  version: string | null;
  implementation: string | null;
  versionSource: MediationSource;
  implementationSource: MediationSource;
}

/** The mediator tags of a link or hardlink action, or null when it is not mediated. */
export function mediationOf(a: Action): (Mediation & { mediator: string }) | null {
  if (a.type !== 'link' && a.type !== 'hardlink') return null;
  const mediator = attr(a, 'mediator');
  if (!mediator) return null;
  const p = attr(a, 'mediator-priority');
  return {
    mediator,
    version: attr(a, 'mediator-version') ?? null,
    implementation: attr(a, 'mediator-implementation') ?? null,
    priority: p === 'site' || p === 'vendor' ? p : null,
  };
}

/** Compares dot sequences numerically (`3.10` > `3.9`); null sorts below any version. */
export function compareDotSequence(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** `name@1.2` -> ['name', '1.2']; `name` -> ['name', null]. */
export function splitImplementation(impl: string | null): [string | null, string | null] {
  if (impl === null) return [null, null];
  const at = impl.indexOf('@');
  return at === -1 ? [impl, null] : [impl.slice(0, at), impl.slice(at + 1)];
}

const PRIORITY_RANK = { site: 1, vendor: 2 } as const;

/**
 * pkg(5)'s cmp_mediations: `site` before `vendor` before untagged, then the greatest version,
 * then the implementation name (lexically, none first), then its greatest version.
 */
export function compareMediations(a: Mediation, b: Mediation): number {
  const pa = a.priority ? PRIORITY_RANK[a.priority] : 3;
  const pb = b.priority ? PRIORITY_RANK[b.priority] : 3;
  if (pa !== pb) return pa - pb;
  const v = compareDotSequence(a.version, b.version);
  if (v !== 0) return -v;
  const [ai, av] = splitImplementation(a.implementation);
  const [bi, bv] = splitImplementation(b.implementation);
  if (ai !== bi) return ai === null ? -1 : bi === null ? 1 : ai < bi ? -1 : 1;
  return -compareDotSequence(av, bv);
}

/** Whether an available implementation satisfies a setting: same name, and same version when the setting gives one. */
function implementationMatches(available: string | null, wanted: string): boolean {
  const [an, av] = splitImplementation(available);
  const [wn, wv] = splitImplementation(wanted);
  return an === wn && (wv === null || compareDotSequence(av, wv) === 0);
}

function settingMatches(m: Mediation, s: MediatorSetting): boolean {
  if (s.version !== undefined && compareDotSequence(m.version, s.version) !== 0) return false;
  if (s.implementation !== undefined && !implementationMatches(m.implementation, s.implementation)) return false;
  return true;
}

/**
 * The selected mediation of every mediator the actions name. The administrator's setting
 * wins when some delivered link matches it; otherwise (none set, or what was set is not
 * delivered any more) the best by compareMediations, as pkg(5) falls back to the system's choice.
 */
export function selectMediations(
  actions: Iterable<Action>,
  settings: Readonly<Record<string, MediatorSetting>> = {},
): Map<string, SelectedMediation> {
  const offered = new Map<string, Mediation[]>();
  for (const a of actions) {
    const m = mediationOf(a);
    if (!m) continue;
    const list = offered.get(m.mediator);
    if (list) list.push(m);
    else offered.set(m.mediator, [m]);
  }
  const out = new Map<string, SelectedMediation>();
  for (const [mediator, list] of offered) {
    const setting = settings[mediator];
    const matching = setting ? list.filter((m) => settingMatches(m, setting)) : [];
    const local = matching.length > 0;
    const best = [...(local ? matching : list)].sort(compareMediations)[0];
    const source = (given: boolean): MediationSource => (given ? 'local' : (best.priority ?? 'system'));
    out.set(mediator, {
      mediator,
      version: best.version,
      implementation: best.implementation,
      versionSource: source(local && setting!.version !== undefined),
      implementationSource: source(local && setting!.implementation !== undefined),
    });
  }
  return out;
}

/** Whether a (possibly mediated) action is installed under these selections: unmediated ones always are. */
export function mediationSelected(a: Action, selected: ReadonlyMap<string, SelectedMediation>): boolean {
  const m = mediationOf(a);
  if (!m) return true;
  const s = selected.get(m.mediator);
  if (!s) return true;
  return (
    compareDotSequence(m.version, s.version) === 0 &&
    (m.implementation === s.implementation ||
      (m.implementation !== null &&
        s.implementation !== null &&
        implementationMatches(m.implementation, s.implementation)))
  );
}
