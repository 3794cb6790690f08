// The Store conformance suite: every Store implementation must pass it unchanged.
// sqlite-store.test.ts runs it against SqliteStore; the Mongo suite runs it when a server is given.
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiTokenRecord } from '../records/api-token.js';
import type { JoinTokenRecord } from '../records/credentials.js';
import type { RegistryCredentialRecord } from '../records/registry-credential.js';
import type { InviteRecord } from '../records/invite.js';
import type { AuditEntry } from '../records/audit.js';
import type { QueueRecord } from '../records/queue.js';
import { WharfError } from '../errors.js';
import type { Attempt } from '../records/attempt.js';
import type { DagRun } from '../records/dag.js';
import type { Gang } from '../records/gang.js';
import type { Task } from '../records/task.js';
import type { UserWithPassword } from '../records/user.js';
import type { WorkerRecord } from '../records/worker.js';
import { commitGroups, type Store, type StoreChange, type TaskSort } from './store.js';

export function mockTask(overrides: Partial<Task> = {}): Task {
  return {
    id: randomUUID(),
    name: 'task',
    userId: 'user-1',
    image: 'wharf/busybox',
    command: ['true'],
    env: {},
    runtime: 'docker',
    labels: {},
    status: 'queued',
    priority: 50,
    resources: { cpu: 1, memory: 1024, gpu: 0, disk: 0 },
    maxRetries: 0,
    timeoutSeconds: 0,
    retriesUsed: 0,
    createdAt: Date.now(),
    attemptCount: 0,
    queue: 'default',
    ...overrides,
  };
}

export function mockAttempt(task: Task, overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: randomUUID(),
    taskId: task.id,
    number: 1,
    workerId: 'worker-1',
    status: 'assigned',
    resources: task.resources,
    createdAt: Date.now(),
    ...overrides,
  };
}

function mockUser(overrides: Partial<UserWithPassword> = {}): UserWithPassword {
  return {
    id: randomUUID(),
    email: `${randomUUID()}@example.com`,
    name: 'Ada',
    role: 'user',
    createdAt: Date.now(),
    passwordHash: 'scrypt$x$y',
    ...overrides,
  };
}

