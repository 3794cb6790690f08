// The worker's side of the S3 artifact path, end to end on loopback with real parts: the
// master's S3ArtifactBackend (minio client) against s3rver hands out presigned URLs; the
// worker's uploadFileToUrl puts an output there and its ArtifactCache fills from a presigned
// GET — the bytes go between worker and store only — then serves the next need from disk.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache, ArtifactVerificationError } from '../../worker/src/cache/artifact-cache.js';
import { fetchFromUrl, uploadFileToUrl } from '../../worker/src/cache/presigned-transfer.js';
import { S3ArtifactBackend } from '../src/artifacts/s3-artifact-backend.js';
import { parseS3Config } from '../src/artifacts/s3-config.js';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: { address: string; port: number; directory: string; silent: boolean }) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

const root = mkdtempSync(path.join(tmpdir(), 'wharf-s3-worker-test-'));
let server: S3rverInstance;
let backend: S3ArtifactBackend;

beforeAll(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(root, 's3rver'), silent: true });
  const { port } = await server.run();
  const { config } = parseS3Config({
    WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    WHARF_S3_BUCKET: 'wharf-worker-path',
    WHARF_S3_ACCESS_KEY: 'S3RVER',
    WHARF_S3_SECRET_KEY: 'S3RVER',
  });
  backend = new S3ArtifactBackend(config!, path.join(root, 'master-staging'));
  await backend.init();
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('worker ⇄ S3 with presigned URLs', () => {
  it('uploads an output, confirms it, and serves it to a worker cache: a miss, then a hit', async () => {
    const bytes = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => (i * 7) % 256));
    const artifact = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    const output = path.join(root, 'producer', 'output', 'data.bin');
    await rm(path.dirname(output), { recursive: true, force: true });
    await mkdir(path.dirname(output), { recursive: true });
    await writeFile(output, bytes);

    // producer worker: the master says the artifact is not stored yet and hands out a PUT URL
    expect(await backend.exists(artifact.sha256)).toBe(false);
    await uploadFileToUrl(await backend.presignedPutUrl(artifact.sha256, 120), output);
    expect(await backend.confirmUpload(artifact)).toEqual(artifact);

    // consumer worker: stages the input through its cache from a presigned GET
    const cache = await ArtifactCache.open({ dataDir: path.join(root, 'consumer') });
    const getUrl = await backend.presignedGetUrl(artifact.sha256, 120);
    const first = await cache.stage({ artifact, dest: path.join(root, 'consumer', 'attempts', 'a1', 'input', 'data.bin'), fetch: fetchFromUrl(getUrl), useCache: true });
    expect(first).toMatchObject({ hit: false, bytes: artifact.size });
    expect((await readFile(first.path)).equals(bytes)).toBe(true);
    const second = await cache.stage({
      artifact,
      dest: path.join(root, 'consumer', 'attempts', 'a2', 'input', 'data.bin'),
      fetch: () => Promise.reject(new Error('a hit must not download')),
      useCache: true,
    });
    expect(second).toMatchObject({ hit: true, bytes: artifact.size });
    first.release();
    second.release();
    await cache.close();
  });

  it('a worker cache refuses an object whose bytes do not match its digest', async () => {
    // a producer that uploaded other bytes of the same size: the store cannot tell, the
    // master never sees the bytes, and the consumer's verification on fill catches it
    const good = Buffer.from('expected content');
    const bad = Buffer.from('tampered content');
    const artifact = { sha256: createHash('sha256').update(good).digest('hex'), size: good.length };
    const file = path.join(root, 'bad.bin');
    await writeFile(file, bad);
    await uploadFileToUrl(await backend.presignedPutUrl(artifact.sha256, 60), file);
    expect(await backend.confirmUpload(artifact)).toEqual(artifact);
    const cache = await ArtifactCache.open({ dataDir: path.join(root, 'consumer-2') });
    await expect(cache.ensure(artifact, fetchFromUrl(await backend.presignedGetUrl(artifact.sha256, 60)))).rejects.toBeInstanceOf(ArtifactVerificationError);
    expect(cache.has(artifact.sha256)).toBe(false);
    await cache.close();
  });
});
