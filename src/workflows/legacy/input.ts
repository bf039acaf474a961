import { z } from 'zod';
import { LINK_NAME_RE } from '../../model/linked-image';
import { inputProblems, invalidInput } from '../../contract/invalid-input';

const childName = z.string().regex(LINK_NAME_RE, "expected a child name like 'zone:z1'");

/** The input of runs started before host task queues (replayed by legacy/update-inline.ts only). */
export const UpdateInputSchema = z
  .object({
    image: z
      .string({
        required_error: 'required: the absolute path of the parent image',
        invalid_type_error: 'expected a string path',
      })
      .refine((s) => s.startsWith('/'), 'expected an absolute path'),
    children: z.array(childName, { invalid_type_error: 'expected a list of child names' }).optional(),
    ignore: z.array(childName, { invalid_type_error: 'expected a list of child names' }).default([]),
    concurrency: z
      .number({ invalid_type_error: 'expected an integer (<= 0 means no limit)' })
      .int('expected an integer (<= 0 means no limit)')
      .default(1),
    packages: z
      .array(z.string().min(1, 'expected a package name'), { invalid_type_error: 'expected a list of package names' })
      .optional(),
    dryRun: z.boolean({ invalid_type_error: 'expected true or false' }).default(false),
  })
  .strict();

/** The input as validated (defaults filled in). */
export type UpdateInput = z.infer<typeof UpdateInputSchema>;
/** The input as callers send it: only `image` is required. */
export type UpdateRequest = z.input<typeof UpdateInputSchema>;

/**
 * Validates the input or ends the workflow at once with a non-retryable `InvalidInput` failure
 * naming every bad field. (A plain Error here would fail the workflow task and be retried forever.)
 */
export function parseUpdateInput(raw: unknown): UpdateInput {
  const r = UpdateInputSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = inputProblems(
    raw,
    r.error.issues as Parameters<typeof inputProblems>[1],
    'image, children, ignore, concurrency, packages, dryRun',
  );
  throw invalidInput(problems);
}
