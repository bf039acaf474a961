import { createHash, randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { writeFileAtomic } from './atomic-write';
import { ImageError, ioError } from '../model/errors';
import { Fmri } from '../model/fmri';
import {
  checkConfig,
  checkPublishers,
  checkState,
  failWith,
  ImageConfig,
  ImageState,
  PROPERTY_NAME_RE,
  PublisherConfig,
  VARIANT_NAME_RE,
} from './image-config';
import { acquireImageLock, ImageLock } from './image-lock';

export type { ChildRef, ImageConfig, ImageState, LinkedParent, PublisherConfig } from './image-config';
export { LINK_NAME_RE } from './image-config';

export interface InstalledPackage {
  fmri: Fmri;
  manifestDigest: string;
}

export const META_DIR = 'var/pkg';
export const CONFIG_FILE = 'var/pkg/image.json';
export const STATE_FILE = 'var/pkg/state.json';
const DEFAULT_VARIANTS: Readonly<Record<string, string>> = { 'variant.opensolaris.zone': 'global' };

/** Where the installed manifest of `fmri` lives, relative to the image root. */
export function manifestRelPath(fmri: Fmri): string {
  if (!fmri.version)
    throw new ImageError('BAD_REQUEST', `Expected an FMRI with a version for an installed manifest, got '${fmri}'`, {
      fmri: String(fmri),
    });
  return `${META_DIR}/pkg/${encodeURIComponent(fmri.stem)}/${encodeURIComponent(fmri.version.toString())}/manifest`;
}

/** The state after one committed change: generation + 1 and a token never seen before. */
export function nextState(prev: ImageState, change: Partial<Pick<ImageState, 'packages' | 'lastPlan'>>): ImageState {
  return {
    token: newToken(),
    generation: prev.generation + 1,
    lastPlan: change.lastPlan !== undefined ? change.lastPlan : prev.lastPlan,
    packages: change.packages ?? prev.packages,
  };
}

/**
 * An image on disk: `<root>/var/pkg/{image.json,state.json,lock,pkg/}`. The object caches
 * image.json (config() / reload()); state.json is re-read on every call because other
 * processes change it.
 */
export class Image {
  /** Non-null exactly while a withLock() callback of THIS object runs. */
  private heldLock: ImageLock | null = null;

  private constructor(
    readonly root: string,
    private cfg: ImageConfig,
  ) {}

  static async create(
    root: string,
    opts: {
      publishers?: PublisherConfig[];
      variants?: Record<string, string>;
      properties?: Record<string, string>;
    } = {},
  ): Promise<Image> {
    const abs = absoluteRoot(root, 'create an image at');
    const cfg = checkConfig(
      {
        format: 1,
        publishers: opts.publishers ?? [],
        variants: { ...DEFAULT_VARIANTS, ...opts.variants },
        properties: opts.properties ?? {},
        linked: null,
        children: [],
      },
      failWith('BAD_REQUEST', `Invalid options for a new image at ${abs}`, { root: abs }),
    );
    try {
      await fs.mkdir(path.join(abs, META_DIR), { recursive: true });
    } catch (e) {
      throw ioError('Cannot create', path.join(abs, META_DIR), e);
    }
    const exists = () =>
      new ImageError(
        'BAD_REQUEST',
        `Cannot create an image at ${abs}: ${CONFIG_FILE} exists; expected a directory that is not an image yet`,
        { root: abs },
      );
    // The lock serialises two racing creates: without it the loser could overwrite state.json
    // after the winner had already recorded changes in it.
    const lock = await acquireImageLock(abs, 'create');
    try {
      if (await fileExists(path.join(abs, CONFIG_FILE))) throw exists();
      // state.json first: an image.json without state.json would be a broken image, while a
      // state.json alone (crash in between) is not an image and a new create() overwrites it.
      await writeJson(path.join(abs, STATE_FILE), {
        token: newToken(),
        generation: 0,
        lastPlan: null,
        packages: {},
      } satisfies ImageState);
      await writeJson(path.join(abs, CONFIG_FILE), cfg);
    } finally {
      await lock.release();
    }
    return new Image(abs, cfg);
  }

  static async open(root: string): Promise<Image> {
    const abs = absoluteRoot(root, 'open an image at');
    for (const file of [CONFIG_FILE, STATE_FILE]) {
      if (!(await fileExists(path.join(abs, file))))
        throw new ImageError('BAD_IMAGE', `Not an image: ${abs} (missing ${file})`, { root: abs, missing: file });
    }
    return new Image(abs, await loadConfig(abs));
  }

  /** A copy of image.json as last loaded; callers may modify it freely. */
  config(): ImageConfig {
    return structuredClone(this.cfg);
  }

  async reload(): Promise<void> {
    this.cfg = await loadConfig(this.root);
  }

  /** In rank order, enabled or not. */
  publishers(): PublisherConfig[] {
    return this.config().publishers;
  }

  variants(): Record<string, string> {
    return { ...this.cfg.variants };
  }

  async readState(): Promise<ImageState> {
    const file = path.join(this.root, STATE_FILE);
    return checkState(
      await readJson(this.root, STATE_FILE, 'state'),
      failWith('BAD_IMAGE', `Malformed image state ${file}`, { path: file }),
    );
  }

  async stateToken(): Promise<string> {
    return (await this.readState()).token;
  }

  async installed(): Promise<Map<string, InstalledPackage>> {
    const { packages } = await this.readState();
    return new Map(
      Object.entries(packages).map(([stem, r]) => [stem, { fmri: Fmri.parse(r.fmri), manifestDigest: r.manifest }]),
    );
  }

  /** The installed manifest's text, verified against the digest recorded in state.json. */
  /** Pass `state` when reading many: state.json is then read once, not once per manifest. */
  async installedManifest(stem: string, state?: ImageState): Promise<string> {
    const rec = (state ?? (await this.readState())).packages[stem];
    if (!rec)
      throw new ImageError('NOT_FOUND', `Package '${stem}' is not installed in image ${this.root}`, {
        root: this.root,
        stem,
      });
    const file = path.join(this.root, manifestRelPath(Fmri.parse(rec.fmri)));
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ImageError('BAD_IMAGE', `Installed manifest of ${rec.fmri} is missing: expected ${file}`, {
          root: this.root,
          path: file,
          fmri: rec.fmri,
        });
      }
      throw ioError('Cannot read installed manifest', file, e);
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== rec.manifest) {
      throw new ImageError(
        'HASH_MISMATCH',
        `Installed manifest ${file} of ${rec.fmri} has SHA-256 ${actual}; expected ${rec.manifest} as recorded in ${STATE_FILE}`,
        {
          path: file,
          fmri: rec.fmri,
          expected: rec.manifest,
          actual,
        },
      );
    }
    return bytes.toString('utf8');
  }

  /**
   * Runs `fn` holding the image lock (see image-lock.ts): LOCKED if any holder, this process
   * included, has it. Does not reload the config; updateConfig() reads image.json afresh.
   */
  async withLock<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const lock = await acquireImageLock(this.root, op);
    this.heldLock = lock;
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      this.heldLock = null;
      await lock.release().catch(() => undefined); // fn's error is the one worth reporting
      throw e;
    }
    this.heldLock = null;
    await lock.release();
    return result;
  }

  /**
   * Rewrites image.json as `change` makes it from the CURRENT file (another process may have
   * changed it since this object loaded it) and changes the state token. Only inside withLock().
   * The token changes twice, around the config write: a reader that takes the token first and
   * then the config can never pair a new token with an old config, and a crash after the
   * first write still leaves every earlier token stale. Generation counts committed changes,
   * so it grows by one.
   */
  async updateConfig(change: (cfg: ImageConfig) => ImageConfig): Promise<void> {
    if (!this.heldLock)
      throw new ImageError(
        'BAD_REQUEST',
        `updateConfig() of ${this.root} needs the image lock; call it inside withLock()`,
        { root: this.root },
      );
    const file = path.join(this.root, CONFIG_FILE);
    const next = checkConfig(
      change(await loadConfig(this.root)),
      failWith('BAD_REQUEST', `Invalid change to ${file}`, { path: file }),
    );
    const state = await this.readState();
    await writeJson(path.join(this.root, STATE_FILE), { ...state, token: newToken() } satisfies ImageState);
    await writeJson(file, next);
    await writeJson(path.join(this.root, STATE_FILE), nextState(state, {}));
    this.cfg = next;
  }

  async setPublishers(pubs: PublisherConfig[]): Promise<void> {
    const checked = checkPublishers(
      pubs,
      'publishers',
      failWith('BAD_REQUEST', `Invalid publishers for image ${this.root}`, { root: this.root }),
    );
    await this.withLock('set-publisher', () => this.updateConfig((c) => ({ ...c, publishers: checked })));
  }

  /** `null` removes the property. */
  async setProperty(name: string, value: string | null): Promise<void> {
    if (!PROPERTY_NAME_RE.test(name))
      throw badArg('property name', 'letters, digits, _ . - (starting with a letter or digit)', name);
    if (value !== null && typeof value !== 'string')
      throw badArg(`value of property '${name}'`, 'a string or null', value);
    await this.withLock('set-property', () =>
      this.updateConfig((c) => {
        const properties = { ...c.properties };
        if (value === null) delete properties[name];
        else properties[name] = value;
        return { ...c, properties };
      }),
    );
  }

  async setVariant(name: string, value: string): Promise<void> {
    if (!VARIANT_NAME_RE.test(name)) throw badArg('variant name', "'variant.<name>', e.g. variant.arch", name);
    if (typeof value !== 'string' || value.length === 0) throw badArg(`value of ${name}`, 'a non-empty string', value);
    await this.withLock('change-variant', () =>
      this.updateConfig((c) => ({ ...c, variants: { ...c.variants, [name]: value } })),
    );
  }
}

