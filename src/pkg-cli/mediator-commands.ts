import * as path from 'path';
import { InvalidArgumentError, Option } from 'commander';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { MEDIATOR_IMPL_RE, MEDIATOR_NAME_RE, MEDIATOR_VERSION_RE } from '../image/image-config';
import { Image } from '../image/image';
import { appliesTo } from '../model/manifest';
import { parsedManifest, parseManifestOnce } from '../model/manifest-memo';
import { MediatorSetting, SelectedMediation, selectMediations } from '../model/mediators';
import { filterSettings, settingsOf } from '../stages/image-settings';
import { nonEmpty } from '../command-line/value-parsers';
import { UsageError } from '../command-line/usage-error';
import { rootOption } from './args';
import { applySettings } from './apply-settings';
import { defineCommand } from './command';
import { writeTable } from './table';

const checked = (re: RegExp, what: string) => (v: string) => {
  if (!re.test(v)) throw new InvalidArgumentError(`Expected ${what}, got '${v}'.`);
  return v;
};

/**
 * The selected mediation of every mediator the image's installed links name, under `mediators`
 * (the administrator's settings; default: the image's): the links its variants and facets let
 * in compete, and a setting wins only when some link offers it (selectMediations).
 */
async function installedMediations(
  image: Image,
  mediators?: Readonly<Record<string, MediatorSetting>>,
): Promise<Map<string, SelectedMediation>> {
  const state = await image.readState();
  const all = [];
  for (const [stem, p] of Object.entries(state.packages))
    all.push(
      parsedManifest(p.manifest) ??
        parseManifestOnce(await image.installedManifest(stem, state), p.manifest, `${p.fmri} (installed)`),
    );
  const settings = settingsOf(image);
  const facets = filterSettings(settings).facets!;
  const variants = image.variants();
  const links = all.flatMap((m) =>
    m.actions.filter((a) => a.attrs.mediator !== undefined && appliesTo(a, variants) && facets.allowAction(a)),
  );
  return selectMediations(links, mediators ?? settings.mediators);
}

/**
 * The warnings for settings no installed link offers (pkg(5) records such a setting and falls
 * back to its own choice; the operator should know): one line per mediator, naming what was
 * asked for and what is used instead, or that no installed package delivers that mediator.
 */
function unhonouredSettings(
  selected: ReadonlyMap<string, SelectedMediation>,
  mediators: Readonly<Record<string, MediatorSetting>>,
  names: readonly string[],
): string[] {
  const out: string[] = [];
  for (const n of names) {
    const setting = mediators[n];
    if (!setting) continue;
    const s = selected.get(n);
    if (!s) {
      out.push(`no installed package delivers links of mediator ${n}; the setting is kept for when one does`);
      continue;
    }
    if (setting.version !== undefined && s.versionSource !== 'local')
      out.push(
        `no installed package offers ${n} version ${setting.version}; version ${s.version ?? '(none)'} (${s.versionSource}) is used instead`,
      );
    if (setting.implementation !== undefined && s.implementationSource !== 'local')
      out.push(
        `no installed package offers ${n} implementation ${setting.implementation}${setting.version !== undefined && s.versionSource === 'local' ? ` at version ${setting.version}` : ''}; implementation ${s.implementation ?? '(none)'} (${s.implementationSource}) is used instead`,
      );
  }
  return out;
}

/**
 * pkg(5)'s `pkg mediator`: one row per mediator, aligned. As pkg(5)'s listing, VER. SRC. and
 * IMPL. SRC. are `local` whenever the administrator set that part, even when no installed link
 * offers it; the VERSION and IMPLEMENTATION columns show what is in effect, and a warning on
 * stderr says which settings are not honoured.
 */
export const mediatorList = defineCommand<{ R: string }>({
  summary: 'list the mediators of the installed mediated links and their selected mediation (pkg mediator)',
  usage: '-R <root> [name...]',
  define: (cmd) => cmd.addOption(rootOption()).argument('[name...]', 'only these mediators'),
  async run(opts, names, io) {
    const image = await Image.open(path.resolve(opts.R));
    const selected = await installedMediations(image);
    const unknown = names.filter((n) => !selected.has(n));
    if (unknown.length) {
      io.stderr.write(`pkg mediator: no mediated links for ${unknown.join(', ')}\n`);
      return 1;
    }
    const mediators = settingsOf(image).mediators;
    const shown = [...selected.values()]
      .filter((s) => !names.length || names.includes(s.mediator))
      .sort((a, b) => (a.mediator < b.mediator ? -1 : 1));
    const rows = shown.map((s) => {
      const setting = mediators[s.mediator];
      return [
        s.mediator,
        setting?.version !== undefined ? 'local' : s.versionSource,
        s.version ?? '',
        setting?.implementation !== undefined ? 'local' : s.implementationSource,
        s.implementation ?? '',
      ];
    });
    writeTable(io, ['MEDIATOR', 'VER. SRC.', 'VERSION', 'IMPL. SRC.', 'IMPLEMENTATION'], rows);
    for (const w of unhonouredSettings(
      selected,
      mediators,
      shown.map((s) => s.mediator),
    ))
      io.stderr.write(`Warning: ${w}\n`);
    return 0;
  },
});

interface SetMediatorOptions {
  R: string;
  V?: string;
  I?: string;
  cache?: string;
  n?: boolean;
}

export const setMediator = defineCommand<SetMediatorOptions>({
  summary: 'set the version and/or implementation a mediator selects; moves its links (pkg set-mediator)',
  usage: '-R <root> [-V <version>] [-I <implementation>] [-n] [--cache <dir>] <mediator>...',
  define: (cmd) =>
    cmd
      .addOption(rootOption())
      .addOption(
        new Option('-V <version>', 'the mediator version, e.g. 3.11').argParser(
          checked(MEDIATOR_VERSION_RE, 'a version like 3.11'),
        ),
      )
      .addOption(
        new Option('-I <implementation>', 'the implementation, name[@version]').argParser(
          checked(MEDIATOR_IMPL_RE, 'name[@version]'),
        ),
      )
      .addOption(new Option('--cache <dir>', 'host-wide content cache').argParser(nonEmpty))
      .option('-n', 'plan only (dry run)')
      .argument('<mediator...>', 'the mediators'),
  async run(opts, names, io) {
    if (opts.V === undefined && opts.I === undefined)
      throw new UsageError('give -V <version>, -I <implementation> or both');
    for (const n of names) if (!MEDIATOR_NAME_RE.test(n)) throw new UsageError(`'${n}' is not a mediator name`);
    const image = await Image.open(path.resolve(opts.R));
    const settings = settingsOf(image);
    const mediators = { ...settings.mediators };
    for (const n of names)
      mediators[n] = {
        ...(opts.V !== undefined ? { version: opts.V } : {}),
        ...(opts.I !== undefined ? { implementation: opts.I } : {}),
      };
    // Applied as asked (pkg(5) records it too), but the operator is told what is used instead.
    for (const w of unhonouredSettings(await installedMediations(image, mediators), mediators, names))
      io.stderr.write(`Warning: ${w}\n`);
    return applySettings(image, { ...settings, mediators }, opts.cache ?? defaultCacheDir(), !!opts.n, io);
  },
});
