import { parseArgs } from 'util';

/** The parts of `npm run bench`, in the order they run. */
export const UPDATE_PARTS = ['overhead', 'speedup', 'duplicates', 'legacy'] as const;
export type UpdatePart = (typeof UPDATE_PARTS)[number];

export const UPDATE_USAGE = `Usage: npm run bench -- [--rounds R] [--only PARTS] [--zones-scale F] [--json FILE] [--keep]
  --rounds R         run every measured update R times, each on a fresh host; every figure is the fastest of R,
                     duplicates the worst (default 1)
  --only PARTS       comma-separated subset of ${UPDATE_PARTS.join(',')} (default: all)
  --zones-scale F    multiply every zone count by F, at least 1 zone (default 1; e.g. 0.1 for a smoke run)
  --json FILE        also write the figures as JSON to FILE
  --keep             keep the hosts (in .bench-cache/update-<pid>/) after the run`;

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

/** A command line the bench cannot run: the message says what was expected and what came. */
export class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${UPDATE_USAGE}`);
    this.name = 'UsageError';
  }
}

/** Parses `npm run bench -- …` arguments (without node and the script). Throws UsageError. */
export function parseUpdateArgs(argv: string[]): UpdateArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { rounds: { type: 'string' }, only: { type: 'string' }, 'zones-scale': { type: 'string' }, json: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const rounds = values.rounds === undefined ? 1 : Number(values.rounds);
  if (!/^\d+$/.test(values.rounds ?? '1') || rounds < 1) throw new UsageError(`Expected --rounds to be an integer >= 1, got '${values.rounds}'`);
  const zonesScale = values['zones-scale'] === undefined ? 1 : Number(values['zones-scale']);
  if (!Number.isFinite(zonesScale) || zonesScale <= 0 || values['zones-scale'] === '') throw new UsageError(`Expected --zones-scale to be a number > 0, got '${values['zones-scale']}'`);
  let only: UpdatePart[] = [...UPDATE_PARTS];
  if (values.only !== undefined) {
    const asked = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = asked.filter((p) => !(UPDATE_PARTS as readonly string[]).includes(p));
    if (asked.length === 0 || unknown.length) throw new UsageError(`Expected --only to list some of ${UPDATE_PARTS.join(', ')}, got '${values.only}'`);
    only = UPDATE_PARTS.filter((p) => asked.includes(p));
  }
  if (values.json === '') throw new UsageError('Expected --json to name a file, got an empty string');
  return { rounds, only, zonesScale, json: values.json ?? null, keep: values.keep ?? false, help: values.help ?? false };
}

/** `zones` × `scale`, rounded, and at least 1: the zone count a part runs with under --zones-scale. */
export function scaledZones(zones: number, scale: number): number {
  return Math.max(1, Math.round(zones * scale));
}
