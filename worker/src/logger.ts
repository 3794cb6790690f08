// The worker's root pino logger; components take child loggers with workerId (main.ts),
// component, and taskId/attemptId (session/attempt-runner.ts). The level comes from
// WHARF_LOG_LEVEL (--log-level); output is human-readable when stdout is a terminal and JSON
// lines otherwise.
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export interface WorkerLoggerOptions {
  level: string;
  /** Human-readable lines instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean | undefined;
  /** where lines go (default stdout); tests pass a stream to read them */
  destination?: DestinationStream | undefined;
}

/** Fields never written to the log, wherever they appear in a logged object (two levels deep). */
export const REDACTED = ['password', '*.password', '*.*.password', 'registryAuth', '*.registryAuth', 'authconfig', '*.authconfig'];

export function createWorkerLogger(options: WorkerLoggerOptions): Logger {
  // registry credentials travel in assignments; nothing logs them, and these paths make sure
  const base = { level: options.level, base: { service: 'wharf-worker' }, redact: { paths: REDACTED, censor: '[redacted]' } };
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino(
      base,
      pinoPretty({
        colorize: options.destination === undefined && Boolean(process.stdout.isTTY),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,service',
        ...(options.destination ? { destination: options.destination } : {}),
      }),
    );
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
