import * as os from 'os';
import * as path from 'path';
import { ContentCache } from '../cache/content-cache';
import { execute, recover } from '../stages/execute';
import { readHistory } from '../image/history';
import { shortVersion } from '../model/fmri';
import { Image, PublisherConfig } from '../image/image';
import { plan, PlanRequest } from '../stages/plan';
import { prepare } from '../stages/prepare';
import { optionalString, parseCommandArgs, stringList } from './args';
import { CliIo, Command, UsageError } from './command';

/** The host-wide content cache: shared by every image on the host, so a file is fetched once. */
export function defaultCacheDir(): string {
  return process.env.LINKED_IMAGES_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'linked-images');
}

export const rootFlag = { R: { type: 'string' as const, short: 'R' } };
const cacheFlag = { cache: { type: 'string' as const } };

export function imageRoot(values: Record<string, unknown>): string {
  const r = values.R;
  if (typeof r !== 'string' || !r) throw new UsageError('missing -R <image root>');
  return path.resolve(r);
}

function parsePublisher(spec: string): PublisherConfig {
  const m = /^([^=]+)=(.+)$/.exec(spec);
  if (!m) throw new UsageError(`--publisher expects <name>=<origin URL>, got '${spec}'`);
  const origin = /^[a-z]+:\/\//.test(m[2]) ? m[2] : 'file://' + path.resolve(m[2]);
  return { name: m[1], origins: [origin], sticky: true, enabled: true };
}

export const imageCreate: Command = {
  summary: 'create an image (a host root or a zone root)',
  usage: 'image-create <root> [--publisher <name>=<origin>]... [--zone] [--variant <name>=<value>]...',
  help: [
    '  --publisher <name>=<origin>  publishers in rank order; origin is http://... or a repository path',
    '  --zone                       a non-global zone image (variant.opensolaris.zone=nonglobal)',
    '  --variant <name>=<value>     any other variant, e.g. variant.arch=i386',
  ].join('\n'),
  async run(argv) {
    const { values, args } = parseCommandArgs(argv, { publisher: { type: 'string', multiple: true }, zone: { type: 'boolean' }, variant: { type: 'string', multiple: true } }, ['root']);
    const variants: Record<string, string> = {};
    for (const v of stringList(values, 'variant')) {
      const m = /^([^=]+)=(.+)$/.exec(v);
      if (!m) throw new UsageError(`--variant expects <name>=<value>, got '${v}'`);
      variants[m[1]] = m[2];
    }
    if (values.zone) variants['variant.opensolaris.zone'] = 'nonglobal';
    await Image.create(path.resolve(args[0]), { publishers: stringList(values, 'publisher').map(parsePublisher), variants });
    return 0;
  },
};

export const setPublisher: Command = {
  summary: 'add or change a publisher of an image',
  usage: 'set-publisher -R <root> <name> --origin <url> [--non-sticky] [--disable] [--rank N]',
  async run(argv) {
    const { values, args } = parseCommandArgs(argv, { ...rootFlag, origin: { type: 'string', multiple: true }, 'non-sticky': { type: 'boolean' }, disable: { type: 'boolean' }, rank: { type: 'string' } }, ['name']);
    const image = await Image.open(imageRoot(values));
    const pubs = image.publishers();
    const at = pubs.findIndex((p) => p.name === args[0]);
    const origins = stringList(values, 'origin').map((o) => (/^[a-z]+:\/\//.test(o) ? o : 'file://' + path.resolve(o)));
    const pub: PublisherConfig = { name: args[0], origins: origins.length ? origins : at >= 0 ? pubs[at].origins : [], sticky: !values['non-sticky'], enabled: !values.disable };
    if (pub.origins.length === 0) throw new UsageError('missing --origin <url> for a new publisher');
    if (at >= 0) pubs.splice(at, 1);
    const rank = optionalString(values, 'rank');
    pubs.splice(rank === undefined ? (at >= 0 ? at : pubs.length) : Math.min(Number(rank), pubs.length), 0, pub);
    await image.setPublishers(pubs);
    return 0;
  },
};

export const publisherList: Command = {
  summary: 'list an image\'s publishers in rank order',
  usage: 'publisher -R <root>',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, rootFlag, []);
    const image = await Image.open(imageRoot(values));
    io.stdout.write('PUBLISHER  STICKY  ENABLED  ORIGINS\n');
    for (const p of image.publishers()) io.stdout.write(`${p.name}  ${p.sticky}  ${p.enabled}  ${p.origins.join(' ')}\n`);
    return 0;
  },
};

export const installed: Command = {
  summary: 'list the packages installed in an image',
  usage: 'installed -R <root>',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, rootFlag, []);
    const image = await Image.open(imageRoot(values));
    for (const p of (await image.installed()).values()) io.stdout.write(`${p.fmri}\n`);
    return 0;
  },
};

/**
 * How far one `pkg update` (install, uninstall) goes, as pkg(5)'s `--stage`: `plan` plans and
 * prints the plan (= -n), `prepare` plans and downloads, `execute` plans, downloads and applies
 * (the default). Each stage repeats the earlier ones: nothing is kept between processes.
 */
export type UpdateStage = 'plan' | 'prepare' | 'execute';
const STAGES: readonly UpdateStage[] = ['plan', 'prepare', 'execute'];

