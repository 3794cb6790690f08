// The task list's search over REST (issue 17 points 3 and 5): a real master with SQLite and a
// real Docker worker over loopback gRPC, tasks that really succeed, fail, time out and fail to
// pull their image, listed and counted through GET /api/tasks and /api/tasks/counts as a user's
// curl would; and the worker's name on tasks and attempts, kept after the worker is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

interface ListedTask extends Omit<TaskBody, 'attempts'> {
  name: string;
  workerName: string | null;
  userId: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  attemptCount: number;
  /** GET /api/tasks/:id only */
  attempts?: (TaskBody['attempts'][number] & { workerName: string | null })[];
}
interface TaskList {
  tasks: ListedTask[];
  nextCursor: string | null;
  total: number;
}
interface ErrorBody {
  error: { code: string; message: string };
}

const WORKER_NAME = `search-box-${Date.now().toString(36)}`;
const run = Date.now().toString(36);

let master: Master;
let worker: WorkerHandle | undefined;
let admin: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceEmail: string;
let workerId: string;
const ids: Record<string, string> = {};

async function submit(client: ApiClient, name: string, body: Record<string, unknown>): Promise<string> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', { name, image: TEST_IMAGE, resources: { cpu: 0.1, memory: '32Mi' }, ...body });
  expect(response.status, response.text).toBe(201);
  return response.body.task.id;
}

