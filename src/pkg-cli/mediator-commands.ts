import * as path from 'path';
import { InvalidArgumentError, Option } from 'commander';
import { defaultCacheDir } from '../cache/default-cache-dir';
import { MEDIATOR_IMPL_RE, MEDIATOR_NAME_RE, MEDIATOR_VERSION_RE } from '../image/image-config';
import { Image } from '../image/image';
import { appliesTo } from '../model/manifest';
import { parsedManifest, parseManifestOnce } from '../model/manifest-memo';
import { selectMediations } from '../model/mediators';
import { filterSettings, settingsOf } from '../stages/image-settings';
import { nonEmpty } from '../command-line/value-parsers';
import { UsageError } from '../command-line/usage-error';
import { rootOption } from './args';
import { applySettings } from './apply-settings';
import { defineCommand } from './command';

const checked = (re: RegExp, what: string) => (v: string) => {
  if (!re.test(v)) throw new InvalidArgumentError(`Expected ${what}, got '${v}'.`);
  return v;
};

export const mediatorList = defineCommand<{ R: string }>({
  summary: 'list the mediators of the installed mediated links and their selected mediation (pkg mediator)',
  usage: '-R <root> [name...]',
  define: (cmd) => cmd.addOption(rootOption()).argument('[name...]', 'only these mediators'),
  async run(opts, names, io) {
    const image = await Image.open(path.resolve(opts.R));
    const state = await image.readState();
    const all = [];
    for (const [stem, p] of Object.entries(state.packages))
      all.push({
        fmri: p.fmri,
        manifest:
          parsedManifest(p.manifest) ??
          parseManifestOnce(await image.installedManifest(stem, state), p.manifest, `${p.fmri} (installed)`),
      });
    const settings = settingsOf(image);
    // The links the image's variants and facets let in compete; the administrator's setting picks among them.
    const facets = filterSettings(settings).facets!;
    const variants = image.variants();
    const links = all.flatMap((m) =>
      m.manifest.actions.filter(
        (a) => a.attrs.mediator !== undefined && appliesTo(a, variants) && facets.allowAction(a),
      ),
    );
    const selected = selectMediations(links, settings.mediators);
    const unknown = names.filter((n) => !selected.has(n));
    if (unknown.length) {
      io.stderr.write(`pkg mediator: no mediated links for ${unknown.join(', ')}\n`);
      return 1;
    }
    io.stdout.write('MEDIATOR  VER. SRC.  VERSION  IMPL. SRC.  IMPLEMENTATION\n');
    for (const s of [...selected.values()].sort((a, b) => (a.mediator < b.mediator ? -1 : 1))) {
      if (names.length && !names.includes(s.mediator)) continue;
      io.stdout.write(
        `${s.mediator}  ${s.versionSource}  ${s.version ?? ''}  ${s.implementationSource}  ${s.implementation ?? ''}\n`,
      );
    }
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
    return applySettings(image, { ...settings, mediators }, opts.cache ?? defaultCacheDir(), !!opts.n, io);
  },
});
