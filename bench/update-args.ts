import { Command, InvalidArgumentError } from 'commander';
import { parseCommandLine } from '../src/command-line/parse-command-line';
import { UsageError } from '../src/command-line/usage-error';
import { integerIn, nonEmpty, positiveNumber } from '../src/command-line/value-parsers';

/** The parts of `npm run bench`, in the order they run. */
export const UPDATE_PARTS = ['overhead', 'speedup', 'duplicates', 'legacy'] as const;
export type UpdatePart = (typeof UPDATE_PARTS)[number];

/** The bench's command line, a fresh commander Command (it keeps parsed values, so one per parse). */
function updateBenchCommand(): Command {
  return new Command('npm run bench --')
    .usage('[--rounds R] [--only PARTS] [--zones-scale F] [--json FILE] [--keep]')
    .option(
      '--rounds <R>',
      'run every measured update R times, each on a fresh host; every figure is the fastest of R, duplicates the worst (default 1)',
      integerIn(1),
    )
    .option('--only <PARTS>', `comma-separated subset of ${UPDATE_PARTS.join(',')} (default: all)`, parseParts)
    .option(
      '--zones-scale <F>',
      'multiply every zone count by F, at least 1 zone (default 1; e.g. 0.1 for a smoke run)',
      positiveNumber,
    )
    .option('--json <FILE>', 'also write the figures as JSON to FILE', nonEmpty)
    .option('--keep', 'keep the hosts (in .bench-cache/update-<pid>/) after the run')
    .helpOption('-h, --help', 'this text');
}

/** `--only`: some of UPDATE_PARTS, comma-separated, returned in UPDATE_PARTS order. */
function parseParts(raw: string): UpdatePart[] {
  const asked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = asked.filter((p) => !(UPDATE_PARTS as readonly string[]).includes(p));
  if (asked.length === 0 || unknown.length)
    throw new InvalidArgumentError(`Expected some of ${UPDATE_PARTS.join(', ')}.`);
  return UPDATE_PARTS.filter((p) => asked.includes(p));
}

/** `npm run bench -- --help`: commander's help for the bench's options. */
export const UPDATE_USAGE = (parseCommandLine(updateBenchCommand(), ['--help']).help ?? '').trimEnd();

export interface UpdateArgs {
  /** Measured updates per figure; the fastest counts. @default 1 */
  rounds: number;
  /** The parts to run, in UPDATE_PARTS order. @default all */
  only: UpdatePart[];
  /** Multiplies every zone count (scaledZones). @default 1 */
  zonesScale: number;
  /** Where to write the figures as JSON; null: nowhere. */
  json: string | null;
  /** Keep the hosts after the run. @default false */
  keep: boolean;
  help: boolean;
}

// The one UsageError of every command line; update.bench.ts catches it from here.
export { UsageError };

interface UpdateBenchOptions {
  rounds?: number;
  only?: UpdatePart[];
  zonesScale?: number;
  json?: string;
  keep?: boolean;
}

/**
 * Parses `npm run bench -- …` arguments (without node and the script).
 * @throws UsageError naming the option and what was expected, followed by UPDATE_USAGE.
 */
export function parseUpdateArgs(argv: string[]): UpdateArgs {
  let parsed;
  try {
    parsed = parseCommandLine<UpdateBenchOptions>(updateBenchCommand(), argv);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message}\n${UPDATE_USAGE}`);
    throw e;
  }
  if (parsed.help !== null)
    return { rounds: 1, only: [...UPDATE_PARTS], zonesScale: 1, json: null, keep: false, help: true };
  const { opts } = parsed;
  return {
    rounds: opts.rounds ?? 1,
    only: opts.only ?? [...UPDATE_PARTS],
    zonesScale: opts.zonesScale ?? 1,
    json: opts.json ?? null,
    keep: opts.keep ?? false,
    help: false,
  };
}

/** `zones` × `scale`, rounded, and at least 1: the zone count a part runs with under --zones-scale. */
export function scaledZones(zones: number, scale: number): number {
  return Math.max(1, Math.round(zones * scale));
}
