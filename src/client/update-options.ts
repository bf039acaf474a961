/**
 * The values of `npm run update`'s run-control options (--stage-concurrency, --max-failures,
 * --not-before, --not-after, --window-length) as commander argParsers, and the input problems the workflow's
 * schema finds worded with the option that set the field: a bad value exits 2 naming the
 * option before any run is started.
 */
import { InvalidArgumentError } from 'commander';
import { STAGES } from '../contract/activity-ids';
import type { StageCaps } from '../contract/controls';
import { DURATION, durationMs, ISO_WITH_OFFSET, maxFailuresField } from '../contract/input';

const STAGE_CAPS_EXPECTED = `Expected stage=N[,stage=N...] with stages ${STAGES.join(', ')} and integer caps (<= 0: no limit), e.g. prepare=8,execute=2.`;

/**
 * `--stage-concurrency prepare=8,execute=2` -> `{ prepare: 8, execute: 2 }` (input `stageConcurrency`).
 * @throws InvalidArgumentError for an unknown stage, a stage given twice, or a cap that is not an integer.
 */
export function stageCapsValue(raw: string): StageCaps {
  const caps: StageCaps = {};
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*(-?\d+)\s*$/.exec(part);
    const stage = m?.[1] as (typeof STAGES)[number] | undefined;
    if (!m || !stage || !STAGES.includes(stage) || !Number.isSafeInteger(Number(m[2])))
      throw new InvalidArgumentError(`'${part.trim()}': ${STAGE_CAPS_EXPECTED}`);
    if (caps[stage] !== undefined) throw new InvalidArgumentError(`stage ${stage} given twice. ${STAGE_CAPS_EXPECTED}`);
    caps[stage] = Number(m[2]);
  }
  return caps;
}

/**
 * `--max-failures 2` -> 2, `--max-failures 10%` -> `"10%"` (input `maxFailures`), checked by the input schema's own field.
 * @throws InvalidArgumentError with the schema's words (a count >= 0, or 0% to 100%).
 */
export function maxFailuresValue(raw: string): number | string {
  const v = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw.trim();
  const r = maxFailuresField().safeParse(v);
  if (!r.success) throw new InvalidArgumentError(sentence(r.error.issues[0].message));
  return v;
}

/**
 * `--not-before` / `--not-after`: an ISO 8601 time with its UTC offset (`2026-12-06T02:00:00+01:00`, or `Z`),
 * as the input's `window` takes it (a window must not depend on the worker's time zone).
 * @throws InvalidArgumentError for anything else (no offset, not a date).
 */
export function instantValue(raw: string): string {
  const s = raw.trim();
  if (!ISO_WITH_OFFSET.test(s) || Number.isNaN(Date.parse(s)))
    throw new InvalidArgumentError(
      'Expected an ISO 8601 time with its offset, like 2026-12-06T02:00:00+01:00 (date -Iseconds prints one).',
    );
  return s;
}

/**
 * `--window-length 4h`: the window closes that long after it opens (input `window.length`), a
 * duration above 0 as the input takes it (`90m`, `4h`, `10 minutes`).
 * @throws InvalidArgumentError for anything else.
 */
export function windowLengthValue(raw: string): string {
  const s = raw.trim();
  if (!DURATION.test(s) || !(durationMs(s) > 0))
    throw new InvalidArgumentError("Expected a duration above 0 like '90m' or '4h'.");
  return s;
}

/** The option (or argument) of `npm run update` that sets each input field. */
const OPTION_OF_FIELD: [string, string][] = [
  ['window.notBefore', '--not-before'],
  ['window.notAfter', '--not-after'],
  ['window.length', '--window-length'],
  ['window', '--not-before/--not-after/--window-length'],
  ['stageConcurrency', '--stage-concurrency'],
  ['maxFailures', '--max-failures'],
  ['approval', '--approval'],
  ['concurrency', '-C, --concurrency'],
  ['recursive', '-r, --recursive'],
  ['children', '-z, --child'],
  ['exclude', '-Z, --exclude'],
  ['ignore', '-i, --ignore'],
  ['packages', '--package'],
  ['hostTimeout', '--host-timeout'],
  ['host', '--host'],
  ['image', 'parent image'],
];

/**
 * Each input problem (`<field>: <what is wrong>`, as updateInputProblems and windowProblems
 * word them) prefixed with the option that set the field:
 * `option '--not-after': window.notAfter: the window closed at ...`. A problem of no known
 * field is left as is.
 */
export function problemsWithOptions(problems: string[]): string[] {
  return problems.map((p) => {
    const field = /^([A-Za-z.0-9]+):/.exec(p)?.[1];
    const hit = field && OPTION_OF_FIELD.find(([f]) => field === f || field.startsWith(`${f}.`));
    return hit ? `option '${hit[1]}': ${p}` : p;
  });
}

function sentence(s: string): string {
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}
