// The master's half of fencing, on the harness (testing/harness.ts: the real systems, a temp
// SqliteStore, a real registry with recording fake worker channels, a manual clock): a lost
// worker's attempts are held until it must have stopped them (the recovery system's timer on the
// clock), kept when it returns in time, re-queued uncharged after, and a late result is recorded
// once.
import { afterEach, describe, expect, it } from 'vitest';
import { FENCING_MARGIN_MS } from '../cluster/worker-fencing.js';
import { WharfError } from '../errors.js';
import { TIMER_SLACK_MS } from './systems/timer-system.js';
import { HARNESS_FENCING, TaskHarness } from './testing/harness.js';

/** The TTL, and so the workers' stop-after (they declare 0 = the master's TTL). */
const TTL = 3000;
const GRACE = HARNESS_FENCING.stopGraceMs;
const MARGIN = FENCING_MARGIN_MS;
/** From a worker's last contact until its attempts may be given away. */
const BOUND = TTL + GRACE + MARGIN;

let harness: TaskHarness;
afterEach(async () => {
  await harness?.close();
});

/** "2030-01-01T00:00:07Z": how a held task's reason names the moment. */
const isoSeconds = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Moves the clock to `at` (firing the timers that fall due), then runs the registry's liveness check. */
async function advanceTo(at: number): Promise<void> {
  harness.clock.advance(at - harness.clock.now());
  await harness.registry.checkLiveness();
  await harness.settle();
}

/** A master with worker w1 running one task (0.5 cpu and 64 MiB reserved). */
async function runningTask() {
  harness = await TaskHarness.start({ heartbeatTtlMs: TTL, heartbeatIntervalMs: 500 });
  await harness.connectWorker('w1');
  const task = await harness.submit({ resources: { cpu: 0.5, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 } });
  const attemptId = harness.assignmentOf('w1', task.id).attempt.id;
  await harness.started('w1', attemptId);
  return { task, attemptId };
}

const statusOf = async (taskId: string): Promise<string> => (await harness.task(taskId)).status;

