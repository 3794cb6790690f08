// The pure planner with queues: caps with reasons, user limits, weighted DRF between users,
// strategies, label constraints, pinning and reservations. Fixture builders as in placement.test.ts.
import { describe, expect, it } from 'vitest';
import type { UserLimitRecord } from '../records/queue.js';
import type { Resources } from '../records/resources.js';
import { planPlacements, type QueuePolicy, type SchedulingPolicy, type SchedulingSnapshot, type TaskSnapshot, type TaskStream, type WorkerSnapshot } from './placement.js';
import { UsageLedger } from './usage.js';

const GiB = 1024 ** 3;

function mockWorker(id: string, overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    id,
    status: 'ready',
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 4, memory: 8 * GiB, gpu: 0, disk: 0 },
    reserved: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    ...overrides,
  };
}

let seq = 0;
function mockTask(id: string, resources: Partial<Resources> = {}, overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  seq += 1;
  return { id, runtime: 'docker', labels: {}, resources: { cpu: 1, memory: GiB, gpu: 0, disk: 0, ...resources }, priority: 50, seq, ...overrides };
}

function stream(queue: string, userId: string, tasks: TaskSnapshot[]): TaskStream {
  return { queue, userId, tasks };
}

function mockPolicy(queues: Record<string, Partial<QueuePolicy>> = {}, limits: UserLimitRecord[] = []): SchedulingPolicy {
  return {
    queue: (name) => (name in queues || name === 'default' ? { strategy: 'round-robin', workerSelector: {}, constraints: [], ...queues[name] } : undefined),
    userInQueue: (queue, userId) => limits.find((l) => l.userId === userId && l.queue === queue),
    user: (userId) => limits.find((l) => l.userId === userId && l.queue === undefined),
    userLabel: (userId) => userId,
  };
}

function plan(snapshot: Partial<SchedulingSnapshot> & Pick<SchedulingSnapshot, 'workers'>) {
  return planPlacements({ now: 1_000_000, cursor: 0, ...snapshot });
}

describe('queue caps', () => {
  it('holds tasks past the queue maxConcurrency and says which limit', () => {
    const result = plan({
      workers: [mockWorker('w1')],
      streams: [stream('batch', 'ada', [mockTask('a'), mockTask('b'), mockTask('c')])],
      policy: mockPolicy({ batch: { maxConcurrency: 2 } }),
    });
    expect(result.placements.map((p) => p.taskId)).toEqual(['a', 'b']);
    expect(result.waiting.get('c')).toBe('queue batch: 2/2 running tasks');
  });

  it('counts what is already placed: a queue whose gpus are all in use waits with the gpu figure', () => {
    const usage = new UsageLedger();
    usage.charge('att-1', 'gpu-train', 'ada', { cpu: 1, memory: GiB, gpu: 64 });
    const gpuWorker = mockWorker('w1', { capacity: { cpu: 64, memory: 512 * GiB, gpu: 128, disk: 0 } });
    const result = plan({
      workers: [gpuWorker],
      streams: [stream('gpu-train', 'bob', [mockTask('g', { gpu: 1 })])],
      policy: mockPolicy({ 'gpu-train': { maxGpus: 64 } }),
      usage,
    });
    expect(result.placements).toEqual([]);
    expect(result.waiting.get('g')).toBe('queue gpu-train: 64/64 gpus in use');
  });

  it('names cpu and memory caps, and the ask of a task that would go past them', () => {
    const result = plan({
      workers: [mockWorker('w1', { capacity: { cpu: 16, memory: 64 * GiB, gpu: 0, disk: 0 } })],
      streams: [stream('small', 'ada', [mockTask('a', { cpu: 2 }), mockTask('b', { cpu: 2 })]), stream('mem', 'ada', [mockTask('m', { cpu: 1, memory: 3 * GiB })])],
      policy: mockPolicy({ small: { maxCpu: 3 }, mem: { maxMemory: 2 * GiB } }),
    });
    expect(result.placements.map((p) => p.taskId)).toEqual(['a']);
    expect(result.waiting.get('b')).toBe('queue small: 2/3 cpu in use; the task asks for 2');
    expect(result.waiting.get('m')).toBe('queue mem: 0B/2Gi memory in use; the task asks for 3Gi');
  });

  it('leaves other queues alone when one is capped', () => {
    const result = plan({
      workers: [mockWorker('w1')],
      streams: [stream('capped', 'ada', [mockTask('a'), mockTask('b')]), stream('open', 'ada', [mockTask('c')])],
      policy: mockPolicy({ capped: { maxConcurrency: 1 }, open: {} }),
    });
    expect(result.placements.map((p) => p.taskId).sort()).toEqual(['a', 'c']);
    expect(result.waiting.get('b')).toBe('queue capped: 1/1 running tasks');
  });
});

