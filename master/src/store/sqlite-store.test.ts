import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';
import { describeStoreConformance, mockTask } from './store.conformance.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sqlite-'));
  dirs.push(dir);
  return join(dir, 'wharf.db');
}

describeStoreConformance('SqliteStore', async () => new SqliteStore(freshPath()));

describe('SqliteStore on disk', () => {
  it('keeps its state across a reopen', async () => {
    const path = freshPath();
    const first = new SqliteStore(path);
    const task = mockTask();
    await first.commit([{ kind: 'insertTask', task }]);
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.getTask(task.id)).toEqual(task);
    await second.close();
  });

  it('puts the tasks stored before queues existed in the default queue when it opens', async () => {
    const path = freshPath();
    const first = new SqliteStore(path);
    const { queue: _none, ...old } = mockTask();
    await first.commit([{ kind: 'insertTask', task: old as ReturnType<typeof mockTask> }]);
    // as a store from before queues left it: no queue in the stored document, the step not yet applied
    const raw = new Database(path);
    raw.prepare("UPDATE tasks SET data = json_remove(data, '$.queue')").run();
    raw.prepare('DELETE FROM applied_steps').run();
    raw.close();
    await first.close();
    const second = new SqliteStore(path);
    expect((await second.getTask(old.id))?.queue).toBe('default');
    expect(await second.listUnfinishedTasks()).toEqual([{ ...old, queue: 'default' }]);
    await second.close();
  });
});

describe('SqliteStore on a full disk', () => {
  it('answers storage_full naming the master storage when the database cannot grow, and works again once it can', async () => {
    const store = new SqliteStore(freshPath());
    // the database's own page limit stands in for a full disk: SQLite answers SQLITE_FULL either way
    const db = (store as unknown as { db: { pragma(sql: string, options?: { simple: boolean }): unknown } }).db;
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages}`);
    const big = mockTask({ env: { BLOB: 'x'.repeat(64 * 1024) } });
    const refused = await store.commit([{ kind: 'insertTask', task: big }]).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'storage_full', message: expect.stringMatching(/^master storage full: the database cannot grow \(SQLITE_FULL\)/) });
    await expect(store.saveWorker({ id: 'w', name: 'w', hostname: 'h', status: 'ready', runtimes: ['docker'], labels: { big: 'x'.repeat(64 * 1024) }, capacity: { cpu: 1, memory: 1, gpu: 0, disk: 0 }, version: 'v', registeredAt: 0, lastHeartbeatAt: 0 })).rejects.toMatchObject({ code: 'storage_full' });
    expect(await store.getTask(big.id)).toBeUndefined();
    db.pragma(`max_page_count = ${pages * 1000}`);
    expect(await store.commit([{ kind: 'insertTask', task: big }])).toBe(true);
    expect((await store.getTask(big.id))?.env).toEqual(big.env);
    await store.close();
  });
});

describe('SqliteStore: several masters on one file', () => {
  it('sees one lease from two connections, and fences the commits of the one that lost it', async () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    const claim = { name: 'master', httpUrl: 'http://x', hostname: 'h', ttlMs: 1000 };
    expect((await a.acquireLease({ ...claim, holder: 'a', address: 'a:1', now: 1000 })).acquired).toBe(true);
    expect((await b.acquireLease({ ...claim, holder: 'b', address: 'b:1', now: 1500 })).acquired).toBe(false);
    expect((await b.acquireLease({ ...claim, holder: 'b', address: 'b:1', now: 2000 })).lease.epoch).toBe(2);
    const task = mockTask();
    await expect(a.commit([{ kind: 'expectLeaseEpoch', name: 'master', epoch: 1 }, { kind: 'insertTask', task }])).rejects.toMatchObject({ code: 'not_leader' });
    expect(await b.commit([{ kind: 'expectLeaseEpoch', name: 'master', epoch: 2 }, { kind: 'insertTask', task }])).toBe(true);
    expect(await a.getTask(task.id)).toEqual(task);
    await a.close();
    await b.close();
  });
});
