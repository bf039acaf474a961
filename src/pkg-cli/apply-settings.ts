import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { Image } from '../image/image';
import type { PlanSettings } from '../model/plan-types';
import { execute } from '../stages/execute';
import { plan } from '../stages/plan';
import { prepare } from '../stages/prepare';
import { saveSettings } from '../stages/image-settings';
import { CliIo } from './command';

/**
 * Applies new facets or mediator settings as pkg(5)'s change-facet and set-mediator do: plans
 * with no package allowed to move (the packages whose actions the settings change are
 * delivered again), prepares, executes, and then records the settings in image.json. With
 * `dryRun`, plans and prints only. Resolves with the exit code: 0, or 4 when nothing changes.
 */
export async function applySettings(
  image: Image,
  settings: PlanSettings,
  cacheDir: string,
  dryRun: boolean,
  io: CliIo,
): Promise<number> {
  const cache = await ContentCache.open(path.resolve(cacheDir));
  const p = await plan(image, { update: [], settings }, undefined, { cache });
  if (!p.settings) {
    io.stdout.write(`No changes: the image already has these settings. (${image.root})\n`);
    return 4;
  }
  io.stdout.write(
    `Packages to change: ${p.changes.length}; actions: +${p.sizes.add} ~${p.sizes.update} -${p.sizes.remove}; download ${p.sizes.downloadBytes} bytes\n`,
  );
  if (dryRun) return 0;
  if (p.changes.length > 0) {
    await prepare(image, p, cache);
    const x = await execute(image, p, cache);
    io.stdout.write(`Execute: ${x.status}, ${x.steps} steps\n`);
  }
  await saveSettings(image, p.settings);
  return 0;
}
