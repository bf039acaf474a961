import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A fresh temp directory; `cleanup()` removes every one made. */
const made: string[] = [];
export async function tempDir(tag = 'li'): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), `${tag}-`));
  made.push(d);
  return d;
}
export async function cleanup(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

/** Writes a tree from a spec: `'a/b.txt': 'text'`, `'dir/': null` (a directory), `'l': { symlink: 'target' }`. */
export async function writeTree(
  root: string,
  spec: Record<string, string | Buffer | null | { symlink: string } | { mode: number; data: string }>,
): Promise<void> {
  for (const [rel, v] of Object.entries(spec)) {
    const full = path.join(root, rel);
    if (v === null) {
      await fs.mkdir(full, { recursive: true });
      continue;
    }
    await fs.mkdir(path.dirname(full), { recursive: true });
    if (typeof v === 'object' && 'symlink' in v) await fs.symlink(v.symlink, full);
    else if (typeof v === 'object' && 'mode' in v) {
      await fs.writeFile(full, v.data);
      await fs.chmod(full, v.mode);
    } else await fs.writeFile(full, v);
  }
}

export interface Entry {
  type: 'dir' | 'file' | 'link';
  mode: number;
  sha256?: string;
  target?: string;
  ino?: number;
}

/**
 * Everything under `root` (except the `exclude`d prefixes) as path -> type/mode/content hash or
 * link target: two trees are byte-identical when their snapshots are deep-equal.
 */
export async function snapshot(root: string, exclude: string[] = ['var/pkg']): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (exclude.some((e) => r === e || r.startsWith(e + '/'))) continue;
      const full = path.join(root, r);
      const st = await fs.lstat(full);
      if (st.isSymbolicLink()) out[r] = { type: 'link', mode: 0, target: await fs.readlink(full) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode: st.mode & 0o7777 };
        await walk(r);
      } else
        out[r] = {
          type: 'file',
          mode: st.mode & 0o7777,
          sha256: createHash('sha256')
            .update(await fs.readFile(full))
            .digest('hex'),
        };
    }
  };
  await walk('');
  // The image's own metadata lives in var/pkg: an otherwise empty var/ is not package content.
  if (out.var?.type === 'dir' && !Object.keys(out).some((k) => k.startsWith('var/'))) delete out.var;
  return out;
}