describe('a lost worker’s attempts (fencing)', () => {
  it('are held until last contact + stop-after + stop grace + margin, then re-queued lost and uncharged', async () => {
    const { task, attemptId } = await runningTask();
    const lastContact = harness.clock.now();
    harness.registry.heartbeat('w1', undefined, [attemptId]);
    await advanceTo(lastContact + TTL + 1); // silent past the TTL: lost
    expect(harness.registry.get('w1')?.record.status).toBe('lost');
    const requeueAt = lastContact + BOUND; // stop-after defaulted to the TTL
    const held = await harness.task(task.id);
    expect(held.status).toBe('running');
    expect(held.reason).toBe('worker w1 lost; re-queued at 2030-01-01T00:00:07Z once it must have stopped');
    expect(held.attempts.map((a) => a.status)).toEqual(['running']);
    expect(harness.registry.get('w1')?.reserved.cpu).toBe(0.5); // still its own

    await advanceTo(requeueAt - 1);
    expect(await statusOf(task.id)).toBe('running');
    await advanceTo(requeueAt + TIMER_SLACK_MS); // timers fire a few ms after their time
    const requeued = await harness.task(task.id);
    expect(requeued.status).toBe('queued');
    expect(requeued.retriesUsed).toBe(0);
    expect(requeued.attempts.map((a) => [a.status, a.error])).toEqual([['lost', 'worker w1 was lost']]);
    expect(harness.registry.get('w1')?.reserved.cpu).toBe(0);
  });

  it('stay with a worker that registers again in time still holding them, with their reservation', async () => {
    const { task, attemptId } = await runningTask();
    const lastContact = harness.clock.now();
    await advanceTo(lastContact + TTL + 1);
    expect(harness.registry.get('w1')?.record.status).toBe('lost');
    expect(harness.clock.pendingTimers).toBe(1); // the hold

    await advanceTo(lastContact + TTL + GRACE); // back before the bound has passed
    const { stopAttempts } = await harness.connectWorker('w1', { holding: [attemptId] });
    expect(stopAttempts).toEqual([]);
    expect(harness.clock.pendingTimers).toBe(0); // the hold ended with its timer
    expect(harness.registry.get('w1')?.reserved.cpu).toBe(0.5);
    const kept = await harness.task(task.id);
    expect(kept.status).toBe('running');
    expect(kept.reason).toBeUndefined();

    harness.registry.heartbeat('w1', undefined, [attemptId]);
    await advanceTo(lastContact + BOUND + 1000);
    expect((await harness.task(task.id)).attempts.map((a) => a.status)).toEqual(['running']);
    expect(await harness.finished('w1', attemptId, 'succeeded')).toBe('applied');
    const done = await harness.task(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(harness.registry.get('w1')?.reserved.cpu).toBe(0);
  });

  it('stay with a worker that registered just as the bound passed, before it listed what it holds', async () => {
    const { task, attemptId } = await runningTask();
    const lastContact = harness.clock.now();
    await advanceTo(lastContact + TTL + 1);
    // the gateway's Register: the registry first (the worker is no longer lost) ...
    await harness.registry.register({
      workerId: 'w1',
      name: 'w1',
      hostname: 'w1.local',
      capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 100 * 1024 ** 3 },
      runtimes: ['docker'],
      labels: {},
      version: 'harness',
      fencing: HARNESS_FENCING,
    });
    // ... the bound passes before the task service hears what it holds (no liveness check here)
    harness.clock.advance(lastContact + BOUND + TIMER_SLACK_MS - harness.clock.now());
    await harness.settle();
    expect(await harness.tasks.workerRegistered('w1', [attemptId])).toEqual([]);
    await harness.settle();
    const kept = await harness.task(task.id);
    expect(kept).toMatchObject({ status: 'running', reason: undefined });
    expect(kept.attempts.map((a) => a.status)).toEqual(['running']);
  });

  it('are given away once the bound passed: the returning worker is told to stop, and its late result changes nothing', async () => {
    const { task, attemptId } = await runningTask();
    const lastContact = harness.clock.now();
    await advanceTo(lastContact + TTL + 1);
    await advanceTo(lastContact + BOUND + TIMER_SLACK_MS);
    await harness.connectWorker('w2');
    const second = harness.assignmentOf('w2', task.id).attempt.id;

    const { stopAttempts } = await harness.connectWorker('w1', { holding: [attemptId] });
    expect(stopAttempts).toEqual([attemptId]);
    expect(await harness.finished('w1', attemptId, 'stopped', { error: 'stopped: no contact with the master for 3s (--stop-after 3s)' })).toBe('ignored');
    await harness.started('w2', second);
    expect(await harness.finished('w2', second, 'succeeded')).toBe('applied');
    const done = await harness.task(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => [a.status, a.workerId])).toEqual([
      ['lost', 'w1'],
      ['succeeded', 'w2'],
    ]);
    expect(done.events.filter((e) => ['succeeded', 'failed', 'cancelled'].includes(e.kind))).toHaveLength(1);
  });

  it('re-queue the task uncharged when the worker reports them `stopped` before it was declared lost', async () => {
    const { task, attemptId } = await runningTask();
    const why = 'stopped: no contact with the master for 1s (--stop-after 1s)';
    expect(await harness.finished('w1', attemptId, 'stopped', { exitCode: 143, error: why })).toBe('applied');
    const after = await harness.task(task.id);
    expect(after.retriesUsed).toBe(0);
    expect(after.attempts[0]).toMatchObject({ status: 'stopped', error: why });
    expect(after.events.find((e) => e.kind === 'queued')?.message).toBe(`${why}; re-queued`);
    // re-queued, and placed again at once on the (reachable) worker
    expect(after.attempts).toHaveLength(2);
    expect(after.status).toBe('assigned');
  });

  it('are held for the bound after a master restart when their worker was silent since before it', async () => {
    const { task } = await runningTask();
    harness.clock.advance(60_000); // the master goes down for a minute (nothing runs on its clock)
    harness = await harness.restart();
    const restartedAt = harness.clock.now();
    // lost when the reconnect grace (the TTL here) ends, re-queued only a full bound after the restart
    await advanceTo(restartedAt + TTL + 1);
    expect(harness.registry.get('w1')?.record.status).toBe('lost');
    const requeueAt = restartedAt + BOUND;
    expect((await harness.task(task.id)).reason).toBe(`worker w1 lost; re-queued at ${isoSeconds(requeueAt)} once it must have stopped`);
    await advanceTo(requeueAt - 1);
    expect(await statusOf(task.id)).toBe('running');
    await advanceTo(requeueAt + TIMER_SLACK_MS);
    expect(await statusOf(task.id)).toBe('queued');
  });

  it('are held after a restart for a worker that was already lost when the master stopped', async () => {
    const { task } = await runningTask();
    await advanceTo(harness.clock.now() + TTL + 1);
    expect(harness.registry.get('w1')?.record.status).toBe('lost');
    harness.clock.advance(1000); // stops before the bound passed, and is down a second
    harness = await harness.restart();
    const restartedAt = harness.clock.now();
    const requeueAt = restartedAt + BOUND;
    const held = await harness.task(task.id);
    expect(held.status).toBe('running');
    expect(held.reason).toBe(`worker w1 lost; re-queued at ${isoSeconds(requeueAt)} once it must have stopped`);
    await advanceTo(requeueAt - 1);
    expect(await statusOf(task.id)).toBe('running');
    await advanceTo(requeueAt + TIMER_SLACK_MS);
    expect((await harness.task(task.id)).attempts.map((a) => a.status)).toEqual(['lost']);
  });

  it('are re-queued at once for a worker record that declares no bound (stored before fencing)', async () => {
    const { task } = await runningTask();
    const record = harness.registry.get('w1')!.record;
    await harness.store.saveWorker({ ...record, fencing: undefined });
    harness = await harness.restart();
    await advanceTo(harness.clock.now() + TTL + 1); // lost at the end of the reconnect grace
    const requeued = await harness.task(task.id);
    expect(requeued.status).toBe('queued');
    expect(requeued.attempts.map((a) => [a.status, a.error])).toEqual([['lost', 'worker w1 was lost']]);
  });

  it('come from workers that declared a bound: Register without one is refused', async () => {
    await runningTask();
    const refused = await harness.registry
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
    expect((refused as WharfError).message).toMatch(/^fencing: /);
    expect(harness.registry.get('w3')).toBeUndefined();
  });
});

