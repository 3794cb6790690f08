// Why a runtime could not run a task. The message is meant for the task's owner and ends up
// in the attempt result.
export type RuntimeErrorCode =
  | 'image_unavailable'
  | 'create_failed'
  | 'start_failed'
  | 'unsupported'
  | 'cancelled'
  | 'unknown_handle';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';

  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of anything thrown, Docker's JSON error bodies included. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const json = 'json' in error ? error.json : undefined;
    if (typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string') {
      return json.message;
    }
    // docker-modem: "(HTTP code 500) server error - <the engine's message> "
    return error.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  }
  return String(error);
}

/** The HTTP status of a Docker engine error (docker-modem sets `statusCode`), if it has one. */
export function statusCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') {
    return error.statusCode;
  }
  return undefined;
}
