import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { execute, ownersNotice, recover } from '../stages/execute';
import { readHistory } from '../image/history';
import { shortVersion } from '../model/fmri';
import { Image, PublisherConfig } from '../image/image';
import { plan, Plan, PlanRequest } from '../stages/plan';
import { prepare } from '../stages/prepare';
import { Command as CommanderCommand, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../command-line/usage-error';
import { collect, integerIn, nonEmpty } from '../command-line/value-parsers';
import { rootOption } from './args';
import { CliIo, defineCommand } from './command';
import { defaultCacheDir } from '../cache/default-cache-dir';

/** `--cache <dir>` of the commands that fetch content; `opts.cache` (undefined: defaultCacheDir()). */
function cacheOption(): Option {
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
}

export const setPublisher = defineCommand<SetPublisherOptions>({
  summary: 'add or change a publisher of an image',
  usage: '-R <root> <name> --origin <url> [--non-sticky] [--disable] [--rank N]',
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
      .option('--rank <N>', 'its place in the search order, 0 first (default: where it was, else last)', integerIn(0)),
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
    io.stdout.write('PUBLISHER  STICKY  ENABLED  ORIGINS\n');
    for (const p of image.publishers())
      io.stdout.write(`${p.name}  ${p.sticky}  ${p.enabled}  ${p.origins.join(' ')}\n`);
    return 0;
  },
});

export const installed = defineCommand<RootOptions>({
  summary: 'list the packages installed in an image',
  usage: '-R <root>',
  define: (cmd) => cmd.addOption(rootOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    for (const p of (await image.installed()).values()) io.stdout.write(`${p.fmri}\n`);
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

/** plan, prepare and execute one image (as far as `stage`), printing pkg(5)-like progress; exit 4 when there is nothing to do. */
async function runUpdate(
  root: string,
  request: PlanRequest,
  cacheDir: string,
  stage: UpdateStage,
  io: CliIo,
): Promise<number> {
  const image = await Image.open(root);
  const cache = await ContentCache.open(path.resolve(cacheDir));
  const p = await plan(image, request, undefined, { cache });
  if (p.changes.length === 0) {
    io.stdout.write(`No updates available for this image. (${root})\n`);
    writeHeldBack(p, io);
    return 4;
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
  if (stage === 'plan') return 0;
  const r = await prepare(image, p, cache);
  io.stdout.write(
    `Download: ${r.filesDone}/${r.filesTotal} files, ${r.bytesDone}/${r.bytesTotal} bytes (${r.fetchedFiles} fetched, the rest cached)\n`,
  );
  if (stage === 'prepare') return 0;
  const x = await execute(image, p, cache);
  io.stdout.write(`Execute: ${x.status}, ${x.steps} steps${x.resumed ? ' (resumed an interrupted run)' : ''}\n`);
  // Once per execute, not per file: the files are installed, only their owners are not.
  const notice = ownersNotice(x);
  if (notice) io.stderr.write(`Warning: ${notice}\n`);
  return 0;
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
function stageOf(opts: UpdateOptions): UpdateStage {
  if (opts.n && opts.stage !== undefined && opts.stage !== 'plan')
    throw new UsageError(`-n plans only; it cannot be combined with --stage ${opts.stage}`);
  return opts.n ? 'plan' : (opts.stage ?? 'execute');
}

interface UpdateOptions {
  R: string;
  cache?: string;
  n?: boolean;
  stage?: UpdateStage;
}

/** The options of install, update and uninstall. */
function updateOptions(cmd: CommanderCommand): CommanderCommand {
  return cmd
    .addOption(rootOption())
    .addOption(cacheOption())
    .option('-n', 'plan only (dry run); the same as --stage plan')
    .addOption(
      new Option(
        '--stage <stage>',
        'plan: plan and print it; prepare: plan, then download; execute: plan, download and apply (the default). Each stage runs the earlier ones again, as pkg(5) does.',
      ).choices(STAGES),
    );
}

export const install = defineCommand<UpdateOptions>({
  summary: 'install packages (plan, prepare, execute)',
  usage: '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] <name[@version]>...',
  define: (cmd) => updateOptions(cmd).argument('<name[@version]...>', 'the packages'),
  async run(opts, args, io) {
    return runUpdate(path.resolve(opts.R), { install: args }, opts.cache ?? defaultCacheDir(), stageOf(opts), io);
  },
});

export const update = defineCommand<UpdateOptions>({
  summary: 'update installed packages to the newest allowed versions',
  usage: '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] [<name>...]',
  define: (cmd) => updateOptions(cmd).argument('[name...]', 'only these packages (default: every installed one)'),
  async run(opts, args, io) {
    return runUpdate(
      path.resolve(opts.R),
      args.length ? { update: args } : {},
      opts.cache ?? defaultCacheDir(),
      stageOf(opts),
      io,
    );
  },
});

export const uninstall = defineCommand<UpdateOptions>({
  summary: 'remove packages',
  usage: '-R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] <name>...',
  define: (cmd) => updateOptions(cmd).argument('<name...>', 'the packages'),
  async run(opts, args, io) {
    return runUpdate(
      path.resolve(opts.R),
      { remove: args, update: [] },
      opts.cache ?? defaultCacheDir(),
      stageOf(opts),
      io,
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
