import * as path from 'path';
import { audit } from '../image/audit';
import { ContentCache } from '../cache/content-cache';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { UsageError } from '../command-line/usage-error';
import { isImageError } from '../model/errors';
import { ChildRef, Image } from '../image/image';
import { attachChild, detachChild, listChildren } from '../image/linked';
import { checkPublishers, publisherCheck, usesSystemRepository } from '../stages/publisher-check';
import { collect } from '../command-line/value-parsers';
import { concurrencyOption, rootOption } from './args';
import { forEachChild, recursionConcurrency, selectChildren } from './child-runs';
import { CliIo, defineCommand } from './command';
import { combineExits, EXIT } from './exit-codes';
import { applyRequest, cacheOption } from './image-commands';
import { warnIfInterrupted } from './interrupted';

/** The options of a command on a parent image: `-R <image root>` only. */
interface ParentOptions {
  R: string;
}

interface AttachOptions extends ParentOptions {
  linkedMdOnly?: boolean;
  cache?: string;
}

/**
 * pkg(5)'s attach-linked: checks the child's publishers against the parent's, attaches it, then
 * syncs it with the parent (only what its parent constraints require moves). With
 * --linked-md-only only the linked metadata is written: no check, no package changes.
 */
export const attachLinked = defineCommand<AttachOptions>({
  summary: 'attach a child image (zone) to a parent image and sync it with the parent',
  usage: '-R <parent root> [--linked-md-only] [--cache <dir>] <zone:name> <child root>',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image'))
      .option('--linked-md-only', 'only record the link: do not check publishers, do not sync the child')
      .addOption(cacheOption())
      .argument('<zone:name>', "the child's name, e.g. zone:z1")
      .argument('<child root>', 'the child image'),
  async run(opts, [name, childRoot], io) {
    const parent = await Image.open(path.resolve(opts.R));
    const child = await Image.open(path.resolve(childRoot));
    if (!opts.linkedMdOnly && !usesSystemRepository(child))
      checkPublishers(parent.publishers(), child.publishers(), name);
    await attachChild(parent, child, name);
    if (opts.linkedMdOnly) return 0;
    await child.reload();
    const cache = await ContentCache.open(path.resolve(opts.cache ?? defaultCacheDir()));
    const { code } = await applyRequest(child, { sync: true }, undefined, cache, 'execute', io);
    return code === EXIT.NOP ? EXIT.OK : code; // the attach itself changed the image
  },
});

export const detachLinked = defineCommand<ParentOptions>({
  summary: 'detach a child image from its parent',
  usage: '-R <parent root> <zone:name>',
  define: (cmd) => cmd.addOption(rootOption('the parent image')).argument('<zone:name>', "the child's name"),
  async run(opts, [name]) {
    await detachChild(await Image.open(path.resolve(opts.R)), name);
    return 0;
  },
});

export const listLinked = defineCommand<ParentOptions>({
  summary: 'list the child images of a parent',
  usage: '-R <parent root>',
  define: (cmd) => cmd.addOption(rootOption('the parent image')),
  async run(opts, _args, io) {
    const parent = await Image.open(path.resolve(opts.R));
    io.stdout.write('NAME\tPATH\n');
    for (const c of listChildren(parent)) io.stdout.write(`${c.name}\t${c.path}\n`);
    return 0;
  },
});

interface MultiChildOptions extends ParentOptions {
  a?: boolean;
  l?: string[];
  C?: number;
}

/**
 * Which images a pubcheck-linked / audit-linked acts on: the named children (-l), every child
 * (-a), or, given neither, the image itself when it is a linked child (as pkg(5) does) and
 * every child otherwise. Null means the image itself.
 */
function targets(image: Image, opts: MultiChildOptions): ChildRef[] | null {
  if (opts.a && opts.l) throw new UsageError("the '-a' and '-l' options may not be combined");
  if (!opts.a && !opts.l && image.config().linked) return null;
  return selectChildren(image, opts.l);
}

/**
 * A child's audit line(s); its pkg(5) exit code (0 synced, 52 diverged). A child with an
 * interrupted execute cannot be audited (its installed state is half-applied): it is reported
 * as `interrupted`, with the notice of how to finish or roll it back on stderr, exit 1.
 */
