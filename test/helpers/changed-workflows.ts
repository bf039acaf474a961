import { promises as fs } from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', '.generated', 'workflows-changed');

/**
 * The negative control of the replay test, made from the real workflows/ at test time so it
 * never drifts: a copy of workflows/ in which the parent's describe activity gets another ID,
 * as a careless edit would. Replaying a recorded history against it must fail. Written inside
 * the project (git-ignored) so the bundler resolves the same packages.
 */
export async function changedWorkflowsPath(): Promise<string> {
  await fs.rm(OUT, { recursive: true, force: true });
  await fs.mkdir(OUT, { recursive: true });
  for (const f of await fs.readdir(path.join(ROOT, 'workflows'))) {
    let src = await fs.readFile(path.join(ROOT, 'workflows', f), 'utf8');
    src = src.replace(/from '\.\.\/(activities|images)\//g, "from '../../../$1/");
    if (f === 'update-linked-images.ts') {
      const changed = src.replace("activityId: 'describe/parent'", "activityId: 'describe/parent-renamed'");
      if (changed === src) throw new Error("workflows/update-linked-images.ts no longer has activityId: 'describe/parent'; update the replay control");
      src = changed;
    }
    await fs.writeFile(path.join(OUT, f), src);
  }
  return path.join(OUT, 'index.ts');
}
