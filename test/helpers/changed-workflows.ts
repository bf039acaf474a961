import { promises as fs } from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', '.generated', 'workflows-changed');

/** Where the parent's describe activity gets its ID: in today's workflow, and in the legacy one that replays older runs. */
export const DESCRIBE_ID_SITES = {
  current: { file: 'update-linked-images.ts', text: "activityId('describe', PARENT)" },
  legacy: { file: 'legacy/update-inline.ts', text: "activityId: activityId('describe', PARENT)" },
} as const;

/**
 * The negative control of the replay test, made from the real workflows/ at test time so it
 * never drifts: a copy of workflows/ in which the parent's describe activity gets another ID at
 * one site, as a careless edit would. Replaying a recorded history of that shape against it must
 * fail. Written inside the project (git-ignored) so the bundler resolves the same packages.
 */
export async function changedWorkflowsPath(site: keyof typeof DESCRIBE_ID_SITES = 'current'): Promise<string> {
  const out = path.join(OUT, site);
  await fs.rm(out, { recursive: true, force: true });
  const { file, text } = DESCRIBE_ID_SITES[site];
  let changedOne = false;
  const copy = async (rel: string): Promise<void> => {
    const from = path.join(ROOT, 'src', 'workflows', rel);
    if ((await fs.stat(from)).isDirectory()) {
      await fs.mkdir(path.join(out, rel), { recursive: true });
      for (const f of await fs.readdir(from)) await copy(path.join(rel, f));
      return;
    }
    const depth = rel.split(path.sep).length - 1;
    let src = await fs.readFile(from, 'utf8');
    // ../<folder> from src/workflows/x.ts (or ../../<folder> from src/workflows/legacy/x.ts) is src/<folder>, seen from test/.generated/workflows-changed/<site>/
    src = src.replace(/from '((?:\.\.\/)+)([a-z-]+)\//g, (m, ups: string, dir: string) =>
      ups.length / 3 === depth + 1 ? `from '${'../'.repeat(depth + 4)}src/${dir}/` : m,
    );
    if (rel === file) {
      const changed = src.replace(text, text.replace('PARENT', "'parent-renamed'"));
      if (changed === src) throw new Error(`workflows/${file} no longer has ${text}; update the replay control`);
      src = changed;
      changedOne = true;
    }
    await fs.writeFile(path.join(out, rel), src);
  };
  await copy('');
  if (!changedOne) throw new Error(`workflows/${file} not found; update the replay control`);
  return path.join(out, 'index.ts');
}
