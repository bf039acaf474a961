import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { execute, ownersNotice, recover } from '../stages/execute';
import { readHistory } from '../image/history';
import { Fmri, shortVersion } from '../model/fmri';
import { Image, PublisherConfig } from '../image/image';
import { Plan, plan, PlanRequest } from '../stages/plan';
import { plannedState } from '../stages/parent-state';
import { publisherCheck } from '../stages/publisher-check';
import { listChildren } from '../image/linked';
import { ParentState } from '../model/parent-constraint';
import { combineExits, EXIT } from './exit-codes';
import { childrenFailingPubcheck, forEachChild, recursionConcurrency } from './child-runs';
import { prepare } from '../stages/prepare';
import { Command as CommanderCommand, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../command-line/usage-error';
import { collect, integerIn, nonEmpty } from '../command-line/value-parsers';
import { concurrencyOption, rootOption } from './args';
import { CliIo, defineCommand } from './command';
import { writeTable } from './table';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { settleInterrupted, warnIfInterrupted } from './interrupted';

/** `--cache <dir>` of the commands that fetch content; `opts.cache` (undefined: defaultCacheDir()). */
export function cacheOption(): Option {
  return new Option(
    '--cache <dir>',
    `host-wide content cache (default $LINKED_IMAGES_CACHE or ${defaultCacheDir()})`,
  ).argParser(nonEmpty);
}

/** `<name>=<origin>`: a publisher of image-create; a path origin becomes a file:// URL. */
function parsePublisher(spec: string): PublisherConfig {
  const m = /^([^=]+)=(.+)$/.exec(spec);
  if (!m) throw new InvalidArgumentError('Expected <name>=<origin URL or repository path>.');
  const origin = /^[a-z]+:\/\//.test(m[2]) ? m[2] : 'file://' + path.resolve(m[2]);
  return { name: m[1], origins: [origin], sticky: true, enabled: true };
}

/** `<name>=<value>`: a variant of image-create. */
function parseVariant(spec: string): [string, string] {
  const m = /^([^=]+)=(.+)$/.exec(spec);
  if (!m) throw new InvalidArgumentError('Expected <name>=<value>.');
  return [m[1], m[2]];
}

interface ImageCreateOptions {
  publisher?: PublisherConfig[];
  zone?: boolean;
  variant?: [string, string][];
}

export const imageCreate = defineCommand<ImageCreateOptions>({
  summary: 'create an image (a host root or a zone root)',
  usage: '<root> [--publisher <name>=<origin>]... [--zone] [--variant <name>=<value>]...',
  define: (cmd) =>
    cmd
      .argument('<root>', 'the directory of the new image')
      .option(
        '--publisher <name>=<origin>',
        'publishers in rank order; origin is http://... or a repository path',
        (v, prev: PublisherConfig[] | undefined) => [...(prev ?? []), parsePublisher(v)],
      )
      .option('--zone', 'a non-global zone image (variant.opensolaris.zone=nonglobal)')
      .option(
        '--variant <name>=<value>',
        'any other variant, e.g. variant.arch=i386',
        (v, prev: [string, string][] | undefined) => [...(prev ?? []), parseVariant(v)],
      ),
  async run(opts, [root]) {
    const variants: Record<string, string> = Object.fromEntries(opts.variant ?? []);
    if (opts.zone) variants['variant.opensolaris.zone'] = 'nonglobal';
    await Image.create(path.resolve(root), { publishers: opts.publisher ?? [], variants });
    return 0;
  },
});

interface SetPublisherOptions {
  R: string;
  origin?: string[];
  /** false with --non-sticky. */
  nonSticky?: boolean;
  disable?: boolean;
  rank?: number;
  /** --nochild: true; --no-nochild: false; neither: as it was. */
  nochild?: boolean;
}

export const setPublisher = defineCommand<SetPublisherOptions>({
  summary: 'add or change a publisher of an image',
  usage: '-R <root> <name> --origin <url> [--non-sticky] [--disable] [--rank N] [--nochild | --no-nochild]',
  define: (cmd) =>
    cmd
      .addOption(rootOption())
      .argument('<name>', 'the publisher')
      .option(
        '--origin <url>',
        'an origin, http://... or a repository path (repeatable; required for a new publisher)',
        collect,
      )
      .option('--non-sticky', 'packages may move to another publisher')
      .option('--disable', 'keep the publisher but do not use it')
      .option('--rank <N>', 'its place in the search order, 0 first (default: where it was, else last)', integerIn(0))
      .option('--nochild', "children need not have this publisher (it is left out of the children's publisher check)")
      .option('--no-nochild', 'children must have this publisher again (the default for a new publisher)'),
  async run(opts, [name]) {
    const image = await Image.open(path.resolve(opts.R));
    const pubs = image.publishers();
    const at = pubs.findIndex((p) => p.name === name);
    const origins = (opts.origin ?? []).map((o) => (/^[a-z]+:\/\//.test(o) ? o : 'file://' + path.resolve(o)));
    const pub: PublisherConfig = {
      name,
      origins: origins.length ? origins : at >= 0 ? pubs[at].origins : [],
      sticky: !opts.nonSticky,
      enabled: !opts.disable,
    };
    // Kept unless given: set-publisher --origin must not silently re-require the publisher in children.
    if (opts.nochild ?? (at >= 0 && pubs[at].nochild === true)) pub.nochild = true;
    if (pub.origins.length === 0) throw new UsageError('missing --origin <url> for a new publisher');
    if (at >= 0) pubs.splice(at, 1);
    pubs.splice(opts.rank === undefined ? (at >= 0 ? at : pubs.length) : Math.min(opts.rank, pubs.length), 0, pub);
    await image.setPublishers(pubs);
    return 0;
  },
});

/** The options of a command that only reads an image: `-R <image root>`. */
interface RootOptions {
  R: string;
}

export const publisherList = defineCommand<RootOptions>({
  summary: "list an image's publishers in rank order",
  usage: '-R <root>',
  define: (cmd) => cmd.addOption(rootOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const rows = image
      .publishers()
      .map((p) => [p.name, String(p.sticky), String(p.enabled), String(p.nochild === true), p.origins.join(' ')]);
    writeTable(io, ['PUBLISHER', 'STICKY', 'ENABLED', 'NOCHILD', 'ORIGINS'], rows);
    return 0;
  },
});

export const installed = defineCommand<RootOptions>({
  summary: 'list the packages installed in an image',
  usage: '-R <root>',
  define: (cmd) => cmd.addOption(rootOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    await warnIfInterrupted(image.root, io);
    // Sorted by name as pkg(5)'s list, so images holding the same packages list them alike.
    const names = [...(await image.installed()).values()].map((p) => ({ name: p.fmri.name, line: `${p.fmri}` }));
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const n of names) io.stdout.write(`${n.line}\n`);
    return 0;
  },
});

/**
 * How far one `pkg update` (install, uninstall) goes, as pkg(5)'s `--stage`: `plan` plans and
 * prints the plan (= -n), `prepare` plans and downloads, `execute` plans, downloads and applies
 * (the default). Each stage repeats the earlier ones: nothing is kept between processes.
 */
export type UpdateStage = 'plan' | 'prepare' | 'execute';
const STAGES: UpdateStage[] = ['plan', 'prepare', 'execute'];

/**
 * plan, prepare and execute one image (as far as `stage`), printing pkg(5)-like progress.
 * `parentState`: what a child is planned against (undefined: its parent as installed).
 * An execute interrupted in the image is rolled back first (stage execute; said on stdout) or
 * only noticed on stderr (plan, prepare): see settleInterrupted.
 * Resolves with the exit code (0, or 4 when there is nothing to do) and the plan.
 */
export async function applyRequest(
  image: Image,
  request: PlanRequest,
  parentState: ParentState | undefined,
  cache: ContentCache,
  stage: UpdateStage,
  io: CliIo,
): Promise<{ code: number; plan: Plan }> {
  // A dry run (plan, prepare) changes nothing, so it only says; execute settles it first.
  if (stage === 'execute') await settleInterrupted(image, cache, io);
  else await warnIfInterrupted(image.root, io);
  const p = await plan(image, request, parentState, { cache });
  if (p.changes.length === 0) {
    io.stdout.write(`No updates available for this image. (${image.root})\n`);
    writeHeldBack(p, io);
    return { code: EXIT.NOP, plan: p };
  }
  const kind = (c: (typeof p.changes)[number]) => (c.from && c.to ? 'update' : c.to ? 'install' : 'remove');
  for (const c of p.changes)
    io.stdout.write(
      `  ${kind(c).padEnd(7)} ${c.stem}: ${c.from ? shortVersion(c.from, { timestamp: true }) : '-'} -> ${c.to ? shortVersion(c.to, { timestamp: true }) : '-'}\n`,
    );
  io.stdout.write(
    `Packages to change: ${p.changes.length}; actions: +${p.sizes.add} ~${p.sizes.update} -${p.sizes.remove}; download ${p.sizes.downloadBytes} bytes\n`,
  );
  writeHeldBack(p, io);
  if (stage === 'plan') return { code: EXIT.OK, plan: p };
  const r = await prepare(image, p, cache);
  io.stdout.write(
    `Download: ${r.filesDone}/${r.filesTotal} files, ${r.bytesDone}/${r.bytesTotal} bytes (${r.fetchedFiles} fetched, the rest cached)\n`,
  );
  if (stage === 'prepare') return { code: EXIT.OK, plan: p };
  const x = await execute(image, p, cache);
  io.stdout.write(`Execute: ${x.status}, ${x.steps} steps${x.resumed ? ' (resumed an interrupted run)' : ''}\n`);
  // Once per execute, not per file: the files are installed, only their owners are not.
  const notice = ownersNotice(x);
  if (notice) io.stderr.write(`Warning: ${notice}\n`);
  return { code: EXIT.OK, plan: p };
}

/**
 * The children of one `pkg install/update/uninstall` of a parent, as pkg(5): each child is
 * synced with the parent's new state (only what its parent constraints require moves), or, for
 * the names in `recurse`, fully updated; `limit` at a time; every child's outcome is collected.
 */
export interface ChildrenPass {
  /** Children to update fully (pkg(5)'s `-r`, narrowed by -z / -Z); the others are synced. */
  recurse: ReadonlySet<string>;
  /** -C N, if given; else PKG_CONCURRENCY, the `recursion-concurrency` property, 1. */
  concurrency?: number;
  /** pkg(5)'s -I: leave every child alone (no sync, no check). */
  ignoreChildren?: boolean;
}

/**
 * plan, prepare and execute `root` (as far as `stage`), then its children as `children` says.
 * On a child image its publishers are checked against its parent's first (PUBLISHER_MISMATCH),
 * as pkg(5) does for every operation on a child; on a parent every child not ignored (-I) is
 * checked before the parent is planned, and any mismatch stops the operation with nothing
 * changed (exit 1, every mismatch printed). Exit: the image's own (0, or 4 when nothing to
 * do) when it has no children, else pkg(5)'s combination with its children's (3 when some failed).
 */
async function runUpdate(
  root: string,
  request: PlanRequest,
  cacheDir: string,
  stage: UpdateStage,
  io: CliIo,
  children: ChildrenPass | ((image: Image) => ChildrenPass) = { recurse: new Set() },
): Promise<number> {
  const image = await Image.open(root);
  await checkAgainstParent(image);
  const cache = await ContentCache.open(path.resolve(cacheDir));
  const pass = typeof children === 'function' ? children(image) : children;
  const refs = pass.ignoreChildren ? [] : listChildren(image);
  // As pkg(5) (and stage 1 of the workflow): a child that could not follow the parent stops the
  // whole operation before the parent is planned, so the parent never gets ahead of its children.
  const mismatched = await childrenFailingPubcheck(image, refs, io);
  if (mismatched.length > 0) {
    io.stderr.write(
      `pkg: nothing was changed: ${mismatched.length} of ${refs.length} children fail the publisher check (${mismatched.join(', ')}); ` +
        `fix their publishers (pkg pubcheck-linked -R ${image.root}) or leave the children alone with -I\n`,
    );
    return EXIT.OOPS;
  }
  // Checked before anything changes: a bad PKG_CONCURRENCY must not fail after the parent was updated.
  const limit = refs.length === 0 ? 1 : recursionConcurrency(image, pass.concurrency);
  const own = await applyRequest(image, request, undefined, cache, stage, io);
  if (refs.length === 0) return own.code;
  const parentState = await plannedState(image, own.plan);
  const outcomes = await forEachChild(refs, limit, io, async (ref, cio) => {
    const full = pass.recurse.has(ref.name);
    cio.stdout.write(`${ref.name}: ${full ? 'update' : 'sync'}\n`);
    const child = await Image.open(ref.path);
    publisherCheck(image, child);
    return (await applyRequest(child, full ? {} : { sync: true }, parentState, cache, stage, cio)).code;
  });
  return combineExits([own.code, ...outcomes.map((o) => o.code)]);
}

/** On a linked child: its publishers checked against its parent's (PUBLISHER_MISMATCH); nothing on other images. */
export async function checkAgainstParent(image: Image): Promise<void> {
  const linked = image.config().linked;
  if (linked) publisherCheck(await Image.open(linked.parent), image);
}

/** "Why not newer": the packages the plan leaves below the newest available version, one line each, and why. */
export function writeHeldBack(p: Plan, io: CliIo): void {
  if (!p.heldBack?.length) return;
  const total = p.heldBack.length + (p.heldBackMore ?? 0);
  io.stdout.write(`Held back below the newest version (${total}):\n`);
  for (const h of p.heldBack) io.stdout.write(`  ${h.stem}: stays at ${h.version}, newest ${h.newest}: ${h.reason}\n`);
  if (p.heldBackMore) io.stdout.write(`  ... and ${p.heldBackMore} more\n`);
}

/** The stage asked for by `-n` / `--stage` (commander checked --stage's choices); UsageError for -n with a stage past plan. */
export function stageOf(opts: { n?: boolean; stage?: UpdateStage }): UpdateStage {
  if (opts.n && opts.stage !== undefined && opts.stage !== 'plan')
    throw new UsageError(`-n plans only; it cannot be combined with --stage ${opts.stage}`);
  return opts.n ? 'plan' : (opts.stage ?? 'execute');
}

interface UpdateOptions {
  R: string;
  cache?: string;
  n?: boolean;
  stage?: UpdateStage;
  /** -C N: children at once. */
  C?: number;
  /** -I: ignore the children (pkg(5)'s li_ignore_all). */
  I?: boolean;
}

/** The options of install, update and uninstall. */
function updateOptions(cmd: CommanderCommand): CommanderCommand {
  return cmd
    .addOption(rootOption())
    .addOption(cacheOption())
    .option('-n', 'plan only (dry run); the same as --stage plan')
    .addOption(concurrencyOption())
    .option('-I', "ignore the image's children: do not sync them (pkg(5)'s -I)")
    .addOption(
      new Option(
        '--stage <stage>',
        'plan: plan and print it; prepare: plan, then download; execute: plan, download and apply (the default). Each stage runs the earlier ones again, as pkg(5) does.',
      ).choices(STAGES),
    );
}

export const install = defineCommand<UpdateOptions>({
  summary: 'install packages (plan, prepare, execute)',
  usage: '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] [-C N] [-I] <name[@version]>...',
  define: (cmd) => updateOptions(cmd).argument('<name[@version]...>', 'the packages'),
  async run(opts, args, io) {
    return runUpdate(path.resolve(opts.R), { install: args }, opts.cache ?? defaultCacheDir(), stageOf(opts), io, {
      recurse: new Set(),
      concurrency: opts.C,
      ignoreChildren: opts.I,
    });
  },
});

interface UpdateRecursionOptions extends UpdateOptions {
  r?: boolean;
  z?: string[];
  Z?: string[];
}

export const update = defineCommand<UpdateRecursionOptions>({
  summary: 'update installed packages to the newest allowed versions; children are synced (or updated with -r)',
  usage:
    '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] [-C N] [-I | -r [-z <zone> ... | -Z <zone> ...]] [<name>...]',
  define: (cmd) =>
    updateOptions(cmd)
      .option('-r', "update the image's children fully too (default: each child is only synced with the parent)")
      .option('-z <zone:name>', 'with -r: update only this child fully (repeatable); the others are synced', collect)
      .option('-Z <zone:name>', 'with -r: do not update this child fully (repeatable); it is synced', collect)
      .argument('[name...]', 'only these packages (default: every installed one)'),
  async run(opts, args, io) {
    const stage = stageOf(opts);
    checkRecursionOptions(opts);
    checkFmriArguments(args);
    return runUpdate(
      path.resolve(opts.R),
      args.length ? { update: args } : {},
      opts.cache ?? defaultCacheDir(),
      stage,
      io,
      (image) => ({ recurse: recursionSet(image, opts), concurrency: opts.C, ignoreChildren: opts.I }),
    );
  },
});

/** pkg(5)'s option rules (client/options.py opts_table_cb_li_recurse): -z and -Z each need -r and exclude each other. */
function checkRecursionOptions(opts: UpdateRecursionOptions): void {
  if (opts.Z && !opts.r) throw new UsageError("'-Z' may only be used with '-r'");
  if (opts.z && !opts.r) throw new UsageError("'-z' may only be used with '-r'");
  if (opts.z && opts.Z) throw new UsageError("the '-z' and '-Z' options may not be combined");
  if (opts.r && opts.I) throw new UsageError("the '-r' and '-I' options may not be combined");
}

/** The children `update -r` updates fully: all, only -z's, or all but -Z's; pkg(5)'s usage error for a name it lacks. */
function recursionSet(image: Image, opts: UpdateRecursionOptions): Set<string> {
  if (!opts.r) return new Set();
  const all = listChildren(image).map((c) => c.name);
  const parse = (n: string) => {
    const name = all.includes(n) ? n : all.includes(`zone:${n}`) ? `zone:${n}` : null;
    if (!name) throw new UsageError(`invalid linked image or zone name '${n}'.`);
    return name;
  };
  if (opts.z) return new Set(opts.z.map(parse));
  const excluded = new Set((opts.Z ?? []).map(parse));
  return new Set(all.filter((n) => !excluded.has(n)));
}

/**
 * Every package argument of update/uninstall parsed as an FMRI first, so a malformed one is
 * BAD_FMRI naming it (pkg(5): "illegal FMRI") rather than "no such package is installed".
 * @throws ImageError BAD_FMRI (exit 1) for the first that does not parse.
 */
function checkFmriArguments(args: readonly string[]): void {
  for (const a of args) Fmri.parse(a);
}

export const uninstall = defineCommand<UpdateOptions>({
  summary: 'remove packages',
  usage: '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] [-C N] [-I] <name>...',
  define: (cmd) => updateOptions(cmd).argument('<name...>', 'the packages'),
  async run(opts, args, io) {
    checkFmriArguments(args);
    return runUpdate(
      path.resolve(opts.R),
      { remove: args, update: [] },
      opts.cache ?? defaultCacheDir(),
      stageOf(opts),
      io,
      { recurse: new Set(), concurrency: opts.C, ignoreChildren: opts.I },
    );
  },
});

export const recoverCommand = defineCommand<RootOptions & { cache?: string }>({
  summary: 'roll back (or finish, if it had committed) an execute that was interrupted',
  usage: '-R <root> [--cache <dir>]',
  define: (cmd) => cmd.addOption(rootOption()).addOption(cacheOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const r = await recover(image, await ContentCache.open(path.resolve(opts.cache ?? defaultCacheDir())));
    io.stdout.write(`${r}\n`);
    return 0;
  },
});

export const history = defineCommand<RootOptions>({
  summary: 'show what was executed on an image (applied, rolled back, resumed)',
  usage: '-R <root>',
  define: (cmd) => cmd.addOption(rootOption()),
  async run(opts, _args, io) {
    await warnIfInterrupted(path.resolve(opts.R), io);
    io.stdout.write('TIME                      OPERATION  OUTCOME          STEPS  PLAN\n');
    for (const e of await readHistory(path.resolve(opts.R))) {
      const note = e.resumedAt ? ` (resumed at ${e.resumedAt})` : e.error ? ` ${e.error.code}` : '';
      io.stdout.write(
        `${e.at.padEnd(25)} ${e.op.padEnd(10)} ${e.outcome.padEnd(16)} ${String(e.steps).padStart(5)}  ${e.plan.slice(0, 12)}${note}\n`,
      );
    }
    return 0;
  },
});
