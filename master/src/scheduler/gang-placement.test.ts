import { describe, expect, it } from 'vitest';
import type { Resources } from '../records/resources.js';
import { planGangPlacements, type GangSnapshot } from './gang-placement.js';
import type { QueuePolicy, SchedulingPolicy, TaskSnapshot, WorkerSnapshot } from './placement.js';

const GiB = 1024 ** 3;

function mockWorker(id: string, overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    id,
    status: 'ready',
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 1, memory: 4 * GiB, gpu: 0, disk: 100 * GiB },
    reserved: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    ...overrides,
  };
}

function mockTask(id: string, resources: Partial<Resources> = {}, overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return { id, runtime: 'docker', labels: {}, resources: { cpu: 1, memory: GiB, gpu: 0, disk: 0, ...resources }, ...overrides };
}

function mockGang(gangId: string, size: number, overrides: Partial<GangSnapshot> = {}): GangSnapshot {
  return { gangId, queue: 'default', userId: 'u', size, members: Array.from({ length: size }, (_, rank) => mockTask(`${gangId}-${rank}`)), ...overrides };
}

function policyWith(queue: Partial<QueuePolicy>): SchedulingPolicy {
  return {
    queue: () => ({ strategy: 'round-robin', workerSelector: {}, constraints: [], ...queue }),
    userInQueue: () => undefined,
    user: () => undefined,
    userLabel: (id) => id,
  };
}

