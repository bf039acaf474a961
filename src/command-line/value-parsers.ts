import { InvalidArgumentError } from 'commander';

/*
 * Option value parsers for commander's `Option.argParser`. A refused value throws
 * InvalidArgumentError; commander (and parseCommandLine) turn it into a UsageError that names the
 * option and the value, followed by the sentence given here, e.g.
 * `option '--rounds <R>' argument '0' is invalid. Expected an integer >= 1.`
 */

/** A whole number (digits only, no sign, no fraction) from `min` to `max` inclusive. */
export function integerIn(min: number, max: number = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw) => {
    const n = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `Expected an integer >= ${min}.`
          : `Expected an integer from ${min} to ${max}.`,
      );
    }
    return n;
  };
}

/** Any integer, negative ones too (e.g. a concurrency where <= 0 means no limit). */
export function anyInteger(raw: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected an integer.');
  return n;
}

/** A finite number greater than 0 (fractions allowed, e.g. a scale of 0.1). */
export function positiveNumber(raw: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a number > 0.');
  return n;
}

/** A string that is not empty or only blanks. */
export function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new InvalidArgumentError('Expected a non-empty value.');
  return raw;
}

/** For a repeatable option: every value given, in order (`--child a --child b` → ['a', 'b']). */
export function collect(raw: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), raw];
}
