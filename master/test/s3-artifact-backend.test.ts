// The S3 artifact backend against a real S3-protocol server (s3rver) on 127.0.0.1, through
// the real `minio` client: the conformance suite, the bucket created when missing, and the
// worker path — presigned PUT and GET URLs used with plain fetch(), moving bytes without the
// master.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WharfError } from '../src/errors.js';
import { describeArtifactBackendConformance, refOf } from '../src/artifacts/artifact-backend.conformance.js';
import { S3ArtifactBackend } from '../src/artifacts/s3-artifact-backend.js';
import { parseS3Config, type S3Config } from '../src/artifacts/s3-config.js';

// s3rver is CommonJS without type declarations: load it with require and name the little we use
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: { address: string; port: number; directory: string; silent: boolean }) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

const root = mkdtempSync(path.join(tmpdir(), 'wharf-s3-test-'));
let server: S3rverInstance;
let endpoint = '';
let bucketSeq = 0;

function configFor(bucket: string): S3Config {
  const { config, problems } = parseS3Config({
    WHARF_S3_ENDPOINT: endpoint,
    WHARF_S3_BUCKET: bucket,
    // s3rver's built-in account
    WHARF_S3_ACCESS_KEY: 'S3RVER',
    WHARF_S3_SECRET_KEY: 'S3RVER',
  });
  expect(problems).toEqual([]);
  return config!;
}

async function openBackend(bucket = `wharf-test-${++bucketSeq}`): Promise<S3ArtifactBackend> {
  const backend = new S3ArtifactBackend(configFor(bucket), path.join(root, 'staging', bucket));
  await backend.init();
  return backend;
}

beforeAll(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(root, 's3rver'), silent: true });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describeArtifactBackendConformance('s3 (s3rver on loopback)', () => openBackend());

describe('S3ArtifactBackend', () => {
  it('creates its bucket when missing and opens an existing one', async () => {
    const client = new Client({ endPoint: '127.0.0.1', port: Number(new URL(endpoint).port), useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', pathStyle: true });
    expect(await client.bucketExists('wharf-fresh')).toBe(false);
    const first = await openBackend('wharf-fresh');
    expect(await client.bucketExists('wharf-fresh')).toBe(true);
    const a = refOf('kept across backends');
    await first.put(a, Readable.from([a.bytes]));
    const second = await openBackend('wharf-fresh');
    expect(await second.stat(a.sha256)).toEqual({ sha256: a.sha256, size: a.size });
    // stored under artifacts/<sha256>
    expect((await client.statObject('wharf-fresh', `artifacts/${a.sha256}`)).size).toBe(a.size);
  });

  it('lets a worker upload with a presigned PUT and download with a presigned GET, bytes going straight to the store', async () => {
    const backend = await openBackend();
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const a = refOf(payload);
    expect(await backend.exists(a.sha256)).toBe(false);

    const putUrl = await backend.presignedPutUrl(a.sha256, 60);
    expect(new URL(putUrl).origin).toBe(endpoint);
    const put = await fetch(putUrl, { method: 'PUT', body: payload });
    expect(put.status).toBe(200);
    expect(await backend.confirmUpload(a)).toEqual({ sha256: a.sha256, size: a.size });
    expect(await backend.exists(a.sha256)).toBe(true);

    const getUrl = await backend.presignedGetUrl(a.sha256, 60);
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    const body = Buffer.from(await got.arrayBuffer());
    expect(body.length).toBe(a.size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(a.sha256);
  });

  it('signs URLs for the asked lifetime and refuses a lifetime S3 would not accept', async () => {
    const backend = await openBackend();
    const a = refOf('signed');
    await backend.put(a, Readable.from([a.bytes]));
    await expect(backend.presignedGetUrl(a.sha256, 0)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(backend.presignedPutUrl(a.sha256, 8 * 24 * 3600)).rejects.toMatchObject({ code: 'validation_failed' });
    const url = new URL(await backend.presignedGetUrl(a.sha256, 90));
    expect(url.pathname).toBe(`/${'wharf-test-'}${bucketSeq}/artifacts/${a.sha256}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('90');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[a-f0-9]{64}$/);
    // Not tested here: that the store refuses a tampered or expired URL. s3rver accepts any
    // SigV4 signature (its SigV4 check is unimplemented); MinIO and AWS do check.
  });

  it('removes an upload of the wrong size at confirmation and says nothing was uploaded when nothing was', async () => {
    const backend = await openBackend();
    const a = refOf('the announced artifact');
    await expect(backend.confirmUpload(a)).rejects.toMatchObject({ code: 'data_corrupted', message: expect.stringContaining('nothing was uploaded') });
    const put = await fetch(await backend.presignedPutUrl(a.sha256, 60), { method: 'PUT', body: Buffer.from('short') });
    expect(put.status).toBe(200);
    const error = await backend.confirmUpload(a).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WharfError);
    expect((error as WharfError).code).toBe('data_corrupted');
    expect(await backend.exists(a.sha256)).toBe(false);
  });

  it('answers unavailable, not a crash, when the store cannot be reached', async () => {
    const closed = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(root, 'gone'), silent: true });
    const port = (await closed.run()).port;
    await closed.close();
    const { config } = parseS3Config({ WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`, WHARF_S3_BUCKET: 'gone', WHARF_S3_ACCESS_KEY: 'S3RVER', WHARF_S3_SECRET_KEY: 'S3RVER' });
    const backend = new S3ArtifactBackend(config!, path.join(root, 'staging', 'gone'));
    await expect(backend.init()).rejects.toMatchObject({ code: 'unavailable' });
    await expect(backend.exists(refOf('x').sha256)).rejects.toMatchObject({ code: 'unavailable' });
  });
});
