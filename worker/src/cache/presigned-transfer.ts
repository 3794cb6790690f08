// Moving artifact bytes directly between the worker and an object store (S3/MinIO) with
// presigned URLs the master hands out, so the bytes never pass through the master.
//   fetchFromUrl(url)            an ArtifactFetcher for ArtifactCache.ensure()/stage()
//   uploadFileToUrl(url, file)   a presigned PUT of one output file, with Content-Length
//                                (S3 refuses chunked PUTs without a length)
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactFetcher } from './artifact-cache.js';

/** The object store answered with an error status; the message carries it. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** GETs the URL and streams the body into the cache's verifying sink. */
export function fetchFromUrl(url: string, options: { timeoutMs?: number } = {}): ArtifactFetcher {
  return async (sink: Writable) => {
    const signal = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const response = await fetch(url, signal ? { signal } : {});
    if (!response.ok || !response.body) {
      const detail = (await response.text().catch(() => '')).slice(0, 300);
      throw new TransferError(`artifact download failed: HTTP ${response.status} from ${redact(url)}${detail ? `: ${detail}` : ''}`, response.status);
    }
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), sink);
  };
}

/** PUTs a file to a presigned URL; resolves when the store answered 2xx. */
export async function uploadFileToUrl(url: string, filePath: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const { size } = await stat(filePath);
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  await new Promise<void>((resolve, reject) => {
    const request = transport.request(
      target,
      { method: 'PUT', headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' }, timeout: options.timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (chunks.length < 16) chunks.push(chunk);
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else {
            const detail = Buffer.concat(chunks).toString('utf8').slice(0, 300);
            reject(new TransferError(`artifact upload failed: HTTP ${status} from ${redact(url)}${detail ? `: ${detail}` : ''}`, status));
          }
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new TransferError(`artifact upload to ${redact(url)} timed out`)));
    request.on('error', reject);
    createReadStream(filePath).on('error', (error) => request.destroy(error)).pipe(request);
  });
}

/** A presigned URL is a credential: log it without its query string. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
