// What the task systems do when the master's storage is full, on the harness with its fake full
// disk (every store write of the systems fails with storage_full, as SQLITE_FULL translates):
// nothing is half-applied, the worker's report is refused (the gateway answers it with a
// ReportNack and the worker sends it again), the task says why it waits, and the same report is
// applied once, in full, when there is room again.
import { afterEach, describe, expect, it } from 'vitest';
import { RESULT_WAITS, START_WAITS } from './systems/report-system.js';
import { TaskHarness } from './testing/harness.js';

let harness: TaskHarness;
afterEach(async () => {
  await harness?.close();
});

async function runningTask(): Promise<{ taskId: string; attemptId: string }> {
  const task = await harness.submit();
  await harness.connectWorker('w-1');
  const { attempt } = harness.assignmentOf('w-1', task.id);
  await harness.started('w-1', attempt.id);
  return { taskId: task.id, attemptId: attempt.id };
}

describe('a result while the master storage is full', () => {
  it('is refused, the task says its result waits on the worker, and the same result sent again is applied once', async () => {
    harness = await TaskHarness.start();
    const { taskId, attemptId } = await runningTask();
    const files = await harness.upload(attemptId, { 'out.txt': 'hello' });
    harness.fillDisk();
    await expect(harness.finished('w-1', attemptId, 'succeeded', { files })).rejects.toMatchObject({
      code: 'storage_full',
      message: expect.stringMatching(/^master storage full/),
    });
    const waiting = await harness.task(taskId);
    expect(waiting).toMatchObject({ status: 'running', reason: RESULT_WAITS });
    expect(waiting.attempts.map((a) => a.status)).toEqual(['running']);
    // the reservation stays until the result is in
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(1);
    // sent again while still full: refused again, nothing changes
    await expect(harness.finished('w-1', attemptId, 'succeeded', { files })).rejects.toMatchObject({ code: 'storage_full' });

    harness.freeDisk();
    expect(await harness.finished('w-1', attemptId, 'succeeded', { files })).toBe('applied');
    const done = await harness.task(taskId);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(done.reason).toBeUndefined();
    // its staged upload survived the refusals: the file is the task's, with the master's digest
    expect(done.files.map((f) => ({ path: f.path, size: f.size }))).toEqual([{ path: 'out.txt', size: 5 }]);
    expect(done.events.filter((e) => e.kind === 'succeeded')).toHaveLength(1);
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(0);
    // a duplicate after that is acknowledged without effect
    expect(await harness.finished('w-1', attemptId, 'succeeded', { files })).toBe('ignored');
  });
});

describe('a start while the master storage is full', () => {
  it('is refused, the assigned task says its start waits on the worker, and the start sent again makes it running', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit();
    await harness.connectWorker('w-1');
    const { attempt } = harness.assignmentOf('w-1', task.id);
    harness.fillDisk();
    await expect(harness.tasks.attemptStarted('w-1', attempt.id, harness.clock.now())).rejects.toMatchObject({ code: 'storage_full' });
    expect(await harness.task(task.id)).toMatchObject({ status: 'assigned', reason: START_WAITS });
    harness.freeDisk();
    await harness.started('w-1', attempt.id);
    const running = await harness.task(task.id);
    expect(running.status).toBe('running');
    expect(running.reason).toBeUndefined();
    expect(running.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running']);
  });

  it('progress (pulling) is refused too, and stored when sent again', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit();
    await harness.connectWorker('w-1');
    const { attempt } = harness.assignmentOf('w-1', task.id);
    harness.fillDisk();
    await expect(harness.tasks.attemptProgress('w-1', attempt.id, 'pulling', 'pulling wharf/busybox', harness.clock.now())).rejects.toMatchObject({ code: 'storage_full' });
    harness.freeDisk();
    await harness.tasks.attemptProgress('w-1', attempt.id, 'pulling', 'pulling wharf/busybox', harness.clock.now());
    expect((await harness.task(task.id)).events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'pulling']);
  });
});

describe('scheduling while the master storage is full', () => {
  it('places nothing, and tries the pass again on its own once there is room (no other event needed)', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit({ maxRetries: 1 });
    const { channel } = await harness.connectWorker('w-1');
    const first = harness.assignmentOf('w-1', task.id);
    await harness.finished('w-1', first.attempt.id, 'failed'); // retry in 1 s
    harness.fillDisk();
    await harness.advance(1500); // the backoff ends: the pass is refused
    expect(channel.assignments()).toHaveLength(1);
    expect((await harness.task(task.id)).status).toBe('queued');
    harness.freeDisk();
    await harness.advance(1500);
    expect(channel.assignments()).toHaveLength(2);
    expect((await harness.task(task.id)).status).toBe('assigned');
  });
});

describe('a submission while the master storage is full', () => {
  it('fails with storage_full and queues nothing', async () => {
    harness = await TaskHarness.start();
    harness.fillDisk();
    await expect(harness.submit()).rejects.toMatchObject({ code: 'storage_full', message: expect.stringMatching(/^master storage full/) });
    harness.freeDisk();
    expect(harness.tasks.counts()).toEqual({ queued: 0, assigned: 0, running: 0 });
  });
});
