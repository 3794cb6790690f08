// The transfer helpers against a small HTTP server on 127.0.0.1 (a stand-in for the object
// store; the real S3 path runs against s3rver in master/test/s3-worker-transfer.test.ts).
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache, ArtifactVerificationError } from './artifact-cache.js';
import { fetchFromUrl, redact, TransferError, uploadFileToUrl } from './presigned-transfer.js';

const dir = mkdtempSync(path.join(tmpdir(), 'wharf-transfer-test-'));
const stored = new Map<string, Buffer>();
const received: Array<{ url: string; contentLength: string | undefined; transferEncoding: string | undefined }> = [];
let base = '';
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const key = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'PUT') {
      received.push({ url: req.url ?? '', contentLength: req.headers['content-length'], transferEncoding: req.headers['transfer-encoding'] });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (key.includes('forbidden')) {
          res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
          return;
        }
        stored.set(key, Buffer.concat(chunks));
        res.writeHead(200).end();
      });
      return;
    }
    const body = stored.get(key);
    if (!body) res.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('presigned transfers', () => {
  it('uploads a file with its length and fills the cache from the URL, verified', async () => {
    const bytes = Buffer.from('x'.repeat(200_000));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(dir, 'out.bin');
    await writeFile(file, bytes);
    await uploadFileToUrl(`${base}/artifacts/${sha256}?X-Amz-Signature=secret`, file);
    expect(received.at(-1)).toMatchObject({ contentLength: String(bytes.length), transferEncoding: undefined });

    const cache = await ArtifactCache.open({ dataDir: path.join(dir, 'worker') });
    const lease = await cache.ensure({ sha256, size: bytes.length }, fetchFromUrl(`${base}/artifacts/${sha256}?X-Amz-Signature=secret`));
    expect(lease.hit).toBe(false);
    expect(lease.bytes).toBe(bytes.length);
    lease.release();
    await cache.close();
  });

  it('fails a fill from a URL that serves other bytes or an error, keeping nothing', async () => {
    stored.set('/artifacts/wrong', Buffer.from('not it'));
    const cache = await ArtifactCache.open({ dataDir: path.join(dir, 'worker2') });
    const expected = { sha256: createHash('sha256').update('it').digest('hex'), size: 6 };
    await expect(cache.ensure(expected, fetchFromUrl(`${base}/artifacts/wrong`))).rejects.toBeInstanceOf(ArtifactVerificationError);
    const missing = await cache.ensure(expected, fetchFromUrl(`${base}/artifacts/missing?X-Amz-Signature=secret`)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TransferError);
    expect((missing as TransferError).status).toBe(404);
    expect((missing as Error).message).not.toContain('secret');
    expect(cache.stats().entries).toBe(0);
    await cache.close();
  });

  it('reports a refused upload with its status, without the signature', async () => {
    const file = path.join(dir, 'small.txt');
    await writeFile(file, 'abc');
    const error = await uploadFileToUrl(`${base}/forbidden/x?X-Amz-Signature=secret`, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as TransferError).status).toBe(403);
    expect((error as Error).message).toContain('AccessDenied');
    expect((error as Error).message).not.toContain('secret');
    expect(redact('http://h:1/b/k?X-Amz-Signature=s')).toBe('http://h:1/b/k');
  });
});
