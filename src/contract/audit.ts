import { z } from 'zod';
import type { AuditOutput } from './activity-types';
import { HOST_NAME, hostTaskQueueField, hostTimeoutField, parentImageField } from './input';

/** The input of `auditLinkedImages` (pkg audit-linked -a): the parent image, optional children, the host and its queue. */
export const AuditInputSchema = z
  .object({
    image: parentImageField(),
    children: z.array(z.string(), { invalid_type_error: 'expected a list of child names' }).optional(),
    host: z
      .string({ invalid_type_error: 'expected a host name' })
      .regex(HOST_NAME, 'expected a host name (letters, digits, . _ -)')
      .optional(),
    hostTaskQueue: hostTaskQueueField(),
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
