import { ApplicationFailure } from '@temporalio/common';

/**
 * The failure that ends a workflow at once on bad input: non-retryable, type `InvalidInput`,
 * the message naming every problem, the problems also as details. (A plain Error thrown from
 * workflow code would fail the workflow task instead, which Temporal retries forever.)
 */
export function invalidInput(problems: string[]): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`Invalid input: ${problems.join('; ')}`, 'InvalidInput', { problems });
}

/** What zod reports, one problem per line (`path: message, got <value>`), as both input schemas word it. */
export function inputProblems(
  raw: unknown,
  issues: readonly { code: string; path: (string | number)[]; message: string; keys?: string[] }[],
  fields: string,
): string[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const keys = (i.keys ?? []).map((k) => `'${k}'`).join(', ');
      // A nested object (stageConcurrency, window) names its own fields in the schema's message.
      if (i.path.length) return `${i.path.join('.')}: unknown field(s) ${keys}; expected ${nestedFields(i.path)}`;
      return `unknown field(s) ${keys}; expected ${fields}`;
    }
    const field = i.path.length ? i.path.join('.') : 'input';
    const got = i.path.length ? describeValue(valueAt(raw, i.path)) : describeValue(raw);
    return `${field}: ${i.code === 'invalid_type' && i.path.length === 0 ? 'expected a JSON object' : i.message}, got ${got}`;
  });
}

const NESTED: Record<string, string> = {
  stageConcurrency: 'publisher-check, plan, prepare, execute',
  window: 'notBefore, notAfter, length',
};

function nestedFields(p: (string | number)[]): string {
  return NESTED[String(p[p.length - 1])] ?? 'the documented fields';
}

function valueAt(raw: unknown, p: (string | number)[]): unknown {
  let v: unknown = raw;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
