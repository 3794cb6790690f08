// The master's half of fencing on a real SQLite store, a real registry and task service, an
// injected clock and a recording stand-in for a worker's Connect stream: a lost worker's
// attempts are held until it must have stopped them, kept when it returns in time, re-queued
// uncharged after, and a late result is recorded once.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../auth/user-types.js';
import { WharfError } from '../errors.js';
import { FileStore } from '../files/file-store.js';
import { LogStore } from '../logs/log-store.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { parseTaskInput } from '../tasks/task-input.js';
import { TaskService, type AttemptReport } from '../tasks/task-service.js';
import { LostWorkerFence } from './lost-worker-fence.js';
import { WorkerRegistry, type MasterDown, type RegistrationInput, type WorkerChannel } from './worker-registry.js';

const TTL = 3000;
const GRACE = 2000;
const MARGIN = 1000;
const START = Date.parse('2030-01-01T12:00:00Z');
const admin: User = { id: 'admin', email: 'admin@example.com', name: 'admin', role: 'admin', createdAt: 0 };
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A worker's Connect stream as the master sees it, recording what it is sent. */
class RecordingChannel implements WorkerChannel {
  readonly sent: MasterDown[] = [];
  closed = false;
  send(message: MasterDown): void {
    this.sent.push(message);
  }
  close(): void {
    this.closed = true;
  }
  assigned(): string[] {
    return this.sent.flatMap((m) => ('assign' in m ? [m.assign.attemptId] : []));
  }
}

/** One master on `dir` (a second call on the same dir is a master restart). */
async function masterOn(dir: string, clock: { now: number }) {
  const logger = pino({ level: 'silent' });
  const now = (): number => clock.now;
  const store = new SqliteStore(path.join(dir, 'wharf.db'));
  stores.push(store);
  const registry = new WorkerRegistry(store, logger, {
    heartbeatTtlMs: TTL,
    reconnectGraceMs: 2000,
    heartbeatIntervalMs: 500,
    maxStopAfterMs: 60_000,
    now,
  });
  const files = new FileStore(dir, 1e9);
  await files.init();
  const tasks = new TaskService(store, registry, new LogStore(dir, 1e6), files, logger, {
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    cancelGraceMs: 1000,
    allowUserExec: true,
    now,
  });
  const timers: { at: number; run: () => void }[] = [];
  const fence = new LostWorkerFence(registry, tasks, logger, {
    marginMs: MARGIN,
    now,
    setTimer: (run, ms) => {
      const timer = { at: clock.now + ms, run };
      timers.push(timer);
      return timer;
    },
    clearTimer: (timer) => timers.splice(timers.indexOf(timer as (typeof timers)[number]), 1),
  });
  registry.setListener({ workerLost: (id) => fence.workerLost(id), workerReady: () => tasks.scheduleSoon() });
  await registry.load();
  await tasks.recover();
  fence.holdLostWorkers(tasks.attemptsByWorker().keys());

  /** Lets queued work (scheduling passes, reports) finish. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      await tasks.idle();
    }
  };
  /** Moves the clock, running the liveness check and every fence timer that falls due. */
  const advanceTo = async (at: number): Promise<void> => {
    clock.now = at;
    await registry.checkLiveness();
    for (const timer of timers.filter((t) => t.at <= at)) {
      timers.splice(timers.indexOf(timer), 1);
      timer.run();
    }
    await settle();
  };
  /** Register (with the attempts it holds), then open its stream, as the gRPC gateway does. */
  const connect = async (workerId: string, holds: string[] = [], fencing: RegistrationInput['fencing'] = { stopAfterMs: 0, stopGraceMs: GRACE }) => {
    await registry.register({
      workerId,
      name: workerId,
      hostname: 'test',
      capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 0 },
      runtimes: ['docker'],
      labels: {},
      version: 'test',
      fencing,
    });
    const stop = await tasks.workerRegistered(workerId, holds);
    const channel = new RecordingChannel();
    registry.attach(workerId, channel);
    tasks.workerConnected(workerId);
    await settle();
    return { channel, stop };
  };
  const report = (workerId: string, attemptId: string, outcome: AttemptReport['outcome'], error?: string) =>
    tasks.attemptFinished(workerId, { attemptId, outcome, exitCode: outcome === 'succeeded' ? 0 : 143, error, files: [] });
  return { store, registry, tasks, fence, timers, settle, advanceTo, connect, report };
}

