// An attempt's log frames on disk, kept until the attempt is over and acknowledged, so a
// broken log stream can be replayed from seq 1 with exactly the same frames, also after a
// worker restart. Append-only records: a 20-byte header (marker, stream, seq, atMs, cursor
// length, data length), the cursor, the data. A torn last record is cut off when reopened.
import { open, rm, type FileHandle } from 'node:fs/promises';
import type { LogFrame, LogStreamName } from './log-batcher.js';

const MARKER = 0x57;
const HEADER_BYTES = 20;
const STREAMS: readonly LogStreamName[] = ['STDOUT', 'STDERR', 'SYSTEM'];

interface SpoolEntry {
  seq: number;
  stream: LogStreamName;
  atMs: number;
  cursor?: string;
  dataOffset: number;
  dataLength: number;
}

export class LogSpool {
  private readonly entries: SpoolEntry[] = [];
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private endOffset: number,
  ) {}

  /** Opens the spool file, reading back the frames it already holds. */
  static async open(file: string): Promise<LogSpool> {
    const handle = await open(file, 'a+', 0o600);
    try {
      const { size } = await handle.stat();
      const spool = new LogSpool(file, handle, 0);
      await spool.readBack(size);
      return spool;
    } catch (error: unknown) {
      await handle.close();
      throw error;
    }
  }

  private async readBack(size: number): Promise<void> {
    let offset = 0;
    const header = Buffer.alloc(HEADER_BYTES);
    while (offset + HEADER_BYTES <= size) {
      await this.handle.read(header, 0, HEADER_BYTES, offset);
      const stream = STREAMS[header.readUInt8(1)];
      const seq = header.readUInt32BE(2);
      const cursorLength = header.readUInt16BE(14);
      const dataLength = header.readUInt32BE(16);
      const end = offset + HEADER_BYTES + cursorLength + dataLength;
      if (header.readUInt8(0) !== MARKER || stream === undefined || end > size || seq !== this.entries.length + 1) break;
      const entry: SpoolEntry = {
        seq,
        stream,
        atMs: header.readDoubleBE(6),
        dataOffset: offset + HEADER_BYTES + cursorLength,
        dataLength,
      };
      if (cursorLength > 0) {
        const cursor = Buffer.alloc(cursorLength);
        await this.handle.read(cursor, 0, cursorLength, offset + HEADER_BYTES);
        entry.cursor = cursor.toString('utf8');
      }
      this.entries.push(entry);
      offset = end;
    }
    if (offset < size) await this.handle.truncate(offset);
    this.endOffset = offset;
  }

  /** How many frames the spool holds (= the last seq). */
  get lastSeq(): number {
    return this.entries.length;
  }

  /** The cursor of the newest frame that carries one. */
  get lastCursor(): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i -= 1) {
      const cursor = this.entries[i]?.cursor;
      if (cursor !== undefined) return cursor;
    }
    return undefined;
  }

  /** Appends a frame; frames must arrive with seq = lastSeq + 1. Resolves once written. */
  append(frame: LogFrame): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closed) throw new Error('log spool is closed');
      if (frame.seq !== this.entries.length + 1) {
        throw new Error(`log spool expected seq ${this.entries.length + 1}, got ${frame.seq}`);
      }
      const cursor = Buffer.from(frame.cursor ?? '', 'utf8');
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt8(MARKER, 0);
      header.writeUInt8(STREAMS.indexOf(frame.stream), 1);
      header.writeUInt32BE(frame.seq, 2);
      header.writeDoubleBE(frame.atMs, 6);
      header.writeUInt16BE(cursor.length, 14);
      header.writeUInt32BE(frame.data.length, 16);
      const record = Buffer.concat([header, cursor, frame.data]);
      let written = 0;
      while (written < record.length) {
        const { bytesWritten } = await this.handle.write(record, written, record.length - written);
        written += bytesWritten;
      }
      const entry: SpoolEntry = {
        seq: frame.seq,
        stream: frame.stream,
        atMs: frame.atMs,
        dataOffset: this.endOffset + HEADER_BYTES + cursor.length,
        dataLength: frame.data.length,
      };
      if (frame.cursor !== undefined) entry.cursor = frame.cursor;
      this.entries.push(entry);
      this.endOffset += record.length;
    };
    const done = this.writeChain.then(run);
    this.writeChain = done.catch(() => undefined);
    return done;
  }

  /** Reads frame `seq` back (1-based). */
  async read(seq: number): Promise<LogFrame> {
    const entry = this.entries[seq - 1];
    if (!entry) throw new Error(`log spool has no frame ${seq}`);
    const data = Buffer.alloc(entry.dataLength);
    if (entry.dataLength > 0) await this.handle.read(data, 0, entry.dataLength, entry.dataOffset);
    const frame: LogFrame = { seq: entry.seq, stream: entry.stream, data, atMs: entry.atMs };
    if (entry.cursor !== undefined) frame.cursor = entry.cursor;
    return frame;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeChain;
    await this.handle.close();
  }

  async remove(): Promise<void> {
    await this.close();
    await rm(this.file, { force: true });
  }
}
