import { z } from 'zod';
import { LINK_NAME_RE } from '../model/linked-image';
import { inputProblems, invalidInput } from './invalid-input';

const childName = z.string().regex(LINK_NAME_RE, "expected a child name like 'zone:z1'");
/** A host name as DNS and `hostname` allow, plus '_' (task queue names are built from it). */
export const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
/** Temporal's duration strings: `90s`, `10m`, `1h`, `500ms` (also `10 minutes`). */
export const DURATION = /^\d+(\.\d+)?\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?)$/;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  s: 1000,
  second: 1000,
  m: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** A DURATION in ms (`'4h'` -> 14,400,000). Throws RangeError on anything DURATION does not match. */
export function durationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/.exec(s);
  const unit = m && (m[2] === 'ms' || m[2] === 's' ? m[2] : m[2].replace(/s$/, ''));
  if (!m || !DURATION.test(s) || UNIT_MS[unit!] === undefined)
    throw new RangeError(`not a duration: ${JSON.stringify(s)}`);
  return Number(m[1]) * UNIT_MS[unit!];
}

/**
 * `hostTimeout`: how long an activity may wait for its host's worker (the activities'
 * schedule-to-start timeout), a DURATION above 0, default `10m`. Temporal reads a zero timeout as
 * no limit, so `0s` would let a run wait forever for a host that is down.
 */
export function hostTimeoutField() {
  return z
    .string({ invalid_type_error: "expected a duration like '10m'" })
    .regex(DURATION, "expected a duration like '90s', '10m' or '1h'")
    .refine(
      (s) => !/^0+(\.0+)?\s*[a-z]/.test(s),
      'expected a duration above 0 (0 means no limit: a run would wait forever for a host that is down)',
    )
    .default('10m');
}

/** Partitions hold at most this many children: their state must fit one payload (src/workflows/segment-state.ts). */
export const MAX_PARTITION_SIZE = 1000;

/** `image`: the absolute path of the parent image (required). */
export function parentImageField() {
  return z
    .string({
      required_error: 'required: the absolute path of the parent image',
      invalid_type_error: 'expected a string path',
    })
    .refine((s) => s.startsWith('/'), 'expected an absolute path');
}

/** `hostTaskQueue`: the host's activity task queue when not `linked-images@<host>` (optional; Temporal allows 1000 characters). */
export function hostTaskQueueField() {
  return z
    .string({ invalid_type_error: 'expected a task queue name' })
    .min(1, 'expected a task queue name')
    .max(1000, 'expected at most 1000 characters')
    .optional();
}

/** The task queue a host's worker polls for the activities of its images, unless the input names another. */
export function hostTaskQueue(host: string): string {
  return `linked-images@${host}`;
}

const stageCap = z
  .number({ invalid_type_error: 'expected an integer (<= 0 means no limit)' })
  .int('expected an integer (<= 0 means no limit)');

/** `stageConcurrency`: caps for some stages (`{"prepare": 8, "execute": 2}`); the others use `concurrency`. */
export function stageConcurrencyField() {
  return z
    .object(
      {
        'publisher-check': stageCap.optional(),
        plan: stageCap.optional(),
        prepare: stageCap.optional(),
        execute: stageCap.optional(),
      },
      { invalid_type_error: 'expected an object of stage caps like {"prepare": 8, "execute": 2}' },
    )
    .strict()
    .default({});
}

/** `maxFailures`: a count (integer >= 0) or a percentage of the selected children (`"10%"`, 0 to 100). */
export const MAX_FAILURES_PERCENT = /^(\d+(\.\d+)?)%$/;

export function maxFailuresField(of: 'children' | 'hosts' = 'children') {
  const msg = `expected a count (an integer >= 0) or a percentage of the ${of} like "10%" (0% to 100%)`;
  return z
    .union([z.number().int(msg).min(0, msg), z.string().regex(MAX_FAILURES_PERCENT, msg)], {
      errorMap: () => ({ message: msg }),
    })
    .refine((v) => typeof v === 'number' || Number(MAX_FAILURES_PERCENT.exec(v)?.[1] ?? 0) <= 100, msg)
    .default(0);
}

/**
 * The failed children a run tolerates, from `maxFailures` and the number of selected children:
 * a count as is, a percentage rounded down (`"10%"` of 25 children: 2). 0: fail-fast.
 */
export function failureBudget(maxFailures: number | string, children: number): number {
  if (typeof maxFailures === 'number') return maxFailures;
  return Math.floor((Number(MAX_FAILURES_PERCENT.exec(maxFailures)![1]) * children) / 100);
}

