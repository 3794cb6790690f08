import { describe, expect, it, vi } from 'vitest';
import { WharfError } from '../errors.js';
import { mongoStorageError, sqliteStorageError, translateStoreErrors } from './storage-errors.js';

const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

class FakeStore {
  readonly kind = 'sqlite';
  private readonly rows = ['a'];
  calls = 0;
  async write(): Promise<void> {
    this.calls += 1;
    throw full;
  }
  throwsAtOnce(): void {
    throw full;
  }
  async read(): Promise<string[]> {
    return this.rows;
  }
  async other(): Promise<void> {
    throw new Error('disk on fire');
  }
}

describe('translateStoreErrors', () => {
  it("turns the driver's full-disk error into storage_full from every method, whether it rejects or throws, and leaves others alone", async () => {
    const store = translateStoreErrors(new FakeStore(), sqliteStorageError);
    await expect(store.write()).rejects.toMatchObject({ code: 'storage_full', message: expect.stringMatching(/^master storage full/) });
    expect(() => store.throwsAtOnce()).toThrow(WharfError);
    await expect(store.other()).rejects.toThrow('disk on fire');
    expect(await store.read()).toEqual(['a']); // private fields work: methods run on the store itself
    expect(store.kind).toBe('sqlite');
    expect(store.calls).toBe(1);
  });

  it('wraps a method replaced after the first call (a test spy) instead of calling the old one', async () => {
    const store = translateStoreErrors(new FakeStore(), sqliteStorageError);
    await store.read();
    const spy = vi.spyOn(store, 'read').mockResolvedValue(['spied']);
    expect(await store.read()).toEqual(['spied']);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('what counts as a full disk', () => {
  it('SQLite: SQLITE_FULL only', () => {
    expect(WharfError.from(sqliteStorageError(full)).code).toBe('storage_full');
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(sqliteStorageError(busy)).toBe(busy);
  });

  it('MongoDB: OutOfDiskSpace (14031), or a write that says no space is left on the device', () => {
    expect(WharfError.from(mongoStorageError(Object.assign(new Error('x'), { code: 14031 }))).code).toBe('storage_full');
    expect(WharfError.from(mongoStorageError(Object.assign(new Error('x'), { codeName: 'OutOfDiskSpace' }))).code).toBe('storage_full');
    expect(WharfError.from(mongoStorageError(new Error('WiredTiger error: No space left on device'))).code).toBe('storage_full');
    const duplicate = Object.assign(new Error('E11000'), { code: 11000 });
    expect(mongoStorageError(duplicate)).toBe(duplicate);
  });

  it('a file write: ENOSPC and EDQUOT become storage_full at any edge (WharfError.from); other errors stay internal', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(WharfError.from(enospc)).toMatchObject({ code: 'storage_full', httpStatus: 507, message: expect.stringMatching(/^master storage full: a file write failed \(ENOSPC\)/) });
    expect(WharfError.from(Object.assign(new Error('quota'), { code: 'EDQUOT' })).code).toBe('storage_full');
    expect(WharfError.from(Object.assign(new Error('gone'), { code: 'ENOENT' })).code).toBe('internal');
  });
});
