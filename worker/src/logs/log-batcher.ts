// Turns the bytes a task writes into numbered log frames. At most one frame is open at a time,
// so frames keep the order in which bytes arrived across stdout, stderr and worker notes; a
// frame is closed when the stream changes, when it holds maxBytes, or maxDelayMs after its
// first byte. `seq` counts frames from firstSeq (1 for a fresh attempt).
import { MAX_LOG_FRAME_BYTES } from '../config/worker-config.js';

export type LogStreamName = 'STDOUT' | 'STDERR' | 'SYSTEM';

export interface LogFrame {
  seq: number;
  stream: LogStreamName;
  data: Buffer;
  /** When the frame's first byte arrived. */
  atMs: number;
  /** The runtime's position after the last complete entry in this frame (Docker log timestamp), if any. */
  cursor?: string;
}

export interface LogBatcherOptions {
  maxBytes: number;
  maxDelayMs: number;
  onFrame: (frame: LogFrame) => void;
  firstSeq?: number;
  /** Cursor already covered by earlier frames (after a restart). */
  initialCursor?: string;
  now?: () => number;
}

export class LogBatcher {
  private readonly maxBytes: number;
  private nextSeq: number;
  private stream: LogStreamName | undefined;
  private parts: Buffer[] = [];
  private size = 0;
  private firstAtMs = 0;
  private cursor: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LogBatcherOptions) {
    this.maxBytes = Math.max(1, Math.min(options.maxBytes, MAX_LOG_FRAME_BYTES));
    this.nextSeq = options.firstSeq ?? 1;
    this.cursor = options.initialCursor;
  }

  /** The seq of the last frame handed out (0 when none). */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  push(stream: LogStreamName, data: Buffer, cursor?: string): void {
    if (this.closed) throw new Error('log batcher is closed');
    if (this.stream !== undefined && this.stream !== stream) this.flush();
    let offset = 0;
    while (offset < data.length) {
      if (this.size === 0) {
        this.stream = stream;
        this.firstAtMs = this.now();
      }
      const take = Math.min(this.maxBytes - this.size, data.length - offset);
      this.parts.push(data.subarray(offset, offset + take));
      this.size += take;
      offset += take;
      if (offset >= data.length && cursor !== undefined) this.cursor = cursor;
      if (this.size >= this.maxBytes) this.flush();
    }
    if (data.length === 0 && cursor !== undefined) this.cursor = cursor;
    if (this.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.options.maxDelayMs);
      this.timer.unref();
    }
  }

  /** Hands out the open frame, if any. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.size === 0 || this.stream === undefined) return;
    const frame: LogFrame = {
      seq: this.nextSeq,
      stream: this.stream,
      data: this.parts.length === 1 && this.parts[0] ? this.parts[0] : Buffer.concat(this.parts, this.size),
      atMs: this.firstAtMs,
    };
    if (this.cursor !== undefined) frame.cursor = this.cursor;
    this.nextSeq += 1;
    this.parts = [];
    this.size = 0;
    this.stream = undefined;
    this.options.onFrame(frame);
  }

  /** Throws away the open frame and refuses further bytes (the attempt is being dropped). */
  discard(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.parts = [];
    this.size = 0;
    this.stream = undefined;
    this.closed = true;
  }

  /** Flushes and refuses further bytes. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
