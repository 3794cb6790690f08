// The times an audit query takes (`since`, `until`; REST and the REPL alike): an ISO 8601 time
// such as 2025-01-31T12:00:00Z, or a duration back from now such as 30m, 24h or 7d.
import { parseDurationMs } from '../config/durations.js';
import { WharfError } from '../errors.js';

const RELATIVE = /^\d+(\.\d+)?(ms|s|m|h|d)$/;

/** Epoch ms, or a `validation_failed` naming the field. */
export function parseAuditTime(value: string, field: string, now: number): number {
  if (value.length <= 64 && RELATIVE.test(value)) {
    const ms = parseDurationMs(value);
    if (ms !== undefined) return now - ms;
  }
  const at = value.length <= 64 && /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new WharfError('validation_failed', `${field}: must be an ISO 8601 time such as 2025-01-31T12:00:00Z, or a duration back from now such as 30m, 24h or 7d`);
  }
  return at;
}