async function auditOne(parent: Image, child: Image, name: string, io: CliIo): Promise<number> {
  if (await warnIfInterrupted(child.root, io, name)) {
    io.stdout.write(`${name}\tinterrupted\n`);
    return EXIT.OOPS;
  }
  const r = await audit(parent, child);
  io.stdout.write(`${name}\t${r.status}\n`);
  for (const d of r.diverged) io.stdout.write(`  ${d.fmri}: ${d.problem}\n`);
  return r.status === 'diverged' ? EXIT.DIVERGED : EXIT.OK;
}

/**
 * pkg(5)'s audit-linked: synced or diverged, for every child (-a, the default on a parent), the
 * named children (-l), or the image itself when it is a child. Every child is audited: one
 * whose root is missing is reported with its error and the rest still run. Exit: 0 all synced,
 * 52 when some diverged (and none failed), else pkg(5)'s combination (3: some failed).
 */
export const auditLinked = defineCommand<MultiChildOptions>({
  summary: 'check that children (or this child) are in step with their parent (synced / diverged)',
  usage: '-R <root> [-a | -l <zone:name>...] [-C N]',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image, or a child image to audit against its parent'))
      .option('-a', 'audit every child (the default on an image that is not a child)')
      .option('-l <zone:name>', 'audit only this child (repeatable)', collect)
      .addOption(concurrencyOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const refs = targets(image, opts);
    if (refs === null) {
      const linked = image.config().linked!;
      return auditOne(await Image.open(linked.parent), image, linked.name, io);
    }
    const outcomes = await forEachChild(refs, recursionConcurrency(image, opts.C), io, async (c, cio) =>
      auditOne(image, await Image.open(c.path), c.name, cio),
    );
    const codes = outcomes.map((o) => o.code);
    if (codes.every((c) => c === EXIT.OK || c === EXIT.DIVERGED))
      return codes.includes(EXIT.DIVERGED) ? EXIT.DIVERGED : EXIT.OK;
    return combineExits(
      codes.map((c) => (c === EXIT.DIVERGED ? EXIT.OK : c)),
      EXIT.OK,
    );
  },
});

/**
 * pkg(5)'s pubcheck-linked: the publisher check of every child (or the -l ones), or of the
 * image itself when it is a child. Children are checked all at once unless -C caps it (the
 * check only reads image.json). Exit 1 when any mismatches or fails; every child is reported.
 */
export const pubcheckLinked = defineCommand<MultiChildOptions>({
  summary: "check children's publishers against the parent's (every child, those named with -l, or this child)",
  usage: '-R <root> [-a | -l <zone:name>...] [-C N]',
  define: (cmd) =>
    cmd
      .addOption(rootOption('the parent image, or a child image to check against its parent'))
      .option('-a', 'check every child (the default on an image that is not a child)')
      .option(
        '-l <zone:name>',
        'check only this child (repeatable); NO_SUCH_CHILD (exit 1) when the parent has no such child',
        collect,
      )
      .addOption(concurrencyOption())
      .addHelpText('after', '\nPrints "<name>\tok" or the mismatch per child; exit 1 when any child mismatches.'),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const refs = targets(image, opts);
    const one = (parent: Image, child: Image, name: string, out: CliIo) => {
      try {
        publisherCheck(parent, child);
        out.stdout.write(`${name}\tok\n`);
        return EXIT.OK;
      } catch (e) {
        if (!isImageError(e, 'PUBLISHER_MISMATCH')) throw e;
        out.stdout.write(`${name}\t${e.message}\n`);
        return EXIT.OOPS;
      }
    };
    if (refs === null) {
      const linked = image.config().linked!;
      return one(await Image.open(linked.parent), image, linked.name, io);
    }
    const outcomes = await forEachChild(refs, opts.C ?? 0, io, async (c, cio) =>
      one(image, await Image.open(c.path), c.name, cio),
    );
    return outcomes.some((o) => o.code !== EXIT.OK) ? EXIT.OOPS : EXIT.OK;
  },
});
