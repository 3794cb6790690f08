import { describe, expect, it } from 'vitest';
import type { Resources } from '../records/resources.js';
import { planPlacements, type TaskSnapshot, type WorkerSnapshot } from './placement.js';

const GiB = 1024 ** 3;

function mockWorker(id: string, overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    id,
    status: 'ready',
    runtimes: ['docker'],
    labels: {},
    capacity: { cpu: 4, memory: 8 * GiB, gpu: 0, disk: 100 * GiB },
    reserved: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    ...overrides,
  };
}

function mockTask(id: string, resources: Partial<Resources> = {}, overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id,
    runtime: 'docker',
    labels: {},
    resources: { cpu: 1, memory: GiB, gpu: 0, disk: 0, ...resources },
    ...overrides,
  };
}

function plan(tasks: TaskSnapshot[], workers: WorkerSnapshot[], cursor = 0, now = 1000) {
  return planPlacements({ now, tasks, workers, cursor });
}

describe('planPlacements', () => {
  it('spreads consecutive tasks across workers round-robin', () => {
    const result = plan(['a', 'b', 'c', 'd'].map((id) => mockTask(id)), [mockWorker('w1'), mockWorker('w2'), mockWorker('w3')]);
    expect(result.placements.map((p) => p.workerId)).toEqual(['w1', 'w2', 'w3', 'w1']);
    expect(result.cursor).toBe(1);
  });

  it('continues the rotation from the cursor of the previous plan', () => {
    const result = plan([mockTask('a')], [mockWorker('w1'), mockWorker('w2'), mockWorker('w3')], 2);
    expect(result.placements).toEqual([{ taskId: 'a', workerId: 'w3' }]);
    expect(result.cursor).toBe(0);
  });

  it('skips workers without room by reserved resources, not by usage', () => {
    const full = mockWorker('w1', { reserved: { cpu: 3.5, memory: 0, gpu: 0, disk: 0 } });
    const result = plan([mockTask('a', { cpu: 1 })], [full, mockWorker('w2')]);
    expect(result.placements).toEqual([{ taskId: 'a', workerId: 'w2' }]);
  });

  it('never overfills a worker within one plan', () => {
    const small = mockWorker('w1', { capacity: { cpu: 2, memory: 8 * GiB, gpu: 0, disk: 0 } });
    const result = plan(['a', 'b', 'c'].map((id) => mockTask(id, { cpu: 1 })), [small]);
    expect(result.placements.map((p) => p.taskId)).toEqual(['a', 'b']);
    expect(result.waiting.get('c')).toBe('waiting for free resources on a matching worker');
  });

  it('matches runtime and labels', () => {
    const workers = [
      mockWorker('docker-a', { labels: { zone: 'a' } }),
      mockWorker('exec-b', { runtimes: ['exec'], labels: { zone: 'b' } }),
      mockWorker('docker-b', { labels: { zone: 'b', disk: 'ssd' } }),
    ];
    const result = plan(
      [mockTask('x', {}, { runtime: 'exec' }), mockTask('y', {}, { labels: { zone: 'b' } }), mockTask('z', {}, { labels: { disk: 'ssd' } })],
      workers,
    );
    expect(result.placements).toEqual([
      { taskId: 'x', workerId: 'exec-b' },
      { taskId: 'y', workerId: 'docker-b' },
      { taskId: 'z', workerId: 'docker-b' },
    ]);
  });

  it('skips draining and lost workers', () => {
    const result = plan([mockTask('a'), mockTask('b')], [
      mockWorker('w1', { status: 'draining' }),
      mockWorker('w2', { status: 'lost' }),
      mockWorker('w3'),
    ]);
    expect(result.placements.map((p) => p.workerId)).toEqual(['w3', 'w3']);
  });

  it('explains why a task cannot be placed', () => {
    const workers = [mockWorker('w1')];
    const result = plan(
      [
        mockTask('gpu', { gpu: 1 }),
        mockTask('exec', {}, { runtime: 'exec' }),
        mockTask('zone', {}, { labels: { zone: 'z' } }),
        mockTask('huge', { memory: 64 * GiB }),
      ],
      workers,
    );
    expect(result.placements).toEqual([]);
    expect(result.waiting.get('gpu')).toBe('no ready worker has gpu >= 1');
    expect(result.waiting.get('exec')).toBe('no ready worker offers runtime exec');
    expect(result.waiting.get('zone')).toBe('no ready worker with runtime docker has labels zone=z');
    expect(result.waiting.get('huge')).toBe('no ready worker has memory >= 64Gi');
    expect(plan([mockTask('a')], []).waiting.get('a')).toBe('no ready worker');
  });

  it('lets a smaller task behind a blocked one go ahead (backfill)', () => {
    const result = plan([mockTask('big', { cpu: 8 }), mockTask('small', { cpu: 1 })], [mockWorker('w1')]);
    expect(result.placements).toEqual([{ taskId: 'small', workerId: 'w1' }]);
    expect(result.waiting.has('big')).toBe(true);
  });

  it('holds tasks in retry backoff and says when to plan again', () => {
    const result = plan([mockTask('later', {}, { notBefore: 5000 }), mockTask('now')], [mockWorker('w1')], 0, 1000);
    expect(result.placements.map((p) => p.taskId)).toEqual(['now']);
    expect(result.wakeAt).toBe(5000);
    expect(result.waiting.get('later')).toMatch(/^retry backoff until /);
  });

  it('stops after maxPlacements', () => {
    const result = planPlacements({
      now: 0,
      tasks: ['a', 'b', 'c'].map((id) => mockTask(id, { cpu: 0.1 })),
      workers: [mockWorker('w1')],
      cursor: 0,
      maxPlacements: 2,
    });
    expect(result.placements).toHaveLength(2);
  });
  describe('cache affinity', () => {
    const A = 'a'.repeat(64);
    const B = 'b'.repeat(64);
    const withInputs = (id: string, inputs: { sha256: string; size: number }[], resources: Partial<Resources> = {}) =>
      mockTask(id, resources, { inputs });

    it('prefers the fitting worker that caches the most input bytes over the round-robin choice', () => {
      const workers = [
        mockWorker('w1'),
        mockWorker('w2', { cachedArtifacts: new Set([A]) }),
        mockWorker('w3', { cachedArtifacts: new Set([B]) }),
      ];
      const result = plan([withInputs('t', [{ sha256: A, size: 10 }, { sha256: B, size: 500 }])], workers);
      expect(result.placements).toEqual([{ taskId: 't', workerId: 'w3' }]);
      // the cursor moves past the chosen worker
      expect(result.cursor).toBe(0);
    });

    it('falls back to round-robin when no worker holds an input', () => {
      const workers = [mockWorker('w1', { cachedArtifacts: new Set(['c'.repeat(64)]) }), mockWorker('w2')];
      const result = plan([withInputs('t1', [{ sha256: A, size: 10 }]), withInputs('t2', [{ sha256: A, size: 10 }])], workers);
      expect(result.placements.map((p) => p.workerId)).toEqual(['w1', 'w2']);
    });

    it('does not wait for a busy worker that holds the inputs: the task goes to one with room', () => {
      const busy = mockWorker('w1', { cachedArtifacts: new Set([A]), reserved: { cpu: 4, memory: 0, gpu: 0, disk: 0 } });
      const result = plan([withInputs('t', [{ sha256: A, size: 1000 }])], [busy, mockWorker('w2')]);
      expect(result.placements).toEqual([{ taskId: 't', workerId: 'w2' }]);
      expect(result.waiting.size).toBe(0);
    });

    it('sends several consumers of one artifact to its holder only while it has room', () => {
      const holder = mockWorker('w1', { cachedArtifacts: new Set([A]), capacity: { cpu: 2, memory: 8 * GiB, gpu: 0, disk: 0 } });
      const tasks = ['t1', 't2', 't3'].map((id) => withInputs(id, [{ sha256: A, size: 100 }]));
      const result = plan(tasks, [holder, mockWorker('w2')]);
      expect(result.placements.map((p) => p.workerId)).toEqual(['w1', 'w1', 'w2']);
    });

    it('leaves tasks without inputs on plain round-robin', () => {
      const workers = [mockWorker('w1'), mockWorker('w2', { cachedArtifacts: new Set([A]) })];
      const result = plan([mockTask('t1'), mockTask('t2')], workers);
      expect(result.placements.map((p) => p.workerId)).toEqual(['w1', 'w2']);
    });
  });
});