/** plan, prepare and execute one image (as far as `stage`), printing pkg(5)-like progress; exit 4 when there is nothing to do. */
async function runUpdate(root: string, request: PlanRequest, cacheDir: string, stage: UpdateStage, io: CliIo): Promise<number> {
  const image = await Image.open(root);
  const cache = await ContentCache.open(path.resolve(cacheDir));
  const p = await plan(image, request, undefined, { cache });
  if (p.changes.length === 0) {
    io.stdout.write(`No updates available for this image. (${root})\n`);
    return 4;
  }
  const kind = (c: (typeof p.changes)[number]) => (c.from && c.to ? 'update' : c.to ? 'install' : 'remove');
  for (const c of p.changes) io.stdout.write(`  ${kind(c).padEnd(7)} ${c.stem}: ${c.from ? shortVersion(c.from, { timestamp: true }) : '-'} -> ${c.to ? shortVersion(c.to, { timestamp: true }) : '-'}\n`);
  io.stdout.write(`Packages to change: ${p.changes.length}; actions: +${p.sizes.add} ~${p.sizes.update} -${p.sizes.remove}; download ${p.sizes.downloadBytes} bytes\n`);
  if (stage === 'plan') return 0;
  const r = await prepare(image, p, cache);
  io.stdout.write(`Download: ${r.filesDone}/${r.filesTotal} files, ${r.bytesDone}/${r.bytesTotal} bytes (${r.fetchedFiles} fetched, the rest cached)\n`);
  if (stage === 'prepare') return 0;
  const x = await execute(image, p, cache);
  io.stdout.write(`Execute: ${x.status}, ${x.steps} steps${x.resumed ? ' (resumed an interrupted run)' : ''}\n`);
  return 0;
}

/** The stage asked for by `-n` / `--stage`; UsageError for an unknown stage or -n with a stage past plan. */
function stageOf(values: Record<string, unknown>): UpdateStage {
  const s = values.stage;
  if (s !== undefined && !STAGES.includes(s as UpdateStage)) throw new UsageError(`--stage expects one of ${STAGES.join(', ')}, got '${String(s)}'`);
  if (values.n && s !== undefined && s !== 'plan') throw new UsageError(`-n plans only; it cannot be combined with --stage ${String(s)}`);
  return values.n ? 'plan' : ((s as UpdateStage | undefined) ?? 'execute');
}

const updateFlags = { ...rootFlag, ...cacheFlag, n: { type: 'boolean' as const, short: 'n' }, stage: { type: 'string' as const } };
const updateHelp = [
  '  -R <root>        the image',
  `  --cache <dir>    host-wide content cache (default $LINKED_IMAGES_CACHE or ${defaultCacheDir()})`,
  '  -n               plan only (dry run); the same as --stage plan',
  '  --stage <stage>  plan: plan and print it; prepare: plan, then download; execute: plan, download',
  '                   and apply (the default). Each stage runs the earlier ones again, as pkg(5) does.',
].join('\n');

export const install: Command = {
  summary: 'install packages (plan, prepare, execute)',
  usage: 'install -R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] <name[@version]>...',
  help: updateHelp,
  async run(argv, io) {
    const { values, args } = parseCommandArgs(argv, updateFlags, [], ['...']);
    if (args.length === 0) throw new UsageError('missing <name[@version]>');
    return runUpdate(imageRoot(values), { install: args }, optionalString(values, 'cache') ?? defaultCacheDir(), stageOf(values), io);
  },
};

export const update: Command = {
  summary: 'update installed packages to the newest allowed versions',
  usage: 'update -R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] [<name>...]',
  help: updateHelp,
  async run(argv, io) {
    const { values, args } = parseCommandArgs(argv, updateFlags, [], ['...']);
    return runUpdate(imageRoot(values), args.length ? { update: args } : {}, optionalString(values, 'cache') ?? defaultCacheDir(), stageOf(values), io);
  },
};

export const uninstall: Command = {
  summary: 'remove packages',
  usage: 'uninstall -R <root> [-n | --stage plan|prepare|execute] [--cache <dir>] <name>...',
  help: updateHelp,
  async run(argv, io) {
    const { values, args } = parseCommandArgs(argv, updateFlags, [], ['...']);
    if (args.length === 0) throw new UsageError('missing <name>');
    return runUpdate(imageRoot(values), { remove: args, update: [] }, optionalString(values, 'cache') ?? defaultCacheDir(), stageOf(values), io);
  },
};

export const recoverCommand: Command = {
  summary: 'roll back (or finish, if it had committed) an execute that was interrupted',
  usage: 'recover -R <root> [--cache <dir>]',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { ...rootFlag, ...cacheFlag }, []);
    const image = await Image.open(imageRoot(values));
    const r = await recover(image, await ContentCache.open(path.resolve(optionalString(values, 'cache') ?? defaultCacheDir())));
    io.stdout.write(`${r}\n`);
    return 0;
  },
};

export const history: Command = {
  summary: 'show what was executed on an image (applied, rolled back, resumed)',
  usage: 'history -R <root>',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, rootFlag, []);
    io.stdout.write('TIME                      OPERATION  OUTCOME          STEPS  PLAN\n');
    for (const e of await readHistory(imageRoot(values))) {
      const note = e.resumedAt ? ` (resumed at ${e.resumedAt})` : e.error ? ` ${e.error.code}` : '';
      io.stdout.write(`${e.at.padEnd(25)} ${e.op.padEnd(10)} ${e.outcome.padEnd(16)} ${String(e.steps).padStart(5)}  ${e.plan.slice(0, 12)}${note}\n`);
    }
    return 0;
  },
};
