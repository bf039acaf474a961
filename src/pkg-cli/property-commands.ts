import * as path from 'path';
import { UsageError } from '../command-line/usage-error';
import { nonEmpty } from '../command-line/value-parsers';
import { PROPERTY_NAME_RE } from '../image/image-config';
import { Image } from '../image/image';
import { ImageError } from '../model/errors';
import { rootOption } from './args';
import { defineCommand } from './command';

/**
 * The image properties this project reads, each with what its value must be. set-property
 * refuses other values; a hand-edited recursion-concurrency is refused where it is read
 * (child-runs.ts; the workflow's run input).
 */
export const KNOWN_PROPERTIES: Readonly<Record<string, { expected: string; valid: (v: string) => boolean }>> = {
  /** How many children one command works on at once (as PKG_CONCURRENCY, pkg -C). */
  'recursion-concurrency': {
    expected: 'an integer (0 or less: the number of CPUs minus that many)',
    valid: (v) => /^\s*-?\d+\s*$/.test(v) && Number.isSafeInteger(Number(v)),
  },
  /** The image reaches its publishers through its parent's system repository (no publisher check). */
  'use-system-repo': { expected: 'true or false (any case)', valid: (v) => /^(true|false)$/i.test(v) },
};

/**
 * Checks one `set-property` argument pair: the name's form, and for the properties this project
 * reads (KNOWN_PROPERTIES: recursion-concurrency, use-system-repo) the value. Throws UsageError
 * (exit 2) naming the property and what was expected.
 */
export function checkPropertyArgument(name: string, value: string): void {
  if (!PROPERTY_NAME_RE.test(name))
    throw new UsageError(
      `property name '${name}' is invalid. Expected letters, digits, _ . - (starting with a letter or digit).`,
    );
  const known = Object.prototype.hasOwnProperty.call(KNOWN_PROPERTIES, name) ? KNOWN_PROPERTIES[name] : undefined;
  if (known && !known.valid(value))
    throw new UsageError(`value '${value}' of property '${name}' is invalid. Expected ${known.expected}.`);
}

/**
 * pkg(5)'s set-property: sets an image property in image.json (`properties.<name>`, a string).
 * The project reads recursion-concurrency (an integer) and use-system-repo (true/false); other
 * names are kept as given, as pkg(5) keeps them.
 */
export const setProperty = defineCommand<{ R: string }>({
  summary: 'set an image property (recursion-concurrency, use-system-repo, ...) (pkg set-property)',
  usage: '-R <root> <name> <value>',
  define: (cmd) =>
    cmd
      .addOption(rootOption())
      .argument('<name>', 'the property, e.g. recursion-concurrency (an integer) or use-system-repo (true/false)')
      .argument('<value>', 'its value', nonEmpty),
  async run(opts, [name, value]) {
    checkPropertyArgument(name, value);
    await (await Image.open(path.resolve(opts.R))).setProperty(name, value);
    return 0;
  },
});

/** pkg(5)'s unset-property: removes image properties; NOT_FOUND (exit 1, nothing removed) for one that is not set. */
export const unsetProperty = defineCommand<{ R: string }>({
  summary: 'remove image properties (pkg unset-property)',
  usage: '-R <root> <name>...',
  define: (cmd) => cmd.addOption(rootOption()).argument('<name...>', 'the properties'),
  async run(opts, names) {
    const image = await Image.open(path.resolve(opts.R));
    const properties = image.config().properties;
    const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(properties, n));
    if (missing.length)
      throw new ImageError(
        'NOT_FOUND',
        `Image ${image.root} has no property ${missing.map((n) => `'${n}'`).join(', ')}`,
        {
          root: image.root,
          names: missing,
        },
      );
    for (const n of names) await image.setProperty(n, null);
    return 0;
  },
});
