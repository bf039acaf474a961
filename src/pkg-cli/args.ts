import { InvalidArgumentError, Option } from 'commander';
import { integerIn, nonEmpty } from '../command-line/value-parsers';

/** `-R <image root>`, required: the image (or parent image) a command works on; `opts.R`. */
export function rootOption(description = 'the image'): Option {
  return new Option('-R <image root>', description).argParser(nonEmpty).makeOptionMandatory();
}

/** `--lock-wait <ms>` of the publishing commands, 0 to 3,600,000; `opts.lockWait` (undefined: the repository's 5000). */
export function lockWaitOption(): Option {
  return new Option('--lock-wait <ms>', 'how long to wait for another publisher (default 5000)').argParser(
    integerIn(0, 3_600_000),
  );
}

/**
 * `-C N`, pkg(5)'s concurrency: how many child images to work on at once; 0 or less means the
 * number of CPUs minus that many. `opts.C` (undefined: PKG_CONCURRENCY, the image property
 * `recursion-concurrency`, else 1).
 */
export function concurrencyOption(): Option {
  return new Option(
    '-C <N>',
    'children to work on at once (default $PKG_CONCURRENCY, the recursion-concurrency property, else 1; <= 0: CPUs minus N)',
  ).argParser(signedInteger);
}

/** A whole number, possibly negative (-C 0, -C -1 are meaningful). */
function signedInteger(raw: string): number {
  const n = Number(raw.trim());
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('Expected an integer (0 or less: the number of CPUs minus that many).');
  return n;
}
