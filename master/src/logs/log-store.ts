// Task logs on the master's disk, one file per attempt: <data>/logs/<taskId>/<attemptId>.log.
// Each chunk is a frame [u8 stream][u32 seq][u32 length][f64 atMs][bytes] (the stream byte has
// bit 0x80 set when the frame carries atMs, the epoch ms the worker read the chunk's first bytes
// — LogChunk.at_ms — or the master wrote its own note; frames stored before timestamps have no
// atMs and read as ts null), so stdout and stderr stay apart and in order, and a chunk a worker resends (after a broken stream or a master restart)
// is recognised by its seq and applied once. Chunks are applied in seq order without gaps: a
// chunk that skips one is refused with `sequence_gap` naming the seq to resend from, never
// stored out of order or lost silently; so the last seq applied is also how many chunks
// arrived (chunksReceived). Past the per-attempt cap one visible marker is written and later
// output is dropped (an empty frame still records each later seq). A chunk the disk has no room
// for is not applied (the file is cut back to its last whole frame, the error says storage is
// full), so the worker's resend of it is taken. Subscribers (log followers) get every applied
// chunk.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { storageFull, WharfError } from '../errors.js';

export type LogStreamName = 'stdout' | 'stderr' | 'system';
const STREAM_CODES: Record<LogStreamName, number> = { stdout: 0, stderr: 1, system: 2 };
const STREAM_NAMES: LogStreamName[] = ['stdout', 'stderr', 'system'];
const HEADER = 9;
/** the stream byte's flag: an f64 atMs follows the 9-byte header */
const WITH_TIME = 0x80;
const TIMED_HEADER = HEADER + 8;

export interface LogEntry {
  attemptId: string;
  stream: LogStreamName;
  data: Buffer;
  /** epoch ms the chunk was read by the worker (or written by the master); undefined: stored before timestamps */
  atMs?: number | undefined;
}

interface AttemptLog {
  fd: number | undefined;
  path: string;
  /** the file's length in whole frames: a write that fails is cut back to it */
  end: number;
  bytes: number;
  lastSeq: number;
  truncated: boolean;
}

export type LogListener = (entry: LogEntry) => void;

export class LogStore {
  private readonly dir: string;
  private readonly open = new Map<string, AttemptLog>();
  private readonly listeners = new Map<string, Set<LogListener>>();

  constructor(
    dataDir: string,
    private readonly maxBytesPerAttempt: number,
  ) {
    this.dir = join(dataDir, 'logs');
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * Appends a worker's chunk unless its seq was already applied. Answers the highest seq
   * applied for the attempt (what the worker may consider delivered). A chunk that skips a seq
   * throws `sequence_gap` with `details.expectedSeq`, the seq the worker must resend from.
   * `atMs`: when the worker read the chunk (LogChunk.at_ms); 0, absent or not a time: now.
   */
  append(taskId: string, attemptId: string, seq: number, stream: LogStreamName, data: Buffer, atMs?: number): number {
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > 0xffffffff) {
      throw new WharfError('validation_failed', `seq: must be a whole number from 1 (got ${seq})`);
    }
    const log = this.attemptLog(taskId, attemptId);
    if (seq <= log.lastSeq) return log.lastSeq;
    if (seq > log.lastSeq + 1) {
      const expectedSeq = log.lastSeq + 1;
      throw new WharfError('sequence_gap', `attempt ${attemptId}: log chunk ${seq} arrived before chunk ${expectedSeq}; expected seq ${expectedSeq}`, {
        details: { expectedSeq },
      });
    }
    // applied once its frame is written (writeFrame): a chunk the disk had no room for is not,
    // and the worker's resend of it is taken
    this.write(taskId, log, attemptId, seq, stream, data, atMs !== undefined && Number.isFinite(atMs) && atMs > 0 ? atMs : Date.now());
    return log.lastSeq;
  }

  /** How many of the attempt's chunks were applied (seqs are contiguous from 1, so the last seq). */
  chunksReceived(taskId: string, attemptId: string): number {
    const open = this.open.get(attemptId);
    if (open) return open.lastSeq;
    // an attempt that sent no log (most sim tasks) costs one stat, no folder
    return existsSync(this.pathOf(taskId, attemptId)) ? this.attemptLog(taskId, attemptId).lastSeq : 0;
  }