function newToken(): string {
  return randomBytes(16).toString('hex');
}

function absoluteRoot(root: string, what: string): string {
  if (typeof root !== 'string' || !path.isAbsolute(root) || root.includes('\0')) {
    throw new ImageError('BAD_REQUEST', `Cannot ${what} ${JSON.stringify(root)}: expected an absolute path`, { root });
  }
  return path.resolve(root);
}

function badArg(what: string, expected: string, got: unknown): ImageError {
  return new ImageError('BAD_REQUEST', `Invalid ${what}: expected ${expected}, got ${JSON.stringify(got)}`, {
    value: got,
  });
}

async function loadConfig(root: string): Promise<ImageConfig> {
  const file = path.join(root, CONFIG_FILE);
  return checkConfig(
    await readJson(root, CONFIG_FILE, 'configuration'),
    failWith('BAD_IMAGE', `Malformed image configuration ${file}`, { path: file }),
  );
}

async function readJson(root: string, rel: string, what: string): Promise<unknown> {
  const file = path.join(root, rel);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ImageError('BAD_IMAGE', `Not an image: ${root} (missing ${rel})`, { root, path: file, missing: rel });
    throw ioError(`Cannot read image ${what}`, file, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImageError(
      'BAD_IMAGE',
      `Malformed image ${what} ${file}: expected JSON, got a parse error (${(e as Error).message})`,
      { path: file },
    );
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { fsync: true });
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw ioError('Cannot check', file, e);
  }
}
