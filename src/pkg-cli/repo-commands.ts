import { promises as fsp } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ImageError, ioError } from '../model/errors';
import { addPublisher, createRepository, openOrigin, publishManifest, publishTree } from '../repository';
import { collect, nonEmpty } from '../command-line/value-parsers';
import { lockWaitOption } from './args';
import { CliIo, defineCommand } from './command';

interface RepoCreateOptions {
  publisher: string;
}

export const repoCreate = defineCommand<RepoCreateOptions>({
  summary: 'create an empty package repository',
  usage: '<repo> --publisher <p>',
  define: (cmd) =>
    cmd
      .argument('<repo>', 'the directory to create')
      .requiredOption('--publisher <p>', 'the default publisher, created with an empty catalog', nonEmpty),
  async run(opts, [repo]) {
    await createRepository(repo, { publisher: opts.publisher });
    return 0;
  },
});

export const repoAddPublisher = defineCommand({
  summary: 'add an empty publisher to a repository',
  usage: '<repo> <publisher>',
  define: (cmd) => cmd.argument('<repo>').argument('<publisher>'),
  async run(_opts, [repo, publisher]) {
    await addPublisher(repo, publisher);
    return 0;
  },
});

interface PublishOptions {
  fmri: string;
  dir: string;
  summary?: string;
  depend?: string[];
  action?: string[];
  publisher?: string;
  lockWait?: number;
}

export const publish = defineCommand<PublishOptions>({
  summary: 'publish a directory tree as a package (like pkgsend)',
  usage:
    '<repo> --fmri <name@version> --dir <tree> [--summary S] [--depend "type=require fmri=..."]... [--action "<action line>"]... [--publisher p]',
  define: (cmd) =>
    cmd
      .argument('<repo>', 'the repository (a directory)')
      .requiredOption('--fmri <name@version>', 'the package; a timestamp is added if the version has none', nonEmpty)
      .requiredOption('--dir <tree>', 'directories, files, symlinks and hardlinks below it become actions', nonEmpty)
      .option('--summary <text>', 'pkg.summary')
      .option('--depend <attrs>', "a depend action's attributes; repeatable", collect)
      .option('--action <line>', 'an extra action line, e.g. "set name=variant.arch value=i386"; repeatable', collect)
      .option('--publisher <p>', "default: the FMRI's publisher, else the repository's")
      .addOption(lockWaitOption()),
  async run(opts, [repo], io) {
    const fmri = await publishTree(repo, {
      fmri: opts.fmri,
      dir: opts.dir,
      summary: opts.summary,
      depends: opts.depend ?? [],
      actions: opts.action ?? [],
      publisher: opts.publisher,
      lockWaitMs: opts.lockWait,
    });
    io.stdout.write(`${fmri}\n`);
    return 0;
  },
});

interface PublishManifestOptions {
  dir?: string;
  publisher?: string;
  lockWait?: number;
}

export const publishManifestCommand = defineCommand<PublishManifestOptions>({
  summary: 'publish a manifest (pkgsend style), taking payloads from a content directory',
  usage: '<repo> <manifest-file> [--dir <content dir>] [--publisher p]',
  define: (cmd) =>
    cmd
      .argument('<repo>', 'the repository (a directory)')
      .argument('<manifest-file>', 'the manifest (.p5m)')
      .option(
        '--dir <content dir>',
        'payloads are read from <content dir>/<file>: the file an action names (license lic_CDDL license=CDDL), else its path (file path=... or NOHASH), and gain their SHA-256 hash; a payload given by hash must match it (SHA-256, or the SHA-1 pkg(5) writes), and one with a SHA-256 hash the repository holds needs no file.',
      )
      .option('--publisher <p>', "default: the FMRI's publisher, else the repository's")
      .addOption(lockWaitOption()),
  async run(opts, [repo, manifestFile], io) {
    let manifest: string;
    try {
      manifest = await fsp.readFile(manifestFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ImageError('BAD_REQUEST', `Manifest file ${manifestFile} does not exist`, { path: manifestFile });
      throw ioError('Cannot read', manifestFile, e);
    }
    const fmri = await publishManifest(repo, {
      manifest,
      contentDir: opts.dir,
      publisher: opts.publisher,
      lockWaitMs: opts.lockWait,
    });
    io.stdout.write(`${fmri}\n`);
    return 0;
  },
});

interface ListOptions {
  publisher?: string;
  all?: boolean;
  /** false with -H (commander's `--no-header`). */
  header: boolean;
}

export const list = defineCommand<ListOptions>({
  summary: 'list the packages in a repository',
  usage: '<origin-url-or-repo-path> [--publisher p] [--all] [-H]',
  define: (cmd) =>
    cmd
      .argument('<origin-url-or-repo-path>', 'file:///path, http://host:port[/prefix], or a repository directory')
      .option('--publisher <p>', 'only this publisher (default: all)')
      .option('--all', 'every version, not only the newest per package')
      .option('-H, --no-header', 'omit the header line'),
  async run(opts, [originArg], io) {
    const origin = openOrigin(toOriginUrl(originArg));
    try {
      const rows: string[][] = [];
      for (const pub of opts.publisher !== undefined ? [opts.publisher] : await origin.publishers()) {
        const catalog = await origin.catalog(pub);
        for (const stem of Object.keys(catalog.packages).sort()) {
          const entries = catalog.packages[stem];
          for (const e of opts.all ? entries : entries.slice(-1)) rows.push([stem, e.version, pub]);
        }
      }
      printTable(io, opts.header ? [['NAME', 'VERSION', 'PUBLISHER'], ...rows] : rows);
    } finally {
      origin.close();
    }
    return 0;
  },
});

/** A URL stays as it is; anything else is a repository directory. */
export function toOriginUrl(arg: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? arg : pathToFileURL(path.resolve(arg)).href;
}

function printTable(io: CliIo, rows: string[][]): void {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  for (const r of rows)
    io.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
}
