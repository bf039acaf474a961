import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { execute } from '../stages/execute';
import { Image } from '../image/image';
import { attachChild } from '../image/linked';
import { plan } from '../stages/plan';
import { prepare } from '../stages/prepare';
import { createRepository, publishTree } from '../repository';
import { cloneZones } from './clone-zones';
import { eachLimited } from '../model/each-limited';
import { PackageSpec, PARENT_DEPEND as SELF, syntheticPackages } from './synthetic-packages';

/** Publishing waits mostly on fsync and the repository lock; a few at once keep the disk busy. */
const PUBLISH_CONCURRENCY = 4;

/**
 * The packages of one version: the demo's five, or `packages` synthetic ones when that is given
 * and not 5. Version 1 is installed everywhere, version 2 is what the update brings.
 */
function packageTrees(v: 1 | 2, bigFileBytes = 0, packages?: number): PackageSpec[] {
  const ver = v === 1 ? '1.0' : '1.1';
  const lines = (what: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${what} v${v} line ${i}`).join('\n') + '\n';
  const base: PackageSpec[] =
    packages !== undefined && packages !== 5
      ? syntheticPackages(packages, v)
      : [
          {
            fmri: `system/kernel@${ver}`,
            tree: { 'kernel/unix': lines('kernel', 400), 'etc/release': `Demo OS ${ver}\n` },
            actions: [SELF],
          },
          {
            fmri: `system/library@${ver}`,
            tree: { 'lib/libc.so.1': lines('libc', 300), 'lib/libm.so.2': lines('libm', 200) },
            actions: [SELF],
          },
          {
            fmri: `library/openssl@${ver}`,
            tree: { 'usr/lib/libssl.so.3': lines('ssl', 500), 'etc/ssl/openssl.cnf': `# openssl ${ver}\n` },
          },
          {
            fmri: `web/nginx@${ver}`,
            tree: {
              'usr/sbin/nginx': lines('nginx', 600),
              'etc/nginx/nginx.conf': `worker_processes ${v};\n`,
              'usr/share/nginx/index.html': `<h1>demo ${ver}</h1>\n`,
            },
            depends: [`type=require fmri=pkg:/library/openssl@${ver}`],
          },
          {
            fmri: `shell/bash@${ver}`,
            tree: { 'usr/bin/bash': lines('bash', 350), 'etc/bash.bashrc': `# bash ${ver}\n` },
          },
        ];
  return [
    ...base,
    // Only in zones, and only when asked for: content the parent does not have, so zones download it.
    ...(bigFileBytes
      ? [
          {
            fmri: `zone/tools@${ver}`,
            tree: {
              'opt/tools/README': `tools ${ver}\n`,
              ...(v === 2 ? { 'opt/tools/blob': noise(bigFileBytes) } : {}),
            },
          },
        ]
      : []),
  ];
}

/** Incompressible text (hex of chained hashes), so a big file is as big on the wire as on disk. */
function noise(bytes: number): string {
  const parts: string[] = [];
  let h = createHash('sha256').update('demo').digest('hex');
  for (let n = 0; n < bytes; n += h.length) parts.push((h = createHash('sha256').update(h).digest('hex')));
  return parts.join('').slice(0, bytes);
}

async function publishVersion(repo: string, work: string, specs: PackageSpec[]): Promise<void> {
  const dirs: string[] = [];
  for (const p of specs) {
    const dir = path.join(work, 'trees', `${p.fmri.replace(/[/@]/g, '_')}`);
    for (const [rel, text] of Object.entries(p.tree)) {
      await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fs.writeFile(path.join(dir, rel), text);
    }
    dirs.push(dir);
  }
  await eachLimited(specs, PUBLISH_CONCURRENCY, async (p, i) => {
    await publishTree(repo, {
      fmri: p.fmri,
      dir: dirs[i],
      depends: p.depends,
      actions: p.actions,
      summary: `demo ${p.fmri}`,
      lockWaitMs: 600_000,
    });
  });
}

export interface DemoHost {
  repo: string;
  parent: string;
  children: { name: string; path: string }[];
  cacheDir: string;
}

