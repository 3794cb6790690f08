// The rules behind the metrics the alerts and the Grafana board read (deploy/monitoring/),
// on fake task and worker sources and a fake clock: which wait the oldest-wait gauge shows,
// what counts as a finished attempt or a lost worker, which workers have per-worker series.
// test/metrics-prometheus.test.ts checks the same metrics on a real master and Docker worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveWorker, WorkerEventListener } from '../cluster/worker-registry.js';
import type { Attempt } from '../records/attempt.js';
import type { Task } from '../records/task.js';
import type { WorkerStatus, WorkerUsage } from '../records/worker.js';
import type { AttemptFinishedListener, TaskChangeListener } from '../tasks/task-service.js';
import { MasterMetrics, type MetricsSources } from './master-metrics.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Task and worker sources that the test drives by hand (no task service, no registry). */
class FakeSources implements MetricsSources {
  readonly taskListeners: TaskChangeListener[] = [];
  readonly attemptListeners: AttemptFinishedListener[] = [];
  readonly workerListeners: WorkerEventListener[] = [];
  workers: LiveWorker[] = [];
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  readonly tasks = {
    counts: () => ({ queued: 0, assigned: 0, running: 0 }),
    deadLetters: 0,
    countDeadLetters(): Promise<number> {
      return Promise.resolve(this.deadLetters);
    },
    onTaskChange: (listener: TaskChangeListener) => {
      this.taskListeners.push(listener);
      return () => undefined;
    },
    onAttemptFinished: (listener: AttemptFinishedListener) => {
      this.attemptListeners.push(listener);
      return () => undefined;
    },
  };

  readonly registry = {
    counts: () => ({ total: this.workers.length, ready: 0, draining: 0, lost: 0 }),
    list: () => this.workers,
    onWorkerEvent: (listener: WorkerEventListener) => {
      this.workerListeners.push(listener);
      return () => undefined;
    },
  };
}

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-metrics-'));
  dirs.push(dir);
  return dir;
}

