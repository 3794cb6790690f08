import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { storageFull } from '../errors.js';
import { StorageAlarm, watchStorage } from './storage-alarm.js';
import type { Store } from './store.js';

function capture(): { logger: pino.Logger; lines: () => { level: number; msg: string; [key: string]: unknown }[] } {
  const kept: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void kept.push(line) });
  return { logger, lines: () => kept.map((line) => JSON.parse(line) as { level: number; msg: string }) };
}

/** A fake store whose writes fail while `full` is set. */
function fakeStore(state: { full: boolean }) {
  const fail = () => Promise.reject(storageFull('the database cannot grow (SQLITE_FULL)'));
  return {
    kind: 'sqlite' as const,
    commit: async () => (state.full ? fail() : true),
    saveWorker: async () => (state.full ? fail() : undefined),
    getTask: async () => undefined,
    listTasks: async () => ({ tasks: [] }),
  } as unknown as Store;
}

describe('StorageAlarm', () => {
  it('says a full disk once per episode, counts the writes refused meanwhile, and says once when writes go through again', async () => {
    const { logger, lines } = capture();
    let now = 1000;
    const alarm = new StorageAlarm(logger, () => now);
    const state = { full: true };
    const store = watchStorage(fakeStore(state), alarm);
    for (let i = 0; i < 5; i += 1) await expect(store.commit([])).rejects.toMatchObject({ code: 'storage_full' });
    await expect(store.saveWorker({} as never)).rejects.toMatchObject({ code: 'storage_full' });
    expect(alarm.full).toBe(true);
    // reads succeed on a full disk: they do not end the episode
    await store.getTask('t');
    await store.listTasks({ limit: 1 });
    expect(alarm.full).toBe(true);
    state.full = false;
    now = 4000;
    expect(await store.commit([])).toBe(true);
    expect(alarm.full).toBe(false);
    await store.commit([]);

    const said = lines().map((line) => ({ level: line.level, msg: line.msg, operation: line.operation, refusedWrites: line.refusedWrites, fullForMs: line.fullForMs }));
    expect(said).toEqual([
      { level: 50, msg: expect.stringMatching(/^master storage full: the database cannot grow \(SQLITE_FULL\).*writes are refused until there is room again$/), operation: 'commit', refusedWrites: undefined, fullForMs: undefined },
      { level: 30, msg: 'master storage has room again: writes go through', operation: undefined, refusedWrites: 6, fullForMs: 3000 },
    ]);
  });

  it('ignores failures that are not a full disk', () => {
    const { logger, lines } = capture();
    const alarm = new StorageAlarm(logger);
    expect(alarm.failed(new Error('boom'))).toBe(false);
    expect(alarm.full).toBe(false);
    expect(lines()).toEqual([]);
  });
});
