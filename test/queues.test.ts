// Queues and user limits over REST against a real master (SQLite, loopback HTTP): admins create,
// change and delete queues; users read them and submit into them; bad input is a 400 naming the
// field; a task waiting on a queue cap says which; a queue holding tasks cannot be deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, waitFor } from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

interface QueueBody {
  name: string;
  maxConcurrency: number | null;
  maxCpu: number | null;
  maxMemory: number | null;
  defaultPriority: number;
  preemptionPolicy: string;
  strategy: string;
  workerSelector: Record<string, string>;
  constraints: unknown[];
  usage: { queued: number; running: number };
  users: { userId: string; user: string; queued: number; running: number; share: number; weight: number }[];
}
interface TaskBody {
  id: string;
  queue: string;
  priority: number;
  status: string;
  reason?: string;
  queuePosition?: number;
}

describe('queues over REST on a real master', () => {
  let master: Master;
  let admin: ApiClient;
  let ada: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster();
    admin = await ApiClient.admin(master.httpUrl);
    ada = await ApiClient.registered(master.httpUrl, 'ada-queues@example.com');
  });
  afterAll(async () => {
    await master?.stop();
    await removeTempDirs();
  });

  it('has a default queue that every task lands in and that cannot be deleted', async () => {
    const list = await ada.request<{ queues: QueueBody[] }>('GET', '/api/queues');
    expect(list.status).toBe(200);
    expect(list.body.queues.map((q) => q.name)).toContain('default');
    const submitted = await ada.request<{ task: TaskBody }>('POST', '/api/tasks', { image: 'wharf/busybox:latest', command: 'true' });
    expect(submitted.status, submitted.text).toBe(201);
    expect(submitted.body.task).toMatchObject({ queue: 'default', priority: 50 });
    const refused = await admin.request<{ error: { code: string; message: string } }>('DELETE', '/api/queues/default');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/default always exists/);
  });

  it('lets only admins create, change and delete queues, with 400s naming the field', async () => {
    const forbidden = await ada.request('POST', '/api/queues', { name: 'mine' });
    expect(forbidden.status).toBe(403);
    for (const [body, field] of [
      [{ name: 'Bad Name' }, /^name: /],
      [{ name: 'x', strategy: 'random' }, /^strategy: /],
      [{ name: 'x', preemptionPolicy: 'Always' }, /^preemptionPolicy: /],
      [{ name: 'x', maxCpu: 'lots' }, /^maxCpu: /],
      [{ name: 'x', constraints: [{ key: 'zone', op: 'in' }] }, /^constraints\.0\.values: /],
      [{ name: 'x', extra: 1 }, /unknown field "extra"/],
    ] as const) {
      const response = await admin.request<{ error: { code: string; message: string } }>('POST', '/api/queues', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.message).toMatch(field);
    }
    const created = await admin.request<{ queue: QueueBody }>('POST', '/api/queues', {
      name: 'gpu-train',
      maxConcurrency: 0,
      maxCpu: '8',
      maxMemory: '64Gi',
      defaultPriority: 70,
      preemptionPolicy: 'PreemptLowerPriority',
      strategy: 'binpack',
      workerSelector: { pool: 'gpu' },
      constraints: [{ key: 'zone', op: 'notIn', values: ['c'] }],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.queue).toMatchObject({ name: 'gpu-train', maxConcurrency: 0, maxCpu: 8, maxMemory: 64 * 1024 ** 3, defaultPriority: 70, strategy: 'binpack' });
    expect((await admin.request('POST', '/api/queues', { name: 'gpu-train' })).status).toBe(409);
    expect((await ada.request('PATCH', '/api/queues/gpu-train', { maxConcurrency: 1 })).status).toBe(403);
    const patched = await admin.request<{ queue: QueueBody }>('PATCH', '/api/queues/gpu-train', { maxCpu: null, strategy: 'spread' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.queue).toMatchObject({ maxCpu: null, strategy: 'spread', maxConcurrency: 0 });
    expect((await admin.request('GET', '/api/queues/nope')).status).toBe(404);
  });

  it('holds a task on its queue cap with the reason, and refuses to delete a queue that holds tasks', async () => {
    await admin.request('POST', '/api/queues', { name: 'held', maxConcurrency: 0, defaultPriority: 20 });
    const submitted = await ada.request<{ task: TaskBody }>('POST', '/api/tasks', { image: 'wharf/busybox:latest', command: 'true', queue: 'held' });
    expect(submitted.status, submitted.text).toBe(201);
    expect(submitted.body.task).toMatchObject({ queue: 'held', priority: 20 });
    const id = submitted.body.task.id;
    const waiting = await waitFor('the task to wait on the queue cap', async () => {
      const task = (await ada.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
      return task.reason === 'queue held: 0/0 running tasks' ? task : undefined;
    }, 10_000);
    expect(waiting.queuePosition).toBe(1);
    const queue = (await ada.request<{ queue: QueueBody }>('GET', '/api/queues/held')).body.queue;
    expect(queue.usage).toMatchObject({ queued: 1, running: 0 });
    // a user sees their own line only
    expect(queue.users.map((u) => u.user)).toEqual(['ada-queues@example.com']);
    // per-queue and per-user figures on /metrics (users by id)
    const metrics = await (await fetch(`${master.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wharf_queue_tasks\{queue="held",state="queued"\} 1$/m);
    expect(metrics).toMatch(/^wharf_queue_tasks\{queue="held",state="placed"\} 0$/m);
    expect(metrics).toContain(`wharf_queue_user_tasks{queue="held",user="${queue.users[0]!.userId}",state="queued"} 1`);
    expect(metrics).toContain(`wharf_queue_user_dominant_share{queue="held",user="${queue.users[0]!.userId}"} 0`);
    expect(metrics).not.toContain('ada-queues@example.com');
    const refused = await admin.request<{ error: { message: string } }>('DELETE', '/api/queues/held');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/holds 1 queued and 0 placed tasks/);
    expect((await ada.request('DELETE', `/api/tasks/${id}`)).status).toBe(202);
    const deleted = await admin.request<{ queue: QueueBody }>('DELETE', '/api/queues/held');
    expect(deleted.status, deleted.text).toBe(200);
    const unknown = await ada.request<{ error: { message: string } }>('POST', '/api/tasks', { image: 'wharf/busybox:latest', queue: 'held' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^queue: there is no queue "held"/);
  });

  it('sets user limits by email (admins only) and refuses pinning for users', async () => {
    expect((await ada.request('PUT', '/api/user-limits/ada-queues@example.com', { maxRunning: 2 })).status).toBe(403);
    const global = await admin.request<{ limit: { userId: string; queue: null; maxRunning: number; weight: number } }>('PUT', '/api/user-limits/ada-queues@example.com', { maxRunning: 2 });
    expect(global.status, global.text).toBe(200);
    expect(global.body.limit).toMatchObject({ queue: null, maxRunning: 2, weight: 1 });
    const inQueue = await admin.request<{ limit: { queue: string; weight: number } }>('PUT', '/api/queues/default/users/ada-queues@example.com', { weight: 3 });
    expect(inQueue.body.limit).toMatchObject({ queue: 'default', weight: 3 });
    expect((await admin.request('PUT', '/api/user-limits/nobody@example.com', { weight: 2 })).status).toBe(404);
    const bad = await admin.request<{ error: { message: string } }>('PUT', '/api/user-limits/ada-queues@example.com', { weight: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^weight: /);
    const limits = await admin.request<{ limits: unknown[] }>('GET', '/api/user-limits');
    expect(limits.body.limits).toHaveLength(2);
    expect((await admin.request('DELETE', '/api/user-limits/ada-queues@example.com')).status).toBe(204);
    expect((await admin.request('DELETE', '/api/user-limits/ada-queues@example.com')).status).toBe(404);
    const pinned = await ada.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', { image: 'wharf/busybox:latest', workerId: 'w1' });
    expect(pinned.status).toBe(403);
    expect(pinned.body.error.message).toMatch(/^workerId: /);
  });
});
