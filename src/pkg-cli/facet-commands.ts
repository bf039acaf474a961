import * as path from 'path';
import { Option } from 'commander';
import { UsageError } from '../command-line/usage-error';
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
import { writeTable } from './table';

/**
 * One argument of change-facet: `[facet.]<name>=true|false|none`, as pkg(5)'s change_facet:
 * the `facet.` prefix is added when missing and the value is taken in any case (none drops the
 * setting, back to the default). Returns [full facet name, value; null for none].
 * Throws UsageError (exit 2) naming the argument and what was expected.
 */
export function parseFacetChange(spec: string): [string, boolean | null] {
  const m = /^([^=]*)=(.*)$/.exec(spec);
  if (!m) throw new UsageError(`argument '${spec}' is invalid. Expected [facet.]<name>=true|false|none.`);
  const name = m[1].startsWith('facet.') ? m[1] : `facet.${m[1]}`;
  if (!FACET_NAME_RE.test(name))
    throw new UsageError(
      `argument '${spec}' is invalid. Expected a facet name (facet.<name> or <name>, no spaces) before '='.`,
    );
  const v = m[2].toLowerCase();
  if (v !== 'true' && v !== 'false' && v !== 'none')
    throw new UsageError(`argument '${spec}' is invalid. Expected true, false or none for ${name}, got '${m[2]}'.`);
  return [name, v === 'none' ? null : v === 'true'];
}

interface ChangeFacetOptions {
  R: string;
  cache?: string;
  n?: boolean;
}

export const changeFacet = defineCommand<ChangeFacetOptions>({
  summary: "change an image's facets; installs or removes the actions they tag (pkg change-facet)",
  usage: '-R <root> [-n] [--cache <dir>] [facet.]<name>=true|false|none...',
  define: (cmd) =>
    cmd
      .addOption(rootOption())
      .addOption(new Option('--cache <dir>', 'host-wide content cache').argParser(nonEmpty))
      .option('-n', 'plan only (dry run)')
      .argument(
        '<facet=value...>',
        'facet.<name> or <name> (or a glob such as locale.*) = true, false or none (any case)',
      ),
  async run(opts, args, io) {
    const image = await Image.open(path.resolve(opts.R));
    const settings = settingsOf(image);
    const facets = { ...settings.facets };
    for (const [name, value] of args.map(parseFacetChange)) {
      if (value === null) delete facets[name];
      else facets[name] = value;
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
    const rows = [...new Set([...Object.keys(inherited), ...Object.keys(local)])].sort().map((name) => {
      const f = facets.lookup(name);
      return [name, f.value ? 'True' : 'False', f.source];
    });
    writeTable(io, ['FACET', 'VALUE', 'SRC'], rows);
    return 0;
  },
});
