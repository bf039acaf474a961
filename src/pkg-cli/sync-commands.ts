import * as path from 'path';
import { Option } from 'commander';
import { ContentCache } from '../cache/content-cache';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { UsageError } from '../command-line/usage-error';
import { collect } from '../command-line/value-parsers';
import { Image } from '../image/image';
import { ImageError } from '../model/errors';
import { installedState } from '../stages/parent-state';
import { publisherCheck } from '../stages/publisher-check';
import { concurrencyOption, rootOption } from './args';
import { forEachChild, recursionConcurrency, selectChildren } from './child-runs';
import { CliIo, defineCommand } from './command';
import { combineExits } from './exit-codes';
import { applyRequest, cacheOption, checkAgainstParent, stageOf, UpdateStage } from './image-commands';

interface SyncOptions {
  R: string;
  a?: boolean;
  l?: string[];
  n?: boolean;
  stage?: UpdateStage;
  cache?: string;
  C?: number;
}

/**
 * pkg(5)'s `sync-linked`: brings children (or, on a child, the image itself) in step with their
 * parent, moving only packages whose parent constraint is not met and what they need
 * (PlanRequest.sync). Exit 4 when nothing needed to change; for several children, pkg(5)'s
 * combination (3 when some failed).
 */
export const syncLinked = defineCommand<SyncOptions>({
  summary: 'sync children (-a, -l) or this child image with its parent: only what parent constraints require moves',
  usage: '-R <root> [-a | -l <zone:name>...] [-n | --stage plan|prepare|execute] [--cache <dir>] [-C N]',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image (with -a or -l), else the child image to sync'))
      .option('-a', 'sync every child of the image')
      .option('-l <zone:name>', 'sync this child (repeatable)', collect)
      .option('-n', 'plan only (dry run); the same as --stage plan')
      .addOption(
        new Option('--stage <stage>', 'how far to go: plan, prepare or execute (the default)').choices([
          'plan',
          'prepare',
          'execute',
        ]),
      )
      .addOption(cacheOption())
      .addOption(concurrencyOption()),
  async run(opts, _args, io) {
    if (opts.a && opts.l) throw new UsageError("the '-a' and '-l' options may not be combined");
    const stage = stageOf(opts);
    const image = await Image.open(path.resolve(opts.R));
    const cache = await ContentCache.open(path.resolve(opts.cache ?? defaultCacheDir()));
    if (!opts.a && !opts.l) {
      if (!image.config().linked)
        throw new ImageError(
          'NOT_LINKED',
          `Image ${image.root} is not a linked child: there is no parent to sync with (use -a or -l to sync its children)`,
          { image: image.root },
        );
      await checkAgainstParent(image);
      return (await applyRequest(image, { sync: true }, undefined, cache, stage, io)).code;
    }
    return syncChildren(image, opts.l, cache, stage, io, opts.C);
  },
});

/** Syncs the children `names` (all when undefined) of `parent` with its installed state; pkg(5)'s combined exit. */
export async function syncChildren(
  parent: Image,
  names: string[] | undefined,
  cache: ContentCache,
  stage: UpdateStage,
  io: CliIo,
  concurrency?: number,
): Promise<number> {
  const refs = selectChildren(parent, names);
  const state = await installedState(parent);
  const outcomes = await forEachChild(refs, recursionConcurrency(parent, concurrency), io, async (ref, cio) => {
    cio.stdout.write(`${ref.name}: sync\n`);
    const child = await Image.open(ref.path);
    publisherCheck(parent, child);
    return (await applyRequest(child, { sync: true }, state, cache, stage, cio)).code;
  });
  return combineExits(outcomes.map((o) => o.code));
}
