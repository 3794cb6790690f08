// Sends one artifact's bytes down a gRPC server stream (FetchArtifact) in chunks: `data` with
// increasing offsets, the last chunk with `eof`, `size` and `sha256`. It honours the stream's
// back-pressure (waits for 'drain'), and stops reading when the worker goes away.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { WharfError } from '../errors.js';
import type { ArtifactBackend } from './artifact-backend.js';
import { assertSha256 } from './artifact-backend.js';

/** What the stream carries (the FileChunk message). */
export interface ArtifactChunk {
  attemptId: string;
  path: string;
  offset: number;
  data: Buffer;
  eof: boolean;
  size: number;
  sha256: string;
}

const CHUNK_BYTES = 1024 * 1024;

/**
 * Streams artifact `sha256` into `out` (a grpc-js ServerWritableStream). The caller has
 * checked that the worker may read it. Rejects with not_found when the artifact is not stored.
 */
export async function sendArtifact(backend: ArtifactBackend, sha256: string, attemptId: string, out: Writable & { cancelled?: boolean }): Promise<void> {
  assertSha256(sha256);
  const { stream, size } = await backend.get(sha256);
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  const write = async (chunk: ArtifactChunk): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
    if (out.cancelled || out.destroyed) throw new WharfError('unavailable', 'the worker cancelled the download');
  };
  try {
    for await (const piece of stream) {
      pending = pending.length === 0 ? (piece as Buffer) : Buffer.concat([pending, piece as Buffer]);
      while (pending.length >= CHUNK_BYTES) {
        const data = pending.subarray(0, CHUNK_BYTES);
        pending = pending.subarray(CHUNK_BYTES);
        await write({ attemptId, path: sha256, offset, data, eof: false, size: 0, sha256: '' });
        offset += data.length;
      }
    }
    if (offset + pending.length !== size) {
      throw new WharfError('data_corrupted', `artifact ${sha256}: stored ${offset + pending.length} bytes, expected ${size}`);
    }
    // the last chunk carries the rest (possibly empty) and the digest the worker must verify
    await write({ attemptId, path: sha256, offset, data: pending, eof: true, size, sha256 });
    out.end();
  } finally {
    stream.destroy();
  }
}
