import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ImageError } from '../model/errors';
import { HISTORY_FILE, readHistory } from '../image/history';
import { CONFIG_FILE, Image, STATE_FILE } from '../image/image';
import { checkConfig, checkState, failWith, ImageConfig, ImageState } from '../image/image-config';
import { LOCK_FILE } from '../image/image-lock';
import { JOURNAL_DIR } from '../stages/journal';
import { Plan, planDigest } from '../stages/plan';

/** One zone to make: its link name (`zone:z2`) and the absolute path of its image root. */
export interface ZoneClone {
  name: string;
  root: string;
}

export interface CloneZonesOptions {
  /** Progress lines, one every 5 s at most. */
  log?: (line: string) => void;
  /** Flush the file system holding the clones (`sync -f`) once at the end. @default true */
  sync?: boolean;
}

type Entry =
  | { kind: 'dir'; rel: string; mode: number }
  | { kind: 'file'; rel: string; mode: number; data: Buffer }
  | { kind: 'hardlink'; rel: string; first: string }
  | { kind: 'symlink'; rel: string; target: string };

/** Metadata files written per clone instead of copied; the lock and a journal must not exist at all. */
const REWRITTEN = new Set([CONFIG_FILE, STATE_FILE, HISTORY_FILE]);

/**
 * Makes each of `zones` a copy of `template`, an installed zone already attached to `parent`,
 * that the image model cannot tell from a zone created, attached and installed on its own
 * (image-create, attach-linked, plan + prepare + execute of `installPlan`):
 *
 * - the same tree: directories, files (bytes and mode), symlinks and hardlinks, and under
 *   var/pkg the installed manifests (`pkg/<stem>/<version>/manifest`);
 * - var/pkg/image.json: the template's publishers, variants and properties, `linked` naming
 *   the clone's own name and the same parent, no children;
 * - var/pkg/state.json: the same packages and generation, a fresh state token, and as
 *   `lastPlan` the digest of the clone's own install plan (`installPlan` with the clone's root
 *   and a state token of its own: plans are bound to their image, so no plan made for one zone
 *   is ever taken as already applied to another);
 * - var/pkg/history.jsonl: the template's entries, its install plan's digest replaced likewise;
 * - no lock and no journal (a template holding either is refused).
 *
 * The parent lists all clones after one image.json change (`updateConfig` under the parent's
 * lock, validated like every change), made before any clone is written: the crash order of
 * attachChild, which leaves at worst "the parent lists a child that does not name it". Calling
 * attachChild per clone would rewrite the parent's growing image.json (fsync) once per zone:
 * measured 8 ms per attach at 500 children and 18 ms at 2,000, about two minutes for 5,000.
 * Unlike zones attached one by one, the parent's generation grows by one for the whole batch.
 *
 * Clone files are written with synchronous calls and no fsync; the file system is flushed once
 * at the end (`opts.sync`). Throws ImageError BAD_REQUEST when the template is not an installed
 * child of `parent` (or was changed after `installPlan`), when a clone root exists and is not
 * an empty directory, or when a name or root is already a child of `parent` or repeated.
 */
