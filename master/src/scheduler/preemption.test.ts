// Priority preemption in the pure planner: which running attempts a task that fits nowhere
// evicts (issue 13, point 2). Fixture builders as in queue-placement.test.ts.
import { describe, expect, it } from 'vitest';
import type { Resources } from '../records/resources.js';
import { chooseVictims, planPlacements, type QueuePolicy, type RunningSnapshot, type SchedulingPolicy, type SchedulingSnapshot, type TaskSnapshot, type TaskStream, type WorkerSnapshot } from './placement.js';

const GiB = 1024 ** 3;
const NOW = 1_000_000;

function mockWorker(id: string, reservedCpu: number, overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    id,
    status: 'ready',
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 4, memory: 8 * GiB, gpu: 0, disk: 0 },
    reserved: { cpu: reservedCpu, memory: 0, gpu: 0, disk: 0 },
    ...overrides,
  };
}

function mockTask(id: string, cpu: number, priority: number, overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, runtime: 'docker', labels: {}, resources: { cpu, memory: 0, gpu: 0, disk: 0 }, priority, seq: 1, ...overrides };
}

function mockRunning(attemptId: string, workerId: string, cpu: number, priority: number, startedAt: number, overrides: Partial<RunningSnapshot> = {}): RunningSnapshot {
  return { attemptId, taskId: `task-${attemptId}`, workerId, priority, resources: { cpu, memory: 0, gpu: 0, disk: 0 }, startedAt, ...overrides };
}

function mockPolicy(queues: Record<string, Partial<QueuePolicy>>): SchedulingPolicy {
  return {
    queue: (name) => (name in queues || name === 'default' ? { strategy: 'round-robin', workerSelector: {}, constraints: [], ...queues[name] } : undefined),
    userInQueue: () => undefined,
    user: () => undefined,
    userLabel: (userId) => userId,
  };
}

const PREEMPTING = mockPolicy({ urgent: { preemptionPolicy: 'PreemptLowerPriority' }, polite: { preemptionPolicy: 'Never' } });

function plan(queue: string, tasks: TaskSnapshot[], snapshot: Partial<SchedulingSnapshot> & Pick<SchedulingSnapshot, 'workers'>) {
  const streams: TaskStream[] = [{ queue, userId: 'ada', tasks }];
  return planPlacements({ now: NOW, cursor: 0, streams, policy: PREEMPTING, ...snapshot });
}

const cpu = (n: number): Resources => ({ cpu: n, memory: 0, gpu: 0, disk: 0 });

describe('chooseVictims', () => {
  it('takes the lowest priority first, then the youngest, and only as many as needed', () => {
    const attempts = [mockRunning('old-10', 'w1', 1, 10, 100), mockRunning('young-10', 'w1', 1, 10, 200), mockRunning('p5', 'w1', 1, 5, 50), mockRunning('p20', 'w1', 1, 20, 300)];
    expect(chooseVictims(mockTask('t', 2, 90), 90, cpu(0), attempts)?.map((v) => v.attemptId)).toEqual(['p5', 'young-10']);
  });

  it('never takes equal or higher priority, preemptible: false, a victim already taken, or a task it evicted before', () => {
    const attempts = [
      mockRunning('equal', 'w1', 4, 90, 1),
      mockRunning('higher', 'w1', 4, 95, 1),
      mockRunning('kept', 'w1', 4, 10, 1, { preemptible: false }),
      mockRunning('taken', 'w1', 4, 10, 1),
      mockRunning('my-preemptor', 'w1', 4, 10, 1, { evicted: new Set(['t']) }),
    ];
    expect(chooseVictims(mockTask('t', 1, 90), 90, cpu(0), attempts, new Set(['taken']))).toBeUndefined();
  });

  it('drops a victim that became needless once a larger one was taken', () => {
    // lowest first takes small (1 cpu), then big (3 cpu); with big alone the task fits
    const attempts = [mockRunning('small', 'w1', 1, 1, 1), mockRunning('big', 'w1', 3, 2, 1)];
    expect(chooseVictims(mockTask('t', 3, 90), 90, cpu(0), attempts)?.map((v) => v.attemptId)).toEqual(['big']);
  });

  it('returns undefined when even every candidate together does not make room', () => {
    expect(chooseVictims(mockTask('t', 3, 90), 90, cpu(0), [mockRunning('a', 'w1', 1, 1, 1), mockRunning('b', 'w1', 1, 1, 1)])).toBeUndefined();
  });
});

