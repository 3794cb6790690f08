// The CLI's two kinds of failure and their exit statuses: a usage error (bad flags or
// arguments, exit 2, with a hint to the command's help) and an error from the API, the network
// or the local config (exit 1, with the API's code when there is one).

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(
    message: string,
    /** the command whose help explains the usage ("run", "dag ls"); absent for wharf itself */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export class CliError extends Error {
  constructor(
    /** the API's error code (`validation_failed`, `unauthenticated`, …) or a local one (`unreachable`, `config`) */
    readonly code: string,
    message: string,
    /** the HTTP status when the API answered */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Ctrl-C at a prompt: the command stops, exit 130 (128 + SIGINT) as shells do. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

export const EXIT_INTERRUPTED = 130;
