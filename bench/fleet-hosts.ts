import { spawn } from 'child_process';
import * as path from 'path';
import { ContentCache } from '../src/cache/content-cache';
import { buildDemoHost, type DemoHost } from '../src/dev/demo-host';
import { cloneZones } from '../src/dev/clone-zones';
import { Image } from '../src/image/image';
import { attachChild } from '../src/image/linked';
import { eachLimited } from '../src/model/each-limited';
import { execute } from '../src/stages/execute';
import { plan } from '../src/stages/plan';
import { prepare } from '../src/stages/prepare';

/** One simulated host of a fleet: a directory with its own parent image and zones. */
export interface FleetHost {
  /** `h0001`…: the host's name in the fleet input. */
  name: string;
  /** `<root>/<name>`. */
  dir: string;
  /** The parent image root (the fleet input's `image`). */
  parent: string;
  children: { name: string; path: string }[];
}

export interface FleetHostsOptions {
  /** Packages per image, as buildDemoHost's `packages`. @default the demo's five */
  packages?: number;
  /** Hosts built at once after the first (they wait on fsync more than on the CPU). @default 4 */
  parallel?: number;
  /** A line per phase and a progress line every 5 s at most. */
  log?: (line: string) => void;
}

export interface FleetHosts {
  hosts: FleetHost[];
  /** The one repository every host's publisher points at (`<root>/h0001/repo`): 1.0 installed, 1.1 published. */
  repo: string;
  /** The content cache the builds shared (1.0 content). Workers use caches of their own. */
  buildCacheDir: string;
}

/** `h0001`…`h1000`: zero-padded to at least 4 digits so names sort as hosts are numbered. */
export function fleetHostName(i: number, count: number): string {
  return `h${String(i + 1).padStart(Math.max(4, String(count).length), '0')}`;
}

/**
 * `count` hosts of `zones` zones each under `root` (which must not hold hosts already), as a
 * fleet on one machine: `<root>/<name>/host` the parent image, `<root>/<name>/zones/z<i>/root`
 * its zones (`zone:z1`…), every image with 1.0 of the packages installed and 1.1 published.
 *
 * The first host is a demo host (buildDemoHost with zones 'clone': its repository, 1.0
 * installed, 1.1 published). Every other host is made the cheap way that still gives it images
 * of its own: its parent image is created and 1.0 installed (plan, prepare, execute of exactly
 * the packages the first host's parent has) from the first host's repository, zone:z1 likewise,
 * and the other zones are cloned from its zone:z1 (src/dev/clone-zones.ts), so each host has its
 * own parent image and zones with their own linked metadata (the image model cannot tell them
 * from zones installed one by one). Sharing the repository is what real hosts do (one depot or
 * mirror for the fleet) and saves publishing two versions per host.
 *
 * Rejects as buildDemoHost, plan, prepare, execute or cloneZones do (ImageError, RangeError for
 * a bad `packages`).
 */
export async function buildFleetHosts(
  root: string,
  count: number,
  zones: number,
  opts: FleetHostsOptions = {},
): Promise<FleetHosts> {
  const log = opts.log ?? (() => undefined);
  const first = fleetHostName(0, count);
  const demo: DemoHost = await buildDemoHost(path.join(root, first), zones, undefined, {
    packages: opts.packages,
    zones: 'clone',
  });
  const hosts: FleetHost[] = [
    { name: first, dir: path.join(root, first), parent: demo.parent, children: demo.children },
  ];
  const parentFmris = await installedFmris(demo.parent);
  const zoneFmris = demo.children.length > 0 ? await installedFmris(demo.children[0].path) : [];
  const templateParent = await Image.open(demo.parent);
  const publishers = templateParent.publishers();
  const cache = await ContentCache.open(demo.cacheDir);
  log(`${first}: demo host, repository ${demo.repo}`);

  const rest = Array.from({ length: count - 1 }, (_, k) => fleetHostName(k + 1, count));
  let done = 1;
  let lastLog = Date.now();
  const built: FleetHost[] = new Array(rest.length);
  await eachLimited(rest, opts.parallel ?? 4, async (name, k) => {
    const dir = path.join(root, name);
    const install = async (img: Image, fmris: string[]) => {
      const p = await plan(img, { install: fmris }, undefined, { cache });
      await prepare(img, p, cache);
      await execute(img, p, cache);
      return p;
    };
    const parent = await Image.create(path.join(dir, 'host'), { publishers });
    await install(parent, parentFmris);
    const children: FleetHost['children'] = [];
    const zoneRoot = (i: number) => path.join(dir, 'zones', `z${i}`, 'root');
    if (zones > 0) {
      const z1 = await Image.create(zoneRoot(1), {
        publishers,
        variants: { 'variant.opensolaris.zone': 'nonglobal' },
      });
      await attachChild(parent, z1, 'zone:z1');
      await z1.reload();
      const installPlan = await install(z1, zoneFmris);
      children.push({ name: 'zone:z1', path: z1.root });
      const clones = Array.from({ length: zones - 1 }, (_, j) => ({ name: `zone:z${j + 2}`, root: zoneRoot(j + 2) }));
      if (clones.length > 0) {
        await parent.reload();
        // No flush per host: one for the whole fleet at the end.
        await cloneZones(parent, z1, installPlan, clones, { sync: false });
        children.push(...clones.map((c) => ({ name: c.name, path: c.root })));
      }
    }
    built[k] = { name, dir, parent: parent.root, children };
    done++;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`${done}/${count} hosts built`);
    }
  });
  hosts.push(...built);
  // Written back now rather than during the measured update.
  await syncFs(root);
  return { hosts, repo: demo.repo, buildCacheDir: demo.cacheDir };
}

/** The full FMRIs (publisher, version, timestamp) installed in the image at `root`, sorted. */
async function installedFmris(root: string): Promise<string[]> {
  const img = await Image.open(root);
  const state = await img.readState();
  return Object.values(state.packages)
    .map((p) => p.fmri)
    .sort();
}

/** `sync -f <dir>`: flushes the file system holding `dir`. */
function syncFs(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sync', ['-f', dir], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sync -f ${dir} exited with ${code}`))));
  });
}
