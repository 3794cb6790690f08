import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WharfError } from '../errors.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { mockTask } from '../store/store.conformance.js';
import { commitGroups } from '../store/store.js';
import { fenceCommits } from './fenced-store.js';

const dir = mkdtempSync(join(tmpdir(), 'wharf-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fenceCommits', () => {
  it('adds the epoch to every commit and commitMany; a standby cannot commit; a refused epoch is reported once per refusal', async () => {
    const raw = new SqliteStore(join(dir, 'wharf.db'));
    let epoch: number | undefined;
    const refusals: WharfError[] = [];
    const store = fenceCommits(raw, { leaseName: 'master', epoch: () => epoch, refused: (error) => refusals.push(error) });
    // a standby: nothing is written, and it is not a lost lease
    await expect(store.commit([{ kind: 'insertTask', task: mockTask() }])).rejects.toMatchObject({ code: 'not_leader' });
    expect(refusals).toHaveLength(0);

    const claim = { name: 'master', httpUrl: 'http://x', hostname: 'h', ttlMs: 1000 };
    epoch = (await raw.acquireLease({ ...claim, holder: 'me', address: 'me:1', now: 1000 })).lease.epoch;
    const task = mockTask();
    expect(await store.commit([{ kind: 'insertTask', task }])).toBe(true);
    expect(await commitGroups(store, [[{ kind: 'insertTask', task: mockTask() }], [{ kind: 'updateTask', taskId: task.id, expectStatus: ['running'], patch: { status: 'failed' } }]])).toEqual([true, false]);
    expect(await store.getTask(task.id)).toEqual(task);

    // another master takes over: this one's next commits are refused and reported
    await raw.acquireLease({ ...claim, holder: 'other', address: 'other:1', now: 5000 });
    const late = mockTask();
    await expect(store.commit([{ kind: 'insertTask', task: late }])).rejects.toMatchObject({ code: 'not_leader' });
    await expect(commitGroups(store, [[{ kind: 'insertTask', task: late }]])).rejects.toMatchObject({ code: 'not_leader' });
    expect(refusals).toHaveLength(2);
    expect(await raw.getTask(late.id)).toBeUndefined();
    await store.close();
  });

  it("fences the garbage collector's deletes: a standby deletes nothing, a deposed leader is refused and told", async () => {
    const raw = new SqliteStore(join(dir, 'gc.db'));
    let epoch: number | undefined;
    const refusals: WharfError[] = [];
    const store = fenceCommits(raw, { leaseName: 'master', epoch: () => epoch, refused: (error) => refusals.push(error) });
    const done = mockTask({ status: 'succeeded', finishedAt: 10 });
    await raw.commit([{ kind: 'insertTask', task: done }]);
    await expect(store.deleteFinishedTasks([done.id])).rejects.toMatchObject({ code: 'not_leader' });
    await expect(store.deleteFinishedDags(['run'])).rejects.toMatchObject({ code: 'not_leader' });
    expect(await raw.getTask(done.id)).toBeDefined();
    expect(refusals).toHaveLength(0);

    const claim = { name: 'master', httpUrl: 'http://x', hostname: 'h', ttlMs: 1000 };
    epoch = (await raw.acquireLease({ ...claim, holder: 'me', address: 'me:1', now: 1000 })).lease.epoch;
    await raw.acquireLease({ ...claim, holder: 'other', address: 'other:1', now: 5000 });
    await expect(store.deleteFinishedTasks([done.id])).rejects.toMatchObject({ code: 'not_leader' });
    expect(refusals).toHaveLength(1);
    expect(await raw.getTask(done.id)).toBeDefined();

    // the leader at its epoch deletes
    epoch = (await raw.readLease('master'))!.epoch;
    expect((await store.deleteFinishedTasks([done.id])).tasks).toBe(1);
    expect(await raw.getTask(done.id)).toBeUndefined();
    await store.close();
  });
});
