// Docker's multiplexed log format (containers without a TTY): each frame is an 8-byte header
// — stream type (1 stdout, 2 stderr), three zero bytes, payload length (uint32 BE) — then the
// payload. With `timestamps: true` every payload starts with an RFC 3339 time and a space;
// that time (as nanoseconds since the epoch) is the entry's cursor.
import type { RuntimeLogEntry } from './task-runtime.js';

const HEADER_BYTES = 8;

export class DockerLogFrameParser {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly options: { timestamps: boolean }) {}

  /** Feeds bytes from the log stream; returns the complete entries they finish. */
  push(bytes: Buffer): RuntimeLogEntry[] {
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const entries: RuntimeLogEntry[] = [];
    let offset = 0;
    while (this.pending.length - offset >= HEADER_BYTES) {
      const type = this.pending.readUInt8(offset);
      const size = this.pending.readUInt32BE(offset + 4);
      if (this.pending.length - offset - HEADER_BYTES < size) break;
      const payload = this.pending.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + size);
      offset += HEADER_BYTES + size;
      if (type !== 1 && type !== 2) continue; // stdin echo or system frames: not task output
      entries.push(this.entry(type === 1 ? 'stdout' : 'stderr', payload));
    }
    this.pending = Buffer.from(this.pending.subarray(offset));
    return entries;
  }

  /** Bytes of an incomplete frame left when the stream ended. */
  get leftover(): number {
    return this.pending.length;
  }

  private entry(stream: 'stdout' | 'stderr', payload: Buffer): RuntimeLogEntry {
    if (!this.options.timestamps) return { stream, data: Buffer.from(payload) };
    const space = payload.indexOf(0x20);
    const cursor = space > 0 ? dockerTimeToNanos(payload.subarray(0, space).toString('latin1')) : undefined;
    if (cursor === undefined) return { stream, data: Buffer.from(payload) };
    return { stream, data: Buffer.from(payload.subarray(space + 1)), cursor };
  }
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** "2024-05-01T10:00:00.123456789Z" → nanoseconds since the epoch as a decimal string. */
export function dockerTimeToNanos(text: string): string | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const fraction = (match[2] ?? '').padEnd(9, '0');
  return (BigInt(ms) * 1_000_000n + BigInt(fraction)).toString();
}

/** Whether cursor `a` is strictly after cursor `b`. */
export function isCursorAfter(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b);
}
