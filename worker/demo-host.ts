import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ContentCache } from '../images/content-cache';
import { execute } from '../images/execute';
import { Image } from '../images/image';
import { attachChild } from '../images/linked';
import { plan } from '../images/plan';
import { prepare } from '../images/prepare';
import { createRepository, publishTree } from '../images/repository';

const SELF = 'depend type=parent fmri=feature/package/dependency/self';

/** The demo's packages: version 1 is installed everywhere, version 2 is what the update brings. */
function packageTrees(v: 1 | 2, bigFileBytes = 0): { fmri: string; tree: Record<string, string>; depends?: string[]; actions?: string[] }[] {
  const ver = v === 1 ? '1.0' : '1.1';
  const lines = (what: string, n: number) => Array.from({ length: n }, (_, i) => `${what} v${v} line ${i}`).join('\n') + '\n';
  return [
    { fmri: `system/kernel@${ver}`, tree: { 'kernel/unix': lines('kernel', 400), 'etc/release': `Demo OS ${ver}\n` }, actions: [SELF] },
    { fmri: `system/library@${ver}`, tree: { 'lib/libc.so.1': lines('libc', 300), 'lib/libm.so.2': lines('libm', 200) }, actions: [SELF] },
    { fmri: `library/openssl@${ver}`, tree: { 'usr/lib/libssl.so.3': lines('ssl', 500), 'etc/ssl/openssl.cnf': `# openssl ${ver}\n` } },
    { fmri: `web/nginx@${ver}`, tree: { 'usr/sbin/nginx': lines('nginx', 600), 'etc/nginx/nginx.conf': `worker_processes ${v};\n`, 'usr/share/nginx/index.html': `<h1>demo ${ver}</h1>\n` }, depends: [`type=require fmri=pkg:/library/openssl@${ver}`] },
    { fmri: `shell/bash@${ver}`, tree: { 'usr/bin/bash': lines('bash', 350), 'etc/bash.bashrc': `# bash ${ver}\n` } },
    // Only in zones, and only when asked for: content the parent does not have, so zones download it.
    ...(bigFileBytes ? [{ fmri: `zone/tools@${ver}`, tree: { 'opt/tools/README': `tools ${ver}\n`, ...(v === 2 ? { 'opt/tools/blob': noise(bigFileBytes) } : {}) } }] : []),
  ];
}

/** Incompressible text (hex of chained hashes), so a big file is as big on the wire as on disk. */
function noise(bytes: number): string {
  const parts: string[] = [];
  let h = createHash('sha256').update('demo').digest('hex');
  for (let n = 0; n < bytes; n += h.length) parts.push((h = createHash('sha256').update(h).digest('hex')));
  return parts.join('').slice(0, bytes);
}

async function publishVersion(repo: string, work: string, v: 1 | 2, bigFileBytes = 0): Promise<void> {
  for (const p of packageTrees(v, bigFileBytes)) {
    const dir = path.join(work, 'trees', `${p.fmri.replace(/[/@]/g, '_')}`);
    for (const [rel, text] of Object.entries(p.tree)) {
      await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fs.writeFile(path.join(dir, rel), text);
    }
    await publishTree(repo, { fmri: p.fmri, dir, depends: p.depends, actions: p.actions, summary: `demo ${p.fmri}` });
  }
}

export interface DemoHost {
  repo: string;
  parent: string;
  children: { name: string; path: string }[];
  cacheDir: string;
}

/**
 * A demo host under `dir`: a local repository with version 1.0 of five packages (two of them
 * tied to the parent with `depend type=parent`), a parent image and `count` zones with 1.0
 * installed, then version 1.1 of every package published — so an update has work to do.
 * `bigFileBytes` adds a zone-only package, zone/tools, whose 1.1 carries a file that large (crash
 * tests kill a zone's download in the middle of it).
 */
export async function buildDemoHost(dir: string, count = 8, log: (s: string) => void = () => undefined, opts: { bigFileBytes?: number } = {}): Promise<DemoHost> {
  const repo = path.join(dir, 'repo');
  const cacheDir = path.join(dir, 'cache');
  await createRepository(repo, { publisher: 'demo' });
  await publishVersion(repo, dir, 1, opts.bigFileBytes);
  const origin = 'file://' + repo;
  const pub = { name: 'demo', origins: [origin], sticky: true, enabled: true };
  const parent = await Image.create(path.join(dir, 'host'), { publishers: [pub] });
  const cache = await ContentCache.open(cacheDir);
  const install = async (img: Image, zone: boolean) => {
    const all = packageTrees(1, zone ? opts.bigFileBytes : 0);
    const p = await plan(img, { install: all.map((t) => t.fmri) }, undefined, { cache });
    await prepare(img, p, cache);
    await execute(img, p, cache);
  };
  await install(parent, false);
  log(`parent image ${parent.root}: 5 packages at 1.0`);
  const children: DemoHost['children'] = [];
  for (let i = 1; i <= count; i++) {
    const child = await Image.create(path.join(dir, 'zones', `z${i}`, 'root'), { publishers: [pub], variants: { 'variant.opensolaris.zone': 'nonglobal' } });
    await attachChild(parent, child, `zone:z${i}`);
    await child.reload();
    await install(child, true);
    children.push({ name: `zone:z${i}`, path: child.root });
  }
  log(`${count} zones attached, each with 5 packages at 1.0`);
  await publishVersion(repo, dir, 2, opts.bigFileBytes);
  log(`repository ${repo}: version 1.1 of every package published`);
  return { repo, parent: parent.root, children, cacheDir };
}