async function ended(id: string): Promise<ListedTask> {
  return waitFor(`task ${id} to end`, async () => {
    const response = await admin.request<{ task: ListedTask }>('GET', `/api/tasks/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(response.body.task.status) ? response.body.task : undefined;
  }, 90_000);
}

async function list(client: ApiClient, query: string): Promise<TaskList> {
  const response = await client.request<TaskList>('GET', `/api/tasks?${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** The names of the listed tasks of this run (other suites' tasks are not on this master, but be exact). */
const names = (page: TaskList) => page.tasks.map((t) => t.name);

beforeAll(async () => {
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: WORKER_NAME });
  admin = await ApiClient.admin(master.httpUrl);
  aliceEmail = `alice-${run}@example.com`;
  alice = await ApiClient.registered(master.httpUrl, aliceEmail);
  bob = await ApiClient.registered(master.httpUrl, `bob-${run}@example.com`);
  const workers = await admin.request<{ workers: { id: string; name: string }[] }>('GET', '/api/workers');
  workerId = workers.body.workers.find((w) => w.name === WORKER_NAME)!.id;

  ids.ok = await submit(alice, 'search-ok', { command: 'echo fine' });
  ids.exit3 = await submit(alice, 'search-exit3', { command: 'echo broken >&2; exit 3' });
  ids.slow = await submit(alice, 'search-slow', { command: 'sleep 30', timeoutSeconds: 1 });
  ids.pull = await submit(alice, 'search-pull', { image: '127.0.0.1:9/wharf/not-there:never', pullPolicy: 'Always' });
  ids.bob = await submit(bob, 'search-bob', { command: 'echo bob' });
  for (const id of Object.values(ids)) await ended(id);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await master?.stop();
  await removeTempDirs();
});

describe('GET /api/tasks: filters, sort, total', () => {
  it('lists by a comma list of statuses, by worker id or name, by image and by a part of the name; filters are ANDed and total counts every match', async () => {
    const failed = await list(alice, 'status=failed');
    expect(names(failed).sort()).toEqual(['search-exit3', 'search-pull', 'search-slow']);
    expect(failed.total).toBe(3);
    const done = await list(alice, 'status=failed,succeeded&limit=2');
    expect(done.tasks).toHaveLength(2);
    expect(done.total).toBe(4);
    expect(done.nextCursor).not.toBeNull();

    const byName = await list(alice, `worker=${encodeURIComponent(WORKER_NAME)}`);
    const byId = await list(alice, `worker=${workerId}`);
    // the pull failure never started a container but was placed on the worker too
    expect(names(byName).sort()).toEqual(['search-exit3', 'search-ok', 'search-pull', 'search-slow']);
    expect(names(byId)).toEqual(names(byName));
    expect((await list(alice, 'worker=no-such-worker')).total).toBe(0);

    expect(names(await list(alice, `image=${encodeURIComponent(TEST_IMAGE)}&status=failed`)).sort()).toEqual(['search-exit3', 'search-slow']);
    expect(names(await list(alice, 'name=EXIT'))).toEqual(['search-exit3']);
    expect(names(await list(alice, 'name=search&status=succeeded&queue=default'))).toEqual(['search-ok']);
    expect((await list(alice, 'queue=no-such-queue')).total).toBe(0);
  });

  it('bounds createdAt with since/until as ISO times or durations back from now', async () => {
    expect((await list(alice, 'since=1h')).total).toBe(4);
    expect((await list(alice, 'until=1h')).total).toBe(0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await list(alice, `since=${encodeURIComponent(future)}`)).total).toBe(0);
    expect((await list(alice, `until=${encodeURIComponent(future)}`)).total).toBe(4);
  });

  it('sorts by duration, longest first: the timed-out task ran longest', async () => {
    const page = await list(alice, 'sort=-duration&status=failed,succeeded');
    expect(page.tasks[0]?.name).toBe('search-slow');
    const durations = page.tasks.map((t) => (t.finishedAt && t.startedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : 0));
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
  });

  it('shows a user only their own tasks; an admin filters by user id or email; a user naming another is refused', async () => {
    expect(names(await list(bob, ''))).toEqual(['search-bob']);
    const everyone = await list(admin, 'name=search-');
    expect(everyone.total).toBe(5);
    const aliceId = everyone.tasks.find((t) => t.name === 'search-ok')!.userId;
    expect((await list(admin, `user=${encodeURIComponent(aliceEmail.toUpperCase())}`)).total).toBe(4);
    expect((await list(admin, `user=${aliceId}`)).total).toBe(4);
    expect((await list(alice, `user=${encodeURIComponent(aliceEmail)}`)).total).toBe(4);
    const refused = await bob.request<ErrorBody>('GET', `/api/tasks?user=${encodeURIComponent(aliceEmail)}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/^user: /);
    const unknown = await admin.request<ErrorBody>('GET', '/api/tasks?user=nobody%40example.com');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^user: /);
  });

  it('answers 400 naming the field for a bad status, sort, time, limit, cursor or an unknown parameter', async () => {
    const cases: [string, RegExp][] = [
      ['status=failed,bogus', /status: .*"bogus"/],
      ['status=', /status/],
      ['sort=size', /sort: /],
      ['since=yesterday', /since: /],
      ['until=5 parsecs', /until: /],
      ['limit=501', /limit: /],
      ['cursor=garbage', /cursor: /],
      ['wroker=x', /wroker/],
      ['name=', /name: /],
    ];
    for (const [query, message] of cases) {
      const response = await alice.request<ErrorBody>('GET', `/api/tasks?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code, query).toBe('validation_failed');
      expect(response.body.error.message, query).toMatch(message);
    }
    // a cursor of one sort is refused under another
    const first = await list(alice, 'sort=-duration&limit=1');
    const mixed = await alice.request<ErrorBody>('GET', `/api/tasks?limit=1&cursor=${first.nextCursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.message).toMatch(/^cursor: /);
  });

  it('pages in a stable order while tasks are added: no task is repeated or skipped', async () => {
    const first = await list(alice, 'name=search-&limit=2');
    expect(first.total).toBe(4);
    await submit(alice, 'search-late-1', { command: 'true' });
    await submit(alice, 'search-late-2', { command: 'true' });
    const second = await list(alice, `name=search-&limit=2&cursor=${first.nextCursor}`);
    expect(second.nextCursor).toBeNull();
    const seen = [...names(first), ...names(second)];
    expect(seen.sort()).toEqual(['search-exit3', 'search-ok', 'search-pull', 'search-slow']);
    // the newer tasks are on a fresh first page, and counted
    const fresh = await list(alice, 'name=search-');
    expect(fresh.total).toBe(6);
    expect(names(fresh).slice(0, 2).sort()).toEqual(['search-late-1', 'search-late-2']);
  });
});

describe('GET /api/tasks/counts', () => {
  it('counts per status with the same filters, the caller\'s tasks only (everyone\'s for an admin)', async () => {
    const response = await alice.request<{ counts: Record<string, number>; total: number }>('GET', '/api/tasks/counts?name=search-&until=' + encodeURIComponent(new Date().toISOString()));
    expect(response.status, response.text).toBe(200);
    expect(response.body.counts.failed).toBe(3);
    expect(Object.keys(response.body.counts).sort()).toEqual(['assigned', 'cancelled', 'failed', 'queued', 'running', 'succeeded']);
    expect(response.body.total).toBe(Object.values(response.body.counts).reduce((a, b) => a + b, 0));
    const bobs = await bob.request<{ counts: Record<string, number>; total: number }>('GET', '/api/tasks/counts');
    expect(bobs.body).toEqual({ counts: { queued: 0, assigned: 0, running: 0, succeeded: 1, failed: 0, cancelled: 0 }, total: 1 });
    const byWorker = await admin.request<{ counts: Record<string, number> }>('GET', `/api/tasks/counts?worker=${encodeURIComponent(WORKER_NAME)}&status=failed`);
    expect(byWorker.body.counts).toMatchObject({ failed: 3, succeeded: 0 });
    const bad = await alice.request<ErrorBody>('GET', '/api/tasks/counts?status=done');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^status: /);
    const sorted = await alice.request<ErrorBody>('GET', '/api/tasks/counts?sort=-createdAt');
    expect(sorted.status).toBe(400);
  });
});

describe('failure reasons and worker names', () => {
  it('a failed task says why: a timeout, an image that cannot be pulled, an exit code', async () => {
    const failed = await list(alice, 'status=failed');
    const reason = (name: string) => failed.tasks.find((t) => t.name === name)?.reason ?? '';
    expect(reason('search-slow')).toMatch(/timed out after 1s/);
    expect(reason('search-exit3')).toMatch(/exit code 3/);
    expect(reason('search-pull')).toMatch(/^pull of image "127.0.0.1:9\/wharf\/not-there:never" failed/);
  });

  it('tasks and attempts carry the worker\'s name, and keep it after the worker is removed', async () => {
    const listed = (await list(alice, 'name=search-ok')).tasks[0]!;
    expect(listed).toMatchObject({ workerId, workerName: WORKER_NAME, attemptCount: 1 });
    const detail = (await alice.request<{ task: ListedTask & { events: { kind: string; message: string }[] } }>('GET', `/api/tasks/${ids.ok}`)).body.task;
    expect(detail.attempts?.[0]).toMatchObject({ workerId, workerName: WORKER_NAME });
    expect(detail.events.find((e) => e.kind === 'assigned')?.message).toBe(`attempt 1 on ${WORKER_NAME} (${workerId})`);

    await worker!.stop();
    worker = undefined;
    await waitFor('the worker to be lost', async () => {
      const workers = await admin.request<{ workers: { id: string; status: string }[] }>('GET', '/api/workers');
      return workers.body.workers.find((w) => w.id === workerId)?.status === 'lost';
    }, 30_000);
    const removed = await admin.request('DELETE', `/api/workers/${workerId}`);
    expect(removed.status, removed.text).toBe(200);
    const after = (await alice.request<{ task: ListedTask }>('GET', `/api/tasks/${ids.ok}`)).body.task;
    expect(after).toMatchObject({ workerId, workerName: WORKER_NAME });
    expect(after.attempts?.[0]).toMatchObject({ workerName: WORKER_NAME });
    // the removed worker's tasks are still found by its id
    expect((await list(alice, `worker=${workerId}&name=search-ok`)).total).toBe(1);
  });
});
