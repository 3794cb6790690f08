// The master's backstop for timeoutSeconds, on the harness (the real systems on a temp SQLite
// store, recording fake worker channels, a manual clock): an attempt that runs past its timeout
// is cancelled ("timed out"), and when its worker does not report within the cancel grace (+ a
// margin) the master ends it timed out itself; the task retries or fails, charged. Timers run
// from the stored start, so a master restart re-arms them.
import { afterEach, describe, expect, it } from 'vitest';
import { TIMER_SLACK_MS } from './systems/timer-system.js';
import { TIMEOUT_MARGIN_MS } from './systems/timeout-system.js';
import { HARNESS_ADMIN, TaskHarness } from './testing/harness.js';

/** the harness's cancel grace */
const GRACE = 2000;
const TIMEOUT_S = 10;
const ENDED_BY_MASTER = `timed out after ${TIMEOUT_S}s (ended by the master: its worker did not stop it)`;

let harness: TaskHarness;
afterEach(async () => {
  await harness?.close();
});

/** w-1 runs one task with a 10 s timeout; answers the task and its attempt. */
async function runningTask(extra: { maxRetries?: number } = {}) {
  harness = await TaskHarness.start();
  await harness.connectWorker('w-1');
  const task = await harness.submit({ timeoutSeconds: TIMEOUT_S, maxRetries: extra.maxRetries ?? 0 });
  const { attempt } = harness.assignmentOf('w-1', task.id);
  await harness.started('w-1', attempt.id);
  return { task, attemptId: attempt.id, startedAt: harness.clock.now() };
}

const cancelsOf = (attemptId: string, workerId = 'w-1') => harness.channel(workerId).cancels().filter((c) => c.attemptId === attemptId);

