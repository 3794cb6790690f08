// A worker's history and recent tasks over REST, on a real master (SQLite, gRPC on loopback)
// with a real exec worker: joined, drained, activated, disconnected and lost (its stream closed,
// then no heartbeat within the TTL), removed — each stored as it happened and still readable
// after the worker is gone — and the tasks it ran, a user seeing only their own.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, waitFor } from './support/cluster.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

interface History {
  events: { at: string; kind: string; detail: string | null }[];
  recentTasks: { taskId: string; name: string; taskStatus: string; attempt: number; attemptStatus: string; startedAt: string | null; finishedAt: string | null }[];
}

describe('worker history (exec runtime)', () => {
  it('stores joined, drained, activated, disconnected, lost and removed, lists the worker\'s recent tasks, and keeps both after removal', async () => {
    const master = await startTestMaster({});
    cleanups.push(() => master.stop());
    const worker = await startTestWorker(master, { name: 'hist-1', runtimes: ['exec'] });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : worker.stop()));
    const admin = await ApiClient.admin(master.httpUrl);
    const id = worker.workerId;
    const history = async (client = admin, limit = 50) => {
      const response = await client.request<History>('GET', `/api/workers/${id}/history?limit=${limit}`);
      expect(response.status, response.text).toBe(200);
      return response.body;
    };

    const submitted = await admin.request<{ task: { id: string } }>('POST', '/api/tasks', { name: 'on-hist', runtime: 'exec', command: ['true'] });
    expect(submitted.status, submitted.text).toBe(201);
    const taskId = submitted.body.task.id;
    await waitFor('task succeeded', async () => {
      const got = await admin.request<{ task: { status: string } }>('GET', `/api/tasks/${taskId}`);
      return got.body.task.status === 'succeeded' ? true : undefined;
    }, 30_000, 100);

    expect((await admin.request('POST', `/api/workers/${id}/drain`)).status).toBe(202);
    expect((await admin.request('POST', `/api/workers/${id}/drain`)).status).toBe(202); // no change: not recorded again
    expect((await admin.request('POST', `/api/workers/${id}/activate`)).status).toBe(202);

    let now = await history();
    expect(now.events.map((e) => e.kind)).toEqual(['activated', 'drained', 'joined']);
    expect(now.recentTasks).toEqual([expect.objectContaining({ taskId, name: 'on-hist', taskStatus: 'succeeded', attempt: 1, attemptStatus: 'succeeded' })]);
    expect(now.recentTasks[0]!.startedAt).not.toBeNull();

    // another user sees the worker's history but not the admin's task
    const someone = await ApiClient.registered(master.httpUrl, 'someone@example.com');
    const theirs = await history(someone);
    expect(theirs.events.map((e) => e.kind)).toEqual(['activated', 'drained', 'joined']);
    expect(theirs.recentTasks).toEqual([]);

    // the worker goes away: its stream closes, then it is lost once its heartbeats stop
    await worker.stop();
    stopped = true;
    now = await waitFor('worker lost', async () => {
      const h = await history();
      return h.events[0]?.kind === 'lost' ? h : undefined;
    }, 20_000, 150);
    expect(now.events.map((e) => e.kind)).toEqual(['lost', 'disconnected', 'activated', 'drained', 'joined']);
    expect(now.events[0]!.detail).toBeTruthy();
    for (let i = 1; i < now.events.length; i += 1) expect(Date.parse(now.events[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(now.events[i]!.at));

    // removed: no longer a worker, but its history stays
    const removed = await admin.request('DELETE', `/api/workers/${id}`);
    expect(removed.status, removed.text).toBe(200);
    expect((await admin.request('GET', `/api/workers/${id}`)).status).toBe(404);
    now = await history();
    expect(now.events.map((e) => e.kind)).toEqual(['removed', 'lost', 'disconnected', 'activated', 'drained', 'joined']);
    expect(now.recentTasks.map((t) => t.taskId)).toEqual([taskId]);
    expect((await history(admin, 2)).events.map((e) => e.kind)).toEqual(['removed', 'lost']);

    expect((await admin.request('GET', '/api/workers/never-heard-of/history')).status).toBe(404);
    expect((await admin.request('GET', `/api/workers/${id}/history?limit=0`)).status).toBe(400);
  });
});