describe('user limits', () => {
  it('holds a user at their running-task limit in a queue', () => {
    const result = plan({
      workers: [mockWorker('w1')],
      streams: [stream('batch', 'ada', [mockTask('a1'), mockTask('a2')]), stream('batch', 'bob', [mockTask('b1')])],
      policy: mockPolicy({ batch: {} }, [{ userId: 'ada', queue: 'batch', maxRunning: 1, updatedAt: 0 }]),
    });
    expect(result.placements.map((p) => p.taskId).sort()).toEqual(['a1', 'b1']);
    expect(result.waiting.get('a2')).toBe('user ada: 1/1 running tasks in queue batch');
  });

  it('holds a user at their limit across queues', () => {
    const usage = new UsageLedger();
    usage.charge('x', 'other', 'ada', { cpu: 3, memory: 0, gpu: 0 });
    const result = plan({
      workers: [mockWorker('w1', { capacity: { cpu: 16, memory: 64 * GiB, gpu: 0, disk: 0 } })],
      streams: [stream('batch', 'ada', [mockTask('a1', { cpu: 2 })])],
      policy: mockPolicy({ batch: {} }, [{ userId: 'ada', maxCpu: 4, updatedAt: 0 }]),
      usage,
    });
    expect(result.placements).toEqual([]);
    expect(result.waiting.get('a1')).toBe('user ada: 3/4 cpu in use in all queues; the task asks for 2');
  });
});

describe('fair share (weighted DRF within a queue)', () => {
  it('gives the next slot to the user with the smaller dominant share, not to the older task', () => {
    const usage = new UsageLedger();
    for (let i = 0; i < 3; i += 1) usage.charge(`ada-${i}`, 'batch', 'ada', { cpu: 1, memory: GiB, gpu: 0 });
    const ada = ['a1', 'a2', 'a3'].map((id) => mockTask(id));
    const bob = [mockTask('b1')]; // submitted after all of ada's
    const result = plan({
      workers: [mockWorker('w1', { reserved: { cpu: 3, memory: 3 * GiB, gpu: 0, disk: 0 } })],
      streams: [stream('batch', 'ada', ada), stream('batch', 'bob', bob)],
      policy: mockPolicy({ batch: {} }),
      usage,
    });
    expect(result.placements).toEqual([{ taskId: 'b1', workerId: 'w1' }]);
  });

  it('shares an empty cluster by weight: weights 1 and 3 get 1 and 3 of 4 slots', () => {
    const result = plan({
      workers: [mockWorker('w1')],
      streams: [
        stream('batch', 'ada', Array.from({ length: 10 }, (_, i) => mockTask(`a${i}`))),
        stream('batch', 'bob', Array.from({ length: 10 }, (_, i) => mockTask(`b${i}`))),
      ],
      policy: mockPolicy({ batch: {} }, [{ userId: 'bob', queue: 'batch', weight: 3, updatedAt: 0 }]),
    });
    const placed = result.placements.map((p) => p.taskId[0]);
    expect(placed.filter((u) => u === 'a')).toHaveLength(1);
    expect(placed.filter((u) => u === 'b')).toHaveLength(3);
  });

  it('still orders by priority first: a higher-priority head goes before a smaller share', () => {
    const usage = new UsageLedger();
    usage.charge('x', 'batch', 'ada', { cpu: 2, memory: 0, gpu: 0 });
    const result = plan({
      workers: [mockWorker('w1', { capacity: { cpu: 3, memory: 8 * GiB, gpu: 0, disk: 0 }, reserved: { cpu: 2, memory: 0, gpu: 0, disk: 0 } })],
      streams: [stream('batch', 'ada', [mockTask('urgent', {}, { priority: 90 })]), stream('batch', 'bob', [mockTask('normal')])],
      policy: mockPolicy({ batch: {} }),
      usage,
    });
    expect(result.placements.map((p) => p.taskId)).toEqual(['urgent']);
  });
});

