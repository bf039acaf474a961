import * as os from 'os';
import { actionCsize, ActionChange, actionSize, diffActions, OwnedManifest } from '../model/action-diff';
import { ContentCache, sha256 } from '../cache/content-cache';
import { ImageError } from '../model/errors';
import { Fmri } from '../model/fmri';
import { Image, ImageState } from '../image/image';
import { actionMemoKey, recalledActions, rememberActions } from '../model/action-memo';
import { loadManifests } from './load-manifests';
import { parsedManifest, parseManifestOnce } from '../model/manifest-memo';
import { OriginPool, withPool } from '../origins/origin-pool';
import { ParentState } from '../model/parent-constraint';
import { parentStateOf } from './parent-state';
import { availableIndex } from './plan-candidates';
import { Candidate, solve, SolveInput } from '../model/solver';
import { heldBack } from '../model/why-not-newer';
import {
  MAX_HELD_BACK,
  PLAN_FORMAT,
  type HeldBack,
  type Plan,
  type PlanChange,
  type PlanSettings,
} from '../model/plan-types';
import { Facets } from '../model/facets';
import { filterSettings, sameSettings, settingsOf, stemsChangedBySettings } from './image-settings';

export { PLAN_FORMAT, type Plan, type PlanChange, type PlanSettings };

export interface PlanRequest {
  /**
   * Installed stems allowed to move to newer versions; default: all installed packages for an
   * update, none for an install, uninstall or sync (they move only what the request needs).
   */
  update?: string[];
  /** Packages to install: `name` or `name@version` (matched at the precision given). */
  install?: string[];
  /** Installed stems to remove. */
  remove?: string[];
  /**
   * Sync a linked child with its parent (pkg(5)'s `pkg sync-linked`, and what `pkg update` of a
   * parent does to each child): only packages whose `depend type=parent` constraint the parent
   * state does not meet move (to what the parent has, or will have under `parentState`), plus
   * whatever else must move for those to be installable; nothing else is upgraded. A child already
   * in step gets an empty plan. Default false. Cannot be combined with `update`, `install` or
   * `remove` (BAD_REQUEST); an image that is not a linked child raises NOT_LINKED.
   */
  sync?: boolean;
  /**
   * New facets and mediator settings for the image (whole, as image.json will hold them):
   * the plan then also re-delivers the installed packages whose actions they change. Default:
   * the image's own. See image-settings.ts.
   */
  settings?: PlanSettings;
}

export interface PlanOptions {
  cache?: ContentCache;
  origins?: OriginPool;
  /** The host identity plans are bound to; default os.hostname(). */
  host?: string;
}

