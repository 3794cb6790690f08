// Priority preemption in the task lifecycle, on the harness (real SQLite, the real systems,
// recording fakes of the workers' streams, a manual clock): a task of a PreemptLowerPriority
// queue that fits nowhere stops a lower-priority running task (a cancel with the grace), the
// victim's attempt ends `preempted`, its task is re-queued uncharged at its priority, the events
// name both sides, and the room goes to the preemptor; never a `preemptible: false` task, never
// from a `Never` queue, never back (no loops), and a stop in flight survives a master restart.
import { afterEach, describe, expect, it } from 'vitest';
import { QueueCatalog } from '../queues/queue-catalog.js';
import { defaultQueueRecord } from '../records/queue.js';
import type { NewTask } from '../records/task.js';
import { HARNESS_USER, TaskHarness } from './testing/harness.js';

let harness: TaskHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** `default` (Never) and `urgent` (PreemptLowerPriority, default priority 90). */
function catalog(): QueueCatalog {
  const queues = new QueueCatalog();
  queues.set({ ...defaultQueueRecord(0), name: 'urgent', defaultPriority: 90, preemptionPolicy: 'PreemptLowerPriority' });
  queues.rememberUser(HARNESS_USER);
  return queues;
}

const cpu = (n: number): Partial<NewTask> => ({ resources: { cpu: n, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 } });
const stopReason = (taskId: string) => `preempted by task ${taskId} (priority 90, queue urgent)`;

/** A master with the two queues and one worker w1 of `cpus` cpus. */
async function start(cpus = 2): Promise<TaskHarness> {
  harness = await TaskHarness.start({ tasks: { queues: catalog() } });
  await harness.connectWorker('w1', { capacity: { cpu: cpus } });
  return harness;
}

/** Submits a task and reports it started on w1; answers the task and its attempt id. */
async function running(h: TaskHarness, input: Partial<NewTask>) {
  const task = await h.submit(input);
  const { attempt } = h.assignmentOf('w1', task.id);
  await h.started('w1', attempt.id);
  return { task, attemptId: attempt.id };
}

const cancelsOf = (h: TaskHarness, attemptId: string) => h.channel('w1').cancels().filter((c) => c.attemptId === attemptId);
const assigned = (h: TaskHarness, taskId: string) => h.channel('w1').assignments().some((a) => a.task.id === taskId);

