import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The process logger: JSON lines, or pretty when stdout is a terminal. Components take a
 * child with their own fields (`logger.child({ component: 'scheduler' })`).
 */
export function createLogger(options: { level: string; pretty?: boolean; name?: string }): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  return pino({
    name: options.name ?? 'wharf-master',
    level: options.level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } } : {}),
  });
}

/** A logger that drops everything, for tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
