/**
 * Runs one execute in its own process so a test can SIGKILL it mid-way. Each copy is slowed a
 * little (the kill must land between steps, not after the last one) and progress is printed as
 * `step <done>/<total>` lines on stdout.
 *   node -r ts-node/register execute-child.ts <image root> <cache root> <plan.json>
 */
import { promises as fs } from 'fs';
import { ContentCache } from '../../images/content-cache';
import { execute } from '../../images/execute';
import { realFs } from '../../images/fs-layer';
import { Image } from '../../images/image';

async function main(): Promise<void> {
  const [root, cacheRoot, planFile] = process.argv.slice(2);
  const image = await Image.open(root);
  const cache = await ContentCache.open(cacheRoot);
  const p = JSON.parse(await fs.readFile(planFile, 'utf8'));
  const slow = { ...realFs, copyFile: async (a: string, b: string) => { await new Promise((r) => setTimeout(r, 8)); await realFs.copyFile(a, b); } };
  let last = -1;
  const r = await execute(image, p, cache, {
    fs: slow,
    onProgress: (pr) => {
      if (pr.stepsDone !== last) process.stdout.write(`step ${(last = pr.stepsDone)}/${pr.stepsTotal}\n`);
    },
  });
  process.stdout.write(`finished ${JSON.stringify(r)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
