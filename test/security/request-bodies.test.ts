// Probe (issue 14): request bodies are limited by the bytes actually read, whatever the transfer
// encoding. A DAG file sent chunked (no Content-Length to check) or gzip-encoded was accepted
// past its documented 1 MiB limit; now every such body answers 413 with the limit named.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { removeTempDirs, startTestMaster } from '../support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
let master: Master;
let user: ApiClient;

beforeAll(async () => {
  master = await startTestMaster();
  user = await ApiClient.registered(master.httpUrl, `bodies-${Math.random().toString(36).slice(2)}@example.com`);
});
afterAll(async () => {
  await master?.stop();
  await removeTempDirs();
});

const MiB = 1024 * 1024;

/**
 * Sends `body` in 64 KiB chunks with `Transfer-Encoding: chunked` (no Content-Length), as a
 * client streaming a request would, and answers the status and JSON body. The server may answer
 * before it has read everything; the rest of the upload is then dropped.
 */
function sendChunked(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, master.httpUrl);
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, authorization: `Bearer ${user.token}`, 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? (JSON.parse(text) as { error?: { code: string; message: string } }) : {} }));
      },
    );
    req.on('error', (error) => reject(error));
    let offset = 0;
    const writeMore = (): void => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 64 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
}

/** A valid DAG file padded to about `size` bytes (YAML comments, or a long JSON string field). */
function yamlDag(size: number): Buffer {
  const head = `name: padded\ntasks:\n  - name: only\n    image: wharf/busybox\n    command: "true"\n`;
  const line = `# ${'x'.repeat(1021)}\n`;
  return Buffer.from(head + line.repeat(Math.ceil((size - head.length) / line.length)));
}
function jsonDag(size: number): Buffer {
  return Buffer.from(JSON.stringify({ name: 'padded', tasks: [{ name: 'only', image: 'wharf/busybox', command: 'true', env: { PAD: 'x'.repeat(size) } }] }));
}

describe('request bodies are limited whatever their transfer encoding', () => {
  it('refuses a 5 MiB DAG file in JSON sent chunked with 413 naming the 1 MiB limit', async () => {
    const answer = await sendChunked('/api/dags', { 'content-type': 'application/json' }, jsonDag(5 * MiB));
    expect(answer.status).toBe(413);
    expect(answer.json.error).toEqual({ code: 'payload_too_large', message: `body: larger than the limit of ${MiB} bytes` });
  });

  it('refuses a 5 MiB DAG file in YAML sent chunked with 413', async () => {
    const answer = await sendChunked('/api/dags', { 'content-type': 'application/yaml' }, yamlDag(5 * MiB));
    expect(answer.status).toBe(413);
    expect(answer.json.error?.code).toBe('payload_too_large');
  });

  it('counts a gzip-encoded DAG file by its inflated size (5 MiB that compress to a few KiB)', async () => {
    const packed = gzipSync(jsonDag(5 * MiB));
    expect(packed.length).toBeLessThan(64 * 1024);
    const answer = await sendChunked('/api/dags', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, packed);
    expect(answer.status).toBe(413);
    expect(answer.json.error?.code).toBe('payload_too_large');
  });

  it('still takes a DAG file under the limit sent chunked', async () => {
    const answer = await sendChunked('/api/dags', { 'content-type': 'application/yaml' }, yamlDag(900 * 1024));
    expect(answer.status, JSON.stringify(answer.json)).toBe(201);
  });

  it('refuses a 17 MiB task batch sent chunked with 413 (the general 16 MiB limit)', async () => {
    const task = { image: 'wharf/busybox', command: 'true', env: { PAD: 'y'.repeat(60 * 1024) } };
    const body = Buffer.from(JSON.stringify({ tasks: Array.from({ length: 290 }, () => task) }));
    expect(body.length).toBeGreaterThan(17 * MiB);
    const answer = await sendChunked('/api/tasks/batch', { 'content-type': 'application/json' }, body);
    expect(answer.status).toBe(413);
    expect(answer.json.error).toEqual({ code: 'payload_too_large', message: `body: larger than the limit of ${16 * MiB} bytes` });
  });
});