export interface DemoHostOptions {
  /**
   * Adds a zone-only package, zone/tools, whose 1.1 carries a file this many bytes large (crash
   * tests kill a zone's download in the middle of it). @default 0 (no such package)
   */
  bigFileBytes?: number;
  /**
   * Packages per image. Absent or 5: the demo's five packages. Any other integer >= 1: that many
   * small synthetic packages (synthetic-packages.ts: two files each, both changed in 1.1).
   * RangeError otherwise.
   */
  packages?: number;
  /**
   * How zones get their packages. 'install' (default): each zone is created, attached, planned,
   * prepared and executed on its own (about 35 ms a zone with the demo's packages). 'clone':
   * the first zone is installed that way, the others are copies of it (clone-zones.ts), which the
   * image model cannot tell from installed zones; for hosts with thousands of zones.
   */
  zones?: 'install' | 'clone';
}

/**
 * A demo host under `dir`: a local repository with version 1.0 of the packages (by default five,
 * two of them tied to the parent with `depend type=parent`), a parent image and `count` zones
 * (`zone:z1`… at `<dir>/zones/z<i>/root`) with 1.0 installed, then version 1.1 of every package
 * published — so an update has work to do. The content cache (`<dir>/cache`) holds the 1.0
 * content. `log` gets a line per phase.
 */
export async function buildDemoHost(
  dir: string,
  count = 8,
  log: (s: string) => void = () => undefined,
  opts: DemoHostOptions = {},
): Promise<DemoHost> {
  if (opts.packages !== undefined && (!Number.isInteger(opts.packages) || opts.packages < 1))
    throw new RangeError(`Expected opts.packages to be an integer >= 1, got ${opts.packages}`);
  const repo = path.join(dir, 'repo');
  const cacheDir = path.join(dir, 'cache');
  await createRepository(repo, { publisher: 'demo' });
  await publishVersion(repo, dir, packageTrees(1, opts.bigFileBytes, opts.packages));
  const origin = 'file://' + repo;
  const pub = { name: 'demo', origins: [origin], sticky: true, enabled: true };
  const parent = await Image.create(path.join(dir, 'host'), { publishers: [pub] });
  const cache = await ContentCache.open(cacheDir);
  const install = async (img: Image, zone: boolean) => {
    const all = packageTrees(1, zone ? opts.bigFileBytes : 0, opts.packages);
    const p = await plan(img, { install: all.map((t) => t.fmri) }, undefined, { cache });
    await prepare(img, p, cache);
    await execute(img, p, cache);
    return p;
  };
  const perImage = packageTrees(1, 0, opts.packages).length;
  await install(parent, false);
  log(`parent image ${parent.root}: ${perImage} packages at 1.0`);
  const children: DemoHost['children'] = [];
  const zoneRoot = (i: number) => path.join(dir, 'zones', `z${i}`, 'root');
  const installed = opts.zones === 'clone' ? Math.min(count, 1) : count;
  let template: { image: Image; plan: Awaited<ReturnType<typeof install>> } | null = null;
  for (let i = 1; i <= installed; i++) {
    const child = await Image.create(zoneRoot(i), {
      publishers: [pub],
      variants: { 'variant.opensolaris.zone': 'nonglobal' },
    });
    await attachChild(parent, child, `zone:z${i}`);
    await child.reload();
    template = { image: child, plan: await install(child, true) };
    children.push({ name: `zone:z${i}`, path: child.root });
  }
  if (installed < count && template) {
    const clones = Array.from({ length: count - installed }, (_, k) => ({
      name: `zone:z${installed + k + 1}`,
      root: zoneRoot(installed + k + 1),
    }));
    await parent.reload();
    await cloneZones(parent, template.image, template.plan, clones, { log });
    children.push(...clones.map((c) => ({ name: c.name, path: c.root })));
  }
  log(
    `${count} zones attached, each with ${perImage} packages at 1.0${installed < count ? ` (${count - installed} cloned from zone:z1)` : ''}`,
  );
  await publishVersion(repo, dir, packageTrees(2, opts.bigFileBytes, opts.packages));
  log(`repository ${repo}: version 1.1 of every package published`);
  return { repo, parent: parent.root, children, cacheDir };
}
