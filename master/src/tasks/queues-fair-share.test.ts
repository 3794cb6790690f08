// Queues in the task lifecycle, on the harness (real SQLite, the real systems, recording fakes of
// the workers' streams, a manual clock): weighted fair shares converge under contention, a user
// with 10,000 queued tasks does not starve one who submits later, a large task gets its
// reservation, and what a submission may ask of a queue.
import { afterEach, describe, expect, it } from 'vitest';
import { QueueCatalog } from '../queues/queue-catalog.js';
import { defaultQueueRecord } from '../records/queue.js';
import type { NewTask } from '../records/task.js';
import type { User } from '../records/user.js';
import { HARNESS_ADMIN, HARNESS_USER, TaskHarness } from './testing/harness.js';

const BOB: User = { id: 'user-bob', email: 'bob@example.com', name: 'Bob', role: 'user', createdAt: 0 };
let harness: TaskHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function job(overrides: Partial<NewTask> = {}): NewTask {
  return {
    name: 'job',
    image: 'wharf/busybox:latest',
    command: ['true'],
    env: {},
    runtime: 'docker',
    resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
    maxRetries: 0,
    timeoutSeconds: 0,
    labels: {},
    ...overrides,
  };
}

/** A catalog with the default queue and `batch`, and these user limits in `batch`. */
function catalogWith(weights: Record<string, number> = {}): QueueCatalog {
  const catalog = new QueueCatalog();
  catalog.set({ ...defaultQueueRecord(0), name: 'batch', defaultPriority: 30 });
  for (const [userId, weight] of Object.entries(weights)) catalog.setUserLimit({ userId, queue: 'batch', weight, updatedAt: 0 });
  catalog.rememberUser(HARNESS_USER);
  catalog.rememberUser(BOB);
  return catalog;
}

/** The attempts active now, by the id of the user whose task it is. */
function running(h: TaskHarness): { attemptId: string; workerId: string; userId: string; createdAt: number }[] {
  return [...h.workers.keys()].flatMap((workerId) =>
    h
      .channel(workerId)
      .assignments()
      .map((a) => ({ attemptId: a.attempt.id, workerId, userId: a.task.userId, createdAt: a.attempt.createdAt })),
  );
}

async function submitMany(h: TaskHarness, user: User, count: number, overrides: Partial<NewTask> = {}): Promise<void> {
  for (let done = 0; done < count; done += 1000) {
    await h.tasks.submitMany(user, Array.from({ length: Math.min(1000, count - done) }, () => job(overrides)));
  }
  await h.settle();
}

describe('fair share between users in a queue', () => {
  it('converges to the weights 1 and 3 within 10 % under contention', async () => {
    harness = await TaskHarness.start({ tasks: { queues: catalogWith({ [HARNESS_USER.id]: 1, [BOB.id]: 3 }) } });
    await harness.connectWorker('w1', { capacity: { cpu: 4 } });
    await harness.connectWorker('w2', { capacity: { cpu: 4 } });
    await submitMany(harness, HARNESS_USER, 600, { queue: 'batch' });
    await submitMany(harness, BOB, 600, { queue: 'batch' });

    // completions in a pseudo-random order (seeded): each frees a slot the scheduler refills
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const finished = new Set<string>();
    const COMPLETIONS = 400;
    // after each completion and the pass it triggers: the fraction of the cluster each user holds
    let adaShare = 0;
    let bobShare = 0;
    for (let i = 0; i < COMPLETIONS; i += 1) {
      const active = running(harness).filter((a) => !finished.has(a.attemptId));
      expect(active).toHaveLength(8); // the cluster stays full: both users have work waiting
      const done = active[Math.floor(random() * active.length)]!;
      finished.add(done.attemptId);
      await harness.finished(done.workerId, done.attemptId, 'succeeded');
      const now = running(harness).filter((a) => !finished.has(a.attemptId));
      adaShare += now.filter((a) => a.userId === HARNESS_USER.id).length / 8 / COMPLETIONS;
      bobShare += now.filter((a) => a.userId === BOB.id).length / 8 / COMPLETIONS;
    }
    // 25 % and 75 % of the cluster, each within 10 % of itself
    expect(Math.abs(adaShare - 0.25) / 0.25).toBeLessThanOrEqual(0.1);
    expect(Math.abs(bobShare - 0.75) / 0.75).toBeLessThanOrEqual(0.1);
    // and at every moment: 2 and 6 of the 8 slots
    const now = running(harness).filter((a) => !finished.has(a.attemptId));
    expect(now.filter((a) => a.userId === BOB.id)).toHaveLength(6);
    const status = harness.tasks.queueStatus('batch');
    expect(status.users.map((u) => [u.user, u.running, u.share])).toEqual([
      ['ada@example.com', 2, 0.25],
      ['bob@example.com', 6, 0.75],
    ]);
  });

  it('starts a second user\'s one task in the first pass after a slot frees, ahead of 10,000 queued before it', async () => {
    harness = await TaskHarness.start({ tasks: { queues: catalogWith() } });
    await harness.connectWorker('w1', { capacity: { cpu: 4 } });
    await submitMany(harness, HARNESS_USER, 10_000, { queue: 'batch' });
    expect(harness.tasks.counts()).toEqual({ queued: 9996, assigned: 4, running: 0 });
    const late = await harness.tasks.submit(BOB, job({ queue: 'batch' }));
    await harness.settle();
    expect((await harness.task(late.id)).reason).toBe('waiting for free resources on a matching worker');

    const first = running(harness)[0]!;
    await harness.finished('w1', first.attemptId, 'succeeded');
    const task = await harness.task(late.id);
    expect(task.status).toBe('assigned');
    expect(task.queue).toBe('batch');
    expect(task.priority).toBe(30); // the queue's default priority
  });
});

