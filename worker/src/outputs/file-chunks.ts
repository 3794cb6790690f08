// One output file as FileChunk messages: data chunks of at most chunkBytes with increasing
// offsets, then a final chunk with eof, the size and the sha256 (hex) of what was read.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileChunk } from '@wharf/proto';
import type { OutputFileEntry } from './output-walk.js';

export const FILE_CHUNK_BYTES = 1024 * 1024;

export interface FinalFileChunk {
  path: string;
  size: number;
  sha256: string;
}

export async function* fileChunks(
  attemptId: string,
  file: OutputFileEntry,
  chunkBytes: number = FILE_CHUNK_BYTES,
): AsyncGenerator<FileChunk, FinalFileChunk> {
  const hash = createHash('sha256');
  let offset = 0;
  const stream = createReadStream(file.absolutePath, { highWaterMark: chunkBytes });
  for await (const data of stream as AsyncIterable<Buffer>) {
    for (let start = 0; start < data.length; start += chunkBytes) {
      const piece = data.subarray(start, Math.min(start + chunkBytes, data.length));
      hash.update(piece);
      yield { attemptId, path: file.path, offset, data: piece };
      offset += piece.length;
    }
  }
  const sha256 = hash.digest('hex');
  yield { attemptId, path: file.path, offset, data: Buffer.alloc(0), eof: true, size: offset, sha256 };
  return { path: file.path, size: offset, sha256 };
}
