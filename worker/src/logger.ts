// The worker's root pino logger; components take child loggers with workerId/taskId/attemptId.
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export interface WorkerLoggerOptions {
  level: string;
  /** Human-readable lines (for a terminal) instead of JSON. */
  pretty?: boolean;
}

export function createWorkerLogger(options: WorkerLoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'wharf-worker' } };
  if (options.pretty) {
    return pino(base, pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  return pino(base);
}