/** ISO 8601 date and time with a UTC offset (`Z` or `+02:00`): a window must not depend on the worker's time zone. */
export const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const instant = z
  .string({ invalid_type_error: 'expected an ISO 8601 time with offset like 2026-12-06T02:00:00+01:00' })
  .regex(ISO_WITH_OFFSET, 'expected an ISO 8601 time with offset like 2026-12-06T02:00:00+01:00')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected a valid date and time');

/**
 * `window`: the maintenance window; execution only inside it (publisher check, plan and prepare
 * may run before). `length` instead of `notAfter`: the window closes that long after it opens
 * (notBefore, or the run's start), for runs started on a schedule, whose input is the same every week.
 */
export function windowField() {
  return z
    .object(
      {
        notBefore: instant.optional(),
        notAfter: instant.optional(),
        length: z
          .string({ invalid_type_error: "expected a duration like '4h'" })
          .regex(DURATION, "expected a duration like '90m' or '4h'")
          .optional(),
      },
      { invalid_type_error: 'expected {"notBefore": "<ISO 8601>", "notAfter": "<ISO 8601>"}' },
    )
    .strict()
    .refine(
      (w) => w.notBefore !== undefined || w.notAfter !== undefined || w.length !== undefined,
      'expected notBefore, notAfter, length, or some of them',
    )
    .refine((w) => !(w.notAfter && w.length), 'expected notAfter or length, not both')
    .refine(
      (w) => !w.notBefore || !w.notAfter || Date.parse(w.notAfter) > Date.parse(w.notBefore),
      'notAfter: expected a time after notBefore',
    )
    .optional();
}

/**
 * The window with `length` resolved into `notAfter` (opening at notBefore, or at `startMs`, the
 * run's start in ms since the epoch): what the run carries from its first execution on, so that a
 * continue-as-new or a partition sees the same end.
 */
export function resolveWindow<W extends { notBefore?: string; notAfter?: string; length?: string }>(
  window: W | undefined,
  startMs: number,
): W | undefined {
  if (!window?.length) return window;
  const opens = window.notBefore ? Math.max(Date.parse(window.notBefore), startMs) : startMs;
  const { length, ...rest } = window;
  return { ...rest, notAfter: new Date(opens + durationMs(length)).toISOString() } as W;
}

/**
 * What is wrong with a window at time `nowMs` (ms since the epoch): a window whose notAfter has
 * passed could execute nothing. The workflow checks it at its start (workflow time), clients
 * before they start a run.
 */
export function windowProblems(window: { notAfter?: string } | undefined, nowMs: number): string[] {
  if (window?.notAfter && Date.parse(window.notAfter) <= nowMs)
    return [
      `window.notAfter: the window closed at ${window.notAfter}: nothing could be executed; give a window that ends in the future`,
    ];
  return [];
}

/** The one input object of `updateLinkedImages`; see README "The update workflow". */
export const UpdateInputSchema = z
  .object({
    image: parentImageField(),
    host: z
      .string({
        required_error:
          "required: the host that holds the image (its worker polls task queue 'linked-images@<host>'; npm run worker prints it)",
        invalid_type_error: 'expected a host name',
      })
      .regex(HOST_NAME, 'expected a host name (letters, digits, . _ -)'),
    hostTaskQueue: hostTaskQueueField(),
    /**
     * pkg(5)'s `-r`: do the full update in the children too. Without it (pkg(5)'s default) each
     * child is only synced: it moves as far as its parent-constrained packages require. Absent
     * only in runs started before sync existed, which update their `children` fully (recursesInto).
     */
    recursive: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    /** pkg(5)'s `-z`: with `recursive`, recurse into only these children; the others are synced. */
    children: z.array(childName, { invalid_type_error: 'expected a list of child names' }).optional(),
    /** pkg(5)'s `-Z`: with `recursive`, do not recurse into these children; they are still synced. */
    exclude: z.array(childName, { invalid_type_error: 'expected a list of child names' }).optional(),
    /** pkg(5)'s `-i`: leave these children alone (neither synced nor updated). */
    ignore: z.array(childName, { invalid_type_error: 'expected a list of child names' }).default([]),
    concurrency: z
      .number({ invalid_type_error: 'expected an integer (<= 0 means no limit)' })
      .int('expected an integer (<= 0 means no limit)')
      .default(1),
    packages: z
      .array(z.string().min(1, 'expected a package name'), { invalid_type_error: 'expected a list of package names' })
      .optional(),
    dryRun: z.boolean({ invalid_type_error: 'expected true or false' }).default(false),
    hostTimeout: hostTimeoutField(),
    /** Per-stage caps; stages not named use `concurrency`. */
    stageConcurrency: stageConcurrencyField(),
    /** Failed children tolerated over the run (count or percentage); default 0: pkg(5)'s fail-fast. */
    maxFailures: maxFailuresField(),
    /** Stop after prepare and wait for `approve` / `reject` (README "Plan approval"). */
    approval: z.boolean({ invalid_type_error: 'expected true or false' }).default(false),
    window: windowField(),
    partitionSize: z
      .number({ invalid_type_error: `expected an integer from 1 to ${MAX_PARTITION_SIZE}` })
      .int(`expected an integer from 1 to ${MAX_PARTITION_SIZE}`)
      .min(1, `expected an integer from 1 to ${MAX_PARTITION_SIZE}`)
      .max(MAX_PARTITION_SIZE, `expected an integer from 1 to ${MAX_PARTITION_SIZE}`)
      .default(MAX_PARTITION_SIZE),
  })
  .strict();

