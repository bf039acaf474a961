import { parseArgs } from 'util';
import { UsageError } from './command';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `argv` strictly against `flags` (node's util.parseArgs) and checks the positional
 * count: `names` are required, `optional` may follow (`'...'` in it: any number more). Every problem is a UsageError naming
 * the flag or argument.
 */
export function parseCommandArgs(argv: string[], flags: FlagSpec, names: string[], optional: string[] = []): { values: FlagValues; args: string[] } {
  let parsed: { values: FlagValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true }) as unknown as { values: FlagValues; positionals: string[] };
  } catch (e) {
    // util.parseArgs appends advice about '--' that only confuses here.
    throw new UsageError((e as Error).message.split('. To specify a positional')[0]);
  }
  const args = parsed.positionals;
  if (args.length < names.length) throw new UsageError(`missing ${names.slice(args.length).map((n) => `<${n}>`).join(' ')}`);
  if (!optional.includes('...') && args.length > names.length + optional.length) throw new UsageError(`unexpected argument '${args[names.length + optional.length]}'`);
  return { values: parsed.values, args };
}

/** A required string flag: UsageError `missing --<name> <meta>` when absent or empty. */
export function requireFlag(values: FlagValues, name: string, meta = 'value'): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`missing --${name} <${meta}>`);
  return v;
}

export function optionalString(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringList(values: FlagValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** An integer flag within [min, max]; UsageError naming the flag otherwise. */
export function intFlag(values: FlagValues, name: string, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} expects an integer from ${min} to ${max}, got '${String(v)}'`);
  }
  return Number(v);
}
