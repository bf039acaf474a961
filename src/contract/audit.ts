import { z } from 'zod';
import type { AuditOutput } from './activity-types';
import { HOST_NAME, hostTimeoutField } from './input';

/** The input of `auditLinkedImages` (pkg audit-linked -a): the parent image, optional children, the host and its queue. */
export const AuditInputSchema = z
  .object({
    image: z
      .string({
        required_error: 'required: the absolute path of the parent image',
        invalid_type_error: 'expected a string path',
      })
      .refine((s) => s.startsWith('/'), 'expected an absolute path'),
    children: z.array(z.string(), { invalid_type_error: 'expected a list of child names' }).optional(),
    host: z
      .string({ invalid_type_error: 'expected a host name' })
      .regex(HOST_NAME, 'expected a host name (letters, digits, . _ -)')
      .optional(),
    hostTaskQueue: z.string({ invalid_type_error: 'expected a task queue name' }).min(1).optional(),
    hostTimeout: hostTimeoutField(),
  })
  .strict();

export type AuditRequest = z.input<typeof AuditInputSchema>;

export interface AuditRunResult {
  image: string;
  /** pkg(5)'s `audit-linked -a`: exit 0 when every child is synced, 52 when any diverged, 1 on errors. */
  status: 'synced' | 'diverged' | 'failed';
  exitCode: number;
  children: {
    name: string;
    status: 'synced' | 'diverged' | 'failed';
    diverged: AuditOutput['diverged'];
    error: string | null;
  }[];
}