describe('a removed worker’s attempts (an admin removed it; its certificate is revoked)', () => {
  it('are held until its last contact + stop-after + stop grace + margin, though the registry forgot it, then re-queued lost and uncharged', async () => {
    const { task, attemptId } = await runningTask();
    harness.clock.advance(1000);
    const lastContact = harness.clock.now();
    harness.registry.heartbeat('w1', undefined, [attemptId]);
    const channel = harness.channel('w1');
    await harness.registry.remove('w1');
    await harness.settle();
    expect(channel.closed).toBe(true);
    expect(harness.registry.get('w1')).toBeUndefined();
    // nothing it sends counts any more: the bound runs from the last contact before the removal
    harness.clock.advance(500);
    expect(harness.registry.heartbeat('w1', undefined, [attemptId])).toBe(false);
    const requeueAt = lastContact + BOUND;
    const held = await harness.task(task.id);
    expect(held.status).toBe('running');
    expect(held.reason).toBe(`worker w1 removed; re-queued at ${isoSeconds(requeueAt)} once it must have stopped`);
    expect(held.attempts.map((a) => a.status)).toEqual(['running']);

    await advanceTo(requeueAt - 1);
    expect(await statusOf(task.id)).toBe('running');
    await advanceTo(requeueAt + TIMER_SLACK_MS);
    const requeued = await harness.task(task.id);
    expect(requeued.status).toBe('queued');
    expect(requeued.retriesUsed).toBe(0);
    expect(requeued.attempts.map((a) => [a.status, a.error])).toEqual([['lost', 'worker w1 was removed']]);
  });

  it('go to another worker only once the bound has passed', async () => {
    const { task } = await runningTask();
    const removedAt = harness.clock.now();
    await harness.registry.remove('w1');
    await harness.connectWorker('w2');
    /** Moves the clock to `at` a second at a time, w2 heartbeating (it stays ready). */
    const advanceWithW2To = async (at: number): Promise<void> => {
      while (harness.clock.now() < at) {
        await advanceTo(Math.min(at, harness.clock.now() + 1000));
        harness.registry.heartbeat('w2', undefined, []);
      }
    };
    await advanceWithW2To(removedAt + BOUND - 1);
    expect(harness.channel('w2').assignments()).toEqual([]);
    await advanceWithW2To(removedAt + BOUND + TIMER_SLACK_MS);
    expect(harness.channel('w2').assignments().map((a) => [a.task.id, a.attempt.number])).toEqual([[task.id, 2]]);
  });

  it('are held after a master restart for the longest bound the master admits, since the removed worker’s record (and bound) is gone', async () => {
    const { task } = await runningTask();
    await harness.registry.remove('w1');
    await harness.settle();
    harness.clock.advance(1000);
    harness = await harness.restart();
    const requeueAt = harness.clock.now() + harness.registry.longestFencingBoundMs() + MARGIN;
    const held = await harness.task(task.id);
    expect(held.status).toBe('running');
    expect(held.reason).toBe(`worker w1 unknown (removed); re-queued at ${isoSeconds(requeueAt)} once it must have stopped`);
    await advanceTo(requeueAt - 1);
    expect(await statusOf(task.id)).toBe('running');
    await advanceTo(requeueAt + TIMER_SLACK_MS);
    expect((await harness.task(task.id)).attempts.map((a) => [a.status, a.error])).toEqual([['lost', 'its worker is unknown']]);
  });
});
