import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { MasterMetrics } from './master-metrics.js';
import { timeStoreOperations } from './timed-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('timeStoreOperations', () => {
  it('times each store operation on a real SQLite store and answers what the store answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-timed-store-'));
    dirs.push(dir);
    const seen: { operation: string; ok: boolean; seconds: number }[] = [];
    const store = timeStoreOperations(new SqliteStore(join(dir, 'wharf.db')), (operation, seconds, ok) => seen.push({ operation, seconds, ok }));
    expect(store.kind).toBe('sqlite');
    expect(await store.countUsers()).toBe(0);
    await store.insertUser({ id: 'u1', email: 'ada@example.com', name: 'Ada', role: 'user', createdAt: 1, passwordHash: 'x' });
    await expect(
      store.insertUser({ id: 'u2', email: 'ada@example.com', name: 'Ada', role: 'user', createdAt: 1, passwordHash: 'x' }),
    ).rejects.toThrow();
    expect(await store.countUsers()).toBe(1);
    await store.close();
    expect(seen.map((s) => [s.operation, s.ok])).toEqual([
      ['countUsers', true],
      ['insertUser', true],
      ['insertUser', false],
      ['countUsers', true],
      ['close', true],
    ]);
    expect(seen.every((s) => s.seconds >= 0 && s.seconds < 5)).toBe(true);
  });

  it('feeds wharf_store_operation_seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-timed-store-'));
    dirs.push(dir);
    const metrics = new MasterMetrics();
    const store = timeStoreOperations(new SqliteStore(join(dir, 'wharf.db')), (op, s, ok) => metrics.observeStoreOperation(op, s, ok));
    await store.listWorkers();
    await store.listWorkers();
    await store.close();
    const text = await metrics.render();
    expect(text).toMatch(/^wharf_store_operation_seconds_count\{operation="listWorkers",result="ok"\} 2$/m);
    metrics.close();
  });
});
