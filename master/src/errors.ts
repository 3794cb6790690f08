// One error type for the whole master, with a closed set of codes. Each edge maps the code
// once: HTTP in http/error-middleware.ts, gRPC in grpc/grpc-errors.ts. Never a stack trace in
// a response.

export const ERROR_CODES = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  /** bytes arrived damaged (size or sha256 mismatch); the sender should resend */
  data_corrupted: 422,
  /** a worker's log chunk skipped a seq; `details.expectedSeq` says where to resend from (gRPC only) */
  sequence_gap: 409,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type WharfErrorCode = keyof typeof ERROR_CODES;

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

  /** Wraps anything thrown into a WharfError; unknown errors become `internal`. */
  static from(error: unknown): WharfError {
    if (error instanceof WharfError) return error;
    return new WharfError('internal', 'internal error', { cause: error });
  }
}

export const notFound = (what: string): WharfError => new WharfError('not_found', `${what} not found`);
