import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { openStore, redactMongoUrl, StoreUnavailableError } from './open-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A loopback port with nothing listening on it (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

describe('openStore', () => {
  it('opens the embedded SQLite store in the data dir when no MongoDB URL is set', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wharf-open-store-'));
    dirs.push(dataDir);
    const store = await openStore({ dataDir, mongo: undefined }, silentLogger());
    expect(store.kind).toBe('sqlite');
    await store.close();
  });

  it('fails with a clear message, without the password and without falling back, when MongoDB is unreachable', async () => {
    const port = await closedPort();
    const url = `mongodb://wharf:hunter2-secret@127.0.0.1:${port}/?authSource=admin`;
    const started = Date.now();
    const error = await openStore(
      { dataDir: '/nonexistent/never-used', mongo: { url, database: 'wharf', startTimeoutMs: 1500 } },
      silentLogger(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot use MongoDB at mongodb://wharf:***@127.0.0.1:${port}/?authSource=admin (database "wharf")`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('does not fall back to SQLite');
    expect(message).not.toContain('hunter2');
    // the short start timeout applies, not the driver's 30 s default
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('redactMongoUrl', () => {
  it('hides passwords and keeps everything else', () => {
    expect(redactMongoUrl('mongodb://u:p%40ss@h1:27017,h2:27017/db?replicaSet=rs0')).toBe('mongodb://u:***@h1:27017,h2:27017/db?replicaSet=rs0');
    expect(redactMongoUrl('mongodb+srv://user:pw@cluster.example/')).toBe('mongodb+srv://user:***@cluster.example/');
    expect(redactMongoUrl('mongodb://127.0.0.1:27017')).toBe('mongodb://127.0.0.1:27017');
    expect(redactMongoUrl('mongodb://x509user@h/?authMechanism=MONGODB-X509&tlsCertificateKeyFilePassword=kp')).toBe(
      'mongodb://x509user@h/?authMechanism=MONGODB-X509&tlsCertificateKeyFilePassword=***',
    );
    expect(redactMongoUrl('http://u:p@h')).toBe('(not a mongodb:// URL)');
  });
});
