import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageFull, WharfError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { errorHandler, STORAGE_FULL_RETRY_AFTER_SECONDS } from './errors-middleware.js';
import { handle } from './handle.js';

let server: ReturnType<ReturnType<typeof express>['listen']>;
let base: string;

beforeAll(async () => {
  const app = express();
  const full = handle(() => {
    throw storageFull('the database cannot grow (SQLITE_FULL)');
  });
  app.post('/things', full);
  app.delete('/things/1', full);
  app.post('/limited', handle(() => {
    throw new WharfError('rate_limited', 'too many', { details: { retryAfterSeconds: 7 } });
  }));
  app.use(errorHandler(silentLogger()));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

describe('a full master storage over HTTP', () => {
  it('answers a POST (something new to keep) 507 with storage_full and the message', async () => {
    const response = await fetch(`${base}/things`, { method: 'POST' });
    expect(response.status).toBe(507);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(await response.json()).toEqual({
      error: { code: 'storage_full', message: "master storage full: the database cannot grow (SQLITE_FULL); free space in the master's data dir" },
    });
  });

  it('answers a change to what exists (DELETE) 503 with Retry-After, still naming it', async () => {
    const response = await fetch(`${base}/things/1`, { method: 'DELETE' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe(String(STORAGE_FULL_RETRY_AFTER_SECONDS));
    expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'storage_full', message: expect.stringMatching(/^master storage full/) });
  });

  it('keeps the Retry-After of other errors', async () => {
    const response = await fetch(`${base}/limited`, { method: 'POST' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });
});
