// Unpacks the tar stream that `tar cf - -C /output .` writes inside a pod (read through the
// API's exec, as `kubectl cp` does) into the attempt's host output folder. Written for this one
// job: regular files and folders only (ustar, GNU long names, pax path/size records); links
// and devices are skipped and reported, and no entry can land outside the target folder.
// File data is streamed to disk, never held whole in memory.
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';

export interface TarExtractResult {
  files: number;
  bytes: number;
  /** Entries not unpacked (links, devices) with the reason. */
  skipped: string[];
}

const BLOCK = 512;

class ChunkReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly iterator: AsyncIterator<Buffer>;
  private done = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    const inner = source[Symbol.asyncIterator]();
    this.iterator = {
      next: async () => {
        const next = await inner.next();
        if (next.done) return next;
        return { done: false, value: typeof next.value === 'string' ? Buffer.from(next.value) : next.value };
      },
    };
  }

  private async fill(wanted: number): Promise<void> {
    while (this.bufferedBytes < wanted && !this.done) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      if (next.value.length === 0) continue;
      this.buffered.push(next.value);
      this.bufferedBytes += next.value.length;
    }
  }

  /** Up to `max` bytes (at least 1 unless the stream ended). */
  async readSome(max: number): Promise<Buffer> {
    await this.fill(1);
    const first = this.buffered[0];
    if (!first) return Buffer.alloc(0);
    if (first.length <= max) {
      this.buffered.shift();
      this.bufferedBytes -= first.length;
      return first;
    }
    this.buffered[0] = first.subarray(max);
    this.bufferedBytes -= max;
    return first.subarray(0, max);
  }

  /** Exactly `size` bytes, or undefined at a clean end of stream; throws on a truncated one. */
  async readExactly(size: number): Promise<Buffer | undefined> {
    await this.fill(size);
    if (this.bufferedBytes === 0 && this.done) return undefined;
    if (this.bufferedBytes < size) throw new Error('the tar stream ended in the middle of an entry');
    const pieces: Buffer[] = [];
    let left = size;
    while (left > 0) {
      const piece = await this.readSome(left);
      pieces.push(piece);
      left -= piece.length;
    }
    return pieces.length === 1 && pieces[0] ? pieces[0] : Buffer.concat(pieces, size);
  }

  /** Passes `size` bytes to `sink` in pieces of up to 1 MiB (small network chunks are gathered first). */
  async stream(size: number, sink: (piece: Buffer) => Promise<void>): Promise<void> {
    const batchBytes = 1 << 20;
    let left = size;
    let batch: Buffer[] = [];
    let batched = 0;
    while (left > 0) {
      const piece = await this.readSome(Math.min(left, batchBytes - batched));
      if (piece.length === 0) throw new Error('the tar stream ended in the middle of a file');
      left -= piece.length;
      batch.push(piece);
      batched += piece.length;
      if (batched >= batchBytes || left === 0) {
        await sink(batch.length === 1 && batch[0] ? batch[0] : Buffer.concat(batch, batched));
        batch = [];
        batched = 0;
      }
    }
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul >= 0 ? nul : field.length).toString('utf8');
}

function numberField(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256 for sizes of 8 GiB and more
    let value = 0;
    for (let i = 1; i < field.length; i += 1) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumMatches(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum === numberField(block, 148, 8);
}

/** `key=value` records of a pax header ("<length> key=value\n"). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(data.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}

/** The entry's path inside the target folder, or undefined for the folder itself; throws for an escape. */
function confinedPath(root: string, name: string): string | undefined {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) return undefined;
  if (name.startsWith('/') || parts.includes('..')) throw new Error(`the tar stream has an entry outside the output folder: ${name}`);
  return path.join(root, ...parts);
}

export async function extractTar(source: AsyncIterable<Buffer | string>, root: string): Promise<TarExtractResult> {
  const reader = new ChunkReader(source);
  const result: TarExtractResult = { files: 0, bytes: 0, skipped: [] };
  await mkdir(root, { recursive: true });
  let longName: string | undefined;
  let pax = new Map<string, string>();
  for (;;) {
    const header = await reader.readExactly(BLOCK);
    if (!header) break;
    if (header.every((byte) => byte === 0)) break; // end-of-archive marker
    if (!checksumMatches(header)) throw new Error('the output stream is not a tar archive (bad header checksum)');
    const type = String.fromCharCode(header[156] ?? 0);
    const size = Number(pax.get('size') ?? numberField(header, 124, 12));
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'L' || type === 'x' || type === 'g') {
      const data = (await reader.readExactly(size + padding)) ?? Buffer.alloc(0);
      if (type === 'L') longName = cString(data, 0, size);
      if (type === 'x') pax = paxRecords(data.subarray(0, size));
      continue;
    }
    const prefix = cString(header, 345, 155);
    const shortName = cString(header, 0, 100);
    const name = longName ?? pax.get('path') ?? (prefix !== '' && header.subarray(257, 262).toString('latin1') === 'ustar' ? `${prefix}/${shortName}` : shortName);
    longName = undefined;
    pax = new Map();
    const target = confinedPath(root, name);
    if (type === '0' || type === '\0' || type === '7') {
      if (target === undefined) throw new Error('the tar stream has a file without a name');
      await mkdir(path.dirname(target), { recursive: true });
      const file = await open(target, 'w', 0o644);
      try {
        await reader.stream(size, async (piece) => {
          await file.write(piece);
        });
      } finally {
        await file.close();
      }
      result.files += 1;
      result.bytes += size;
    } else if (type === '5') {
      if (target !== undefined) await mkdir(target, { recursive: true });
      await reader.readExactly(size + padding);
      continue;
    } else {
      const kind = type === '1' ? 'hard link' : type === '2' ? 'symbolic link' : `entry of type ${JSON.stringify(type)}`;
      result.skipped.push(`${name} (${kind})`);
      await reader.stream(size, async () => {});
    }
    if (padding > 0) await reader.readExactly(padding);
  }
  return result;
}