describe('a higher-priority task of a PreemptLowerPriority queue', () => {
  it('stops the lowest-priority running tasks with the grace; they end preempted, re-queued uncharged at their priority, and the room goes to the preemptor, not to a smaller waiting task', async () => {
    const h = await start(3);
    const low = await running(h, { ...cpu(1), priority: 10, maxRetries: 1 });
    const mid = await running(h, { ...cpu(1), priority: 20 });
    const top = await running(h, { ...cpu(1), priority: 60 });
    // a small task waits for room (and would fit in what one victim frees)
    const small = await h.submit({ ...cpu(1), priority: 30 });
    expect(assigned(h, small.id)).toBe(false);

    const high = await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    // the two lowest priorities are the victims, told to stop as a cancel is (SIGTERM, the grace, SIGKILL)
    for (const victim of [low, mid]) {
      expect(cancelsOf(h, victim.attemptId)).toEqual([{ kind: 'cancel', attemptId: victim.attemptId, reason: stopReason(high.id), graceSeconds: 2 }]);
      const stopping = await h.task(victim.task.id);
      expect(stopping).toMatchObject({ status: 'running', reason: `${stopReason(high.id)}; stopping it` });
      expect(stopping.attempts.map((a) => a.status)).toEqual(['preempting']);
      expect(stopping.events.at(-1)).toMatchObject({ kind: 'preempting', message: stopReason(high.id), attemptId: victim.attemptId });
    }
    expect(cancelsOf(h, top.attemptId)).toEqual([]);
    const preemptor = await h.task(high.id);
    expect(preemptor.status).toBe('queued');
    expect(preemptor.events.find((e) => e.kind === 'preempting')?.message).toBe(
      `evicting 2 lower-priority task(s) on worker w1: ${low.task.id} (priority 10), ${mid.task.id} (priority 20)`,
    );
    // while they stop, they hold their room
    expect(h.registry.get('w1')?.reserved.cpu).toBe(3);

    // the worker obeys: SIGTERM, the task exits 143
    expect(await h.finished('w1', low.attemptId, 'cancelled', { exitCode: 143, error: `cancelled: ${stopReason(high.id)}` })).toBe('applied');
    const victim = await h.task(low.task.id);
    expect(victim).toMatchObject({ status: 'queued', retriesUsed: 0, priority: 10 });
    expect(victim.attempts[0]).toMatchObject({ status: 'preempted', exitCode: 143, error: stopReason(high.id), preemptedBy: { taskId: high.id, priority: 90, queue: 'urgent' } });
    expect(victim.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running', 'preempting', 'queued']);
    // (its reason is then why it waits; the event keeps why it was re-queued)
    expect(victim.events.at(-1)).toMatchObject({ kind: 'queued', message: `${stopReason(high.id)}; re-queued`, attemptId: low.attemptId });
    // one cpu is free: held for the preemptor, the small task does not take it
    expect(assigned(h, small.id)).toBe(false);
    expect((await h.task(small.id)).status).toBe('queued');

    await h.finished('w1', mid.attemptId, 'cancelled', { exitCode: 143 });
    expect((await h.task(high.id)).status).toBe('assigned');
    expect(h.assignmentOf('w1', high.id).attempt.workerId).toBe('w1');
    expect((await h.task(small.id)).status).toBe('queued');
    expect(h.tasks.counts()).toEqual({ queued: 3, assigned: 1, running: 1 });

    // the victim runs again when there is room; its retry was not used
    await h.finished('w1', top.attemptId, 'succeeded');
    await h.finished('w1', h.assignmentOf('w1', high.id).attempt.id, 'succeeded');
    await h.finished('w1', h.assignmentOf('w1', small.id).attempt.id, 'succeeded');
    const again = h.assignmentOf('w1', low.task.id).attempt;
    expect(again.number).toBe(2);
    await h.started('w1', again.id);
    await h.finished('w1', again.id, 'succeeded');
    expect(await h.task(low.task.id)).toMatchObject({ status: 'succeeded', retriesUsed: 0, attemptCount: 2 });
  });

  it('never stops a preemptible:false task, nor one of equal or higher priority', async () => {
    const h = await start();
    const pinned = await running(h, { ...cpu(1), priority: 10, preemptible: false });
    const equal = await running(h, { ...cpu(1), priority: 90 });
    const high = await h.submit({ ...cpu(1), queue: 'urgent', priority: 90 });
    expect(h.channel('w1').cancels()).toEqual([]);
    expect(await h.task(high.id)).toMatchObject({ status: 'queued', reason: 'waiting for free resources on a matching worker' });
    expect((await h.task(pinned.task.id)).attempts.map((a) => a.status)).toEqual(['running']);
    expect((await h.task(equal.task.id)).attempts.map((a) => a.status)).toEqual(['running']);
  });

  it('a task of a queue with preemptionPolicy Never evicts nothing, whatever its priority', async () => {
    const h = await start();
    await running(h, { ...cpu(2), priority: 10 });
    const high = await h.submit({ ...cpu(1), priority: 100 });
    expect(high.queue).toBe('default');
    expect(h.channel('w1').cancels()).toEqual([]);
    expect((await h.task(high.id)).status).toBe('queued');
  });

  it('no loops: the re-queued victim, even in a PreemptLowerPriority queue, and a task resubmitted at its priority never evict the preemptor back', async () => {
    const h = await start();
    // the victim is itself in the preempting queue, at a low priority
    const low = await running(h, { ...cpu(2), priority: 10, queue: 'urgent' });
    const high = await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    await h.finished('w1', low.attemptId, 'cancelled', { exitCode: 143 });
    const highAttempt = h.assignmentOf('w1', high.id).attempt;
    await h.started('w1', highAttempt.id);
    expect((await h.task(low.task.id)).status).toBe('queued');
    // the same work submitted again at the victim's priority
    const resubmitted = await h.submit({ ...cpu(2), priority: 10, queue: 'urgent' });
    await h.advance(60_000);
    expect(cancelsOf(h, highAttempt.id)).toEqual([]);
    expect((await h.task(high.id)).attempts.map((a) => a.status)).toEqual(['running']);
    expect((await h.task(low.task.id)).status).toBe('queued');
    expect((await h.task(resubmitted.id)).status).toBe('queued');
    expect((await h.task(high.id)).events.filter((e) => e.kind === 'preempting')).toHaveLength(1);
  });

  it('a victim that finishes before its stop takes effect ends as it reported (succeeded), and the preemptor gets the room', async () => {
    const h = await start();
    const low = await running(h, { ...cpu(2), priority: 10 });
    const high = await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    expect(cancelsOf(h, low.attemptId)).toHaveLength(1);
    await h.finished('w1', low.attemptId, 'succeeded');
    const victim = await h.task(low.task.id);
    expect(victim).toMatchObject({ status: 'succeeded', retriesUsed: 0 });
    expect(victim.attempts[0]?.status).toBe('succeeded');
    expect((await h.task(high.id)).status).toBe('assigned');
  });

  it('a victim whose worker is lost while it stops is held like any attempt, then lost and re-queued, not charged', async () => {
    const h = await start();
    const low = await running(h, { ...cpu(2), priority: 10 });
    await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    expect(cancelsOf(h, low.attemptId)).toHaveLength(1);
    await h.silenceWorker('w1');
    // held until w1 must have stopped it (fencing): still preempting
    expect((await h.task(low.task.id)).attempts.map((a) => a.status)).toEqual(['preempting']);
    await h.advance(60_000);
    const victim = await h.task(low.task.id);
    expect(victim).toMatchObject({ status: 'queued', retriesUsed: 0 });
    expect(victim.attempts.map((a) => a.status)).toEqual(['lost']);
  });

  it("a person's cancel of a task being preempted wins: cancelled, not re-queued", async () => {
    const h = await start();
    const low = await running(h, { ...cpu(2), priority: 10 });
    const high = await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    expect(cancelsOf(h, low.attemptId)).toHaveLength(1);
    await h.tasks.cancel(HARNESS_USER, low.task.id);
    await h.finished('w1', low.attemptId, 'cancelled', { exitCode: 143 });
    const victim = await h.task(low.task.id);
    expect(victim.status).toBe('cancelled');
    expect(victim.attempts[0]?.status).toBe('cancelled');
    expect((await h.task(high.id)).status).toBe('assigned');
  });

  it('a stop in flight survives a master restart: the attempts stay preempting and hold their room, the stop is sent again, and the room still goes to the preemptor', async () => {
    let h = await start();
    const low = await running(h, { ...cpu(1), priority: 10 });
    const mid = await running(h, { ...cpu(1), priority: 20 });
    const high = await h.submit({ ...cpu(2), queue: 'urgent', priority: 90 });
    expect(cancelsOf(h, low.attemptId)).toHaveLength(1);
    expect(cancelsOf(h, mid.attemptId)).toHaveLength(1);

    h = harness = await h.restart();
    // the store's active attempts list them: the returning worker keeps them (nothing to stop
    // because it was given away) and is told again to stop them
    const { channel, stopAttempts } = await h.connectWorker('w1', { capacity: { cpu: 2 }, holding: [low.attemptId, mid.attemptId] });
    expect(stopAttempts).toEqual([]);
    expect(channel.cancels()).toEqual([
      { kind: 'cancel', attemptId: low.attemptId, reason: stopReason(high.id), graceSeconds: 2 },
      { kind: 'cancel', attemptId: mid.attemptId, reason: stopReason(high.id), graceSeconds: 2 },
    ]);
    expect((await h.task(low.task.id)).attempts.map((a) => a.status)).toEqual(['preempting']);
    expect(h.registry.get('w1')?.reserved.cpu).toBe(2);
    // a small task submitted now does not take the room the first victim frees
    const small = await h.submit({ ...cpu(1), priority: 50 });
    await h.finished('w1', low.attemptId, 'cancelled', { exitCode: 143 });
    const victim = await h.task(low.task.id);
    expect(victim).toMatchObject({ status: 'queued', retriesUsed: 0 });
    expect(victim.events.at(-1)).toMatchObject({ kind: 'queued', message: `${stopReason(high.id)}; re-queued` });
    expect((await h.task(small.id)).status).toBe('queued');
    // nothing more was evicted
    expect(channel.cancels()).toHaveLength(2);

    await h.finished('w1', mid.attemptId, 'cancelled', { exitCode: 143 });
    expect((await h.task(high.id)).status).toBe('assigned');
    expect((await h.task(small.id)).status).toBe('queued');
  });
});