describe('strategies', () => {
  const workers = () => [
    mockWorker('w1', { reserved: { cpu: 1, memory: 0, gpu: 0, disk: 0 } }),
    mockWorker('w2', { reserved: { cpu: 3, memory: 0, gpu: 0, disk: 0 } }),
    mockWorker('w3'),
  ];

  it('binpack puts a task on the most allocated worker that fits', () => {
    const result = plan({ workers: workers(), streams: [stream('packed', 'ada', [mockTask('a', { memory: 0 }), mockTask('b', { memory: 0 })])], policy: mockPolicy({ packed: { strategy: 'binpack' } }) });
    // w2 (3/4) takes one and is full; then w1 (1/4) is the most allocated with room
    expect(result.placements.map((p) => p.workerId)).toEqual(['w2', 'w1']);
  });

  it('spread puts a task on the least allocated worker that fits', () => {
    const result = plan({ workers: workers(), streams: [stream('spread', 'ada', [mockTask('a', { memory: 0 }), mockTask('b', { memory: 0 })])], policy: mockPolicy({ spread: { strategy: 'spread' } }) });
    // w3 (0/4) first, then w3 at 1/4 ties w1 at 1/4: the first in order wins
    expect(result.placements.map((p) => p.workerId)).toEqual(['w3', 'w1']);
  });
});

describe('constraints, worker selectors and pinning', () => {
  const zoned = () => [mockWorker('wa', { labels: { zone: 'a' } }), mockWorker('wb', { labels: { zone: 'b', ssd: 'yes' } }), mockWorker('wc')];

  it('matches in, notIn, exists and notExists', () => {
    const t = (id: string, op: 'in' | 'notIn' | 'exists' | 'notExists', values?: string[]) => mockTask(id, {}, { constraints: [{ key: op.includes('xists') ? 'ssd' : 'zone', op, values }] });
    const cases: [TaskSnapshot, string[]][] = [
      [t('in', 'in', ['b']), ['wb']],
      [t('notIn', 'notIn', ['a', 'b']), ['wc']],
      [t('exists', 'exists'), ['wb']],
      [t('notExists', 'notExists'), ['wa', 'wc']],
    ];
    for (const [task, allowed] of cases) {
      const result = plan({ workers: zoned(), tasks: [task] });
      expect(allowed, task.id).toContain(result.placements[0]?.workerId);
    }
  });

  it('says which constraint no worker matches', () => {
    const result = plan({ workers: zoned(), tasks: [mockTask('x', {}, { constraints: [{ key: 'zone', op: 'in', values: ['c'] }] })] });
    expect(result.waiting.get('x')).toBe('no ready worker with runtime docker matches the constraint zone in (c)');
  });

  it("applies the queue's worker selector and constraints to every task of the queue", () => {
    const result = plan({
      workers: zoned(),
      streams: [stream('ssd', 'ada', [mockTask('s1'), mockTask('s2')]), stream('notb', 'ada', [mockTask('n1')])],
      policy: mockPolicy({ ssd: { workerSelector: { ssd: 'yes' } }, notb: { constraints: [{ key: 'zone', op: 'notIn', values: ['b'] }] } }),
    });
    const where = new Map(result.placements.map((p) => [p.taskId, p.workerId]));
    expect(where.get('s1')).toBe('wb');
    expect(where.get('s2')).toBe('wb');
    expect(['wa', 'wc']).toContain(where.get('n1'));
  });

  it('places a pinned task only on its worker, and says why it waits', () => {
    const full = mockWorker('w1', { reserved: { cpu: 4, memory: 0, gpu: 0, disk: 0 } });
    const result = plan({
      workers: [full, mockWorker('w2')],
      tasks: [mockTask('p', {}, { pinnedWorkerId: 'w1' }), mockTask('q', {}, { pinnedWorkerId: 'w2' }), mockTask('r', {}, { pinnedWorkerId: 'gone' })],
    });
    expect(result.placements).toEqual([{ taskId: 'q', workerId: 'w2' }]);
    expect(result.waiting.get('p')).toBe('waiting for free resources on its pinned worker w1');
    expect(result.waiting.get('r')).toBe('pinned to worker gone, which is not connected');
  });
});