  /** A note from the master itself (not deduplicated). */
  appendSystem(taskId: string, attemptId: string, text: string): void {
    const log = this.attemptLog(taskId, attemptId);
    this.write(taskId, log, attemptId, 0, 'system', Buffer.from(text.endsWith('\n') ? text : `${text}\n`), Date.now());
  }

  lastSeq(taskId: string, attemptId: string): number {
    return this.attemptLog(taskId, attemptId).lastSeq;
  }

  /** Every stored chunk of the given attempts, in order. */
  read(taskId: string, attemptIds: readonly string[]): LogEntry[] {
    const entries: LogEntry[] = [];
    for (const attemptId of attemptIds) {
      const path = this.pathOf(taskId, attemptId);
      if (!existsSync(path)) continue;
      for (const frame of parseFrames(readFileSync(path))) {
        if (frame.data.length > 0) entries.push({ attemptId, stream: frame.stream, data: frame.data, atMs: frame.atMs });
      }
    }
    return entries;
  }

  /** Where the attempt's log file is (it may not exist: the attempt wrote nothing). */
  pathOf(taskId: string, attemptId: string): string {
    return join(this.dir, taskId, `${attemptId}.log`);
  }

  subscribe(taskId: string, listener: LogListener): () => void {
    let set = this.listeners.get(taskId);
    if (!set) {
      set = new Set();
      this.listeners.set(taskId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(taskId);
    };
  }

  /** Closes the attempt's file once its logs are complete (its result was recorded). */
  closeAttempt(attemptId: string): void {
    const log = this.open.get(attemptId);
    if (log?.fd !== undefined) closeSync(log.fd);
    this.open.delete(attemptId);
  }

  close(): void {
    for (const id of [...this.open.keys()]) this.closeAttempt(id);
  }

  /** The bytes of every task's logs on disk, one task (folder) at a time (storage usage). */
  async *taskLogBytes(): AsyncIterable<{ taskId: string; bytes: number }> {
    for (const taskId of await readdir(this.dir).catch(() => [] as string[])) {
      let bytes = 0;
      for (const name of await readdir(join(this.dir, taskId)).catch(() => [] as string[])) {
        bytes += await stat(join(this.dir, taskId, name)).then((s) => s.size, () => 0);
      }
      yield { taskId, bytes };
    }
  }

  /**
   * The bytes and attempt logs a finished task keeps on disk (the garbage collector's measure);
   * with `remove`, deletes them (closing any file still open). Answers what there was.
   */
  async removeTask(taskId: string, attemptIds: readonly string[], options: { remove: boolean }): Promise<{ logs: number; bytes: number }> {
    const dir = join(this.dir, taskId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return { logs: 0, bytes: 0 };
    }
    let bytes = 0;
    let logs = 0;
    for (const name of names) {
      const size = await stat(join(dir, name)).then((s) => s.size, () => 0);
      bytes += size;
      if (name.endsWith('.log')) logs += 1;
    }
    if (options.remove) {
      for (const attemptId of attemptIds) this.closeAttempt(attemptId);
      await rm(dir, { recursive: true, force: true });
    }
    return { logs, bytes };
  }

  private write(taskId: string, log: AttemptLog, attemptId: string, seq: number, stream: LogStreamName, data: Buffer, atMs: number): void {
    if (log.truncated) {
      // the bytes are dropped, but the seq is kept, so a restarted master still counts the chunk
      if (seq > 0) this.writeFrame(taskId, log, attemptId, seq, stream, Buffer.alloc(0), atMs);
      return;
    }
    let payload = data;
    let truncateNow = false;
    if (log.bytes + data.length > this.maxBytesPerAttempt) {
      payload = data.subarray(0, Math.max(0, this.maxBytesPerAttempt - log.bytes));
      truncateNow = true;
    }
    if (payload.length > 0 || seq > 0) this.writeFrame(taskId, log, attemptId, seq, stream, payload, atMs);
    if (truncateNow) {
      log.truncated = true;
      const marker = Buffer.from(
        `\n[wharf] log truncated: this attempt wrote more than ${this.maxBytesPerAttempt} bytes; later output was dropped\n`,
      );
      this.writeFrame(taskId, log, attemptId, 0, 'system', marker, atMs);
    }
  }

  private writeFrame(taskId: string, log: AttemptLog, attemptId: string, seq: number, stream: LogStreamName, data: Buffer, atMs: number): void {
    const header = Buffer.allocUnsafe(TIMED_HEADER);
    header.writeUInt8(STREAM_CODES[stream] | WITH_TIME, 0);
    header.writeUInt32BE(seq >>> 0, 1);
    header.writeUInt32BE(data.length, 5);
    header.writeDoubleBE(atMs, HEADER);
    if (log.fd === undefined) log.fd = openSync(log.path, 'a');
    const frame = Buffer.concat([header, data]);
    let written: number;
    try {
      written = writeSync(log.fd, frame);
    } catch (error: unknown) {
      this.cutBack(log);
      // ENOSPC becomes storage_full at the edge (WharfError.from)
      throw error;
    }
    if (written < frame.length) {
      // a short write: the disk filled up mid-frame; a torn frame would hide every later one
      this.cutBack(log);
      throw storageFull(`a log frame of attempt ${attemptId} was cut short (${written} of ${frame.length} bytes)`);
    }
    log.end += frame.length;
    log.bytes += data.length;
    if (seq > log.lastSeq) log.lastSeq = seq;
    const listeners = this.listeners.get(taskId);
    if (listeners && data.length > 0) for (const listener of listeners) listener({ attemptId, stream, data, atMs });
  }

  /** Cuts the file back to its last whole frame after a write that failed or fell short. */
  private cutBack(log: AttemptLog): void {
    try {
      if (log.fd !== undefined) ftruncateSync(log.fd, log.end);
    } catch {
      // the next start drops a torn last frame (attemptLog)
    }
  }

  private attemptLog(taskId: string, attemptId: string): AttemptLog {
    let log = this.open.get(attemptId);
    if (log) return log;
    const path = this.pathOf(taskId, attemptId);
    log = { fd: undefined, path, end: 0, bytes: 0, lastSeq: 0, truncated: false };
    if (existsSync(path)) {
      // after a master restart: recover the size and the last seq applied from the file
      const buffer = readFileSync(path);
      for (const frame of parseFrames(buffer)) {
        log.end = frame.end;
        log.bytes += frame.data.length;
        if (frame.seq > log.lastSeq) log.lastSeq = frame.seq;
        if (frame.stream === 'system' && frame.data.includes('[wharf] log truncated')) log.truncated = true;
      }
      // a torn last frame (a crash or a full disk mid-write) would hide the frames appended after it
      if (log.end < buffer.length) truncateSync(path, log.end);
    } else {
      mkdirSync(join(this.dir, taskId), { recursive: true });
    }
    this.open.set(attemptId, log);
    return log;
  }

}

export interface StoredFrame {
  stream: LogStreamName;
  seq: number;
  data: Buffer;
  /** undefined: a frame stored before timestamps */
  atMs: number | undefined;
  /** the offset just past the frame */
  end: number;
}

/**
 * The whole frames at the start of `buffer` (from `offset`); a torn or incomplete last frame is
 * left out, so a reader that feeds a file in pieces carries the rest over (log-lines.ts).
 */
export function* parseFrames(buffer: Buffer, offset = 0): Generator<StoredFrame> {
  while (offset + HEADER <= buffer.length) {
    const code = buffer.readUInt8(offset);
    const timed = (code & WITH_TIME) !== 0;
    const header = timed ? TIMED_HEADER : HEADER;
    if (offset + header > buffer.length) break;
    const stream = STREAM_NAMES[code & ~WITH_TIME] ?? 'system';
    const seq = buffer.readUInt32BE(offset + 1);
    const length = buffer.readUInt32BE(offset + 5);
    if (offset + header + length > buffer.length) break; // a torn last frame (crash mid-write)
    const atMs = timed ? buffer.readDoubleBE(offset + HEADER) : undefined;
    yield { stream, seq, data: buffer.subarray(offset + header, offset + header + length), atMs, end: offset + header + length };
    offset += header + length;
  }
}