export async function cloneZones(
  parent: Image,
  template: Image,
  installPlan: Plan,
  zones: readonly ZoneClone[],
  opts: CloneZonesOptions = {},
): Promise<void> {
  if (zones.length === 0) return;
  const tcfg = template.config();
  const tstate = await template.readState();
  if (tcfg.linked?.parent !== parent.root) {
    throw new ImageError(
      'BAD_REQUEST',
      `Cannot clone ${template.root}: expected a child of ${parent.root}, it is linked to ${tcfg.linked?.parent ?? 'no parent'}`,
      { template: template.root },
    );
  }
  if (tstate.lastPlan !== installPlan.digest || installPlan.image !== template.root) {
    throw new ImageError(
      'BAD_REQUEST',
      `Cannot clone ${template.root}: its last executed plan is ${tstate.lastPlan}, not the install plan given (${installPlan.digest} for ${installPlan.image})`,
      { template: template.root },
    );
  }
  for (const rel of [LOCK_FILE, JOURNAL_DIR]) {
    if (fs.existsSync(path.join(template.root, rel)))
      throw new ImageError(
        'BAD_REQUEST',
        `Cannot clone ${template.root}: ${rel} exists (an operation holds or interrupted it)`,
        { template: template.root },
      );
  }
  for (const z of zones) {
    if (!path.isAbsolute(z.root))
      throw new ImageError('BAD_REQUEST', `Clone root must be an absolute path, got '${z.root}'`, { root: z.root });
    if (fs.existsSync(z.root) && fs.readdirSync(z.root).length > 0)
      throw new ImageError('BAD_REQUEST', `Cannot clone into ${z.root}: it exists and is not empty`, { root: z.root });
  }
  const entries = readTree(template.root);
  const umask = probeUmask(path.dirname(zones[0].root));
  const history = await readHistory(template.root);
  const rootMode = fs.statSync(template.root).mode & 0o7777;

  // Parent side first, all at once; checkConfig refuses repeated names and paths.
  await parent.withLock('attach-linked', () =>
    parent.updateConfig((cfg) => ({
      ...cfg,
      children: [...cfg.children, ...zones.map((z) => ({ name: z.name, path: z.root }))],
    })),
  );

  const { digest: _, ...planBody } = installPlan;
  let lastLog = Date.now();
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i];
    writeTree(z.root, rootMode, entries, umask);
    const lastPlan = planDigest({ ...planBody, image: z.root, stateToken: newToken() });
    const cfg: ImageConfig = { ...tcfg, linked: { name: z.name, model: 'push', parent: parent.root }, children: [] };
    const state: ImageState = { token: newToken(), generation: tstate.generation, lastPlan, packages: tstate.packages };
    writeJson(
      path.join(z.root, CONFIG_FILE),
      checkConfig(cfg, failWith('BAD_REQUEST', `Invalid configuration for clone ${z.root}`)),
    );
    writeJson(
      path.join(z.root, STATE_FILE),
      checkState(state, failWith('BAD_REQUEST', `Invalid state for clone ${z.root}`)),
    );
    const lines = history.map(
      (h) => JSON.stringify(h.plan === installPlan.digest ? { ...h, plan: lastPlan } : h) + '\n',
    );
    if (lines.length) fs.writeFileSync(path.join(z.root, HISTORY_FILE), lines.join(''));
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      opts.log?.(`  cloned ${i + 1}/${zones.length} zones`);
    }
    if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let timers and I/O callbacks run
  }
  if (opts.sync ?? true) await syncFs(path.dirname(zones[0].root));
}

/** The template's tree in walk order (a directory before its contents), minus the rewritten metadata. */
function readTree(root: string): Entry[] {
  const out: Entry[] = [];
  const firstOfInode = new Map<number, string>();
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (REWRITTEN.has(r)) continue;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.push({ kind: 'dir', rel: r, mode });
        visit(r);
      } else if (st.isSymbolicLink()) out.push({ kind: 'symlink', rel: r, target: fs.readlinkSync(abs) });
      else if (st.isFile()) {
        const first = st.nlink > 1 ? firstOfInode.get(st.ino) : undefined;
        if (first !== undefined) out.push({ kind: 'hardlink', rel: r, first });
        else {
          if (st.nlink > 1) firstOfInode.set(st.ino, r);
          out.push({ kind: 'file', rel: r, mode, data: fs.readFileSync(abs) });
        }
      } else
        throw new ImageError(
          'BAD_REQUEST',
          `Cannot clone ${abs}: expected a directory, regular file or symbolic link`,
          { path: abs },
        );
    }
  };
  visit('');
  return out;
}

/**
 * Writes one clone. A mode the umask would change is set with chmod; the others (0755 and 0644
 * under the usual umask 022) are given at creation, which saves a system call per entry: file
 * creation dominates on a busy file system.
 */
function writeTree(root: string, rootMode: number, entries: readonly Entry[], umask: number): void {
  const exact = (mode: number) => (mode & ~umask) === mode;
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, rootMode);
  for (const e of entries) {
    const p = path.join(root, e.rel);
    switch (e.kind) {
      case 'dir':
        fs.mkdirSync(p, { mode: e.mode });
        if (!exact(e.mode)) fs.chmodSync(p, e.mode);
        break;
      case 'file':
        fs.writeFileSync(p, e.data, { mode: e.mode });
        if (!exact(e.mode)) fs.chmodSync(p, e.mode);
        break;
      case 'hardlink':
        fs.linkSync(path.join(root, e.first), p);
        break;
      case 'symlink':
        fs.symlinkSync(e.target, p);
        break;
    }
  }
}

/** As the image model writes its metadata (two-space JSON and a newline), without its per-file fsync. */
function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** This process's umask, seen on a directory created with mode 0777 under `dir` (made if missing) and removed again. */
function probeUmask(dir: string): number {
  fs.mkdirSync(dir, { recursive: true });
  const probe = fs.mkdtempSync(path.join(dir, '.umask-'));
  try {
    fs.chmodSync(probe, 0o777);
    const sub = path.join(probe, 'd');
    fs.mkdirSync(sub, { mode: 0o777 });
    return 0o777 & ~fs.statSync(sub).mode;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

function newToken(): string {
  return randomBytes(16).toString('hex');
}

function syncFs(p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sync', ['-f', p], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sync -f ${p} exited with ${code}`))));
  });
}