describe('planPlacements with preemption', () => {
  it('evicts on one worker only, the one needing the fewest victims, and reserves it for the preemptor', () => {
    const workers = [mockWorker('w1', 4), mockWorker('w2', 4)];
    const running = [
      mockRunning('w1-a', 'w1', 1, 10, 1),
      mockRunning('w1-b', 'w1', 1, 10, 2),
      mockRunning('w1-c', 'w1', 1, 10, 3),
      mockRunning('w1-d', 'w1', 1, 10, 4),
      mockRunning('w2-big', 'w2', 4, 30, 1),
    ];
    const result = plan('urgent', [mockTask('hi', 3, 90)], { workers, running });
    expect(result.placements).toEqual([]);
    expect(result.evictions).toEqual([{ preemptorTaskId: 'hi', workerId: 'w2', victimAttemptIds: ['w2-big'], victimTaskIds: ['task-w2-big'] }]);
    expect(result.reservations.get('hi')).toMatchObject({ workerId: 'w2', since: NOW, queue: 'urgent', priority: 90 });
    expect(result.waiting.get('hi')).toBe('preempting 1 lower-priority task(s) on worker w2');
  });

  it('among equally many victims, prefers the worker whose victims have the lowest priority', () => {
    const workers = [mockWorker('w1', 4), mockWorker('w2', 4)];
    const running = [mockRunning('w1-x', 'w1', 4, 40, 1), mockRunning('w2-x', 'w2', 4, 20, 1)];
    expect(plan('urgent', [mockTask('hi', 2, 90)], { workers, running }).evictions.map((e) => e.workerId)).toEqual(['w2']);
  });

  it('evicts nothing in a queue with preemptionPolicy Never (or no policy at all)', () => {
    const workers = [mockWorker('w1', 4)];
    const running = [mockRunning('low', 'w1', 4, 1, 1)];
    const polite = plan('polite', [mockTask('hi', 1, 90)], { workers, running });
    expect(polite.evictions).toEqual([]);
    expect(polite.waiting.get('hi')).toBe('waiting for free resources on a matching worker');
    expect(planPlacements({ now: NOW, cursor: 0, workers, running, tasks: [mockTask('hi', 1, 90)] }).evictions).toEqual([]);
  });

  it('evicts nothing for a task that waits on a cap, a label or its runtime rather than room', () => {
    const workers = [mockWorker('w1', 4)];
    const running = [mockRunning('low', 'w1', 4, 1, 1)];
    const capped = planPlacements({
      now: NOW,
      cursor: 0,
      workers,
      running,
      streams: [{ queue: 'urgent', userId: 'ada', tasks: [mockTask('hi', 1, 90)] }],
      policy: mockPolicy({ urgent: { preemptionPolicy: 'PreemptLowerPriority', maxConcurrency: 0 } }),
    });
    expect(capped.evictions).toEqual([]);
    expect(plan('urgent', [mockTask('gpu-label', 1, 90, { labels: { gpu: 'a100' } })], { workers, running }).evictions).toEqual([]);
    expect(plan('urgent', [mockTask('k8s', 1, 90, { runtime: 'kubernetes' })], { workers, running }).evictions).toEqual([]);
  });

  it('places without evicting when there is room, and a task holding a reservation evicts nothing more', () => {
    const workers = [mockWorker('w1', 3)];
    const running = [mockRunning('low', 'w1', 3, 1, 1)];
    const fits = plan('urgent', [mockTask('hi', 1, 90)], { workers, running });
    expect(fits.placements).toEqual([{ taskId: 'hi', workerId: 'w1' }]);
    expect(fits.evictions).toEqual([]);
    const reservations = new Map([['hi', { workerId: 'w1', since: NOW - 10, queue: 'urgent', priority: 90 }]]);
    const waitingForVictims = plan('urgent', [mockTask('hi', 2, 90)], { workers, running, reservations });
    expect(waitingForVictims.evictions).toEqual([]);
    expect(waitingForVictims.reservations.get('hi')?.workerId).toBe('w1');
  });

  it('two preemptors in one pass never share a victim, and a small task does not take the held worker', () => {
    const workers = [mockWorker('w1', 4)];
    const running = [mockRunning('low-a', 'w1', 2, 1, 1), mockRunning('low-b', 'w1', 2, 1, 2)];
    const result = plan('urgent', [mockTask('hi-1', 2, 90), mockTask('hi-2', 2, 80)], { workers, running });
    // hi-1 evicts the youngest and holds w1; hi-2 finds w1 held and evicts nothing
    expect(result.evictions).toEqual([{ preemptorTaskId: 'hi-1', workerId: 'w1', victimAttemptIds: ['low-b'], victimTaskIds: ['task-low-b'] }]);
    expect(result.reservations.has('hi-2')).toBe(false);
  });

  it('victims may be in another queue (priority is one scale), but never of equal priority', () => {
    const workers = [mockWorker('w1', 4)];
    const equal = plan('urgent', [mockTask('hi', 1, 50)], { workers, running: [mockRunning('same', 'w1', 4, 50, 1)] });
    expect(equal.evictions).toEqual([]);
  });

  it('no loop: a victim re-queued at its own priority cannot evict its preemptor back, even from a preempting queue', () => {
    const workers = [mockWorker('w1', 4)];
    // the preemptor now runs; its victim, re-queued at priority 10, asks for room again
    const preemptorRunning = mockRunning('att-hi', 'w1', 4, 90, 5, { taskId: 'hi', evicted: new Set(['victim']) });
    const back = plan('urgent', [mockTask('victim', 4, 10)], { workers, running: [preemptorRunning] });
    expect(back.evictions).toEqual([]);
    // and even were its priority raised above the preemptor's, the mark refuses the loop
    const raised = plan('urgent', [mockTask('victim', 4, 95)], { workers, running: [preemptorRunning] });
    expect(raised.evictions).toEqual([]);
    // a third task of that higher priority may evict the preemptor (the mark names only its victims)
    const other = plan('urgent', [mockTask('other', 4, 95)], { workers, running: [preemptorRunning] });
    expect(other.evictions.map((e) => e.victimTaskIds)).toEqual([['hi']]);
  });
});