export async function plan(
  image: Image,
  request: PlanRequest = {},
  parentState?: ParentState | null,
  opts: PlanOptions = {},
): Promise<Plan> {
  return withPool(opts.origins, async (origins) => {
    const state = await image.readState();
    const installed = await image.installed();
    if (request.sync) checkSyncRequest(image, request);
    const parent = parentState === undefined ? await parentStateOf(image) : parentState;
    const linkedParent = image.config().linked ? parent : null;
    const current = settingsOf(image);
    const settings = request.settings ?? current;
    const facets = new Facets({ local: settings.facets, inherited: linkedParent?.facets });
    const available = await availableIndex(image, installed, origins, facets);
    for (const stem of request.update ?? []) {
      if (!installed.has(stem))
        throw new ImageError(
          'UNKNOWN_PACKAGE',
          `Cannot update '${stem}': no such package is installed in ${image.root}`,
          { stem },
        );
    }
    const install = (request.install ?? []).map((p) => {
      const f = Fmri.parse(p);
      return { stem: f.name, version: f.version };
    });
    const installedCands = new Map<string, Candidate>();
    for (const [stem, p] of installed) installedCands.set(stem, await available.installedCandidate(image, p));
    const solveInput: SolveInput = {
      installed: installedCands,
      available: available.candidates,
      // Sync, install and uninstall name nothing else as movable: the solver still moves what the
      // parent forces (a parent-constrained package out of step) and what the request needs, as
      // pkg(5)'s solve_sync, solve_install ("try and avoid upgrading already installed pkgs") and
      // solve_uninstall do. Only an update moves every installed package by default.
      update: new Set(
        request.update ?? (request.sync || request.install?.length || request.remove?.length ? [] : installed.keys()),
      ),
      install,
      remove: new Set(request.remove ?? []),
      parent: linkedParent,
    };
    const selected = solve(solveInput);

    const changes: PlanChange[] = [];
    for (const [stem, c] of selected) {
      const from = installed.get(stem)?.fmri.toString() ?? null;
      if (from !== c.fmri.toString()) changes.push({ stem, from, to: c.fmri.toString(), manifest: c.manifest });
    }
    for (const [stem, p] of installed)
      if (!selected.has(stem)) changes.push({ stem, from: p.fmri.toString(), to: null, manifest: null });
    const newSettings = sameSettings(settings, current) ? undefined : settings;
    if (newSettings) {
      // A package whose actions the new settings change is delivered again, at the same version.
      const moved = new Set(changes.map((c) => c.stem));
      for (const stem of await stemsChangedBySettings(image, state, current, newSettings)) {
        const p = installed.get(stem)!;
        if (!moved.has(stem))
          changes.push({ stem, from: p.fmri.toString(), to: p.fmri.toString(), manifest: p.manifestDigest });
      }
    }
    changes.sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));

    const derived = await deriveActions(image, changes, opts.cache, origins, state, newSettings); // the state the plan's token names
    const body: Omit<Plan, 'digest'> = {
      format: PLAN_FORMAT,
      host: opts.host ?? os.hostname(),
      image: image.root,
      stateToken: state.token,
      changes,
      sizes: sizesOf(derived.actions),
      ...(newSettings ? { settings: newSettings } : {}),
      ...boundedHeldBack(heldBack(solveInput, selected)),
    };
    const digest = planDigest(body);
    rememberActions(actionMemoKey(image.root, opts.cache?.root, digest), derived.token, derived.actions);
    return { ...body, digest };
  });
}

/** Refuses a sync request that also names packages, or a sync of an image that has no parent. */
function checkSyncRequest(image: Image, request: PlanRequest): void {
  const named = (['update', 'install', 'remove'] as const).filter((k) => request[k] !== undefined);
  if (named.length > 0)
    throw new ImageError(
      'BAD_REQUEST',
      `A sync moves only what the parent requires; it cannot be combined with ${named.join(', ')}`,
      { named },
    );
  if (!image.config().linked)
    throw new ImageError('NOT_LINKED', `Image ${image.root} is not a linked child: there is no parent to sync with`, {
      image: image.root,
    });
}

/** The plan's heldBack fields: at most MAX_HELD_BACK entries and a count of the rest; nothing when none. */
function boundedHeldBack(all: HeldBack[]): Pick<Plan, 'heldBack' | 'heldBackMore'> {
  if (all.length === 0) return {};
  const kept = all.slice(0, MAX_HELD_BACK).map((h) => ({ ...h, reason: h.reason.slice(0, 300) }));
  return all.length > MAX_HELD_BACK ? { heldBack: kept, heldBackMore: all.length - MAX_HELD_BACK } : { heldBack: kept };
}

export function isNoop(p: Plan): boolean {
  return p.changes.length === 0;
}

/** Refuses a plan made on another host, by another plan format, for another image, or altered since. */
export function checkPlan(p: Plan, image: Image, host: string = os.hostname()): void {
  if (!p || typeof p !== 'object' || !Array.isArray(p.changes))
    throw new ImageError('BAD_PLAN', 'Expected a plan object with a changes list', {});
  if (p.format !== PLAN_FORMAT)
    throw new ImageError(
      'FOREIGN_PLAN',
      `Plan format ${p.format} is not this version's format ${PLAN_FORMAT}; plan again`,
      { format: p.format },
    );
  if (p.host !== host)
    throw new ImageError(
      'FOREIGN_PLAN',
      `Plan was made on host '${p.host}', not on this host '${host}'; plans are not portable between hosts, plan again here`,
      { host: p.host },
    );
  if (p.image !== image.root)
    throw new ImageError('FOREIGN_PLAN', `Plan was made for image ${p.image}, not ${image.root}`, { image: p.image });
  const { digest, ...body } = p;
  if (planDigest(body) !== digest)
    throw new ImageError(
      'BAD_PLAN',
      `Plan digest does not match its contents (expected ${planDigest(body)}, got ${digest}): it was altered or damaged`,
      { digest },
    );
}