function setup(dataDir = tempDataDir()) {
  let clock = 1_000_000;
  const metrics = new MasterMetrics(() => clock);
  const sources = new FakeSources(dataDir);
  metrics.bind(sources);
  const value = async (series: string): Promise<number | undefined> => {
    const line = (await metrics.render()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return {
    metrics,
    sources,
    value,
    advance: (ms: number) => (clock += ms),
    now: () => clock,
    task: (patch: Partial<Task> & Pick<Task, 'id' | 'status'>): Task => ({ createdAt: clock, attemptCount: 0, ...patch }) as Task,
    changed: (task: Task) => sources.taskListeners.forEach((listener) => listener(task)),
  };
}

function worker(id: string, status: WorkerStatus, usage?: WorkerUsage): LiveWorker {
  return {
    record: {
      id,
      name: `name-${id}`,
      hostname: 'host',
      status,
      runtimes: ['docker'],
      labels: {},
      capacity: { cpu: 4, memory: 8 * 2 ** 30, gpu: 1, disk: 100 * 2 ** 30 },
      version: '1.2.3',
      registeredAt: 0,
      lastHeartbeatAt: 0,
    },
    reserved: { cpu: 1.5, memory: 2 ** 30, gpu: 0, disk: 0 },
    usage,
    reportedAttempts: [],
    lastContactAt: 0,
  };
}

describe('wharf_queue_oldest_wait_seconds', () => {
  it('is 0 with nothing queued, then the wait of the oldest queued task since its submission', async () => {
    const t = setup();
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(0);
    t.changed(t.task({ id: 'old', status: 'queued', createdAt: t.now() - 5000 }));
    t.changed(t.task({ id: 'new', status: 'queued' }));
    t.advance(2000);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(7);
    // placed: the next oldest counts
    t.changed(t.task({ id: 'old', status: 'assigned', attemptCount: 1 }));
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(2);
    t.changed(t.task({ id: 'new', status: 'cancelled' }));
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(0);
  });

  it('counts a retry from the end of its backoff, and a task re-queued after a lost worker from its re-queue', async () => {
    const t = setup();
    const submittedAt = t.now();
    t.advance(60_000); // it ran for a minute, then failed with a retry in 10 s
    t.changed(t.task({ id: 'retry', status: 'queued', createdAt: submittedAt, attemptCount: 1, notBefore: t.now() + 10_000 }));
    t.advance(4000);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(0);
    t.advance(9000);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(3);

    t.changed(t.task({ id: 'lost', status: 'queued', createdAt: submittedAt, attemptCount: 2 }));
    t.advance(1000);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(4);
  });

  it('after a restart, counts queued tasks found in the store: never run since submission, re-queued since the restart', async () => {
    const t = setup();
    t.metrics.seed([
      t.task({ id: 'never-ran', status: 'queued', createdAt: t.now() - 30_000 }),
      t.task({ id: 'ran-before', status: 'queued', createdAt: t.now() - 90_000, attemptCount: 1 }),
      t.task({ id: 'running', status: 'running', createdAt: t.now() - 120_000, attemptCount: 1 }),
    ]);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(30);
    t.changed(t.task({ id: 'never-ran', status: 'assigned', attemptCount: 1 }));
    t.advance(5000);
    expect(await t.value('wharf_queue_oldest_wait_seconds')).toBe(5);
  });
});

describe('finished attempts and lost workers', () => {
  it('counts every attempt that ends by its outcome, each outcome exported from 0', async () => {
    const t = setup();
    for (const outcome of ['succeeded', 'failed', 'timed_out', 'error', 'cancelled', 'stopped', 'preempted', 'lost']) {
      expect(await t.value(`wharf_task_attempts_finished_total{outcome="${outcome}"}`)).toBe(0);
    }
    const end = (status: Attempt['status']) => t.sources.attemptListeners.forEach((listener) => listener({ status } as Attempt));
    end('failed');
    end('failed');
    end('lost');
    end('timed_out');
    end('stopped');
    expect(await t.value('wharf_task_attempts_finished_total{outcome="failed"}')).toBe(2);
    expect(await t.value('wharf_task_attempts_finished_total{outcome="lost"}')).toBe(1);
    expect(await t.value('wharf_task_attempts_finished_total{outcome="timed_out"}')).toBe(1);
    expect(await t.value('wharf_task_attempts_finished_total{outcome="stopped"}')).toBe(1);
    expect(await t.value('wharf_task_attempts_finished_total{outcome="succeeded"}')).toBe(0);
  });

  it('counts the attempts preemption ended by the queue of the task they were stopped for', async () => {
    const t = setup();
    const preempted = (queue: string) =>
      t.sources.attemptListeners.forEach((listener) => listener({ status: 'preempted', preemptedBy: { taskId: 'high', priority: 90, queue } } as Attempt));
    preempted('urgent');
    preempted('urgent');
    preempted('gpu');
    // a victim that finished by itself before the stop took effect is not a preemption
    t.sources.attemptListeners.forEach((listener) => listener({ status: 'succeeded', preemptedBy: { taskId: 'high', priority: 90, queue: 'urgent' } } as Attempt));
    expect(await t.value('wharf_preemptions_total{queue="urgent"}')).toBe(2);
    expect(await t.value('wharf_preemptions_total{queue="gpu"}')).toBe(1);
    expect(await t.value('wharf_task_attempts_finished_total{outcome="preempted"}')).toBe(3);
  });

  it('exports the dead letters the store counts, and counts tasks failed at a deadline by the deadline', async () => {
    const t = setup();
    expect(await t.value('wharf_dead_letters')).toBe(0);
    t.sources.tasks.deadLetters = 3;
    expect(await t.value('wharf_dead_letters')).toBe(3);
    expect(await t.value('wharf_task_deadlines_exceeded_total{deadline="deadline"}')).toBe(0);
    t.changed(t.task({ id: 'a', status: 'failed', deadlineExceeded: 'startDeadline' }));
    t.changed(t.task({ id: 'b', status: 'failed' }));
    expect(await t.value('wharf_task_deadlines_exceeded_total{deadline="startDeadline"}')).toBe(1);
    expect(await t.value('wharf_task_deadlines_exceeded_total{deadline="deadline"}')).toBe(0);
  });

  it('counts lost workers from the registry events, and nothing else', async () => {
    const t = setup();
    expect(await t.value('wharf_workers_lost_total')).toBe(0);
    for (const kind of ['joined', 'ready', 'heartbeat', 'disconnected', 'draining', 'lost', 'lost'] as const) {
      t.sources.workerListeners.forEach((listener) => listener({ kind, workerId: 'w1' }));
    }
    expect(await t.value('wharf_workers_lost_total')).toBe(2);
  });

  it('exports each WebSocket channel at 0 before any client connects', async () => {
    const t = setup();
    for (const channel of ['telemetry', 'events', 'logs']) {
      expect(await t.value(`wharf_websocket_lagged_total{channel="${channel}"}`)).toBe(0);
      expect(await t.value(`wharf_websocket_connections{channel="${channel}"}`)).toBe(0);
    }
  });
});

describe('per-worker series', () => {
  it('exports capacity, reservations and usage of workers that are not lost, and an info series for every worker', async () => {
    const t = setup();
    t.sources.workers = [
      worker('a', 'ready', { cpuPercent: 50, memoryPercent: 25, diskPercent: 10, gpuPercent: 80 }),
      worker('b', 'draining', { cpuPercent: 5, memoryPercent: 1, diskPercent: 2 }),
      worker('c', 'lost', { cpuPercent: 99, memoryPercent: 99, diskPercent: 99 }),
      worker('d', 'ready'),
    ];
    const a = '{worker_id="a",worker_name="name-a"}';
    expect(await t.value(`wharf_worker_cpu_capacity_cores${a}`)).toBe(4);
    expect(await t.value(`wharf_worker_cpu_reserved_cores${a}`)).toBe(1.5);
    expect(await t.value(`wharf_worker_memory_capacity_bytes${a}`)).toBe(8 * 2 ** 30);
    expect(await t.value(`wharf_worker_memory_reserved_bytes${a}`)).toBe(2 ** 30);
    expect(await t.value(`wharf_worker_gpu_capacity${a}`)).toBe(1);
    expect(await t.value(`wharf_worker_disk_capacity_bytes${a}`)).toBe(100 * 2 ** 30);
    expect(await t.value('wharf_worker_usage_ratio{worker_id="a",worker_name="name-a",resource="cpu"}')).toBe(0.5);
    expect(await t.value('wharf_worker_usage_ratio{worker_id="a",worker_name="name-a",resource="gpu"}')).toBe(0.8);
    // a draining worker still has its series; one without a GPU has no gpu usage
    expect(await t.value('wharf_worker_cpu_capacity_cores{worker_id="b",worker_name="name-b"}')).toBe(4);
    expect(await t.value('wharf_worker_usage_ratio{worker_id="b",worker_name="name-b",resource="gpu"}')).toBeUndefined();
    // a lost worker's last usage is stale and its reservations were released: no series
    const text = await t.metrics.render();
    expect(text).not.toMatch(/^wharf_worker_(cpu|memory|gpu|disk)_\w+\{worker_id="c"/m);
    expect(text).not.toContain('wharf_worker_usage_ratio{worker_id="c"');
    // a worker that has not sampled yet has capacity but no usage
    expect(await t.value('wharf_worker_cpu_capacity_cores{worker_id="d",worker_name="name-d"}')).toBe(4);
    expect(text).not.toContain('wharf_worker_usage_ratio{worker_id="d"');
    for (const [id, status] of [['a', 'ready'], ['b', 'draining'], ['c', 'lost'], ['d', 'ready']]) {
      expect(await t.value(`wharf_worker_info{worker_id="${id}",worker_name="name-${id}",status="${status}",version="1.2.3"}`)).toBe(1);
    }
    // a worker that is gone from the registry leaves no series behind
    t.sources.workers = [];
    expect(await t.metrics.render()).not.toMatch(/^wharf_worker_(info|cpu_capacity_cores)\{/m);
  });
});

describe('the data dir gauges', () => {
  it('read the filesystem of the data dir, and show NaN (unknown, not 0 bytes) when it cannot be read', async () => {
    const t = setup();
    const size = await t.value('wharf_data_dir_size_bytes');
    const available = await t.value('wharf_data_dir_available_bytes');
    expect(size).toBeGreaterThan(0);
    expect(available).toBeGreaterThanOrEqual(0);
    expect(available).toBeLessThanOrEqual(size!);

    const missing = setup(join(tempDataDir(), 'not-there'));
    expect(await missing.value('wharf_data_dir_size_bytes')).toBeNaN();
    expect(await missing.value('wharf_data_dir_available_bytes')).toBeNaN();
  });
});