describe('queue caps across a master restart', () => {
  it('counts the tasks placed before the restart against the queue cap after it', async () => {
    const catalog = catalogWith();
    catalog.set({ ...catalog.get('batch')!, maxConcurrency: 2 });
    harness = await TaskHarness.start({ tasks: { queues: catalog } });
    await harness.connectWorker('w1');
    await submitMany(harness, HARNESS_USER, 3, { queue: 'batch' });
    const held = running(harness).map((a) => a.attemptId);
    expect(held).toHaveLength(2);
    harness = await harness.restart();
    await harness.connectWorker('w1', { holding: held });
    expect(harness.tasks.counts()).toEqual({ queued: 1, assigned: 2, running: 0 });
    const waiting = harness.tasks.queueSnapshot().tasks[0]!.task;
    expect(waiting.reason).toBe('queue batch: 2/2 running tasks');
    expect(harness.tasks.queueStatus('batch')).toMatchObject({ queued: 1, running: 2 });
  });
});

describe('reservations', () => {
  it('gives a starving large task a reservation and places it there once the worker drains', async () => {
    harness = await TaskHarness.start({ tasks: { reserveAfterMs: 60_000 } });
    await harness.connectWorker('w1', { capacity: { cpu: 4 } });
    await harness.connectWorker('w2', { capacity: { cpu: 4 } });
    await submitMany(harness, HARNESS_USER, 8);
    const big = await harness.tasks.submit(HARNESS_USER, job({ name: 'big', resources: { cpu: 4, memory: 64 * 1024 ** 2 } }));
    await submitMany(harness, HARNESS_USER, 100);
    await harness.settle();
    expect((await harness.task(big.id)).reason).toBe('waiting for free resources on a matching worker');

    await harness.advance(61_000);
    const onW1 = () => running(harness!).filter((a) => a.workerId === 'w1');
    const done = new Set<string>();
    // one small task on w1 ends: the large task has waited past the bound and reserves w1
    const [firstOnW1] = onW1();
    done.add(firstOnW1!.attemptId);
    await harness.finished('w1', firstOnW1!.attemptId, 'succeeded');
    const reserved = await harness.task(big.id);
    expect(reserved.reason).toMatch(/^reserved worker w1 since \d\d:\d\d:\d\d$/);
    expect(reserved.events.filter((e) => e.kind === 'reserved').map((e) => e.message)).toEqual(['reserved worker w1: no other task starts there until this one fits']);
    // small tasks still go to w2 as it frees, never to w1
    const onW2 = running(harness).find((a) => a.workerId === 'w2')!;
    await harness.finished('w2', onW2.attemptId, 'succeeded');
    done.add(onW2.attemptId);
    expect(running(harness).filter((a) => a.workerId === 'w2' && !done.has(a.attemptId))).toHaveLength(4);
    for (const attempt of onW1().filter((a) => !done.has(a.attemptId))) {
      expect(running(harness).filter((a) => a.workerId === 'w1' && !done.has(a.attemptId) && a.attemptId !== attempt.attemptId).length).toBeLessThan(4);
      done.add(attempt.attemptId);
      await harness.finished('w1', attempt.attemptId, 'succeeded');
    }
    const placed = await harness.task(big.id);
    expect(placed.status).toBe('assigned');
    expect(placed.workerId).toBe('w1');
  });
});

describe('what a submission may ask of a queue', () => {
  it('refuses an unknown queue, naming the field', async () => {
    harness = await TaskHarness.start();
    await expect(harness.tasks.submit(HARNESS_USER, job({ queue: 'nope' }))).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^queue: there is no queue "nope"/) });
  });

  it('lets only admins pin a task to a worker, and places a pinned task only there', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w1');
    await harness.connectWorker('w2');
    await expect(harness.tasks.submit(HARNESS_USER, job({ workerId: 'w2' }))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^workerId: /) });
    const pinned = await harness.submit({ workerId: 'w2' }, HARNESS_ADMIN);
    const again = await harness.submit({ workerId: 'w2' }, HARNESS_ADMIN);
    expect((await harness.task(pinned.id)).workerId).toBe('w2');
    expect((await harness.task(again.id)).workerId).toBe('w2');
    expect((await harness.task(pinned.id)).pinnedWorkerId).toBe('w2');
  });

  it('refuses a batch that would take a queue past maxTasks', async () => {
    const catalog = catalogWith();
    catalog.set({ ...catalog.get('batch')!, maxTasks: 3 });
    harness = await TaskHarness.start({ tasks: { queues: catalog } });
    await submitMany(harness, HARNESS_USER, 2, { queue: 'batch' });
    await expect(harness.tasks.submitMany(HARNESS_USER, [job({ queue: 'batch' }), job({ queue: 'batch' })])).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/^queue batch: holds 2\/3 unfinished tasks \(maxTasks\)/),
    });
    await harness.tasks.submit(HARNESS_USER, job({ queue: 'batch' }));
  });
});
