import { promises as fsp } from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { ImageError, ioError } from '../model/errors';
import { addPublisher, createRepository, openOrigin, publishManifest, publishTree } from '../repository';
import { intFlag, optionalString, parseCommandArgs, requireFlag, stringList } from './args';
import { CliIo, Command } from './command';

export const repoCreate: Command = {
  summary: 'create an empty package repository',
  usage: 'repo-create <repo> --publisher <p>',
  help: '  --publisher <p>   the default publisher, created with an empty catalog',
  async run(argv) {
    const { values, args } = parseCommandArgs(argv, { publisher: { type: 'string' } }, ['repo']);
    await createRepository(args[0], { publisher: requireFlag(values, 'publisher', 'p') });
    return 0;
  },
};

export const repoAddPublisher: Command = {
  summary: 'add an empty publisher to a repository',
  usage: 'repo-add-publisher <repo> <publisher>',
  async run(argv) {
    const { args } = parseCommandArgs(argv, {}, ['repo', 'publisher']);
    await addPublisher(args[0], args[1]);
    return 0;
  },
};

const lockFlag = { 'lock-wait': { type: 'string' as const } };
const lockHelp = '  --lock-wait <ms>   how long to wait for another publisher (default 5000)';

export const publish: Command = {
  summary: 'publish a directory tree as a package (like pkgsend)',
  usage: 'publish <repo> --fmri <name@version> --dir <tree> [--summary S] [--depend "type=require fmri=..."]... [--action "<action line>"]... [--publisher p]',
  help: [
    '  --fmri <name@version>  the package; a timestamp is added if the version has none',
    '  --dir <tree>           directories, files, symlinks and hardlinks below it become actions',
    '  --summary <text>       pkg.summary',
    '  --depend <attrs>       a depend action\'s attributes; repeatable',
    '  --action <line>        an extra action line, e.g. "set name=variant.arch value=i386"; repeatable',
    '  --publisher <p>        default: the FMRI\'s publisher, else the repository\'s',
    lockHelp,
  ].join('\n'),
  async run(argv, io) {
    const { values, args } = parseCommandArgs(
      argv,
      {
        fmri: { type: 'string' },
        dir: { type: 'string' },
        summary: { type: 'string' },
        depend: { type: 'string', multiple: true },
        action: { type: 'string', multiple: true },
        publisher: { type: 'string' },
        ...lockFlag,
      },
      ['repo'],
    );
    const fmri = await publishTree(args[0], {
      fmri: requireFlag(values, 'fmri', 'name@version'),
      dir: requireFlag(values, 'dir', 'tree'),
      summary: optionalString(values, 'summary'),
      depends: stringList(values, 'depend'),
      actions: stringList(values, 'action'),
      publisher: optionalString(values, 'publisher'),
      lockWaitMs: intFlag(values, 'lock-wait', 0, 3_600_000),
    });
    io.stdout.write(`${fmri}\n`);
    return 0;
  },
};

export const publishManifestCommand: Command = {
  summary: 'publish a manifest, taking payloads from a content directory',
  usage: 'publish-manifest <repo> <manifest-file> [--dir <content dir>] [--publisher p]',
  help: [
    '  --dir <content dir>   file payloads are read from <content dir>/<path>; content already in the',
    '                        repository is reused. Every payload must match its manifest hash.',
    '  --publisher <p>       default: the FMRI\'s publisher, else the repository\'s',
    lockHelp,
  ].join('\n'),
  async run(argv, io) {
    const { values, args } = parseCommandArgs(argv, { dir: { type: 'string' }, publisher: { type: 'string' }, ...lockFlag }, ['repo', 'manifest-file']);
    let manifest: string;
    try {
      manifest = await fsp.readFile(args[1], 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageError('BAD_REQUEST', `Manifest file ${args[1]} does not exist`, { path: args[1] });
      throw ioError('Cannot read', args[1], e);
    }
    const fmri = await publishManifest(args[0], {
      manifest,
      contentDir: optionalString(values, 'dir'),
      publisher: optionalString(values, 'publisher'),
      lockWaitMs: intFlag(values, 'lock-wait', 0, 3_600_000),
    });
    io.stdout.write(`${fmri}\n`);
    return 0;
  },
};

export const list: Command = {
  summary: 'list the packages in a repository',
  usage: 'list <origin-url-or-repo-path> [--publisher p] [--all] [-H]',
  help: [
    '  <origin>          file:///path, http://host:port[/prefix], or a repository directory',
    '  --publisher <p>   only this publisher (default: all)',
    '  --all             every version, not only the newest per package',
    '  -H                omit the header line',
  ].join('\n'),
  async run(argv, io) {
    const { values, args } = parseCommandArgs(
      argv,
      { publisher: { type: 'string' }, all: { type: 'boolean' }, 'no-header': { type: 'boolean', short: 'H' } },
      ['origin-url-or-repo-path'],
    );
    const origin = openOrigin(toOriginUrl(args[0]));
    try {
      const publisher = optionalString(values, 'publisher');
      const rows: string[][] = [];
      for (const pub of publisher !== undefined ? [publisher] : await origin.publishers()) {
        const catalog = await origin.catalog(pub);
        for (const stem of Object.keys(catalog.packages).sort()) {
          const entries = catalog.packages[stem];
          for (const e of values.all ? entries : entries.slice(-1)) rows.push([stem, e.version, pub]);
        }
      }
      printTable(io, values['no-header'] ? rows : [['NAME', 'VERSION', 'PUBLISHER'], ...rows]);
    } finally {
      origin.close();
    }
    return 0;
  },
};

/** A URL stays as it is; anything else is a repository directory. */
export function toOriginUrl(arg: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? arg : pathToFileURL(path.resolve(arg)).href;
}

function printTable(io: CliIo, rows: string[][]): void {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  for (const r of rows) io.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
}
