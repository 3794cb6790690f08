// The master's root pino logger. Components take a child with their own fields
// (`logger.child({ component: 'tasks' })`, and `workerId` / `taskId` / `attemptId` where one
// worker, task or attempt is concerned). The level comes from WHARF_LOG_LEVEL (--log-level);
// output is human-readable when stdout is a terminal and JSON lines otherwise.
import pino from 'pino';
import pinoPretty from 'pino-pretty';

export type Logger = pino.Logger;

export interface MasterLoggerOptions {
  level: string;
  /** human-readable lines; default: when stdout is a terminal */
  pretty?: boolean | undefined;
  name?: string | undefined;
  /** where lines go (default stdout); tests pass a stream to read them */
  destination?: pino.DestinationStream | undefined;
}

/** Fields never written to the log (two levels deep). */
export const REDACTED = ['password', '*.password', '*.*.password', 'registryAuth', '*.registryAuth', 'passwordHash', '*.passwordHash'];

export function createLogger(options: MasterLoggerOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  // passwords and registry credentials are never logged, wherever they appear in a logged object
  const settings = { name: options.name ?? 'wharf-master', level: options.level, redact: { paths: REDACTED, censor: '[redacted]' } };
  if (pretty) {
    // a synchronous pretty stream (not a transport thread): nothing is lost at process.exit
    return pino(
      settings,
      pinoPretty({
        colorize: options.destination === undefined && Boolean(process.stdout.isTTY),
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        ...(options.destination ? { destination: options.destination } : {}),
      }),
    );
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
