/**
 * The one error type of the image model. Codes are stable: activities map them to
 * retryable / non-retryable Temporal failures, and operators grep for them.
 */
export const ERROR_CODES = {
  BAD_FMRI: { retryable: false, exit: 1 },
  BAD_MANIFEST: { retryable: false, exit: 1 },
  BAD_REQUEST: { retryable: false, exit: 2 },
  BAD_PLAN: { retryable: false, exit: 1 },
  BAD_IMAGE: { retryable: false, exit: 1 },
  BAD_REPOSITORY: { retryable: false, exit: 1 },
  PATH_OUTSIDE_IMAGE: { retryable: false, exit: 1 },
  PUBLISHER_MISMATCH: { retryable: false, exit: 1 },
  UNKNOWN_PACKAGE: { retryable: false, exit: 1 },
  UNSATISFIABLE: { retryable: false, exit: 1 },
  CONFLICTING_ACTIONS: { retryable: false, exit: 1 },
  FOREIGN_PLAN: { retryable: false, exit: 1 },
  STALE_PLAN: { retryable: false, exit: 1 },
  // The plan's content or manifests are not in this content cache (another cache, or swept):
  // prepare the plan again, then execute it. Nothing was changed.
  NOT_PREPARED: { retryable: false, exit: 1 },
  HASH_MISMATCH: { retryable: false, exit: 1 },
  NOT_FOUND: { retryable: false, exit: 1 },
  // pkg(5)'s EXIT_NOPARENT (53): the image is not a linked child (it has no parent to sync with).
  NOT_LINKED: { retryable: false, exit: 53 },
  // A parent has no child of the name given (-l, detach-linked): pkg(5) reports it as EXIT_OOPS (1).
  NO_SUCH_CHILD: { retryable: false, exit: 1 },
  ALREADY_LINKED: { retryable: false, exit: 1 },
  // Transient: another attempt may well succeed.
  TRUNCATED_CONTENT: { retryable: true, exit: 1 },
  REPOSITORY_UNAVAILABLE: { retryable: true, exit: 1 },
  LOCKED: { retryable: true, exit: 7 },
  IO_ERROR: { retryable: true, exit: 1 },
  CANCELLED: { retryable: false, exit: 1 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ImageError extends Error {
  readonly code: ErrorCode;
  /** Whether trying the same operation again can help (network, lock, disk). */
  readonly retryable: boolean;
  /** pkg(5)-style exit code for command-line use. */
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
    this.exitCode = ERROR_CODES[code].exit;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isImageError(e: unknown, code?: ErrorCode): e is ImageError {
  return e instanceof ImageError && (code === undefined || e.code === code);
}

/** Wraps an unexpected fs/system error as a retryable IO_ERROR naming the path. */
export function ioError(what: string, path: string, cause: unknown): ImageError {
  const sys = cause as NodeJS.ErrnoException;
  const errno = sys && typeof sys.code === 'string' ? sys.code : 'EUNKNOWN';
  return new ImageError(
    'IO_ERROR',
    `${what} ${path}: ${errno}${sys?.message ? ` (${sys.message})` : ''}`,
    { path, errno },
    { cause },
  );
}