describe('planGangPlacements', () => {
  it('places a gang of 3 across 3 one-slot workers, one member each, in rank order', () => {
    const plan = planGangPlacements({ gangs: [mockGang('g', 3)], workers: [mockWorker('w1'), mockWorker('w2'), mockWorker('w3')] });
    expect(plan.placements).toEqual([
      { taskId: 'g-0', workerId: 'w1' },
      { taskId: 'g-1', workerId: 'w2' },
      { taskId: 'g-2', workerId: 'w3' },
    ]);
    expect(plan.placedGangs).toEqual(['g']);
    expect(plan.waiting.size).toBe(0);
    // the rest of the pass sees the room taken
    expect(plan.workers.map((w) => w.reserved.cpu)).toEqual([1, 1, 1]);
  });

  it('places none of a gang of 4 on 3 one-slot workers, and every member says why', () => {
    const workers = [mockWorker('w1'), mockWorker('w2'), mockWorker('w3')];
    const plan = planGangPlacements({ gangs: [mockGang('g', 4)], workers });
    expect(plan.placements).toEqual([]);
    expect(plan.placedGangs).toEqual([]);
    expect(plan.workers.map((w) => w.reserved.cpu)).toEqual([0, 0, 0]);
    const reason = 'gang g: 3 of 4 members fit (member 3: no matching worker has room left: w1 lacks cpu, w2 lacks cpu, w3 lacks cpu)';
    expect([...plan.waiting]).toEqual(['g-0', 'g-1', 'g-2', 'g-3'].map((id) => [id, reason]));
  });

  it('spreads members over workers before doubling up, and doubles up when the room is only there', () => {
    const big = { capacity: { cpu: 4, memory: 16 * GiB, gpu: 0, disk: 0 } };
    const spread = planGangPlacements({ gangs: [mockGang('g', 2)], workers: [mockWorker('w1', big), mockWorker('w2', big)] });
    expect(spread.placements.map((p) => p.workerId)).toEqual(['w1', 'w2']);
    const packed = planGangPlacements({ gangs: [mockGang('g', 3)], workers: [mockWorker('w1', big)] });
    expect(packed.placements.map((p) => p.workerId)).toEqual(['w1', 'w1', 'w1']);
  });

  it('names the resource a matching worker lacks', () => {
    const gang = mockGang('g', 2, { members: [mockTask('g-0'), mockTask('g-1', { memory: 8 * GiB })] });
    const roomy = mockWorker('w2', { capacity: { cpu: 2, memory: 10 * GiB, gpu: 0, disk: 0 }, reserved: { cpu: 0, memory: 4 * GiB, gpu: 0, disk: 0 } });
    const plan = planGangPlacements({ gangs: [gang], workers: [mockWorker('w1'), roomy] });
    expect(plan.placements).toEqual([]);
    expect(plan.waiting.get('g-1')).toBe('gang g: 1 of 2 members fit (member 1: no matching worker has room left: w1 lacks cpu and memory, w2 lacks memory)');
  });

  it('places a later gang that fits when an earlier one does not, without overfilling', () => {
    const workers = [mockWorker('w1'), mockWorker('w2')];
    const plan = planGangPlacements({ gangs: [mockGang('big', 3), mockGang('small', 2), mockGang('third', 1)], workers });
    expect(plan.placedGangs).toEqual(['small']);
    expect(plan.waiting.get('third-0')).toMatch(/^gang third: 0 of 1 members fit/);
  });

  it('holds a gang back while a member is not queued, and when it is held back by name', () => {
    const partial = mockGang('g', 3, { members: [mockTask('g-0'), mockTask('g-2')] });
    const held = mockGang('h', 1, { heldBack: 'member 0 is still stopping on w9' });
    const plan = planGangPlacements({ gangs: [partial, held], workers: [mockWorker('w1'), mockWorker('w2'), mockWorker('w3')] });
    expect(plan.placements).toEqual([]);
    expect(plan.waiting.get('g-2')).toBe('gang g: 2 of 3 members are queued; waiting for the others to stop');
    expect(plan.waiting.get('h-0')).toBe('gang h: member 0 is still stopping on w9');
  });

  it('checks the queue caps for the whole gang at once', () => {
    const policy = policyWith({ maxConcurrency: 4 });
    const usage = { queue: () => ({ count: 2, cpu: 2, memory: 0, gpu: 0 }), userInQueue: () => undefined, user: () => undefined };
    const big = { capacity: { cpu: 8, memory: 16 * GiB, gpu: 0, disk: 0 } };
    const plan = planGangPlacements({ gangs: [mockGang('g', 3)], workers: [mockWorker('w1', big)], policy, usage });
    expect(plan.placements).toEqual([]);
    expect(plan.waiting.get('g-0')).toBe('gang g: queue default: 2/4 running tasks, the gang needs 3');
    const fits = planGangPlacements({ gangs: [mockGang('g', 2), mockGang('h', 1)], workers: [mockWorker('w1', big)], policy, usage });
    expect(fits.placedGangs).toEqual(['g']);
    expect(fits.waiting.get('h-0')).toBe('gang h: queue default: 4/4 running tasks, the gang needs 1');
  });

  it('respects runtime, labels, constraints, pins and the plain planner\'s reservations', () => {
    const workers = [mockWorker('w1', { labels: { zone: 'a' } }), mockWorker('w2', { labels: { zone: 'b' } }), mockWorker('w3', { runtimes: ['exec'] })];
    const gang = mockGang('g', 2, { members: [mockTask('g-0', {}, { labels: { zone: 'b' } }), mockTask('g-1', {}, { constraints: [{ key: 'zone', op: 'in', values: ['a'] }] })] });
    expect(planGangPlacements({ gangs: [gang], workers }).placements).toEqual([
      { taskId: 'g-0', workerId: 'w2' },
      { taskId: 'g-1', workerId: 'w1' },
    ]);
    const held = planGangPlacements({ gangs: [gang], workers, heldWorkers: new Set(['w1']) });
    expect(held.placements).toEqual([]);
    expect(held.waiting.get('g-1')).toMatch(/^gang g: 1 of 2 members fit \(member 1: /);
    const pinned = mockGang('p', 1, { members: [mockTask('p-0', {}, { pinnedWorkerId: 'w2' })] });
    expect(planGangPlacements({ gangs: [pinned], workers }).placements).toEqual([{ taskId: 'p-0', workerId: 'w2' }]);
  });
});
