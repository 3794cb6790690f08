// Where DAG artifacts live on the master's side: content-addressed by sha256, written once,
// never changed. Two implementations pass the same conformance suite
// (artifact-backend.conformance.ts): DiskArtifactBackend (the master's data dir, the default;
// workers fetch bytes from the master over gRPC) and S3ArtifactBackend (S3/MinIO through the
// `minio` client; workers move bytes straight to and from the object store with presigned URLs).
//
// Every put is verified: the bytes are written somewhere invisible first, their size and
// sha256 are checked, and only then do they appear under their digest. A mismatch is
// WharfError('data_corrupted') and nothing is kept.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WharfError } from '../errors.js';

export interface ArtifactRef {
  /** lowercase hex sha256 of the bytes */
  sha256: string;
  /** bytes */
  size: number;
}

/** A stored artifact as `list` gives it. */
export interface StoredArtifact extends ArtifactRef {
  /** epoch ms it was stored (the file's or object's modification time) */
  storedAt: number;
}

/** The bytes to store: a stream, or a file already on the master's disk. */
export type ArtifactSource = Readable | { path: string };

export interface ArtifactBackend {
  readonly kind: 'disk' | 's3';
  /** Creates folders or the bucket if missing. Call once before use. */
  init(): Promise<void>;
  /** Stores the bytes under their sha256 after checking size and sha256; storing the same artifact again is a no-op. */
  put(expected: ArtifactRef, source: ArtifactSource): Promise<ArtifactRef>;
  /** Size of a stored artifact, or undefined when it is not stored. */
  stat(sha256: string): Promise<ArtifactRef | undefined>;
  exists(sha256: string): Promise<boolean>;
  /** The bytes of a stored artifact; WharfError('not_found') when absent. */
  get(sha256: string): Promise<{ stream: Readable; size: number }>;
  /** Removes an artifact; absent is fine. */
  delete(sha256: string): Promise<void>;
  /** Every stored artifact with its size and when it was stored (the garbage collector's listing). */
  list(): AsyncIterable<StoredArtifact>;
  /**
   * Only backends whose bytes workers reach directly (S3): a URL a worker can GET the
   * artifact from, valid for `expirySeconds`.
   */
  presignedGetUrl?(sha256: string, expirySeconds?: number): Promise<string>;
  /**
   * Only S3: a URL a worker can PUT the artifact's bytes to. Ask only after exists() said no
   * (an artifact already stored need not move at all), then call confirmUpload().
   */
  presignedPutUrl?(sha256: string, expirySeconds?: number): Promise<string>;
  /**
   * Only S3: after a worker's presigned PUT, checks that an object of the expected size is
   * there; a wrong size removes it and throws data_corrupted. The master never sees those
   * bytes, so their sha256 is checked by every worker that fetches them (the worker cache
   * verifies on fill), not here.
   */
  confirmUpload?(expected: ArtifactRef): Promise<ArtifactRef>;
}

export const SHA256_HEX = /^[a-f0-9]{64}$/;
export const DEFAULT_PRESIGN_EXPIRY_SECONDS = 15 * 60;

export function assertSha256(sha256: string): void {
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
    throw new WharfError('validation_failed', `sha256: must be 64 lowercase hex characters (got ${JSON.stringify(String(sha256).slice(0, 80))})`);
  }
}

export function assertArtifactRef(ref: ArtifactRef): void {
  assertSha256(ref.sha256);
  if (!Number.isSafeInteger(ref.size) || ref.size < 0) throw new WharfError('validation_failed', `size: must be a whole number of bytes (got ${ref.size})`);
}

/** Object key of an artifact in a bucket. */
export const artifactKey = (sha256: string): string => `artifacts/${sha256}`;

/** A stream (fs.ReadStream has a `path` too, so look for `pipe`). */
export function isStream(source: ArtifactSource): source is Readable {
  return typeof (source as Readable).pipe === 'function';
}

export function mismatch(expected: ArtifactRef, received: ArtifactRef): WharfError {
  return new WharfError(
    'data_corrupted',
    `artifact ${expected.sha256}: received ${received.size} bytes with sha256 ${received.sha256}, expected ${expected.size} bytes`,
  );
}

/**
 * Copies `source` to a new file at `tmpPath` (created exclusively, fsynced), checking size
 * and sha256 on the way; fails early when more bytes arrive than expected. The caller renames
 * the file on success and removes it on failure.
 */
/** Reads a file on disk and checks its size and sha256 (data_corrupted when they differ). */
export async function verifyFile(file: string, expected: ArtifactRef): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    size += (chunk as Buffer).length;
    if (size > expected.size) throw new WharfError('data_corrupted', `artifact ${expected.sha256}: ${file} has more than the expected ${expected.size} bytes`);
    hash.update(chunk as Buffer);
  }
  const received = { sha256: hash.digest('hex'), size };
  if (received.size !== expected.size || received.sha256 !== expected.sha256) throw mismatch(expected, received);
}

export async function writeVerifiedFile(source: ArtifactSource, tmpPath: string, expected: ArtifactRef): Promise<void> {
  const input = isStream(source) ? source : createReadStream(source.path);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      if (size > expected.size) {
        callback(new WharfError('data_corrupted', `artifact ${expected.sha256}: received more than the expected ${expected.size} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // flush: fsync before close, so a renamed artifact is on disk whole
  await pipeline(input, meter, createWriteStream(tmpPath, { flags: 'wx', mode: 0o644, flush: true }));
  const received = { sha256: hash.digest('hex'), size };
  if (received.size !== expected.size || received.sha256 !== expected.sha256) throw mismatch(expected, received);
}