/**
 * The STALE_PLAN error (not retryable) for plan `p` when `image` has state token `token`, not
 * the one the plan was made for: prepare and execute raise it, since the image changed after
 * planning (another update, a manual change) and the plan no longer applies.
 */
export function stalePlan(image: Image, p: Plan, token: string): ImageError {
  return new ImageError(
    'STALE_PLAN',
    `Image ${image.root} was modified after this plan was made (state token ${token}, plan made for ${p.stateToken}); plan again`,
    { image: image.root, token, planToken: p.stateToken },
  );
}

/**
 * The digest that binds a plan body (format, host, image, state token, changes, sizes, and
 * settings when the plan has them); what `Plan.digest` holds. `heldBack` is not bound: it
 * only explains. A plan without settings digests as before they existed.
 */
export function planDigest(body: Omit<Plan, 'digest'>): string {
  const bound: unknown[] = [body.format, body.host, body.image, body.stateToken, body.changes, body.sizes];
  if (body.settings) bound.push(body.settings);
  return sha256(JSON.stringify(bound));
}

/** The action diff of a plan: as derived earlier in this process for the same image state, or re-derived from manifests (no solving). */
export async function planActions(
  image: Image,
  p: Plan,
  cache?: ContentCache,
  origins?: OriginPool,
): Promise<ActionChange[]> {
  const key = actionMemoKey(image.root, cache?.root, p.digest);
  const state = await image.readState();
  const known = recalledActions(key, state.token);
  if (known) return known;
  const derived = await withPool(origins, (pool) => deriveActions(image, p.changes, cache, pool, state, p.settings));
  rememberActions(key, derived.token, derived.actions);
  return derived.actions.slice();
}

/** The diff, and the state token of the installed packages it was derived from. */
async function deriveActions(
  image: Image,
  changes: PlanChange[],
  cache: ContentCache | undefined,
  origins: OriginPool,
  known?: ImageState,
  newSettings?: PlanSettings,
): Promise<{ actions: ActionChange[]; token: string }> {
  const state = known ?? (await image.readState());
  if (changes.length === 0) return { actions: [], token: state.token };
  const changed = new Set(changes.map((c) => c.stem));
  const old: OwnedManifest[] = [];
  const kept: OwnedManifest[] = [];
  const packages = Object.entries(state.packages);
  // 32 reads at a time: one after another, 1,000 installed manifests took a quarter second.
  // A manifest already parsed in this process (by digest) is not read again.
  for (let i = 0; i < packages.length; i += 32) {
    const chunk = packages.slice(i, i + 32);
    const parsed = await Promise.all(
      chunk.map(
        async ([stem, p]) =>
          parsedManifest(p.manifest) ??
          parseManifestOnce(await image.installedManifest(stem, state), p.manifest, `${p.fmri} (installed)`),
      ),
    );
    chunk.forEach(([stem, p], k) => (changed.has(stem) ? old : kept).push({ fmri: p.fmri, manifest: parsed[k] }));
  }
  const wanted = changes.filter((c) => c.to !== null).map((c) => ({ fmri: Fmri.parse(c.to!), digest: c.manifest! }));
  // New manifests are always loaded: that puts them in this cache, where execute reads them.
  const texts = await loadManifests(image, wanted, cache, origins);
  const next = wanted.map((w, i) => ({
    fmri: w.fmri.toString(),
    manifest: parseManifestOnce(texts[i], w.digest, w.fmri.toString()),
  }));
  const current = settingsOf(image);
  const settings = filterSettings(newSettings ?? current);
  const before = newSettings ? filterSettings(current) : settings;
  return {
    actions: diffActions({ old, next, kept, variants: image.variants(), settings, before }),
    token: state.token,
  };
}

function sizesOf(actions: ActionChange[]): Plan['sizes'] {
  const hashes = new Map<string, number>();
  let installBytes = 0;
  let files = 0;
  const count = { add: 0, update: 0, remove: 0 };
  for (const c of actions) {
    count[c.kind]++;
    if (c.to?.type === 'file') {
      files++;
      installBytes += actionSize(c.to);
      hashes.set(c.to.hash!, actionCsize(c.to));
    }
  }
  const downloadBytes = [...hashes.values()].reduce((a, b) => a + b, 0);
  return { downloadBytes, installBytes, files, ...count };
}
