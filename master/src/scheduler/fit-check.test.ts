import { describe, expect, it } from 'vitest';
import type { UserLimitRecord } from '../records/queue.js';
import { checkFit, type FitWorker } from './fit-check.js';
import type { QueuePolicy, SchedulingPolicy, TaskSnapshot } from './placement.js';
import { NO_USAGE, type Usage, type UsageView } from './usage.js';

const GiB = 1024 ** 3;
const none = { cpu: 0, memory: 0, gpu: 0, disk: 0 };

function worker(id: string, overrides: Partial<FitWorker> = {}): FitWorker {
  return {
    id,
    name: `name-${id}`,
    status: 'ready',
    connected: true,
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 4, memory: 8 * GiB, gpu: 0, disk: 0 },
    reserved: { ...none },
    ...overrides,
  };
}

const task = (overrides: Partial<TaskSnapshot> = {}): TaskSnapshot => ({
  id: 'this-request',
  runtime: 'docker',
  resources: { cpu: 1, memory: GiB, gpu: 0, disk: 0 },
  labels: {},
  queue: 'default',
  userId: 'u1',
  ...overrides,
});

/** A fake policy: one queue with the given settings, user limits as given. */
function fakePolicy(queue: Partial<QueuePolicy>, user?: Partial<UserLimitRecord>): SchedulingPolicy {
  const policy: QueuePolicy = { strategy: 'round-robin', workerSelector: {}, constraints: [], ...queue };
  return {
    queue: () => policy,
    userInQueue: () => undefined,
    user: () => (user ? ({ userId: 'u1', ...user } as UserLimitRecord) : undefined),
    userLabel: () => 'ada@example.com',
  };
}

function fakeUsage(queue: Partial<Usage>, user: Partial<Usage> = {}): UsageView {
  return {
    queue: () => ({ ...NO_USAGE, ...queue }),
    userInQueue: () => NO_USAGE,
    user: () => ({ ...NO_USAGE, ...user }),
  } as unknown as UsageView;
}

describe('checkFit', () => {
  it('lists every reason a worker cannot take the task, and where the planner would place it', () => {
    const answer = checkFit({
      now: 0,
      task: task({ labels: { zone: 'a' }, constraints: [{ key: 'ssd', op: 'exists' }], resources: { cpu: 2, memory: 16 * GiB, gpu: 0, disk: 0 } }),
      workers: [
        worker('w1', { labels: { zone: 'b' }, runtimes: ['exec'] }),
        worker('w2', { labels: { zone: 'a', ssd: 'yes' }, capacity: { cpu: 4, memory: 32 * GiB, gpu: 0, disk: 0 }, reserved: { cpu: 3, memory: 0, gpu: 0, disk: 0 } }),
        worker('w3', { labels: { zone: 'a', ssd: 'yes' }, capacity: { cpu: 4, memory: 32 * GiB, gpu: 0, disk: 0 } }),
        worker('w4', { status: 'draining', labels: { zone: 'a', ssd: 'yes' }, capacity: { cpu: 4, memory: 32 * GiB, gpu: 0, disk: 0 } }),
        worker('w5', { connected: false, labels: { zone: 'a', ssd: 'yes' }, capacity: { cpu: 4, memory: 32 * GiB, gpu: 0, disk: 0 } }),
      ],
    });
    expect(answer.fits).toBe(true);
    expect(answer.workerId).toBe('w3');
    expect(Object.fromEntries(answer.workers.map((w) => [w.id, w.reasons]))).toEqual({
      w1: ['does not offer runtime docker (offers exec)', 'lacks label zone=a (has zone=b)', 'does not match the constraint ssd exists', 'memory: asks 16Gi, the worker has 8Gi in all'],
      w2: ['cpu: asks 2, 1 free now (3 reserved by running tasks)'],
      w3: [],
      w4: ['draining: takes no new tasks'],
      w5: ['not connected (lost)'],
    });
    expect(answer.workers.find((w) => w.id === 'w3')).toMatchObject({ name: 'name-w3', fits: true });
    expect(answer.queue).toEqual({ name: 'default', fits: true, reasons: [] });
  });

  it("says the queue's caps and the user's limits that hold the task back, even when a worker has room", () => {
    const answer = checkFit({
      now: 0,
      task: task(),
      workers: [worker('w1')],
      policy: fakePolicy({ maxConcurrency: 2, workerSelector: {} }, { maxRunning: 1 }),
      usage: fakeUsage({ count: 2, cpu: 2 }, { count: 1, cpu: 1 }),
    });
    expect(answer.fits).toBe(false);
    expect(answer.workerId).toBeNull();
    expect(answer.workers[0]!.fits).toBe(true);
    expect(answer.queue.reasons).toEqual(['queue default: 2/2 running tasks', 'user ada@example.com: 1/1 running tasks in all queues']);
  });

  it("applies the queue's worker selector and constraints, a pin, a reservation held for another task and free GPU ids", () => {
    const gpuWorker = (id: string, free: number) =>
      worker(id, { labels: { pool: 'gpu' }, capacity: { cpu: 4, memory: 8 * GiB, gpu: 2, disk: 0 }, gpuIds: { total: 2, free } });
    const answer = checkFit({
      now: 0,
      task: task({ resources: { cpu: 1, memory: GiB, gpu: 1, disk: 0 } }),
      workers: [worker('cpu-only'), gpuWorker('g1', 0), gpuWorker('g2', 2), gpuWorker('g3', 2)],
      policy: fakePolicy({ workerSelector: { pool: 'gpu' }, constraints: [{ key: 'pool', op: 'notIn', values: ['cpu'] }] }),
      reservations: new Map([['waiting-task', { workerId: 'g2', since: 0, queue: 'default', priority: 50 }]]),
    });
    expect(Object.fromEntries(answer.workers.map((w) => [w.id, w.reasons]))).toEqual({
      'cpu-only': ["lacks the queue's worker selector pool=gpu", 'gpu: asks 1, the worker has 0 in all'],
      g1: ['0 of its GPU ids free (2 in all), 1 wanted'],
      g2: ['reserved for waiting task waiting-task: no other task starts there until it fits'],
      g3: [],
    });
    expect(answer.workerId).toBe('g3');

    const pinned = checkFit({ now: 0, task: task({ pinnedWorkerId: 'b' }), workers: [worker('a'), worker('b', { status: 'draining' })] });
    expect(pinned.fits).toBe(false);
    expect(pinned.workers.map((w) => w.reasons)).toEqual([['the task is pinned to worker b'], ['draining: takes no new tasks']]);
  });

  it('names a full queue (maxTasks) as a queue reason', () => {
    const answer = checkFit({ now: 0, task: task(), workers: [worker('w1')], queueFull: 'queue default: holds 10/10 unfinished tasks (maxTasks)' });
    expect(answer.fits).toBe(false);
    expect(answer.queue.reasons).toEqual(['queue default: holds 10/10 unfinished tasks (maxTasks)']);
  });

  it('with no worker at all, fits is false and the list is empty', () => {
    expect(checkFit({ now: 0, task: task(), workers: [] })).toMatchObject({ fits: false, workerId: null, workers: [] });
  });
});
