import * as path from 'path';
import { InvalidArgumentError, Option } from 'commander';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { FACET_NAME_RE } from '../image/image-config';
import { Image } from '../image/image';
import { Facets } from '../model/facets';
import { parentStateOf } from '../stages/parent-state';
import { settingsOf } from '../stages/image-settings';
import { nonEmpty } from '../command-line/value-parsers';
import { rootOption } from './args';
import { applySettings } from './apply-settings';
import { defineCommand } from './command';

/** `facet.<name>=true|false|none` (case-insensitive; none drops the setting, back to the default). */
function parseFacetChange(spec: string, prev: [string, boolean | null][] | undefined): [string, boolean | null][] {
  const m = /^([^=]+)=(.*)$/.exec(spec);
  if (!m || !FACET_NAME_RE.test(m[1]))
    throw new InvalidArgumentError(`Expected facet.<name>=true|false|none, got '${spec}'.`);
  const v = m[2].toLowerCase();
  if (v !== 'true' && v !== 'false' && v !== 'none')
    throw new InvalidArgumentError(`Expected true, false or none for ${m[1]}, got '${m[2]}'.`);
  return [...(prev ?? []), [m[1], v === 'none' ? null : v === 'true']];
}

interface ChangeFacetOptions {
  R: string;
  cache?: string;
  n?: boolean;
}

export const changeFacet = defineCommand<ChangeFacetOptions>({
  summary: "change an image's facets; installs or removes the actions they tag (pkg change-facet)",
  usage: '-R <root> [-n] [--cache <dir>] facet.<name>=true|false|none...',
  define: (cmd) =>
    cmd
      .addOption(rootOption())
      .addOption(new Option('--cache <dir>', 'host-wide content cache').argParser(nonEmpty))
      .option('-n', 'plan only (dry run)')
      .argument('<facet=value...>', 'facet.<name> (or a glob such as facet.locale.*) = true, false or none'),
  async run(opts, args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const settings = settingsOf(image);
    const facets = { ...settings.facets };
    for (const a of args) {
      for (const [name, value] of parseFacetChange(a, undefined)) {
        if (value === null) delete facets[name];
        else facets[name] = value;
      }
    }
    return applySettings(image, { ...settings, facets }, opts.cache ?? defaultCacheDir(), !!opts.n, io);
  },
});

export const facetList = defineCommand<{ R: string }>({
  summary: "list an image's facets: the ones set locally and the ones inherited from its parent (pkg facet)",
  usage: '-R <root>',
  define: (cmd) => cmd.addOption(rootOption()),
  async run(opts, _args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const local = settingsOf(image).facets;
    const inherited = (await parentStateOf(image))?.facets ?? {};
    const facets = new Facets({ local, inherited });
    io.stdout.write('FACET  VALUE  SRC\n');
    for (const name of [...new Set([...Object.keys(inherited), ...Object.keys(local)])].sort()) {
      const f = facets.lookup(name);
      io.stdout.write(`${name}  ${f.value ? 'True' : 'False'}  ${f.source}\n`);
    }
    return 0;
  },
});