describe('reservations (no starvation)', () => {
  const big = (waitingSince: number) => mockTask('big', { cpu: 4 }, { waitingSince });

  it('reserves a worker for a large task that waited past the bound, and keeps small tasks off it', () => {
    const workers = [mockWorker('w1', { reserved: { cpu: 3, memory: 0, gpu: 0, disk: 0 } }), mockWorker('w2', { reserved: { cpu: 2, memory: 0, gpu: 0, disk: 0 } })];
    const first = plan({ now: 100_000, workers, tasks: [big(0), mockTask('small', { cpu: 1, memory: 0 })], reserveAfterMs: 60_000 });
    // w2 needs the least freed (2 cpus) to fit it: reserved there; the small task goes to w1
    expect(first.reservations.get('big')).toMatchObject({ workerId: 'w2', since: 100_000 });
    expect(first.waiting.get('big')).toBe('reserved worker w2 since 00:01:40');
    expect(first.placements).toEqual([{ taskId: 'small', workerId: 'w1' }]);

    // the next pass: w1 is full, w2 has room for small tasks but is held
    const next = plan({
      now: 101_000,
      workers: [mockWorker('w1', { reserved: { cpu: 4, memory: 0, gpu: 0, disk: 0 } }), mockWorker('w2', { reserved: { cpu: 1, memory: 0, gpu: 0, disk: 0 } })],
      tasks: [big(0), mockTask('small2', { cpu: 1, memory: 0 })],
      reservations: first.reservations,
      reserveAfterMs: 60_000,
    });
    expect(next.placements).toEqual([]);
    expect(next.waiting.get('small2')).toBe('waiting for free resources on a matching worker');
    expect(next.waiting.get('big')).toBe('reserved worker w2 since 00:01:40');

    // w2 drains: the large task gets it, and the reservation ends
    const last = plan({ now: 102_000, workers: [mockWorker('w1', { reserved: { cpu: 4, memory: 0, gpu: 0, disk: 0 } }), mockWorker('w2')], tasks: [big(0)], reservations: next.reservations, reserveAfterMs: 60_000 });
    expect(last.placements).toEqual([{ taskId: 'big', workerId: 'w2' }]);
    expect(last.reservations.size).toBe(0);
  });

  it('reserves nothing before the bound, nor with reservations off', () => {
    const workers = [mockWorker('w1', { reserved: { cpu: 3, memory: 0, gpu: 0, disk: 0 } })];
    expect(plan({ now: 30_000, workers, tasks: [big(0)], reserveAfterMs: 60_000 }).reservations.size).toBe(0);
    expect(plan({ now: 300_000, workers, tasks: [big(0)] }).reservations.size).toBe(0);
  });
});