async function runningTask() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-fence-'));
  dirs.push(dir);
  const clock = { now: START };
  const master = await masterOn(dir, clock);
  const { channel } = await master.connect('w1');
  const task = await master.tasks.submit(admin, parseTaskInput({ image: 'busybox', command: 'sleep 60' }));
  await master.settle();
  const [attemptId] = channel.assigned();
  if (!attemptId) throw new Error('not assigned');
  await master.tasks.attemptStarted('w1', attemptId, clock.now);
  await master.settle();
  return { dir, clock, master, task, attemptId, channel };
}

describe('a lost worker\'s attempts (fencing)', () => {
  it('are held until last contact + stop-after + stop grace + margin, then re-queued lost and uncharged', async () => {
    const { clock, master, task, attemptId } = await runningTask();
    const lastContact = clock.now;
    master.registry.heartbeat('w1', undefined, [attemptId]);
    await master.advanceTo(lastContact + TTL + 1); // silent past the TTL: lost
    expect(master.registry.get('w1')?.record.status).toBe('lost');
    const requeueAt = lastContact + TTL + GRACE + MARGIN; // stop-after defaulted to the TTL
    expect(master.fence.requeueAt('w1')).toBe(requeueAt);
    const held = await master.tasks.get(admin, task.id);
    expect(held.status).toBe('running');
    expect(held.reason).toBe('worker w1 lost; re-queued at 2030-01-01T12:00:06Z once it must have stopped');
    expect(held.attempts.map((a) => a.status)).toEqual(['running']);
    expect(master.registry.get('w1')?.reserved.cpu).toBe(0.5); // still its own

    await master.advanceTo(requeueAt - 1);
    expect((await master.tasks.get(admin, task.id)).status).toBe('running');
    await master.advanceTo(requeueAt);
    const requeued = await master.tasks.get(admin, task.id);
    expect(requeued.status).toBe('queued');
    expect(requeued.retriesUsed).toBe(0);
    expect(requeued.attempts.map((a) => [a.status, a.error])).toEqual([['lost', 'worker w1 was lost']]);
    expect(master.registry.get('w1')?.reserved.cpu).toBe(0);
  });

  it('stay with a worker that registers again in time still holding them, with their reservation', async () => {
    const { clock, master, task, attemptId } = await runningTask();
    const lastContact = clock.now;
    await master.advanceTo(lastContact + TTL + 1);
    expect(master.registry.get('w1')?.record.status).toBe('lost');

    await master.advanceTo(lastContact + TTL + GRACE); // back before the bound has passed
    const { stop } = await master.connect('w1', [attemptId]);
    expect(stop).toEqual([]);
    expect(master.fence.requeueAt('w1')).toBeUndefined();
    expect(master.registry.get('w1')?.reserved.cpu).toBe(0.5);
    const kept = await master.tasks.get(admin, task.id);
    expect(kept.status).toBe('running');
    expect(kept.reason).toBeUndefined();

    master.registry.heartbeat('w1', undefined, [attemptId]);
    await master.advanceTo(lastContact + TTL + GRACE + MARGIN + 1000);
    expect((await master.tasks.get(admin, task.id)).attempts.map((a) => a.status)).toEqual(['running']);
    expect(await master.report('w1', attemptId, 'succeeded')).toBe('applied');
    await master.settle();
    const done = await master.tasks.get(admin, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(master.registry.get('w1')?.reserved.cpu).toBe(0);
  });

  it('are given away once the bound passed: the returning worker is told to stop, and its late result changes nothing', async () => {
    const { clock, master, task, attemptId } = await runningTask();
    const lastContact = clock.now;
    await master.advanceTo(lastContact + TTL + 1);
    await master.advanceTo(lastContact + TTL + GRACE + MARGIN);
    const { channel: w2 } = await master.connect('w2');
    const [second] = w2.assigned();
    expect(second).toBeDefined();

    const { stop } = await master.connect('w1', [attemptId]);
    expect(stop).toEqual([attemptId]);
    expect(await master.report('w1', attemptId, 'stopped', 'stopped: no contact with the master for 3s (--stop-after 3s)')).toBe('ignored');
    await master.tasks.attemptStarted('w2', second!, clock.now);
    expect(await master.report('w2', second!, 'succeeded')).toBe('applied');
    await master.settle();
    const done = await master.tasks.get(admin, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => [a.status, a.workerId])).toEqual([
      ['lost', 'w1'],
      ['succeeded', 'w2'],
    ]);
    expect(done.events.filter((e) => ['succeeded', 'failed', 'cancelled'].includes(e.kind))).toHaveLength(1);
  });

  it('re-queue the task uncharged when the worker reports them `stopped` before it was declared lost', async () => {
    const { master, task, attemptId } = await runningTask();
    const why = 'stopped: no contact with the master for 1s (--stop-after 1s)';
    expect(await master.report('w1', attemptId, 'stopped', why)).toBe('applied');
    await master.settle();
    const after = await master.tasks.get(admin, task.id);
    expect(after.retriesUsed).toBe(0);
    expect(after.attempts[0]).toMatchObject({ status: 'stopped', error: why });
    // re-queued, and placed again at once on the (reachable) worker
    expect(after.attempts).toHaveLength(2);
    expect(after.status).toBe('assigned');
  });

  it('are held for the bound after a master restart when their worker was silent since before it', async () => {
    const { dir, clock, master, task } = await runningTask();
    await master.store.close();
    stores.splice(stores.indexOf(master.store), 1);
    clock.now += 60_000; // the master was down a minute
    const restartedAt = clock.now;
    const restarted = await masterOn(dir, clock);
    // lost when the reconnect grace ends, re-queued only a full bound after the restart
    await restarted.advanceTo(restartedAt + 2001);
    expect(restarted.registry.get('w1')?.record.status).toBe('lost');
    const requeueAt = restartedAt + TTL + GRACE + MARGIN;
    expect(restarted.fence.requeueAt('w1')).toBe(requeueAt);
    await restarted.advanceTo(requeueAt - 1);
    expect((await restarted.tasks.get(admin, task.id)).status).toBe('running');
    await restarted.advanceTo(requeueAt);
    expect((await restarted.tasks.get(admin, task.id)).status).toBe('queued');
  });

  it('are held after a restart for a worker that was already lost when the master stopped', async () => {
    const { dir, clock, master, task } = await runningTask();
    await master.advanceTo(clock.now + TTL + 1);
    expect(master.registry.get('w1')?.record.status).toBe('lost');
    await master.store.close(); // stops before the bound passed
    stores.splice(stores.indexOf(master.store), 1);
    clock.now += 1000;
    const restartedAt = clock.now;
    const restarted = await masterOn(dir, clock);
    expect(restarted.fence.requeueAt('w1')).toBe(restartedAt + TTL + GRACE + MARGIN);
    expect((await restarted.tasks.get(admin, task.id)).status).toBe('running');
    await restarted.advanceTo(restartedAt + TTL + GRACE + MARGIN);
    expect((await restarted.tasks.get(admin, task.id)).attempts.map((a) => a.status)).toEqual(['lost']);
  });

  it('are re-queued at once for a worker record that declares no bound (stored before fencing)', async () => {
    const { dir, clock, master, task } = await runningTask();
    const record = master.registry.get('w1')!.record;
    await master.store.saveWorker({ ...record, fencing: undefined });
    await master.store.close();
    stores.splice(stores.indexOf(master.store), 1);
    const restarted = await masterOn(dir, clock);
    await restarted.advanceTo(clock.now + 2001); // lost at the end of the reconnect grace
    expect((await restarted.tasks.get(admin, task.id)).status).toBe('queued');
  });

  it('come from workers that declared a bound: Register without one is refused', async () => {
    const { master } = await runningTask();
    const refused = await master.registry
      .register({
        workerId: 'w3',
        name: 'w3',
        hostname: 'old',
        capacity: { cpu: 1, memory: 1024 ** 3, gpu: 0, disk: 0 },
        runtimes: ['docker'],
        labels: {},
        version: '0.1.0',
        fencing: undefined,
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WharfError);
    expect((refused as WharfError).code).toBe('validation_failed');
    expect(master.registry.get('w3')).toBeUndefined();
  });
});
