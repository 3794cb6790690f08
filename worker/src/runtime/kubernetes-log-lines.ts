// Splits a pod log read with `timestamps=true` into entries. Each line starts with an RFC 3339
// timestamp (nanoseconds, trailing zeros dropped) and a space; the timestamp is the entry's
// cursor, so a restarted worker resumes with `sinceTime` (whole seconds) and skips what it
// already shipped. Kubernetes merges stdout and stderr in this API: every entry is 'stdout'.
import type { RuntimeLogEntry } from './task-runtime.js';

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /;

/** Nanoseconds since the epoch of an RFC 3339 timestamp, or undefined. */
export function timestampNanos(timestamp: string): bigint | undefined {
  const match = TIMESTAMP.exec(`${timestamp} `);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Whether `cursor` is strictly later than `after` (both timestamps from log entries). */
export function isLogCursorAfter(cursor: string, after: string): boolean {
  const a = timestampNanos(cursor);
  const b = timestampNanos(after);
  if (a === undefined || b === undefined) return true;
  return a > b;
}

export class KubernetesLogLineParser {
  private pending: Buffer = Buffer.alloc(0);

  /** Complete lines of `chunk` (with what was left over before it). */
  push(chunk: Buffer): RuntimeLogEntry[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const entries: RuntimeLogEntry[] = [];
    let start = 0;
    for (let newline = this.pending.indexOf(10, start); newline >= 0; newline = this.pending.indexOf(10, start)) {
      entries.push(toEntry(this.pending.subarray(start, newline + 1)));
      start = newline + 1;
    }
    this.pending = this.pending.subarray(start);
    return entries;
  }

  /** What is left when the stream ends (a last line without a newline). */
  end(): RuntimeLogEntry[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length > 0 ? [toEntry(rest)] : [];
  }
}

function toEntry(line: Buffer): RuntimeLogEntry {
  const head = line.subarray(0, 48).toString('latin1');
  const match = TIMESTAMP.exec(head);
  if (!match) return { stream: 'stdout', data: Buffer.from(line) };
  const stamp = match[0].slice(0, -1);
  return { stream: 'stdout', data: Buffer.from(line.subarray(match[0].length)), cursor: stamp };
}
