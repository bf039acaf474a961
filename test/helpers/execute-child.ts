/**
 * Runs one execute in its own process so a test can SIGKILL it mid-way. The first <copies> file
 * copies go through; every later one copies its temp file and then hangs (so the kill leaves
 * temp files behind), and `blocked <n>` is printed once. A timed slowdown
 * was not enough: with 8 writes in flight a loaded CI machine finished all steps before the kill
 * landed. Progress is printed as `step <done>/<total>` lines on stdout.
 *   node -r ts-node/register execute-child.ts <image root> <cache root> <plan.json> <copies>
 */
import { promises as fs } from 'fs';
import { ContentCache } from '../../src/cache/content-cache';
import { execute } from '../../src/stages/execute';
import { realFs } from '../../src/image/fs-layer';
import { Image } from '../../src/image/image';

async function main(): Promise<void> {
  const [root, cacheRoot, planFile, copiesArg] = process.argv.slice(2);
  const copies = Number(copiesArg);
  const image = await Image.open(root);
  const cache = await ContentCache.open(cacheRoot);
  const p = JSON.parse(await fs.readFile(planFile, 'utf8'));
  let started = 0;
  const gated = {
    ...realFs,
    copyFile: async (a: string, b: string, exclusive?: boolean) => {
      await realFs.copyFile(a, b, exclusive);
      // Copied but never renamed into place: the resumed execute finds these temp files.
      if (++started > copies) {
        if (started === copies + 1) process.stdout.write(`blocked ${copies}\n`);
        // Blocked until the test's SIGKILL: a timer keeps Node alive (a bare never-settling promise
        // does not, and under load the process could exit 0 before the kill landed).
        await new Promise(() => setInterval(() => undefined, 60_000));
      }
    },
  };
  let last = -1;
  const r = await execute(image, p, cache, {
    fs: gated,
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
