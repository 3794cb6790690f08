// One error type for the whole master, with a closed set of codes. Each edge maps the code
// once: HTTP in http/error-middleware.ts, gRPC in grpc/grpc-errors.ts. Never a stack trace in
// a response.

export const ERROR_CODES = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** a user keeps more bytes (logs, outputs, artifacts) than their storage quota allows: new submissions are refused */
  storage_quota_exceeded: 403,
  /** it existed and was removed on purpose (retention removed a task's logs and files) */
  gone: 410,
  payload_too_large: 413,
  /** bytes arrived damaged (size or sha256 mismatch); the sender should resend */
  data_corrupted: 422,
  /** a worker's log chunk skipped a seq; `details.expectedSeq` says where to resend from (gRPC only) */
  sequence_gap: 409,
  rate_limited: 429,
  unavailable: 503,
  /**
   * this master does not lead (several masters, leadership/): a commit carried an epoch that is
   * no longer the lease's (the master lost its lease and steps down), or a standby was asked to
   * change state. Retry against the leader.
   */
  not_leader: 503,
  /**
   * the master's data dir is full (SQLite's SQLITE_FULL, ENOSPC or EDQUOT from a file write,
   * MongoDB out of disk space): nothing was stored. 507 by default; the HTTP edge answers 503
   * with Retry-After where repeating the request makes sense (see http/errors-middleware.ts)
   */
  storage_full: 507,
  internal: 500,
} as const;

export type WharfErrorCode = keyof typeof ERROR_CODES;

/** How every storage_full message starts: people, logs and workers recognise it by these words. */
export const STORAGE_FULL_MESSAGE = 'master storage full';

export class WharfError extends Error {
  readonly code: WharfErrorCode;
  /** Extra fields for the response, e.g. retryAfterSeconds. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: WharfErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WharfError';
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }

  /**
   * Wraps anything thrown into a WharfError: a file write that found the disk full (ENOSPC,
   * EDQUOT) becomes `storage_full`; other unknown errors become `internal`.
   */
  static from(error: unknown): WharfError {
    if (error instanceof WharfError) return error;
    const errno = errnoOf(error);
    if (errno !== undefined && FULL_DISK_ERRNOS.has(errno)) return storageFull(`a file write failed (${errno})`, error);
    return new WharfError('internal', 'internal error', { cause: error });
  }
}

/** Node's codes for a write that found no room: the disk (ENOSPC) or the user's quota (EDQUOT). */
const FULL_DISK_ERRNOS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return undefined;
  return error.code;
}

/**
 * The error every part of the master raises when its storage is full: `storage_full`, with a
 * message that starts "master storage full" and says what failed (`what`: "the database cannot
 * grow (SQLITE_FULL)"). Stores translate their own driver's error with it; file writes are
 * translated by WharfError.from.
 */
export function storageFull(what: string, cause?: unknown): WharfError {
  return new WharfError('storage_full', `${STORAGE_FULL_MESSAGE}: ${what}; free space in the master's data dir`, { cause });
}

/** Whether an error says the master's storage is full (translated, or an ENOSPC/EDQUOT not yet translated). */
export function isStorageFull(error: unknown): boolean {
  return WharfError.from(error).code === 'storage_full';
}

export const notFound = (what: string): WharfError => new WharfError('not_found', `${what} not found`);
