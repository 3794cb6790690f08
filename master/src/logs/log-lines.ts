// Lines of a task's stored log, for search and paging (GET /api/tasks/:id/logs?grep=…). The
// attempts' files (log-store.ts) are read in pieces and never held whole: frames are cut into
// lines per stream (a line may span chunks; stdout and stderr each keep their own unfinished
// line), each line numbered from 1 within its attempt, in the order its newline arrived, whatever
// the filters — so a line keeps its number when searched, filtered or paged. A line longer than
// MAX_LINE_BYTES keeps its first bytes and says it was cut. A scan stops after `limit` answered
// lines or its time budget, and names where the next page starts (`next`).
import { open } from 'node:fs/promises';
import { parseFrames, type LogStreamName, type StoredFrame } from './log-store.js';

export const MAX_LINE_BYTES = 64 * 1024;
const READ_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
/** how many lines between two looks at the clock */
const CLOCK_EVERY = 2048;

export interface LogLine {
  /** the line's number within its attempt, from 1 */
  n: number;
  /** the attempt's number, from 1 */
  attempt: number;
  stream: LogStreamName;
  /** when the worker read the chunk the line began in (ISO 8601); null: stored before timestamps */
  ts: string | null;
  text: string;
  /** the line was longer than MAX_LINE_BYTES: text holds its first bytes */
  cut?: true;
}

/** Where a scan resumes: after line `n` of attempt `attempt`. */
export interface LineCursor {
  attempt: number;
  n: number;
}

export interface LineScan {
  /** the attempts to read, in order */
  attempts: readonly { id: string; number: number; path: string }[];
  after?: LineCursor | undefined;
  stream?: LogStreamName | undefined;
  /** answers true for a line to answer; absent: every line */
  match?: ((text: string) => boolean) | undefined;
  limit: number;
  /** stop (with a `next` cursor) once the scan took this long */
  budgetMs: number;
  now?: () => number;
}

export interface LineScanResult {
  lines: LogLine[];
  /** where the next page starts (`after`); null: the log was read to its end */
  next: string | null;
  /** lines read (answered or not) */
  scanned: number;
  /** the time budget ran out before `limit` lines were found (next says where to go on) */
  budgetExhausted: boolean;
}

export function formatCursor(cursor: LineCursor): string {
  return `${cursor.attempt}:${cursor.n}`;
}

/** `2:1500`; undefined when the text is not a cursor. */
export function parseCursor(text: string): LineCursor | undefined {
  const match = /^(\d{1,9}):(\d{1,12})$/.exec(text);
  if (!match) return undefined;
  return { attempt: Number(match[1]), n: Number(match[2]) };
}

interface Pending {
  parts: Buffer[];
  bytes: number;
  cut: boolean;
  atMs: number | undefined;
}

class StopScan extends Error {}

/** Reads the attempts' lines from the cursor on and answers those that pass the filters. */
export async function scanLines(scan: LineScan): Promise<LineScanResult> {
  const now = scan.now ?? Date.now;
  const started = now();
  const lines: LogLine[] = [];
  let scanned = 0;
  let last: LineCursor | undefined;
  let budgetExhausted = false;
  let reachedEnd = true;

  for (const attempt of scan.attempts) {
    if (scan.after && attempt.number < scan.after.attempt) continue;
    const skipThrough = scan.after && attempt.number === scan.after.attempt ? scan.after.n : 0;
    let n = 0;
    const pending = new Map<LogStreamName, Pending>();
    const emit = (stream: LogStreamName, part: Pending): void => {
      n += 1;
      if (n <= skipThrough) return;
      scanned += 1;
      last = { attempt: attempt.number, n };
      if (scan.stream === undefined || scan.stream === stream) {
        const buffer = part.parts.length === 1 ? part.parts[0]! : Buffer.concat(part.parts, part.bytes);
        const text = buffer.toString('utf8');
        if (!scan.match || scan.match(text)) {
          lines.push({
            n,
            attempt: attempt.number,
            stream,
            ts: part.atMs === undefined ? null : new Date(part.atMs).toISOString(),
            text,
            ...(part.cut ? { cut: true as const } : {}),
          });
          if (lines.length >= scan.limit) throw new StopScan();
        }
      }
      if (scanned % CLOCK_EVERY === 0 && now() - started > scan.budgetMs) {
        budgetExhausted = true;
        throw new StopScan();
      }
    };
    const take = (stream: LogStreamName, data: Buffer, atMs: number | undefined): void => {
      let start = 0;
      while (start < data.length) {
        const newline = data.indexOf(NEWLINE, start);
        const end = newline < 0 ? data.length : newline;
        let part = pending.get(stream);
        if (!part) {
          part = { parts: [], bytes: 0, cut: false, atMs };
          pending.set(stream, part);
        }
        const room = MAX_LINE_BYTES - part.bytes;
        if (end - start > room) part.cut = true;
        if (room > 0 && end > start) {
          // a copy: the read buffer is reused for the next piece of the file
          const piece = Buffer.from(data.subarray(start, Math.min(end, start + room)));
          part.parts.push(piece);
          part.bytes += piece.length;
        }
        if (newline < 0) break;
        pending.delete(stream);
        emit(stream, part);
        start = newline + 1;
      }
    };
    try {
      await readFrames(attempt.path, (stream, data, atMs) => take(stream, data, atMs));
      // an attempt's last line without a newline is still a line
      for (const [stream, part] of [...pending]) {
        pending.delete(stream);
        emit(stream, part);
      }
    } catch (error: unknown) {
      if (!(error instanceof StopScan)) throw error;
      reachedEnd = false;
      break;
    }
  }
  return { lines, next: reachedEnd || !last ? null : formatCursor(last), scanned, budgetExhausted };
}

/**
 * Feeds every whole frame of the file to `visit`, a piece at a time (a frame's data is valid
 * only during the call: the buffer is reused); a missing file has none.
 */
async function readFrames(path: string, visit: (stream: LogStreamName, data: Buffer, atMs: number | undefined) => void): Promise<void> {
  for await (const frames of framePieces(path)) for (const frame of frames) visit(frame.stream, frame.data, frame.atMs);
}

/** The file's whole frames, one read at a time (a torn last frame is left out, as LogStore does). */
async function* framePieces(path: string): AsyncGenerator<StoredFrame[]> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    let buffer = Buffer.alloc(READ_BYTES);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        // one frame larger than the buffer: grow it to hold the frame
        const bigger = Buffer.alloc(buffer.length * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) return;
      filled += bytesRead;
      const frames = [...parseFrames(buffer.subarray(0, filled))];
      const consumed = frames.length > 0 ? frames[frames.length - 1]!.end : 0;
      yield frames.filter((frame) => frame.data.length > 0);
      buffer.copy(buffer, 0, consumed, filled);
      filled -= consumed;
    }
  } finally {
    await handle.close();
  }
}

/** Every stored byte of one attempt's log (stdout, stderr and the master's notes, in order), a piece at a time. */
export async function* rawBytes(path: string): AsyncGenerator<Buffer> {
  for await (const frames of framePieces(path)) {
    if (frames.length > 0) yield Buffer.concat(frames.map((frame) => frame.data));
  }
}