describe('a worker that ignores the timeout', () => {
  it('gets a cancel at started + timeout, and after the cancel grace the master ends the attempt timed out: retried, then failed, charged, a dead letter', async () => {
    const { task, attemptId } = await runningTask({ maxRetries: 1 });

    await harness.advance(TIMEOUT_S * 1000 - 100);
    expect(cancelsOf(attemptId)).toEqual([]);
    await harness.advance(100 + TIMER_SLACK_MS);
    expect(cancelsOf(attemptId)).toEqual([{ kind: 'cancel', attemptId, reason: `timed out after ${TIMEOUT_S}s`, graceSeconds: 2 }]);
    expect((await harness.task(task.id)).status).toBe('running');

    // the worker says nothing: the grace and the margin pass
    await harness.advance(GRACE + TIMEOUT_MARGIN_MS - 100);
    expect((await harness.task(task.id)).attempts.map((a) => a.status)).toEqual(['running']);
    await harness.advance(100 + TIMER_SLACK_MS);
    const retried = await harness.task(task.id);
    expect(retried).toMatchObject({ status: 'queued', retriesUsed: 1, reason: `${ENDED_BY_MASTER}; retry 1 of 1 in 1s` });
    expect(retried.attempts[0]).toMatchObject({ status: 'timed_out', error: expect.stringMatching(/^timed out: no result from worker w-1 within the cancel grace/) });
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(0);

    // the retry runs and is ignored the same way: the task fails, charged
    await harness.advance(1000 + TIMER_SLACK_MS);
    const second = harness.assignmentOf('w-1', task.id).attempt;
    expect(second.number).toBe(2);
    await harness.started('w-1', second.id);
    await harness.advance(TIMEOUT_S * 1000 + TIMER_SLACK_MS);
    await harness.advance(GRACE + TIMEOUT_MARGIN_MS + TIMER_SLACK_MS);
    const failed = await harness.task(task.id);
    // retriesUsed counts retries taken (the last failure is not one); failed through its retry
    // policy, it is a dead letter like a task the worker timed out
    expect(failed).toMatchObject({ status: 'failed', retriesUsed: 1, reason: ENDED_BY_MASTER });
    expect(failed.deadLetteredAt).toBeGreaterThan(0);
    expect(failed.attempts.map((a) => a.status)).toEqual(['timed_out', 'timed_out']);
    expect(failed.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running', 'queued', 'assigned', 'running', 'failed', 'dead_letter']);

    // the first attempt's late result is acknowledged without effect
    expect(await harness.finished('w-1', attemptId, 'succeeded')).toBe('ignored');
    expect((await harness.task(task.id)).status).toBe('failed');
  });
});

describe('a worker that obeys', () => {
  it("the master's cancel reports cancelled: recorded timed_out and charged, not re-queued for free", async () => {
    const { task, attemptId } = await runningTask();
    await harness.advance(TIMEOUT_S * 1000 + TIMER_SLACK_MS);
    expect(cancelsOf(attemptId)).toHaveLength(1);
    expect(await harness.finished('w-1', attemptId, 'cancelled', { exitCode: 143, error: `cancelled: timed out after ${TIMEOUT_S}s` })).toBe('applied');
    const done = await harness.task(task.id);
    expect(done).toMatchObject({ status: 'failed', reason: `timed out after ${TIMEOUT_S}s` });
    expect(done.attempts.map((a) => a.status)).toEqual(['timed_out']);
    // its grace timer went with it: nothing more happens
    await harness.advance(GRACE + TIMEOUT_MARGIN_MS + TIMER_SLACK_MS);
    expect((await harness.task(task.id)).attempts.map((a) => a.status)).toEqual(['timed_out']);
  });

  it('its own timeout first (it reports timed_out before the master): no cancel is sent', async () => {
    const { task, attemptId } = await runningTask();
    await harness.advance(TIMEOUT_S * 1000 - 1);
    await harness.finished('w-1', attemptId, 'timed_out', { exitCode: 137 });
    await harness.advance(TIMEOUT_S * 1000);
    expect(cancelsOf(attemptId)).toEqual([]);
    expect(await harness.task(task.id)).toMatchObject({ status: 'failed', reason: `timed out after ${TIMEOUT_S}s` });
  });
});

describe('what the master leaves alone', () => {
  it('a task without a timeout, an attempt that never started, and one a person cancelled', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const untimed = await harness.submit({ timeoutSeconds: 0 });
    await harness.started('w-1', harness.assignmentOf('w-1', untimed.id).attempt.id);
    const unstarted = await harness.submit({ timeoutSeconds: 1 });
    const cancelled = await harness.submit({ timeoutSeconds: 1 });
    const cancelledAttempt = harness.assignmentOf('w-1', cancelled.id).attempt.id;
    await harness.started('w-1', cancelledAttempt);
    await harness.tasks.cancel(HARNESS_ADMIN, cancelled.id);
    await harness.advance(60_000);
    const cancels = harness.channel('w-1').cancels();
    // only the person's cancel went out
    expect(cancels.map((c) => ({ attemptId: c.attemptId, reason: c.reason }))).toEqual([{ attemptId: cancelledAttempt, reason: 'cancelled by admin@example.com' }]);
    expect((await harness.task(untimed.id)).status).toBe('running');
    expect((await harness.task(unstarted.id)).status).toBe('assigned');
  });

  it("a timed-out attempt of a worker lost meanwhile: left to fencing, which gives it away once the worker must have stopped it", async () => {
    // a cancel grace longer than the TTL, so the worker is lost before the grace ends; its
    // fencing bound (60 s + 2 s + margin from its last contact) ends later still
    harness = await TaskHarness.start({ tasks: { cancelGraceMs: 20_000 } });
    await harness.connectWorker('w-1', { fencing: { stopAfterMs: 60_000, stopGraceMs: 2000 } });
    const task = await harness.submit({ timeoutSeconds: TIMEOUT_S });
    const attemptId = harness.assignmentOf('w-1', task.id).attempt.id;
    await harness.started('w-1', attemptId);
    await harness.advance(TIMEOUT_S * 1000 + TIMER_SLACK_MS);
    expect(cancelsOf(attemptId)).toHaveLength(1);
    harness.registry.heartbeat('w-1', undefined, [attemptId]);
    await harness.silenceWorker('w-1'); // lost at 25 s
    await harness.advance(20_000 + TIMEOUT_MARGIN_MS); // the grace has ended (32 s): not ended by the master
    const held = await harness.task(task.id);
    expect(held.attempts.map((a) => a.status)).toEqual(['running']);
    expect(held.reason).toMatch(/^worker w-1 lost; re-queued at /);
    await harness.advance(60_000); // past its bound: lost, re-queued uncharged
    const requeued = await harness.task(task.id);
    expect(requeued.attempts.map((a) => a.status)).toEqual(['lost']);
    expect(requeued).toMatchObject({ status: 'queued', retriesUsed: 0 });
  });
});

describe('a master restart', () => {
  it('re-arms the timeout from the stored start', async () => {
    const { task, attemptId, startedAt } = await runningTask();
    await harness.advance(4000);
    harness = await harness.restart();
    await harness.connectWorker('w-1', { holding: [attemptId] });
    await harness.advance(startedAt + TIMEOUT_S * 1000 - harness.clock.now() - 100);
    expect(cancelsOf(attemptId)).toEqual([]);
    await harness.advance(100 + TIMER_SLACK_MS);
    expect(cancelsOf(attemptId)).toHaveLength(1);
    await harness.advance(GRACE + TIMEOUT_MARGIN_MS + TIMER_SLACK_MS);
    expect(await harness.task(task.id)).toMatchObject({ status: 'failed', reason: ENDED_BY_MASTER });
  });

  it('cancels at once, when its worker reconnects, an attempt whose timeout passed while the master was down', async () => {
    const { task, attemptId } = await runningTask();
    harness = await harness.restart();
    await harness.advance(TIMEOUT_S * 1000 + 1000); // past the timeout, within the reconnect grace
    const { channel } = await harness.connectWorker('w-1', { holding: [attemptId] });
    expect(channel.cancels().map((c) => c.reason)).toEqual([`timed out after ${TIMEOUT_S}s`]);
    // the grace runs from the cancel, not from the deadline
    await harness.advance(GRACE + TIMEOUT_MARGIN_MS - 100);
    expect((await harness.task(task.id)).status).toBe('running');
    await harness.advance(100 + TIMER_SLACK_MS);
    expect(await harness.task(task.id)).toMatchObject({ status: 'failed', reason: ENDED_BY_MASTER });
  });
});
