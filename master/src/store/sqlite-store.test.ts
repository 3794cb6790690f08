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
