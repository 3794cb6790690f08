// Artifacts in an S3 bucket (MinIO, AWS S3, or any S3-protocol service) through the `minio`
// client, keyed `artifacts/<sha256>`. The bucket is created if missing.
//
// Two ways in:
// - put() from the master: the bytes go to a local temp file first, are verified (size and
//   sha256), and only then uploaded under their digest, so a wrong object is never visible.
// - a worker's presigned PUT (presignedPutUrl, then confirmUpload): the bytes go straight from
//   the worker to the object store. The master checks the stored size; the sha256 is checked
//   by each worker that later fetches the object (its cache verifies on fill), since the
//   master never sees those bytes. Ask for a PUT URL only when exists() says the artifact is
//   not stored yet, so a stored artifact is never overwritten.
// Workers read with presigned GET URLs. Presigned URLs point at the configured endpoint, so
// workers must be able to reach WHARF_S3_ENDPOINT at that same address.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import { notFound, WharfError } from '../errors.js';
import {
  artifactKey,
  assertArtifactRef,
  assertSha256,
  DEFAULT_PRESIGN_EXPIRY_SECONDS,
  isStream,
  mismatch,
  SHA256_HEX,
  verifyFile,
  writeVerifiedFile,
  type ArtifactBackend,
  type ArtifactRef,
  type StoredArtifact,
  type ArtifactSource,
} from './artifact-backend.js';
import type { S3Config } from './s3-config.js';

/** Presigned URLs may live at most 7 days (the S3 limit). */
const MAX_EXPIRY_SECONDS = 7 * 24 * 3600;

export class S3ArtifactBackend implements ArtifactBackend {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private readonly bucket: string;
  private readonly region: string;

  /**
   * @param stagingDir a folder on the master's disk for verifying bytes before upload (e.g.
   *   <dataDir>/artifacts-staging); emptied by init()
   */
  constructor(
    config: S3Config,
    private readonly stagingDir: string,
  ) {
    this.client = new Client({
      endPoint: config.endPoint,
      port: config.port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      // path-style (http://host/bucket/key) works with MinIO, s3rver and AWS alike
      pathStyle: true,
    });
    this.bucket = config.bucket;
    this.region = config.region;
  }

  async init(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
    await mkdir(this.stagingDir, { recursive: true });
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region);
    } catch (error: unknown) {
      const code = s3Code(error);
      if (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists') return;
      throw unavailable(`could not open S3 bucket "${this.bucket}"`, error);
    }
  }

  async put(expected: ArtifactRef, source: ArtifactSource): Promise<ArtifactRef> {
    assertArtifactRef(expected);
    // bytes from a stream land in a verified temp file first; a file already on disk is
    // verified by reading it once and uploaded as it is
    const tmp = isStream(source) ? path.join(this.stagingDir, `${expected.sha256}-${randomBytes(6).toString('hex')}`) : undefined;
    const file = tmp ?? (source as { path: string }).path;
    try {
      if (tmp) await writeVerifiedFile(source, tmp, expected);
      else await verifyFile(file, expected);
      try {
        await this.client.fPutObject(this.bucket, artifactKey(expected.sha256), file, { 'Content-Type': 'application/octet-stream', 'x-amz-meta-sha256': expected.sha256 });
      } catch (error: unknown) {
        throw unavailable(`could not upload artifact ${expected.sha256} to S3`, error);
      }
    } finally {
      if (tmp) await rm(tmp, { force: true });
    }
    return { sha256: expected.sha256, size: expected.size };
  }

  async stat(sha256: string): Promise<ArtifactRef | undefined> {
    assertSha256(sha256);
    try {
      const stats = await this.client.statObject(this.bucket, artifactKey(sha256));
      return { sha256, size: stats.size };
    } catch (error: unknown) {
      if (isNotFound(error)) return undefined;
      throw unavailable(`could not look up artifact ${sha256} in S3`, error);
    }
  }

  async exists(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  async get(sha256: string): Promise<{ stream: Readable; size: number }> {
    const found = await this.stat(sha256);
    if (!found) throw notFound(`artifact ${sha256}`);
    try {
      return { stream: await this.client.getObject(this.bucket, artifactKey(sha256)), size: found.size };
    } catch (error: unknown) {
      if (isNotFound(error)) throw notFound(`artifact ${sha256}`);
      throw unavailable(`could not read artifact ${sha256} from S3`, error);
    }
  }

  async delete(sha256: string): Promise<void> {
    assertSha256(sha256);
    try {
      await this.client.removeObject(this.bucket, artifactKey(sha256));
    } catch (error: unknown) {
      if (!isNotFound(error)) throw unavailable(`could not delete artifact ${sha256} from S3`, error);
    }
  }

  async *list(): AsyncIterable<StoredArtifact> {
    const prefix = artifactKey('');
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, true) as AsyncIterable<{ name?: string; size?: number; lastModified?: Date }>) {
        const sha256 = item.name?.slice(prefix.length) ?? '';
        if (!SHA256_HEX.test(sha256)) continue;
        yield { sha256, size: item.size ?? 0, storedAt: item.lastModified?.getTime() ?? 0 };
      }
    } catch (error: unknown) {
      throw unavailable('could not list the artifacts in S3', error);
    }
  }

  async presignedGetUrl(sha256: string, expirySeconds = DEFAULT_PRESIGN_EXPIRY_SECONDS): Promise<string> {
    assertSha256(sha256);
    return this.client.presignedGetObject(this.bucket, artifactKey(sha256), clampExpiry(expirySeconds));
  }

  async presignedPutUrl(sha256: string, expirySeconds = DEFAULT_PRESIGN_EXPIRY_SECONDS): Promise<string> {
    assertSha256(sha256);
    return this.client.presignedPutObject(this.bucket, artifactKey(sha256), clampExpiry(expirySeconds));
  }

  async confirmUpload(expected: ArtifactRef): Promise<ArtifactRef> {
    assertArtifactRef(expected);
    const found = await this.stat(expected.sha256);
    if (!found) throw new WharfError('data_corrupted', `artifact ${expected.sha256}: nothing was uploaded`);
    if (found.size !== expected.size) {
      await this.delete(expected.sha256);
      throw mismatch(expected, { sha256: 'not checked', size: found.size });
    }
    return found;
  }
}

function clampExpiry(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRY_SECONDS) {
    throw new WharfError('validation_failed', `expirySeconds: must be a whole number from 1 to ${MAX_EXPIRY_SECONDS} (got ${seconds})`);
  }
  return seconds;
}

function s3Code(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function isNotFound(error: unknown): boolean {
  const code = s3Code(error);
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchObject';
}

function unavailable(message: string, cause: unknown): WharfError {
  if (cause instanceof WharfError) return cause;
  const code = s3Code(cause);
  return new WharfError('unavailable', code ? `${message} (${code})` : message, { cause });
}