/** The input as validated (defaults filled in). */
export type UpdateInput = z.infer<typeof UpdateInputSchema>;
/** The input as callers send it: `image` and `host` are required. */
export type UpdateRequest = z.input<typeof UpdateInputSchema>;

const FIELDS = Object.keys(UpdateInputSchema.shape).join(', ');

/**
 * Validates the input or throws a non-retryable `InvalidInput` failure naming every bad field
 * and the value it got, e.g. `concurrency: expected an integer (<= 0 means no limit), got "3"`.
 */
export function parseUpdateInput(raw: unknown): UpdateInput {
  const r = UpdateInputSchema.safeParse(raw);
  if (r.success) return r.data;
  throw invalidInput(inputProblems(raw, r.error.issues as Parameters<typeof inputProblems>[1], FIELDS));
}

/**
 * What parseUpdateInput would refuse, one problem per line (`[]` when the input is valid): for
 * clients, to refuse bad input before a run is started rather than leave a failed run behind.
 */
export function updateInputProblems(raw: unknown): string[] {
  const r = UpdateInputSchema.safeParse(raw);
  return r.success ? [] : inputProblems(raw, r.error.issues as Parameters<typeof inputProblems>[1], FIELDS);
}

/**
 * What is wrong with a run's recursion options, as pkg(5)'s option rules say (client/options.py
 * opts_table_cb_li_recurse): `-z` and `-Z` need `-r`, and cannot be combined; and a child named
 * both to recurse into and to ignore is a contradiction. `[]` when fine.
 * Runs started before sync existed (`recursive` absent after the workflow's patch) are not checked.
 */
export function recursionProblems(input: {
  recursive?: boolean;
  children?: string[];
  exclude?: string[];
  ignore?: string[];
}): string[] {
  const problems: string[] = [];
  const both = (input.children ?? []).filter((n) => (input.ignore ?? []).includes(n));
  if (both.length)
    problems.push(
      `ignore: ${both.map((n) => `'${n}'`).join(', ')} also in children: a child is either recursed into (-z) or left alone (-i), not both`,
    );
  if (!input.recursive) {
    if (input.children?.length)
      problems.push(
        'children: recursing into only some children (pkg -z) needs recursive: true (pkg -r); without it every child is synced with the parent',
      );
    if (input.exclude?.length)
      problems.push('exclude: leaving children out of the recursion (pkg -Z) needs recursive: true (pkg -r)');
  } else if (input.children?.length && input.exclude?.length)
    problems.push('exclude: cannot be combined with children (pkg -z and -Z may not be combined)');
  return problems;
}

/**
 * Whether the run does the full update in child `name` (true) or only syncs it with its parent
 * (false): pkg(5)'s `-r` with `-z` (only these) or `-Z` (all but these). A run started before
 * sync existed (`recursive` undefined) updates every child it selected.
 */
export function recursesInto(
  input: { recursive?: boolean; children?: string[]; exclude?: string[] },
  name: string,
): boolean {
  if (input.recursive === undefined) return true;
  if (!input.recursive) return false;
  if (input.children?.length) return input.children.includes(name);
  return !(input.exclude ?? []).includes(name);
}

/**
 * The selection a run asks the describe and list activities for: the children it works on are
 * every attached child less `ignore` (those left out of the recursion are synced), with the
 * `-z` / `-Z` names sent only to be checked. A run started before sync existed selects
 * `children` less `ignore`, as it did.
 */
export function selectionOf(input: {
  image: string;
  recursive?: boolean;
  children?: string[];
  exclude?: string[];
  ignore?: string[];
}): { image: string; children?: string[]; ignore?: string[]; recursion?: { children?: string[]; exclude?: string[] } } {
  if (input.recursive === undefined) return { image: input.image, children: input.children, ignore: input.ignore };
  return {
    image: input.image,
    ignore: input.ignore,
    recursion: { children: input.children, exclude: input.exclude },
  };
}
