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

export function createWorkerLogger(options: WorkerLoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'wharf-worker' } };
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
