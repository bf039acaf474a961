import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRepository, publishTree } from '../src/repository';
import {
  layoutFor,
  packageTree,
  PackageLayout,
  PUBLISH_TIME,
  PUBLISHER,
  stemOf,
  writePackageTree,
} from './package-spec';

/** Bump when package-spec.ts or payload.ts change what is generated: older caches are then ignored. */
const GENERATOR_VERSION = 2;
/** Publishing waits mostly on fsync (one per stored file), so several packages are published at once. */
const PUBLISH_CONCURRENCY = 8;

export interface VersionShape {
  files: number;
  bytes: number;
}

export interface RepoShape {
  packages: number;
  actionsPerPackage: number;
  layout: PackageLayout;
  v1: VersionShape;
  v2: VersionShape;
  /** Every content file the repository stores (both versions), and their compressed bytes. */
  storedFiles: number;
  storedBytes: number;
  generationMs: number;
}

export interface GeneratedRepo {
  root: string;
  publisher: string;
  stems: string[];
  shape: RepoShape;
  /** True when an earlier run's repository was reused. */
  cached: boolean;
}

/**
 * The benchmark repository for these parameters: reused from `cacheDir` when an earlier run
 * completed it (shape.json is written last and marks it complete), generated otherwise.
 */
export async function ensureRepo(
  cacheDir: string,
  packages: number,
  actionsPerPackage: number,
  log: (line: string) => void,
): Promise<GeneratedRepo> {
  const layout = layoutFor(actionsPerPackage);
  const dir = path.join(cacheDir, `repo-g${GENERATOR_VERSION}-p${packages}-a${actionsPerPackage}`);
  const root = path.join(dir, 'repo');
  const shapeFile = path.join(dir, 'shape.json');
  const stems = Array.from({ length: packages }, (_, i) => stemOf(i));
  try {
    const shape = JSON.parse(await fs.readFile(shapeFile, 'utf8')) as RepoShape;
    return { root, publisher: PUBLISHER, stems, shape, cached: true };
  } catch {
    // Not there or damaged: (re)generate from scratch.
  }
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await createRepository(root, { publisher: PUBLISHER });

  const started = Date.now();
  const shape: RepoShape = {
    packages,
    actionsPerPackage,
    layout,
    v1: { files: 0, bytes: 0 },
    v2: { files: 0, bytes: 0 },
    storedFiles: 0,
    storedBytes: 0,
    generationMs: 0,
  };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'li-bench-gen-'));
  try {
    const jobs: { i: number; version: 1 | 2 }[] = [];
    for (const version of [1, 2] as const) for (let i = 0; i < packages; i++) jobs.push({ i, version });
    let next = 0;
    let done = 0;
    let lastLog = Date.now();
    const worker = async (w: number) => {
      while (next < jobs.length) {
        const { i, version } = jobs[next++];
        const tree = path.join(scratch, `w${w}`);
        const entries = packageTree(i, version, layout);
        await writePackageTree(tree, entries);
        await publishTree(root, {
          fmri: `${stemOf(i)}@${version}.0`,
          dir: tree,
          publisher: PUBLISHER,
          timestamp: PUBLISH_TIME,
          lockWaitMs: 600_000,
        });
        await fs.rm(tree, { recursive: true, force: true });
        const v = version === 1 ? shape.v1 : shape.v2;
        for (const e of entries) {
          if (e.kind !== 'file') continue;
          v.files++;
          v.bytes += e.data.length;
        }
        done++;
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`  published ${done}/${jobs.length} package versions (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        }
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, (_, w) => worker(w)));
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  shape.generationMs = Date.now() - started;
  const stored = await storedContent(path.join(root, 'publisher', PUBLISHER, 'file'));
  shape.storedFiles = stored.files;
  shape.storedBytes = stored.bytes;
  await fs.writeFile(shapeFile, JSON.stringify(shape, null, 2) + '\n');
  return { root, publisher: PUBLISHER, stems, shape, cached: false };
}

async function storedContent(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const sub of await fs.readdir(dir)) {
    const subDir = path.join(dir, sub);
    if (!(await fs.stat(subDir)).isDirectory()) continue;
    for (const name of await fs.readdir(subDir)) {
      files++;
      bytes += (await fs.stat(path.join(subDir, name))).size;
    }
  }
  return { files, bytes };
}