export function describeStoreConformance(name: string, makeStore: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('keeps users and finds them by email and id, without their password hash in listings', async () => {
      const user = mockUser({ email: 'ada@example.com' });
      await store.insertUser(user);
      expect(await store.findUserByEmail('ada@example.com')).toEqual(user);
      const found = await store.getUser(user.id);
      expect(found?.email).toBe('ada@example.com');
      expect(found).not.toHaveProperty('passwordHash');
      expect(await store.countUsers()).toBe(1);
      expect((await store.listUsers()).map((u) => u.id)).toEqual([user.id]);
    });

    it('refuses a second user with the same email as a conflict', async () => {
      await store.insertUser(mockUser({ email: 'same@example.com' }));
      const error = await store.insertUser(mockUser({ email: 'same@example.com' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WharfError);
      expect((error as WharfError).code).toBe('conflict');
    });

    it('upserts workers', async () => {
      const worker: WorkerRecord = {
        id: 'w1',
        name: 'one',
        hostname: 'host',
        status: 'ready',
        runtimes: ['docker'],
        labels: { zone: 'a' },
        capacity: { cpu: 2, memory: 4096, gpu: 0, disk: 0 },
        version: '0.1.0',
        registeredAt: 1,
        lastHeartbeatAt: 1,
        fencing: { stopAfterMs: 15_000, stopGraceMs: 10_000 },
      };
      await store.saveWorker(worker);
      await store.saveWorker({ ...worker, status: 'lost' });
      expect(await store.getWorker('w1')).toEqual({ ...worker, status: 'lost' });
      expect(await store.listWorkers()).toHaveLength(1);
    });

    it('pages tasks newest first, filtered by user and status', async () => {
      const base = Date.now();
      const tasks = Array.from({ length: 5 }, (_, i) =>
        mockTask({ createdAt: base + i, userId: i % 2 === 0 ? 'alice' : 'bob', status: i === 4 ? 'failed' : 'queued' }),
      );
      await store.commit(tasks.map((task) => ({ kind: 'insertTask' as const, task })));
      const first = await store.listTasks({ limit: 2 });
      expect(first.tasks.map((t) => t.id)).toEqual([tasks[4]!.id, tasks[3]!.id]);
      expect(first.nextCursor).toBeDefined();
      const second = await store.listTasks({ limit: 2, cursor: first.nextCursor });
      expect(second.tasks.map((t) => t.id)).toEqual([tasks[2]!.id, tasks[1]!.id]);
      const third = await store.listTasks({ limit: 2, cursor: second.nextCursor });
      expect(third.tasks.map((t) => t.id)).toEqual([tasks[0]!.id]);
      expect(third.nextCursor).toBeUndefined();
      const alice = await store.listTasks({ limit: 10, userId: 'alice' });
      expect(alice.tasks.map((t) => t.id)).toEqual([tasks[4]!.id, tasks[2]!.id, tasks[0]!.id]);
      const failed = await store.listTasks({ limit: 10, status: 'failed' });
      expect(failed.tasks.map((t) => t.id)).toEqual([tasks[4]!.id]);
      expect((await store.listUnfinishedTasks()).map((t) => t.id)).toEqual(tasks.slice(0, 4).map((t) => t.id));
    });

    it('filters tasks by statuses, worker, queue, DAG run, image, name and creation time, every filter ANDed, and counts them per status', async () => {
      const base = 1_700_000_000_000;
      const spec: Partial<Task>[] = [
        { name: 'Train-Model', status: 'failed', workerId: 'w1', queue: 'gpu', image: 'pytorch', dagId: 'run-1', finishedAt: base + 50, startedAt: base + 10 },
        { name: 'train_small', status: 'succeeded', workerId: 'w2', queue: 'gpu', image: 'pytorch', finishedAt: base + 40, startedAt: base + 30 },
        { name: 'ingest', status: 'running', workerId: 'w1', queue: 'default', image: 'busybox', dagId: 'run-1', startedAt: base + 5 },
        { name: 'report 100%', status: 'queued', queue: 'default', image: 'busybox', userId: 'bob' },
        { name: 'trainer', status: 'cancelled', workerId: 'w3', queue: 'default', image: 'pytorch' },
      ];
      const tasks = spec.map((overrides, i) => mockTask({ ...overrides, userId: overrides.userId ?? 'alice', createdAt: base + i * 10 }));
      await store.commit(tasks.map((task) => ({ kind: 'insertTask' as const, task })));
      const ids = async (query: Omit<Parameters<Store['listTasks']>[0], 'limit'>) => (await store.listTasks({ limit: 50, ...query })).tasks.map((t) => t.name);

      expect(await ids({ statuses: ['failed', 'succeeded'] })).toEqual(['train_small', 'Train-Model']);
      expect(await ids({ statuses: [] })).toEqual([]);
      expect(await ids({ workerIds: ['w1', 'w3'] })).toEqual(['trainer', 'ingest', 'Train-Model']);
      expect(await ids({ queue: 'gpu' })).toEqual(['train_small', 'Train-Model']);
      expect(await ids({ dagId: 'run-1' })).toEqual(['ingest', 'Train-Model']);
      expect(await ids({ image: 'busybox' })).toEqual(['report 100%', 'ingest']);
      // a case-insensitive substring; LIKE and regex characters are taken literally
      expect(await ids({ name: 'TRAIN' })).toEqual(['trainer', 'train_small', 'Train-Model']);
      expect(await ids({ name: 'n_s' })).toEqual(['train_small']);
      expect(await ids({ name: '0%' })).toEqual(['report 100%']);
      expect(await ids({ name: '.*' })).toEqual([]);
      expect(await ids({ since: base + 10, until: base + 30 })).toEqual(['ingest', 'train_small']);
      expect(await ids({ userId: 'bob' })).toEqual(['report 100%']);
      // ANDed
      expect(await ids({ image: 'pytorch', queue: 'default' })).toEqual(['trainer']);
      expect(await ids({ image: 'pytorch', workerIds: ['w1'], statuses: ['failed'], name: 'model', dagId: 'run-1', since: base })).toEqual(['Train-Model']);
      expect(await ids({ image: 'pytorch', workerIds: ['w1'], statuses: ['succeeded'] })).toEqual([]);

      expect(await store.countTasks({})).toEqual({ queued: 1, assigned: 0, running: 1, succeeded: 1, failed: 1, cancelled: 1 });
      expect(await store.countTasks({ image: 'pytorch' })).toEqual({ queued: 0, assigned: 0, running: 0, succeeded: 1, failed: 1, cancelled: 1 });
      expect(await store.countTasks({ userId: 'alice', statuses: ['queued', 'running'] })).toEqual({ queued: 0, assigned: 0, running: 1, succeeded: 0, failed: 0, cancelled: 0 });
    });

    it('orders tasks by createdAt, finishedAt or duration either way, and pages each order with its own cursor', async () => {
      const base = 1_700_000_000_000;
      // durations 40, 10, 25 and 0 (not finished); finishedAt 50, 60, 45 and none
      const a = mockTask({ name: 'a', createdAt: base, startedAt: base + 10, finishedAt: base + 50, status: 'succeeded' });
      const b = mockTask({ name: 'b', createdAt: base + 1, startedAt: base + 50, finishedAt: base + 60, status: 'failed' });
      const c = mockTask({ name: 'c', createdAt: base + 2, startedAt: base + 20, finishedAt: base + 45, status: 'succeeded' });
      const d = mockTask({ name: 'd', createdAt: base + 3, status: 'queued' });
      await store.commit([a, b, c, d].map((task) => ({ kind: 'insertTask' as const, task })));
      const all = async (sort: TaskSort) => {
        const names: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listTasks({ limit: 1, sort, cursor });
          names.push(...page.tasks.map((t) => t.name));
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        return names;
      };
      expect(await all('-createdAt')).toEqual(['d', 'c', 'b', 'a']);
      expect(await all('createdAt')).toEqual(['a', 'b', 'c', 'd']);
      expect(await all('-finishedAt')).toEqual(['b', 'a', 'c', 'd']);
      expect(await all('finishedAt')).toEqual(['d', 'c', 'a', 'b']);
      expect(await all('-duration')).toEqual(['a', 'c', 'b', 'd']);
      expect(await all('duration')).toEqual(['d', 'b', 'c', 'a']);
      // a cursor of one order is refused under another, naming the cursor
      const page = await store.listTasks({ limit: 1, sort: '-duration' });
      const error = await store.listTasks({ limit: 1, sort: '-createdAt', cursor: page.nextCursor }).catch((e: unknown) => e);
      expect((error as WharfError).code).toBe('validation_failed');
      expect((error as WharfError).message).toMatch(/^cursor: /);
    });

    it('keeps a filtered page order stable while newer tasks arrive: the next page neither repeats nor skips', async () => {
      const base = 1_700_000_000_000;
      const old = Array.from({ length: 6 }, (_, i) => mockTask({ name: `old-${i}`, createdAt: base + i, status: 'failed' }));
      await store.commit(old.map((task) => ({ kind: 'insertTask' as const, task })));
      const first = await store.listTasks({ limit: 3, statuses: ['failed'] });
      const newer = Array.from({ length: 4 }, (_, i) => mockTask({ name: `new-${i}`, createdAt: base + 100 + i, status: 'failed' }));
      await store.commit(newer.map((task) => ({ kind: 'insertTask' as const, task })));
      const second = await store.listTasks({ limit: 3, statuses: ['failed'], cursor: first.nextCursor });
      expect([...first.tasks, ...second.tasks].map((t) => t.name)).toEqual(['old-5', 'old-4', 'old-3', 'old-2', 'old-1', 'old-0']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('rejects a cursor it did not issue', async () => {
      const error = await store.listTasks({ limit: 2, cursor: 'garbage' }).catch((e: unknown) => e);
      expect((error as WharfError).code).toBe('validation_failed');
    });

    it('applies a conditional assignment once and refuses the duplicate', async () => {
      const task = mockTask();
      await store.commit([{ kind: 'insertTask', task }]);
      const attempt = mockAttempt(task);
      const assign = [
        { kind: 'insertAttempt' as const, attempt },
        {
          kind: 'updateTask' as const,
          taskId: task.id,
          expectStatus: ['queued' as const],
          patch: { status: 'assigned' as const, currentAttemptId: attempt.id, workerId: 'worker-1', reason: undefined },
        },
      ];
      expect(await store.commit(assign)).toBe(true);
      const second = mockAttempt(task, { number: 2 });
      expect(
        await store.commit([
          { kind: 'insertAttempt', attempt: second },
          { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch: { currentAttemptId: second.id } },
        ]),
      ).toBe(false);
      // nothing of the refused commit is visible
      expect(await store.getAttempt(second.id)).toBeUndefined();
      const stored = await store.getTask(task.id);
      expect(stored?.status).toBe('assigned');
      expect(stored?.currentAttemptId).toBe(attempt.id);
      expect((await store.listActiveAttempts()).map((a) => a.id)).toEqual([attempt.id]);
    });

    it('finishes an attempt only from an active status and only for the current attempt', async () => {
      const task = mockTask({ status: 'running' });
      const attempt = mockAttempt(task, { status: 'running' });
      await store.commit([
        { kind: 'insertTask', task: { ...task, currentAttemptId: attempt.id } },
        { kind: 'insertAttempt', attempt },
      ]);
      const finish = [
        {
          kind: 'updateAttempt' as const,
          attemptId: attempt.id,
          expectStatus: ['assigned' as const, 'running' as const],
          patch: { status: 'succeeded' as const, exitCode: 0, finishedAt: 5 },
        },
        {
          kind: 'updateTask' as const,
          taskId: task.id,
          expectAttemptId: attempt.id,
          patch: { status: 'succeeded' as const, exitCode: 0, finishedAt: 5 },
        },
        { kind: 'appendEvent' as const, event: { taskId: task.id, at: 5, kind: 'succeeded', message: 'exit 0' } },
      ];
      expect(await store.commit(finish)).toBe(true);
      expect(await store.commit(finish)).toBe(false);
      expect((await store.getAttempt(attempt.id))?.status).toBe('succeeded');
      expect(await store.listEvents(task.id)).toHaveLength(1);
      expect(await store.listActiveAttempts()).toEqual([]);
      // attempts being stopped (a person's cancel, priority preemption) are active: they hold their
      // resources until the worker confirms, and a restarted master must recover them
      const stopping = (['cancelling', 'preempting'] as const).map((status) => mockAttempt(task, { status }));
      await store.commit(stopping.map((attempt) => ({ kind: 'insertAttempt' as const, attempt })));
      expect((await store.listActiveAttempts()).map((a) => a.status)).toEqual(['cancelling', 'preempting']);
      await store.commit(stopping.map((attempt) => ({ kind: 'updateAttempt' as const, attemptId: attempt.id, patch: { status: 'cancelled' as const } })));
      expect(await store.listActiveAttempts()).toEqual([]);
      const wrongAttempt = await store.commit([
        { kind: 'updateTask', taskId: task.id, expectAttemptId: 'another', patch: { status: 'failed' } },
      ]);
      expect(wrongAttempt).toBe(false);
    });

    it('removes fields patched to undefined', async () => {
      const task = mockTask({ reason: 'waiting', notBefore: 10 });
      await store.commit([{ kind: 'insertTask', task }]);
      await store.commit([{ kind: 'updateTask', taskId: task.id, patch: { reason: undefined, notBefore: undefined } }]);
      const stored = await store.getTask(task.id);
      expect(stored).not.toHaveProperty('reason');
      expect(stored).not.toHaveProperty('notBefore');
    });

    it('replaces a task\'s files and lists them by task and by user', async () => {
      const file = (path: string, userId = 'alice', taskId = 't1') => ({
        taskId,
        userId,
        attemptId: 'a1',
        path,
        size: 3,
        sha256: 'abc',
        createdAt: 1,
      });
      await store.commit([{ kind: 'replaceTaskFiles', taskId: 't1', files: [file('a.txt'), file('b/c.txt')] }]);
      await store.commit([{ kind: 'replaceTaskFiles', taskId: 't2', files: [file('x', 'bob', 't2')] }]);
      await store.commit([{ kind: 'replaceTaskFiles', taskId: 't1', files: [file('only.txt')] }]);
      expect((await store.listFiles({ taskId: 't1' })).map((f) => f.path)).toEqual(['only.txt']);
      expect((await store.listFiles({ userId: 'bob' })).map((f) => f.path)).toEqual(['x']);
      expect(await store.listFiles({})).toHaveLength(2);
    });

    it('group commit: each group all or nothing, in order, a refused group leaving the others applied', async () => {
      const a = mockTask({ id: 'group-a' });
      const b = mockTask({ id: 'group-b' });
      await store.commit([{ kind: 'insertTask', task: a }, { kind: 'insertTask', task: b }]);
      const assign = (task: Task, attemptId: string): StoreChange[] => [
        { kind: 'insertAttempt', attempt: mockAttempt(task, { id: attemptId }) },
        { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch: { status: 'assigned', currentAttemptId: attemptId } },
      ];
      // the second group assigns `a` again: it sees the first group's change and is refused whole
      const results = await commitGroups(store, [assign(a, 'ga-1'), assign(a, 'ga-2'), assign(b, 'gb-1')]);
      expect(results).toEqual([true, false, true]);
      expect((await store.getTask(a.id))?.currentAttemptId).toBe('ga-1');
      expect(await store.getAttempt('ga-2')).toBeUndefined();
      expect((await store.getTask(b.id))?.status).toBe('assigned');
      expect(await commitGroups(store, [])).toEqual([]);
    });

    it('takes back an applied update when a later change of the same commit is refused', async () => {
      const task = mockTask({ status: 'running' });
      const attempt = mockAttempt(task, { status: 'running' });
      await store.commit([
        { kind: 'insertTask', task: { ...task, currentAttemptId: attempt.id } },
        { kind: 'insertAttempt', attempt },
      ]);
      const refused = await store.commit([
        { kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ['running'], patch: { status: 'failed', exitCode: 1 } },
        { kind: 'appendEvent', event: { taskId: task.id, at: 1, kind: 'failed', message: 'exit 1' } },
        { kind: 'replaceTaskFiles', taskId: task.id, files: [] },
        { kind: 'updateTask', taskId: task.id, expectAttemptId: 'not-the-current-one', patch: { status: 'failed' } },
      ]);
      expect(refused).toBe(false);
      expect(await store.getAttempt(attempt.id)).toEqual(attempt);
      expect(await store.listEvents(task.id)).toEqual([]);
      expect((await store.getTask(task.id))?.status).toBe('running');
    });

    it('rejects a commit that inserts a task id twice, applying none of it', async () => {
      const task = mockTask();
      await store.commit([{ kind: 'insertTask', task }]);
      const attempt = mockAttempt(task);
      await expect(
        store.commit([
          { kind: 'insertAttempt', attempt },
          { kind: 'insertTask', task: { ...task, name: 'again' } },
        ]),
      ).rejects.toThrow();
      expect(await store.getAttempt(attempt.id)).toBeUndefined();
      expect((await store.getTask(task.id))?.name).toBe(task.name);
    });

    it('lets exactly one of several concurrent identical conditional commits through', async () => {
      const task = mockTask();
      await store.commit([{ kind: 'insertTask', task }]);
      const assign = () => {
        const attempt = mockAttempt(task);
        return store.commit([
          { kind: 'insertAttempt', attempt },
          { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch: { status: 'assigned', currentAttemptId: attempt.id } },
        ]);
      };
      const results = await Promise.all([assign(), assign(), assign(), assign()]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const attempts = await store.listAttempts(task.id);
      expect(attempts).toHaveLength(1);
      expect((await store.getTask(task.id))?.currentAttemptId).toBe(attempts[0]?.id);
    });

    it('lists users, workers, attempts, events and files in the order they were written', async () => {
      const users = ['c@example.com', 'a@example.com', 'b@example.com'].map((email) => mockUser({ email }));
      for (const user of users) await store.insertUser(user);
      expect((await store.listUsers()).map((u) => u.email)).toEqual(users.map((u) => u.email));
      const worker = (id: string): WorkerRecord => ({
        id,
        name: id,
        hostname: 'h',
        status: 'ready',
        runtimes: ['docker'],
        labels: {},
        capacity: { cpu: 1, memory: 1, gpu: 0, disk: 0 },
        version: '0.1.0',
        registeredAt: 1,
        lastHeartbeatAt: 1,
      });
      for (const id of ['w-b', 'w-a', 'w-c']) await store.saveWorker(worker(id));
      await store.saveWorker({ ...worker('w-b'), status: 'lost' }); // an update keeps its place
      expect((await store.listWorkers()).map((w) => w.id)).toEqual(['w-b', 'w-a', 'w-c']);

      const [t1, t2] = [mockTask(), mockTask()];
      const a2 = mockAttempt(t2!, { id: 'z-attempt' });
      const a1 = mockAttempt(t1!, { id: 'a-attempt' });
      await store.commit([
        { kind: 'insertTask', task: t1! },
        { kind: 'insertTask', task: t2! },
        { kind: 'insertAttempt', attempt: a2 },
        { kind: 'insertAttempt', attempt: a1 },
      ]);
      expect((await store.listActiveAttempts()).map((a) => a.id)).toEqual(['z-attempt', 'a-attempt']);

      const kinds = ['queued', 'assigned', 'running', 'succeeded', 'note'];
      for (const kind of kinds) await store.commit([{ kind: 'appendEvent', event: { taskId: t1!.id, at: 7, kind, message: kind } }]);
      expect((await store.listEvents(t1!.id)).map((e) => e.kind)).toEqual(kinds);

      const file = (taskId: string, path: string) => ({ taskId, userId: 'u', attemptId: 'a', path, size: 1, sha256: 's', createdAt: 1 });
      await store.commit([{ kind: 'replaceTaskFiles', taskId: t1!.id, files: [file(t1!.id, 'z.txt'), file(t1!.id, 'a.txt')] }]);
      await store.commit([{ kind: 'replaceTaskFiles', taskId: t2!.id, files: [file(t2!.id, 'm.txt')] }]);
      await store.commit([{ kind: 'replaceTaskFiles', taskId: t1!.id, files: [file(t1!.id, 'y.txt'), file(t1!.id, 'b.txt')] }]);
      expect((await store.listFiles({})).map((f) => f.path)).toEqual(['m.txt', 'y.txt', 'b.txt']);
    });

    it('keeps label keys with dots and slashes, nested maps and large numbers exactly', async () => {
      const task = mockTask({
        labels: { 'app.kubernetes.io/name': 'web', 'team.example/owner': 'ada' },
        env: { PATH_LIKE: '/a:/b', EMPTY: '' },
        resources: { cpu: 0.25, memory: 64 * 1024 ** 3, gpu: 0, disk: 2 ** 40 },
        createdAt: 1_767_225_600_123,
      });
      await store.commit([{ kind: 'insertTask', task }]);
      expect(await store.getTask(task.id)).toEqual(task);
      const labels = { 'app.kubernetes.io/name': 'api', 'x.y/z': '1' };
      expect(await store.commit([{ kind: 'updateTask', taskId: task.id, patch: { labels, notBefore: 2 ** 45 } }])).toBe(true);
      expect(await store.getTask(task.id)).toEqual({ ...task, labels, notBefore: 2 ** 45 });
    });

    it('keeps DAG runs, lists them newest first by user and name, and lists the unfinished ones', async () => {
      const a = mockDag({ name: 'etl', userId: 'u1', createdAt: 1000 });
      const b = mockDag({ name: 'train', userId: 'u1', createdAt: 2000 });
      const c = mockDag({ name: 'etl', userId: 'u2', createdAt: 3000, status: 'succeeded', finishedAt: 3500 });
      expect(await store.commit([{ kind: 'insertDag', dag: a }, { kind: 'insertDag', dag: b }, { kind: 'insertDag', dag: c }])).toBe(true);
      expect(await store.getDag(a.id)).toEqual(a);
      expect(await store.getDag('nope')).toBeUndefined();
      expect((await store.listDags({ limit: 10 })).map((d) => d.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.listDags({ limit: 2 })).map((d) => d.id)).toEqual([c.id, b.id]);
      expect((await store.listDags({ userId: 'u1', limit: 10 })).map((d) => d.id)).toEqual([b.id, a.id]);
      expect((await store.listDags({ name: 'etl', limit: 10 })).map((d) => d.id)).toEqual([c.id, a.id]);
      expect((await store.listDags({ name: 'etl', userId: 'u2', limit: 10 })).map((d) => d.id)).toEqual([c.id]);
      expect((await store.listUnfinishedDags()).map((d) => d.id)).toEqual([a.id, b.id]);
    });

    it('keeps gangs with their members atomically, lists them newest first by user and status, and updates one only at its status and version', async () => {
      const gang = (over: Partial<Gang>): Gang => ({
        id: randomUUID(), name: 'ddp', userId: 'u1', size: 2, status: 'pending', policy: 'restartGang', timeoutSeconds: 60, maxRestarts: 3, restartsUsed: 0,
        memberIds: [], port: 29500, createdAt: 1000, waitingSince: 1000, version: 1, ...over,
      });
      const a = gang({ createdAt: 1000 });
      const b = gang({ createdAt: 2000, userId: 'u2', status: 'running', placedAt: 2100 });
      const c = gang({ createdAt: 3000, status: 'failed', finishedAt: 3100, reason: 'gang timed out after 60s: …' });
      const members = [mockTask({ gangId: a.id, gangRank: 0, gangSize: 2, gangPort: 29500 }), mockTask({ gangId: a.id, gangRank: 1, gangSize: 2, gangPort: 29500 })];
      a.memberIds = members.map((t) => t.id);
      expect(await store.commit([...members.map((task) => ({ kind: 'insertTask' as const, task })), { kind: 'insertGang', gang: a }, { kind: 'insertGang', gang: b }, { kind: 'insertGang', gang: c }])).toBe(true);
      expect(await store.getGang(a.id)).toEqual(a);
      expect(await store.getTask(members[1]!.id)).toEqual(members[1]);
      expect(await store.getGang('nope')).toBeUndefined();
      expect((await store.listGangs({ limit: 10 })).map((g) => g.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.listGangs({ limit: 10, userId: 'u1' })).map((g) => g.id)).toEqual([c.id, a.id]);
      expect((await store.listGangs({ limit: 10, status: 'running' })).map((g) => g.id)).toEqual([b.id]);
      expect((await store.listUnfinishedGangs()).map((g) => g.id)).toEqual([a.id, b.id]);
      // a stale version or an unexpected status: refused whole, with the task change beside it
      const stale: StoreChange[] = [
        { kind: 'updateTask', taskId: members[0]!.id, patch: { reason: 'x' } },
        { kind: 'updateGang', gangId: a.id, expectVersion: 7, patch: { version: 8 } },
      ];
      expect(await store.commit(stale)).toBe(false);
      expect((await store.getTask(members[0]!.id))?.reason).toBeUndefined();
      expect(await store.commit([{ kind: 'updateGang', gangId: a.id, expectStatus: ['running'], patch: { version: 2 } }])).toBe(false);
      expect(await store.commit([{ kind: 'updateGang', gangId: a.id, expectStatus: ['pending'], expectVersion: 1, patch: { version: 2, status: 'running', placedAt: 1500, reason: undefined } }])).toBe(true);
      expect(await store.getGang(a.id)).toMatchObject({ status: 'running', placedAt: 1500, version: 2 });
      expect(await store.commit([{ kind: 'updateGang', gangId: 'missing', patch: { version: 9 } }])).toBe(false);
    });

    it('lists the id of every DAG run, oldest first, whatever its status or owner', async () => {
      expect(await store.listDagIds()).toEqual([]);
      const late = mockDag({ createdAt: 5000, status: 'failed', finishedAt: 5100, userId: 'u2' });
      const early = mockDag({ createdAt: 1000 });
      const tie = [mockDag({ createdAt: 3000 }), mockDag({ createdAt: 3000, status: 'cancelled' })];
      await store.commit([late, early, ...tie].map((dag) => ({ kind: 'insertDag' as const, dag })));
      const tieIds = tie.map((d) => d.id).sort();
      expect(await store.listDagIds()).toEqual([early.id, ...tieIds, late.id]);
    });

    it('updates a DAG run only when its status and version match, atomically with a task insert', async () => {
      const dag = mockDag();
      await store.commit([{ kind: 'insertDag', dag }]);
      const task = mockTask({ dagId: dag.id, dagTask: 'a', inputs: [{ name: 'x', sha256: 'f'.repeat(64), size: 3, fromTask: 'p' }], outputs: ['y'], useCache: true });
      const queue: StoreChange[] = [
        { kind: 'insertTask', task },
        { kind: 'updateDag', dagId: dag.id, expectStatus: ['running'], expectVersion: 1, patch: { version: 2, tasks: [{ name: 'a', state: 'queued', taskId: task.id }] } },
      ];
      expect(await store.commit(queue)).toBe(true);
      expect((await store.getDag(dag.id))?.tasks).toEqual([{ name: 'a', state: 'queued', taskId: task.id }]);
      expect(await store.getTask(task.id)).toEqual(task);
      // the same step again (a restart that re-evaluates): refused whole, no second task
      const again = mockTask({ dagId: dag.id, dagTask: 'a' });
      expect(await store.commit([{ kind: 'insertTask', task: again }, { ...queue[1]! }])).toBe(false);
      expect(await store.getTask(again.id)).toBeUndefined();
      // a status condition
      expect(await store.commit([{ kind: 'updateDag', dagId: dag.id, expectStatus: ['succeeded'], patch: { cancelRequested: true } }])).toBe(false);
      expect(await store.commit([{ kind: 'updateDag', dagId: dag.id, expectVersion: 2, patch: { version: 3, status: 'failed', finishedAt: 5, cancelRequested: true } }])).toBe(true);
      expect(await store.getDag(dag.id)).toMatchObject({ status: 'failed', finishedAt: 5, version: 3, cancelRequested: true });
      expect(await store.listUnfinishedDags()).toEqual([]);
      expect(await store.commit([{ kind: 'updateDag', dagId: 'missing', patch: { version: 9 } }])).toBe(false);
    });

    it('keeps attempt input reports', async () => {
      const task = mockTask();
      const attempt = mockAttempt(task);
      await store.commit([{ kind: 'insertTask', task }, { kind: 'insertAttempt', attempt }]);
      const inputReports = [{ name: 'd.txt', sha256: 'a'.repeat(64), cacheHit: true, bytes: 10 }];
      await store.commit([{ kind: 'updateAttempt', attemptId: attempt.id, patch: { status: 'succeeded', inputReports } }]);
      expect((await store.getAttempt(attempt.id))?.inputReports).toEqual(inputReports);
    });

    it('forgets a removed worker and keeps the certificates of its record', async () => {
      const certificate = { fingerprint256: 'AA:BB', serial: '01', notAfter: 2_000_000_000_000 };
      const worker = mockWorker('w-removed', { certificate, pendingCertificate: { ...certificate, fingerprint256: 'CC:DD' } });
      await store.saveWorker(worker);
      expect(await store.getWorker('w-removed')).toEqual(worker);
      await store.deleteWorker('w-removed');
      await store.deleteWorker('w-never-was');
      expect(await store.getWorker('w-removed')).toBeUndefined();
      expect(await store.listWorkers()).toEqual([]);
    });

    it('keeps join tokens, refuses a second one with the same id, and revokes once', async () => {
      const token = mockJoinToken({ id: 'wharf_aaaaaa', description: 'rack 4', expiresAt: Date.now() + 60_000, usageLimit: 3, startToken: true });
      await store.insertJoinToken(token);
      await expect(store.insertJoinToken({ ...token, description: 'again' })).rejects.toMatchObject({ code: 'conflict' });
      expect(await store.getJoinToken('wharf_aaaaaa')).toEqual(token);
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_bbbbbb' }));
      expect((await store.listJoinTokens()).map((t) => t.id)).toEqual(['wharf_aaaaaa', 'wharf_bbbbbb']);
      expect(await store.revokeJoinToken('wharf_bbbbbb', 1234)).toBe(true);
      expect(await store.revokeJoinToken('wharf_bbbbbb', 5678)).toBe(false);
      expect(await store.revokeJoinToken('wharf_nobody', 5678)).toBe(false);
      expect((await store.getJoinToken('wharf_bbbbbb'))?.revokedAt).toBe(1234);
    });

    it('counts a join token use only while the token is usable: not revoked, not expired, under its limit', async () => {
      const now = Date.now();
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_limit2', usageLimit: 2 }));
      expect(await store.useJoinToken('wharf_limit2', now)).toBe(true);
      expect(await store.useJoinToken('wharf_limit2', now + 1)).toBe(true);
      expect(await store.useJoinToken('wharf_limit2', now + 2)).toBe(false);
      expect(await store.getJoinToken('wharf_limit2')).toMatchObject({ uses: 2, lastUsedAt: now + 1 });
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_expire', expiresAt: now + 1000 }));
      expect(await store.useJoinToken('wharf_expire', now)).toBe(true);
      expect(await store.useJoinToken('wharf_expire', now + 1000)).toBe(false);
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_revoke' }));
      await store.revokeJoinToken('wharf_revoke', now);
      expect(await store.useJoinToken('wharf_revoke', now)).toBe(false);
      expect(await store.useJoinToken('wharf_nobody', now)).toBe(false);
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_nolimit' }));
      for (let i = 0; i < 5; i += 1) expect(await store.useJoinToken('wharf_nolimit', now)).toBe(true);
    });

    it('lets exactly N of N+3 concurrent uses of a token limited to N through', async () => {
      await store.insertJoinToken(mockJoinToken({ id: 'wharf_race05', usageLimit: 5 }));
      const results = await Promise.all(Array.from({ length: 8 }, () => store.useJoinToken('wharf_race05', Date.now())));
      expect(results.filter(Boolean)).toHaveLength(5);
      expect((await store.getJoinToken('wharf_race05'))?.uses).toBe(5);
    });

    it('keeps revoked certificates once each, in order', async () => {
      const entry = { fingerprint256: 'AA:01', serial: '01', workerId: 'w1', revokedAt: 1, notAfter: 2, reason: 'worker removed by a@b.c' };
      await store.revokeCertificate(entry);
      await store.revokeCertificate({ ...entry, revokedAt: 99 });
      await store.revokeCertificate({ ...entry, fingerprint256: 'AA:02', serial: '02' });
      expect(await store.listRevokedCertificates()).toEqual([entry, { ...entry, fingerprint256: 'AA:02', serial: '02' }]);
    });
    // ---- dead letters ---------------------------------------------------------------------
    describe('dead letters', () => {
      it('lists failed tasks marked dead letters, newest first, per user, image or name, page by page', async () => {
        const a = mockTask({ status: 'failed', deadLetteredAt: 1000, userId: 'alice', image: 'img/a' });
        const b = mockTask({ status: 'failed', deadLetteredAt: 3000, userId: 'bob', image: 'img/b', name: 'train' });
        const c = mockTask({ status: 'failed', deadLetteredAt: 2000, userId: 'alice', image: 'img/a' });
        const failedOnly = mockTask({ status: 'failed' });
        const succeeded = mockTask({ status: 'succeeded' });
        await store.commit([a, b, c, failedOnly, succeeded].map((task) => ({ kind: 'insertTask', task })));
        expect((await store.listDeadLetters({ limit: 10 })).tasks.map((t) => t.id)).toEqual([b.id, c.id, a.id]);
        expect(await store.countDeadLetters()).toBe(3);
        expect((await store.listDeadLetters({ userId: 'alice', limit: 10 })).tasks.map((t) => t.id)).toEqual([c.id, a.id]);
        expect((await store.listDeadLetters({ image: 'img/b', limit: 10 })).tasks.map((t) => t.id)).toEqual([b.id]);
        expect((await store.listDeadLetters({ name: 'train', limit: 10 })).tasks.map((t) => t.id)).toEqual([b.id]);
        const first = await store.listDeadLetters({ limit: 2 });
        expect(first.tasks.map((t) => t.id)).toEqual([b.id, c.id]);
        const second = await store.listDeadLetters({ limit: 2, cursor: first.nextCursor });
        expect(second).toEqual({ tasks: [a], nextCursor: undefined });
      });

      it('drops a task from the list once it is re-queued or its mark is removed', async () => {
        const a = mockTask({ status: 'failed', deadLetteredAt: 1000 });
        const b = mockTask({ status: 'failed', deadLetteredAt: 2000 });
        await store.commit([{ kind: 'insertTask', task: a }, { kind: 'insertTask', task: b }]);
        await store.commit([{ kind: 'updateTask', taskId: a.id, expectStatus: ['failed'], patch: { status: 'queued', deadLetteredAt: undefined } }]);
        await store.commit([{ kind: 'updateTask', taskId: b.id, patch: { deadLetteredAt: undefined } }]);
        expect((await store.listDeadLetters({ limit: 10 })).tasks).toEqual([]);
        expect(await store.countDeadLetters()).toBe(0);
      });
    });
    // ---- end of dead letters --------------------------------------------------------------

    // ---- user administration, invites and ended sessions ---------------------------------
    describe('user administration', () => {
      it('patches a user (a field given as undefined is removed) and deletes one once', async () => {
        const user = mockUser({ email: 'ada@example.com' });
        await store.insertUser(user);
        const patched = await store.updateUser(user.id, { role: 'admin', disabled: true, tokenVersion: 3 });
        const { passwordHash: _hash, ...visible } = user;
        expect(patched).toEqual({ ...visible, role: 'admin', disabled: true, tokenVersion: 3 });
        expect(await store.getUser(user.id)).toEqual(patched);
        expect((await store.findUserByEmail('ada@example.com'))?.passwordHash).toBe(user.passwordHash);
        expect(await store.updateUser(user.id, { disabled: undefined })).toEqual({ ...visible, role: 'admin', tokenVersion: 3 });
        expect(await store.updateUser('nobody', { role: 'user' })).toBeUndefined();
        expect(await store.deleteUser(user.id)).toBe(true);
        expect(await store.deleteUser(user.id)).toBe(false);
        expect(await store.getUser(user.id)).toBeUndefined();
        expect(await store.findUserByEmail('ada@example.com')).toBeUndefined();
        // the address is free again
        await store.insertUser(mockUser({ email: 'ada@example.com' }));
        expect(await store.countUsers()).toBe(1);
      });

      it('keeps invites, finds them by code hash, uses one once and only while usable', async () => {
        const now = 1_000_000;
        const invite = mockInvite({ createdAt: now, expiresAt: now + 1000 });
        const later = mockInvite({ createdAt: now + 1 });
        await store.insertInvite(later);
        await store.insertInvite(invite);
        expect(await store.getInvite(invite.id)).toEqual(invite);
        expect(await store.findInviteByHash(invite.codeHash)).toEqual(invite);
        expect(await store.findInviteByHash('0'.repeat(64))).toBeUndefined();
        expect((await store.listInvites()).map((i) => i.id)).toEqual([invite.id, later.id]);
        const clash = await store.insertInvite({ ...mockInvite(), codeHash: invite.codeHash }).catch((e: unknown) => e);
        expect((clash as WharfError).code).toBe('conflict');
        expect(await store.useInvite(invite.id, now + 1000, 'u1')).toBe(false); // expired at that moment
        const uses = await Promise.all([store.useInvite(invite.id, now + 10, 'u1'), store.useInvite(invite.id, now + 10, 'u2')]);
        expect(uses.filter(Boolean)).toHaveLength(1);
        expect(await store.getInvite(invite.id)).toMatchObject({ usedAt: now + 10, usedBy: uses[0] ? 'u1' : 'u2' });
        expect(await store.revokeInvite(invite.id, now + 20)).toBe(false); // used: nothing to revoke
        expect(await store.revokeInvite(later.id, now + 20)).toBe(true);
        expect(await store.revokeInvite(later.id, now + 30)).toBe(false);
        expect(await store.useInvite(later.id, now + 40, 'u3')).toBe(false);
        expect(await store.getInvite(later.id)).toEqual({ ...later, revokedAt: now + 20 });
        expect(await store.useInvite('nope', now, 'u4')).toBe(false);
      });

      it('keeps ended sessions once each and prunes those every token of which has expired', async () => {
        const first = { sessionId: 's1', userId: 'u1', revokedAt: 10, expiresAt: 100 };
        const second = { sessionId: 's2', userId: 'u1', revokedAt: 20, expiresAt: 200 };
        await store.revokeSession(first);
        await store.revokeSession({ ...first, revokedAt: 99 });
        await store.revokeSession(second);
        expect(await store.listRevokedSessions()).toEqual([first, second]);
        expect(await store.pruneRevokedSessions(100)).toBe(1);
        expect(await store.listRevokedSessions()).toEqual([second]);
      });
    });
    // ---- end of user administration -------------------------------------------------------

    // ---- audit trail ----------------------------------------------------------------------
    describe('audit trail', () => {
      it('lists entries newest first, filtered by user, action and time, page by page', async () => {
        const entries = [
          mockAudit({ at: 1000, userId: 'alice', action: 'task.submit' }),
          mockAudit({ at: 2000, userId: 'bob', action: 'task.submit' }),
          mockAudit({ at: 2000, userId: 'alice', action: 'task.cancel' }),
          mockAudit({ at: 3000, userId: undefined, userEmail: undefined, action: 'auth.login', outcome: 'unauthenticated', status: 401 }),
          mockAudit({ at: 4000, userId: 'alice', action: 'task.submit' }),
        ];
        for (const entry of entries) await store.appendAudit(entry);
        const all = await store.listAudit({ limit: 10 });
        const byTime = [...entries].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
        expect(all.entries).toEqual(byTime);
        expect(all.nextCursor).toBeUndefined();
        expect((await store.listAudit({ limit: 10, userId: 'alice' })).entries.map((e) => e.at)).toEqual([4000, 2000, 1000]);
        expect((await store.listAudit({ limit: 10, action: 'task.submit', since: 2000 })).entries.map((e) => e.userId)).toEqual(['alice', 'bob']);
        expect((await store.listAudit({ limit: 10, until: 2000 })).entries).toEqual([entries[0]]);
        expect((await store.listAudit({ limit: 10 })).entries.find((e) => e.action === 'auth.login')).not.toHaveProperty('userId');
        // pages: two by two, nothing repeated or skipped
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listAudit({ limit: 2, cursor });
          seen.push(...page.entries.map((e) => e.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual(byTime.map((e) => e.id));
        await expect(store.listAudit({ limit: 2, cursor: 'garbage' })).rejects.toMatchObject({ code: 'validation_failed' });
      });

      it('prunes entries older than a time', async () => {
        for (const at of [1000, 2000, 3000]) await store.appendAudit(mockAudit({ at }));
        expect(await store.pruneAudit(2000)).toBe(1);
        expect((await store.listAudit({ limit: 10 })).entries.map((e) => e.at)).toEqual([3000, 2000]);
        expect(await store.pruneAudit(2000)).toBe(0);
      });
    });
    // ---- end of audit trail ---------------------------------------------------------------

    // ---- worker history -------------------------------------------------------------------
    describe('worker history', () => {
      it('lists one worker\'s events newest first (ties by id), at most `limit`, kept after the worker is gone', async () => {
        const store = await makeStore();
        await store.appendWorkerEvent({ id: 'e1', workerId: 'w1', at: 1000, kind: 'joined' });
        await store.appendWorkerEvent({ id: 'e3', workerId: 'w1', at: 3000, kind: 'lost', detail: 'no heartbeat for 30 s' });
        await store.appendWorkerEvent({ id: 'e2', workerId: 'w1', at: 2000, kind: 'drained' });
        await store.appendWorkerEvent({ id: 'e2b', workerId: 'w1', at: 2000, kind: 'activated' });
        await store.appendWorkerEvent({ id: 'x1', workerId: 'w2', at: 1500, kind: 'joined' });
        expect((await store.listWorkerEvents('w1', 10)).map((e) => e.id)).toEqual(['e3', 'e2b', 'e2', 'e1']);
        expect(await store.listWorkerEvents('w1', 1)).toEqual([{ id: 'e3', workerId: 'w1', at: 3000, kind: 'lost', detail: 'no heartbeat for 30 s' }]);
        expect((await store.listWorkerEvents('w2', 10)).map((e) => e.kind)).toEqual(['joined']);
        expect(await store.listWorkerEvents('nobody', 10)).toEqual([]);
        // the worker record itself may be deleted; its history stays
        await store.deleteWorker('w1');
        expect(await store.listWorkerEvents('w1', 10)).toHaveLength(4);
      });

      it('lists the attempts placed on a worker, newest first, at most `limit`', async () => {
        const store = await makeStore();
        const task = mockTask();
        const other = mockTask();
        const a1 = mockAttempt(task, { number: 1, workerId: 'w1', createdAt: 1000 });
        const a2 = mockAttempt(task, { number: 2, workerId: 'w2', createdAt: 2000 });
        const a3 = mockAttempt(other, { number: 1, workerId: 'w1', createdAt: 3000 });
        expect(await store.commit([{ kind: 'insertTask', task }, { kind: 'insertTask', task: other }, { kind: 'insertAttempt', attempt: a1 }, { kind: 'insertAttempt', attempt: a2 }, { kind: 'insertAttempt', attempt: a3 }])).toBe(true);
        expect((await store.listAttemptsOfWorker('w1', 10)).map((a) => a.id)).toEqual([a3.id, a1.id]);
        expect((await store.listAttemptsOfWorker('w1', 1)).map((a) => a.id)).toEqual([a3.id]);
        expect(await store.listAttemptsOfWorker('w2', 10)).toEqual([a2]);
        expect(await store.listAttemptsOfWorker('w3', 10)).toEqual([]);
      });
    });
    // ---- end of worker history ------------------------------------------------------------

    // ---- API tokens -----------------------------------------------------------------------
    describe('API tokens', () => {
      it('keeps a token, finds it by id and by secret hash, and lists it per user oldest first', async () => {
        const first = mockApiToken({ userId: 'alice', name: 'ci', createdAt: 1000 });
        const second = mockApiToken({ userId: 'alice', name: 'laptop', createdAt: 2000, expiresAt: 9000 });
        const other = mockApiToken({ userId: 'bob', name: 'ci', createdAt: 1500 });
        for (const token of [second, other, first]) await store.insertApiToken(token);
        expect(await store.getApiToken(first.id)).toEqual(first);
        expect(await store.findApiTokenByHash(second.secretHash)).toEqual(second);
        expect(await store.findApiTokenByHash('0'.repeat(64))).toBeUndefined();
        expect(await store.getApiToken('nope')).toBeUndefined();
        expect((await store.listApiTokens({ userId: 'alice' })).map((t) => t.id)).toEqual([first.id, second.id]);
        expect((await store.listApiTokens({})).map((t) => t.id)).toEqual([first.id, other.id, second.id]);
      });

      it('refuses a second token with the same name for one user as a conflict', async () => {
        await store.insertApiToken(mockApiToken({ userId: 'alice', name: 'ci' }));
        const error = await store.insertApiToken(mockApiToken({ userId: 'alice', name: 'ci' })).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WharfError);
        expect((error as WharfError).code).toBe('conflict');
        expect(await store.listApiTokens({ userId: 'alice' })).toHaveLength(1);
      });

      it('deletes a token once and records its last use', async () => {
        const token = mockApiToken();
        await store.insertApiToken(token);
        await store.touchApiToken(token.id, 4242);
        expect(await store.getApiToken(token.id)).toEqual({ ...token, lastUsedAt: 4242 });
        expect(await store.deleteApiToken(token.id)).toBe(true);
        expect(await store.deleteApiToken(token.id)).toBe(false);
        expect(await store.findApiTokenByHash(token.secretHash)).toBeUndefined();
        await store.touchApiToken(token.id, 5000); // gone: nothing happens
        expect(await store.getApiToken(token.id)).toBeUndefined();
      });
    });
    // ---- end of API tokens ----------------------------------------------------------------

    // ---- registry credentials -------------------------------------------------------------
    describe('registry credentials', () => {
      it('keeps one per user and registry: a second put replaces the first and keeps its id', async () => {
        const first = mockRegistryCredential({ userId: 'alice', registry: 'registry.example:5000', username: 'alice', createdAt: 1000 });
        expect(await store.putRegistryCredential(first)).toEqual(first);
        const hub = mockRegistryCredential({ userId: 'alice', registry: 'docker.io', createdAt: 2000 });
        const bobs = mockRegistryCredential({ userId: 'bob', registry: 'registry.example:5000', createdAt: 1500 });
        await store.putRegistryCredential(hub);
        await store.putRegistryCredential(bobs);
        const replacement = mockRegistryCredential({ userId: 'alice', registry: 'registry.example:5000', username: 'alice2', createdAt: 3000 });
        expect(await store.putRegistryCredential(replacement)).toEqual({ ...replacement, id: first.id });
        expect(await store.getRegistryCredential(first.id)).toEqual({ ...replacement, id: first.id });
        expect(await store.getRegistryCredential(replacement.id)).toBeUndefined();
        expect((await store.listRegistryCredentials({ userId: 'alice' })).map((c) => c.registry)).toEqual(['docker.io', 'registry.example:5000']);
        expect((await store.listRegistryCredentials({})).map((c) => c.id)).toEqual([bobs.id, hub.id, first.id]);
      });

      it('deletes a record once', async () => {
        const credential = mockRegistryCredential();
        await store.putRegistryCredential(credential);
        expect(await store.deleteRegistryCredential(credential.id)).toBe(true);
        expect(await store.deleteRegistryCredential(credential.id)).toBe(false);
        expect(await store.listRegistryCredentials({})).toEqual([]);
      });
    });
    // ---- end of registry credentials ------------------------------------------------------

    // ---- queues and user limits -----------------------------------------------------------
    describe('queues and user limits', () => {
      const queue = (name: string, overrides: Partial<QueueRecord> = {}): QueueRecord => ({
        name,
        defaultPriority: 50,
        preemptionPolicy: 'Never',
        strategy: 'round-robin',
        workerSelector: {},
        constraints: [],
        createdAt: 1000,
        updatedAt: 1000,
        ...overrides,
      });

      it('inserts a queue once, lists them by name, replaces and deletes one', async () => {
        const gpu = queue('gpu-train', { maxGpus: 64, strategy: 'binpack', workerSelector: { pool: 'gpu' }, constraints: [{ key: 'zone', op: 'in', values: ['a'] }] });
        await store.insertQueue(gpu);
        await store.insertQueue(queue('batch'));
        await expect(store.insertQueue(queue('batch'))).rejects.toMatchObject({ code: 'conflict' });
        expect(await store.getQueue('gpu-train')).toEqual(gpu);
        expect((await store.listQueues()).map((q) => q.name)).toEqual(['batch', 'gpu-train']);
        const { maxGpus: _gone, ...changed } = { ...gpu, maxConcurrency: 4, updatedAt: 2000 };
        expect(await store.updateQueue(changed)).toBe(true);
        expect(await store.getQueue('gpu-train')).toEqual(changed);
        expect(await store.updateQueue(queue('nope'))).toBe(false);
        expect(await store.deleteQueue('batch')).toBe(true);
        expect(await store.deleteQueue('batch')).toBe(false);
        expect(await store.getQueue('batch')).toBeUndefined();
      });

      it('keeps one limit per user and queue (and one across queues), replaced by a second put', async () => {
        await store.putUserLimit({ userId: 'bob', queue: 'batch', maxRunning: 2, updatedAt: 1 });
        await store.putUserLimit({ userId: 'ada', queue: 'batch', maxRunning: 8, weight: 3, updatedAt: 1 });
        await store.putUserLimit({ userId: 'ada', maxCpu: 16, updatedAt: 1 });
        await store.putUserLimit({ userId: 'ada', queue: 'batch', maxGpus: 1, updatedAt: 2 });
        expect(await store.listUserLimits()).toEqual([
          { userId: 'ada', maxCpu: 16, updatedAt: 1 },
          { userId: 'ada', queue: 'batch', maxGpus: 1, updatedAt: 2 },
          { userId: 'bob', queue: 'batch', maxRunning: 2, updatedAt: 1 },
        ]);
        expect(await store.deleteUserLimit('ada', undefined)).toBe(true);
        expect(await store.deleteUserLimit('ada', undefined)).toBe(false);
        expect(await store.deleteUserLimit('ada', 'batch')).toBe(true);
        expect((await store.listUserLimits()).map((l) => l.userId)).toEqual(['bob']);
      });
    });
    // ---- end of queues and user limits ----------------------------------------------------

    // ---- retention and garbage collection ---------------------------------------------------
    describe('retention and garbage collection', () => {
      const finished = (finishedAt: number, overrides: Partial<Task> = {}): Task =>
        mockTask({ status: 'succeeded', finishedAt, createdAt: finishedAt - 10, ...overrides });

      it('lists finished tasks oldest finished first, in pages, without active tasks, dead letters or (unless asked) DAG tasks', async () => {
        const old = finished(1000, { id: 'b-old' });
        const tie = finished(1000, { id: 'c-tie', status: 'cancelled' });
        const later = finished(3000, { id: 'a-later', status: 'failed' });
        const dagTask = finished(2000, { id: 'dag-task', dagId: 'run-1', dagTask: 'a' });
        const deadLetter = finished(500, { id: 'dead', status: 'failed', deadLetteredAt: 600 });
        const running = mockTask({ id: 'running', status: 'running', createdAt: 1 });
        await store.commit([old, tie, later, dagTask, deadLetter, running].map((task) => ({ kind: 'insertTask' as const, task })));
        const ids = (tasks: Task[]) => tasks.map((t) => t.id);
        expect(ids(await store.listFinishedTasks({ limit: 10, dagTasks: false }))).toEqual(['b-old', 'c-tie', 'a-later']);
        expect(ids(await store.listFinishedTasks({ limit: 10, dagTasks: true }))).toEqual(['b-old', 'c-tie', 'dag-task', 'a-later']);
        const first = await store.listFinishedTasks({ limit: 1, dagTasks: false });
        expect(ids(first)).toEqual(['b-old']);
        expect(ids(await store.listFinishedTasks({ limit: 10, dagTasks: false, after: { finishedAt: 1000, id: 'b-old' } }))).toEqual(['c-tie', 'a-later']);
        expect(ids(await store.listFinishedTasks({ limit: 10, dagTasks: true, finishedBefore: 3000 }))).toEqual(['b-old', 'c-tie', 'dag-task']);
        expect(await store.countFinishedTasks()).toBe(3);
      });

      it('deletes finished tasks with their attempts, events and files, and leaves active tasks and dead letters alone', async () => {
        const done = finished(1000);
        const attempt = mockAttempt(done, { status: 'succeeded' });
        const running = mockTask({ status: 'running' });
        const deadLetter = finished(1000, { status: 'failed', deadLetteredAt: 1100 });
        const file = { taskId: done.id, userId: done.userId, attemptId: attempt.id, path: 'out.txt', size: 5, sha256: 'a'.repeat(64), createdAt: 1000 };
        await store.commit([
          { kind: 'insertTask', task: done },
          { kind: 'insertAttempt', attempt },
          { kind: 'appendEvent', event: { taskId: done.id, at: 1000, kind: 'submitted', message: 'submitted' } },
          { kind: 'appendEvent', event: { taskId: done.id, at: 1000, kind: 'succeeded', message: 'exit 0' } },
          { kind: 'replaceTaskFiles', taskId: done.id, files: [file] },
          { kind: 'insertTask', task: running },
          { kind: 'insertTask', task: deadLetter },
        ]);
        expect(await store.deleteFinishedTasks([done.id, running.id, deadLetter.id, 'unknown'])).toEqual({ tasks: 1, attempts: 1, events: 2, files: 1 });
        expect(await store.getTask(done.id)).toBeUndefined();
        expect(await store.listAttempts(done.id)).toEqual([]);
        expect(await store.listEvents(done.id)).toEqual([]);
        expect(await store.listFiles({ taskId: done.id })).toEqual([]);
        expect(await store.getTask(running.id)).toBeDefined();
        expect(await store.getTask(deadLetter.id)).toBeDefined();
      });

      it('lists, counts and deletes finished DAG runs only', async () => {
        const oldRun = mockDag({ id: 'run-old', status: 'succeeded', finishedAt: 1000 });
        const newRun = mockDag({ id: 'run-new', status: 'failed', finishedAt: 2000 });
        const live = mockDag({ id: 'run-live', status: 'running' });
        await store.commit([oldRun, newRun, live].map((dag) => ({ kind: 'insertDag' as const, dag })));
        expect((await store.listFinishedDags({ limit: 10 })).map((d) => d.id)).toEqual(['run-old', 'run-new']);
        expect((await store.listFinishedDags({ limit: 10, finishedBefore: 2000 })).map((d) => d.id)).toEqual(['run-old']);
        expect((await store.listFinishedDags({ limit: 10, after: { finishedAt: 1000, id: 'run-old' } })).map((d) => d.id)).toEqual(['run-new']);
        expect(await store.countFinishedDags()).toBe(2);
        expect(await store.deleteFinishedDags(['run-old', 'run-live'])).toBe(1);
        expect(await store.getDag('run-old')).toBeUndefined();
        expect(await store.getDag('run-live')).toBeDefined();
      });

      it('sums the bytes of output files per user', async () => {
        const ada = finished(1000, { userId: 'ada' });
        const bob = finished(1000, { userId: 'bob' });
        const file = (task: Task, path: string, size: number) => ({ taskId: task.id, userId: task.userId, attemptId: 'x', path, size, sha256: 'b'.repeat(64), createdAt: 1 });
        await store.commit([
          { kind: 'insertTask', task: ada },
          { kind: 'insertTask', task: bob },
          { kind: 'replaceTaskFiles', taskId: ada.id, files: [file(ada, 'a', 10), file(ada, 'b', 32)] },
          { kind: 'replaceTaskFiles', taskId: bob.id, files: [file(bob, 'a', 7)] },
        ]);
        expect(await store.sumFileBytesByUser()).toEqual([
          { userId: 'ada', bytes: 42 },
          { userId: 'bob', bytes: 7 },
        ]);
      });
    });
    // ---- end of retention and garbage collection ------------------------------------------

    // ---- leases ---------------------------------------------------------------------------
    describe('leases', () => {
      const claim = (holder: string, address: string, now: number) => ({
        name: 'master',
        holder,
        address,
        hostname: 'host-1',
        httpUrl: `http://${address}`,
        now,
        ttlMs: 5000,
      });

      it('gives a free lease epoch 1, refuses it to others until it expires, then a takeover gets epoch 2', async () => {
        expect(await store.readLease('master')).toBeUndefined();
        const first = await store.acquireLease(claim('a', 'h1:1', 1000));
        expect(first).toEqual({
          acquired: true,
          lease: { name: 'master', holder: 'a', address: 'h1:1', hostname: 'host-1', httpUrl: 'http://h1:1', epoch: 1, acquiredAt: 1000, renewedAt: 1000, expiresAt: 6000 },
        });
        const refused = await store.acquireLease(claim('b', 'h2:1', 5999));
        expect(refused.acquired).toBe(false);
        expect(refused.lease).toMatchObject({ holder: 'a', epoch: 1 });
        const takeover = await store.acquireLease(claim('b', 'h2:1', 6000));
        expect(takeover.acquired).toBe(true);
        expect(takeover.lease).toMatchObject({ holder: 'b', address: 'h2:1', epoch: 2, expiresAt: 11_000 });
        expect(await store.readLease('master')).toEqual(takeover.lease);
      });

      it('lets the same address take its lease back at once, with a new epoch (a restarted master)', async () => {
        await store.acquireLease(claim('a', 'h1:1', 1000));
        const again = await store.acquireLease(claim('a2', 'h1:1', 1001));
        expect(again.acquired).toBe(true);
        expect(again.lease).toMatchObject({ holder: 'a2', epoch: 2 });
        // the same address on another machine is not a restart: it waits like any standby
        expect(await store.acquireLease({ ...claim('x', 'h1:1', 1002), hostname: 'host-2' })).toMatchObject({ acquired: false, lease: { holder: 'a2' } });
      });

      it('renews only for the holder at its epoch; a release lets a standby take over before the TTL', async () => {
        await store.acquireLease(claim('a', 'h1:1', 1000));
        expect(await store.renewLease('master', 'a', 1, 3000, 5000)).toMatchObject({ epoch: 1, renewedAt: 3000, expiresAt: 8000 });
        expect(await store.renewLease('master', 'b', 1, 3000, 5000)).toBeUndefined();
        expect(await store.renewLease('master', 'a', 2, 3000, 5000)).toBeUndefined();
        expect(await store.acquireLease(claim('b', 'h2:1', 7999))).toMatchObject({ acquired: false });
        expect(await store.releaseLease('master', 'b', 1, 4000)).toBe(false);
        expect(await store.releaseLease('master', 'a', 1, 4000)).toBe(true);
        expect(await store.acquireLease(claim('b', 'h2:1', 4000))).toMatchObject({ acquired: true, lease: { epoch: 2 } });
        // the old holder cannot renew or release what it lost
        expect(await store.renewLease('master', 'a', 1, 4001, 5000)).toBeUndefined();
        expect(await store.releaseLease('master', 'a', 1, 4001)).toBe(false);
      });

      it('applies a commit fenced by the current epoch and refuses one with an old epoch as not_leader, applying nothing', async () => {
        await store.acquireLease(claim('a', 'h1:1', 1000));
        const ok = mockTask();
        expect(await store.commit([{ kind: 'expectLeaseEpoch', name: 'master', epoch: 1 }, { kind: 'insertTask', task: ok }])).toBe(true);
        expect(await store.getTask(ok.id)).toEqual(ok);
        await store.acquireLease(claim('b', 'h2:1', 6000));
        const stale = mockTask();
        await expect(store.commit([{ kind: 'expectLeaseEpoch', name: 'master', epoch: 1 }, { kind: 'insertTask', task: stale }])).rejects.toMatchObject({
          code: 'not_leader',
        });
        expect(await store.getTask(stale.id)).toBeUndefined();
        // a failed task condition is still an answer of false, not a refusal of the leader
        const missing = { kind: 'updateTask' as const, taskId: 'nope', patch: { status: 'failed' as const } };
        expect(await store.commit([{ kind: 'expectLeaseEpoch', name: 'master', epoch: 2 }, missing])).toBe(false);
        // no lease at all: refused too
        await expect(store.commit([{ kind: 'expectLeaseEpoch', name: 'other', epoch: 1 }, { kind: 'insertTask', task: mockTask() }])).rejects.toMatchObject({
          code: 'not_leader',
        });
        if (store.commitMany) {
          const a = mockTask();
          const b = mockTask();
          await expect(
            store.commitMany([
              [{ kind: 'expectLeaseEpoch', name: 'master', epoch: 2 }, { kind: 'insertTask', task: a }],
              [{ kind: 'expectLeaseEpoch', name: 'master', epoch: 1 }, { kind: 'insertTask', task: b }],
            ]),
          ).rejects.toMatchObject({ code: 'not_leader' });
          // the whole batch is refused: its first group too
          expect(await store.getTask(a.id)).toBeUndefined();
          expect(await store.getTask(b.id)).toBeUndefined();
        }
      });
    });
    // ---- end of leases --------------------------------------------------------------------
  });
}

export function mockRegistryCredential(overrides: Partial<RegistryCredentialRecord> = {}): RegistryCredentialRecord {
  return {
    id: randomUUID(),
    userId: 'user-1',
    registry: 'registry.example',
    username: 'someone',
    secret: { iv: 'aXY', tag: 'dGFn', data: 'ZGF0YQ' },
    createdAt: Date.now(),
    ...overrides,
  };
}

export function mockApiToken(overrides: Partial<ApiTokenRecord> = {}): ApiTokenRecord {
  return {
    id: randomUUID(),
    userId: 'user-1',
    name: `token-${randomUUID().slice(0, 8)}`,
    secretHash: createHash('sha256').update(randomUUID()).digest('hex'),
    hint: 'wharf_pat_abcdef',
    createdAt: Date.now(),
    ...overrides,
  };
}

function mockWorker(id: string, overrides: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    id,
    name: id,
    hostname: 'host',
    status: 'ready',
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 1, memory: 1, gpu: 0, disk: 0 },
    version: '0.1.0',
    registeredAt: 1,
    lastHeartbeatAt: 1,
    ...overrides,
  };
}

function mockInvite(overrides: Partial<InviteRecord> = {}): InviteRecord {
  return {
    id: randomUUID(),
    codeHash: createHash('sha256').update(randomUUID()).digest('hex'),
    email: `${randomUUID()}@example.com`,
    role: 'user',
    createdBy: 'admin-1',
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    ...overrides,
  };
}

function mockAudit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: randomUUID(),
    at: Date.now(),
    userId: 'alice',
    userEmail: 'alice@example.com',
    address: '127.0.0.1',
    action: 'task.submit',
    object: `task:${randomUUID()}`,
    outcome: 'ok',
    status: 201,
    ...overrides,
  };
}

function mockJoinToken(overrides: Partial<JoinTokenRecord> & { id: string }): JoinTokenRecord {
  return {
    secretHash: 'f'.repeat(64),
    description: '',
    createdBy: 'admin@wharf.local',
    createdAt: Date.now(),
    uses: 0,
    ...overrides,
  };
}

export function mockDag(overrides: Partial<DagRun> = {}): DagRun {
  return {
    id: randomUUID(),
    name: 'pipeline',
    userId: 'user-1',
    status: 'running',
    useCache: true,
    cancelRequested: false,
    createdAt: Date.now(),
    version: 1,
    spec: [],
    tasks: [{ name: 'a', state: 'pending' }],
    ...overrides,
  };
}
