// The task lifecycle's rules, on the harness (testing/harness.ts): the real systems on a temp
// SqliteStore, a real registry with recording fake worker channels, a manual clock.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HARNESS_ADMIN, HARNESS_USER, ManualClock, TaskHarness } from './testing/harness.js';

let harness: TaskHarness;
afterEach(async () => {
  await harness?.close();
});

const eventKinds = async (taskId: string): Promise<string[]> => (await harness.task(taskId)).events.map((e) => e.kind);

describe('a task from submission to its end', () => {
  it('is queued, assigned to a worker with room, started and succeeds; its reservation is released', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit({ resources: { cpu: 2, memory: 1024 ** 3, gpu: 0, disk: 0 } });
    expect(task.status).toBe('queued');
    expect((await harness.task(task.id)).reason).toBe('no ready worker');

    const { channel } = await harness.connectWorker('w-1');
    const [assignment] = channel.assignments();
    expect(assignment?.task).toMatchObject({ id: task.id, status: 'assigned', workerId: 'w-1' });
    expect(assignment?.attempt).toMatchObject({ number: 1, workerId: 'w-1', status: 'assigned' });
    expect(harness.registry.get('w-1')?.reserved).toEqual({ cpu: 2, memory: 1024 ** 3, gpu: 0, disk: 0 });

    await harness.started('w-1', assignment!.attempt.id);
    expect((await harness.task(task.id)).status).toBe('running');
    expect(await harness.finished('w-1', assignment!.attempt.id, 'succeeded')).toBe('applied');

    const done = await harness.task(task.id);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0, retriesUsed: 0 });
    expect(done.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(await eventKinds(task.id)).toEqual(['submitted', 'assigned', 'running', 'succeeded']);
    expect(harness.registry.get('w-1')?.reserved).toEqual({ cpu: 0, memory: 0, gpu: 0, disk: 0 });
    expect(harness.tasks.isActive(task.id)).toBe(false);
  });

  it('records a start that arrives with its result in the same commit, running notice included', async () => {
    harness = await TaskHarness.start();
    const seen: string[] = [];
    harness.tasks.onTaskChange((t) => seen.push(t.status));
    const task = await harness.submit();
    await harness.connectWorker('w-1');
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const started = harness.tasks.attemptStarted('w-1', attempt.id, harness.clock.now());
    const finished = harness.tasks.attemptFinished('w-1', { attemptId: attempt.id, outcome: 'succeeded', exitCode: 0, files: [] });
    await Promise.all([started, finished]);
    await harness.settle();
    expect(seen).toEqual(['queued', 'assigned', 'running', 'succeeded']);
    expect(await eventKinds(task.id)).toEqual(['submitted', 'assigned', 'running', 'succeeded']);
    expect((await harness.task(task.id)).attempts[0]?.startedAt).toBe(harness.clock.now());
  });
});

describe('group commits', () => {
  it('stores a pass’s placements in one commit, and the results that arrive in one round in one more', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1', { capacity: { cpu: 64 } });
    const groups = vi.spyOn(harness.store, 'commitMany');
    const tasks = await harness.tasks.submitMany(
      HARNESS_USER,
      Array.from({ length: 50 }, (_, i) => ({
        name: `t-${i}`,
        image: 'wharf/busybox:latest',
        command: [],
        env: {},
        runtime: 'docker' as const,
        resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
        priority: 50,
        maxRetries: 0,
        timeoutSeconds: 0,
        labels: {},
      })),
    );
    await harness.settle();
    expect(groups).toHaveBeenCalledTimes(1);
    expect(groups.mock.calls[0]?.[0]).toHaveLength(50);

    const attempts = tasks.map((t) => harness.assignmentOf('w-1', t.id).attempt.id);
    await Promise.all(attempts.map((attemptId) => harness.tasks.attemptFinished('w-1', { attemptId, outcome: 'succeeded', exitCode: 0, files: [] })));
    await harness.settle();
    expect(groups).toHaveBeenCalledTimes(2);
    expect(groups.mock.calls[1]?.[0]).toHaveLength(50);
    expect(harness.tasks.counts()).toEqual({ queued: 0, assigned: 0, running: 0 });
  });
});

describe('retries', () => {
  it('retries a failure after its backoff, keeping the retry reason while it waits, then fails for good', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 1 });
    const first = harness.assignmentOf('w-1', task.id).attempt;
    await harness.started('w-1', first.id);
    await harness.finished('w-1', first.id, 'failed', { exitCode: 3 });

    const waiting = await harness.task(task.id);
    expect(waiting).toMatchObject({ status: 'queued', retriesUsed: 1, exitCode: 3, reason: 'exit code 3; retry 1 of 1 in 1s' });
    expect(waiting.notBefore).toBe(harness.clock.now() + 1000);

    // a scheduling pass while it waits (another worker joins) neither places it nor replaces its reason
    await harness.connectWorker('w-2');
    await harness.advance(900);
    expect(harness.channel('w-1').assignments()).toHaveLength(1);
    expect(harness.channel('w-2').assignments()).toHaveLength(0);
    expect((await harness.task(task.id)).reason).toBe('exit code 3; retry 1 of 1 in 1s');

    // the backoff ends: the timer wakes the dispatch system
    await harness.advance(200);
    const retried = await harness.task(task.id);
    expect(retried).toMatchObject({ status: 'assigned', attemptCount: 2 });
    expect(retried.notBefore).toBeUndefined();
    expect(retried.reason).toBeUndefined();

    const second = retried.attempts.at(-1)!;
    await harness.started(second.workerId, second.id);
    await harness.finished(second.workerId, second.id, 'failed', { exitCode: 4 });
    const failed = await harness.task(task.id);
    // one retry was taken: the second failure is not a retry ("Retries 2 of 1 used" before)
    expect(failed).toMatchObject({ status: 'failed', reason: 'exit code 4', retriesUsed: 1, maxRetries: 1, exitCode: 4 });
    expect(failed.deadLetteredAt).toBe(harness.clock.now());
    expect(failed.events.map((e) => e.kind).slice(-2)).toEqual(['failed', 'dead_letter']);
    expect(failed.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(harness.clock.pendingTimers).toBe(0);
  });

  it('follows the task\'s own retry policy: its backoff and the exit codes it retries', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 3, retryPolicy: { backoffSeconds: 4, backoffMultiplier: 3, retryOn: { exitCodes: [75] } } });
    expect((await harness.task(task.id)).retryPolicy).toEqual({ backoffSeconds: 4, backoffMultiplier: 3, maxBackoffSeconds: 10, retryOn: { exitCodes: [75] } });
    const first = harness.assignmentOf('w-1', task.id).attempt;
    await harness.finished('w-1', first.id, 'failed', { exitCode: 75 });
    // the harness's jitter takes nothing off: the first retry waits the whole 4 s
    expect((await harness.task(task.id)).notBefore).toBe(harness.clock.now() + 4000);
    await harness.advance(4100);
    const second = (await harness.task(task.id)).attempts.at(-1)!;
    await harness.finished('w-1', second.id, 'failed', { exitCode: 75 });
    // 4 s × 3 = 12 s, capped at the master's 10 s
    expect((await harness.task(task.id)).notBefore).toBe(harness.clock.now() + 10_000);
    await harness.advance(10_100);
    const third = (await harness.task(task.id)).attempts.at(-1)!;
    await harness.finished('w-1', third.id, 'failed', { exitCode: 1 });
    const failed = await harness.task(task.id);
    expect(failed).toMatchObject({ status: 'failed', retriesUsed: 2, reason: 'exit code 1; not retried (retryOn: exit code 75)' });
    expect(failed.deadLetteredAt).toBeDefined();
  });

  it('re-queues at once, uncharged, a task its worker stopped unasked', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 0 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.started('w-1', attempt.id);
    await harness.finished('w-1', attempt.id, 'cancelled', { exitCode: 143 });
    const again = await harness.task(task.id);
    expect(again.retriesUsed).toBe(0);
    expect(again.attempts.map((a) => a.status)).toEqual(['cancelled', 'assigned']);
    expect(harness.channel('w-1').assignments()).toHaveLength(2);
  });
});

describe('cancel', () => {
  it('cancels a queued task at once: out of the queue, nothing sent', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit({ labels: { zone: 'nowhere' } });
    await harness.connectWorker('w-1');
    const cancelled = await harness.tasks.cancel(HARNESS_USER, task.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', reason: 'cancelled by ada@example.com' });
    expect(harness.tasks.queueSnapshot().total).toBe(0);
    expect(harness.channel('w-1').sent).toEqual([]);
    await expect(harness.tasks.cancel(HARNESS_USER, task.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('cancels a running task at once and tells its worker; the reservation goes when the worker confirms', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.started('w-1', attempt.id);

    await harness.tasks.cancel(HARNESS_USER, task.id);
    expect((await harness.task(task.id)).status).toBe('cancelled');
    expect(harness.channel('w-1').cancels()).toEqual([{ kind: 'cancel', attemptId: attempt.id, reason: 'cancelled by ada@example.com', graceSeconds: 2 }]);
    expect((await harness.task(task.id)).attempts[0]?.status).toBe('cancelling');
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(1);

    // a reconnecting worker is told again
    await harness.connectWorker('w-1', { holding: [attempt.id] });
    expect(harness.channel('w-1').cancels()).toHaveLength(1);

    await harness.finished('w-1', attempt.id, 'failed', { exitCode: 143 });
    const done = await harness.task(task.id);
    expect(done.status).toBe('cancelled');
    expect(done.attempts[0]?.status).toBe('cancelled');
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(0);
  });
});

describe('workers that go away', () => {
  it('holds a lost worker’s attempt until it must have stopped it, then re-queues it, not charged to retries, and places it elsewhere', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 0 });
    const first = harness.assignmentOf('w-1', task.id).attempt;
    await harness.started('w-1', first.id);
    await harness.connectWorker('w-2');

    // last contact at 0 s: stop-after 15 s (the TTL) + 2 s grace + 2 s margin
    await harness.silenceWorker('w-1');
    const held = await harness.task(task.id);
    expect(held).toMatchObject({ status: 'running', reason: 'worker w-1 lost; re-queued at 2030-01-01T00:00:19Z once it must have stopped' });
    expect(held.attempts.map((a) => [a.workerId, a.status])).toEqual([['w-1', 'running']]);

    await harness.advance(5000);
    const moved = await harness.task(task.id);
    expect(moved.attempts.map((a) => [a.workerId, a.status])).toEqual([
      ['w-1', 'lost'],
      ['w-2', 'assigned'],
    ]);
    expect(moved.retriesUsed).toBe(0);
    expect(await eventKinds(task.id)).toEqual(['submitted', 'assigned', 'running', 'lost', 'assigned']);
    expect(moved.attempts[0]?.error).toBe('worker w-1 was lost');
  });

  it('acknowledges a duplicate result without effect', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.started('w-1', attempt.id);
    expect(await harness.finished('w-1', attempt.id, 'succeeded')).toBe('applied');
    expect(await harness.finished('w-1', attempt.id, 'failed', { exitCode: 9 })).toBe('ignored');
    const done = await harness.task(task.id);
    expect(done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(await eventKinds(task.id)).toEqual(['submitted', 'assigned', 'running', 'succeeded']);
  });

  it('tells a returning worker to stop an attempt given away, and ignores that attempt’s result', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const stale = harness.assignmentOf('w-1', task.id).attempt;
    await harness.started('w-1', stale.id);
    await harness.connectWorker('w-2');
    await harness.silenceWorker('w-1');
    await harness.advance(5000); // past its fencing bound
    const current = harness.assignmentOf('w-2', task.id).attempt;

    const { stopAttempts } = await harness.connectWorker('w-1', { holding: [stale.id] });
    expect(stopAttempts).toEqual([stale.id]);
    expect(await harness.finished('w-1', stale.id, 'succeeded')).toBe('ignored');
    const still = await harness.task(task.id);
    expect(still).toMatchObject({ status: 'assigned', currentAttemptId: current.id, workerId: 'w-2' });
  });

  it('loses a running attempt its worker came back without (restarted), and runs it again', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const first = harness.assignmentOf('w-1', task.id).attempt;
    await harness.started('w-1', first.id);
    await harness.connectWorker('w-1', { holding: [] });
    const again = await harness.task(task.id);
    expect(again.attempts.map((a) => [a.status, a.error])).toEqual([
      ['lost', 'the worker restarted without it'],
      ['assigned', undefined],
    ]);
  });
});

describe('a master restart', () => {
  it('re-queues queued tasks, keeps running attempts for their returning worker, and loses those of one that never returns once its bound has passed', async () => {
    harness = await TaskHarness.start({ heartbeatTtlMs: 1000 });
    await harness.connectWorker('w-1', { capacity: { cpu: 1 } });
    await harness.connectWorker('w-2', { capacity: { cpu: 1 } });
    const a = await harness.submit({ name: 'a' });
    const b = await harness.submit({ name: 'b' });
    const waiting = await harness.submit({ name: 'waiting' });
    const onOne = harness.assignmentOf('w-1', a.id).attempt;
    const onTwo = harness.assignmentOf('w-2', b.id).attempt;
    await harness.started('w-1', onOne.id);
    await harness.started('w-2', onTwo.id);
    expect((await harness.task(waiting.id)).status).toBe('queued');

    harness = await harness.restart();
    expect(harness.tasks.queueSnapshot().tasks.map((t) => t.task.id)).toEqual([waiting.id]);
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(1);

    // w-1 returns with its attempt; w-2 never does
    const { stopAttempts } = await harness.connectWorker('w-1', { capacity: { cpu: 1 }, holding: [onOne.id] });
    expect(stopAttempts).toEqual([]);
    await harness.finished('w-1', onOne.id, 'succeeded');
    expect((await harness.task(a.id)).status).toBe('succeeded');
    expect(harness.assignmentOf('w-1', waiting.id).attempt.number).toBe(1);

    // lost a TTL after the restart (its last contact); held for stop-after 1 s + 2 s grace + 2 s margin from the restart
    await harness.silenceWorker('w-2');
    expect((await harness.task(b.id)).status).toBe('running');
    await harness.advance(5000);
    const lost = await harness.task(b.id);
    expect(lost.status).toBe('queued');
    expect(lost.attempts.map((x) => [x.status, x.error])).toEqual([['lost', 'worker w-2 was lost']]);
    expect(lost.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running', 'lost']);
    // back in the queue: w-1, the one worker left, is full
    expect(lost.reason).toBe('waiting for free resources on a matching worker');
  });
});

describe('output files', () => {
  it('become the task’s files once the result is stored', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const files = await harness.upload(attempt.id, { 'report.txt': 'all good\n' });
    await harness.finished('w-1', attempt.id, 'succeeded', { files });
    const done = await harness.task(task.id);
    expect(done.files.map((f) => [f.path, f.size])).toEqual([['report.txt', 9]]);
    expect(readFileSync(join(harness.dataDir, 'files', HARNESS_USER.id, task.id, 'report.txt'), 'utf8')).toBe('all good\n');
  });

  it('are not moved into the task’s folder when the result’s commit is refused', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const files = await harness.upload(attempt.id, { 'forged.txt': 'not recorded\n' });
    // the stored attempt changed under this master (another master, or a change it did not see):
    // the result's commit is conditional on the attempt being active, so it is refused
    expect(await harness.store.commit([{ kind: 'updateAttempt', attemptId: attempt.id, patch: { status: 'lost', error: 'elsewhere' } }])).toBe(true);

    await harness.finished('w-1', attempt.id, 'succeeded', { files });
    expect(existsSync(join(harness.dataDir, 'files', HARNESS_USER.id, task.id))).toBe(false);
    expect(existsSync(join(harness.dataDir, 'files', '.staging', attempt.id))).toBe(false);
    expect((await harness.task(task.id)).files).toEqual([]);
  });

  it('keeps the stored result when the move fails after the commit, files staged and the error logged; the next start moves them', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    harness = await TaskHarness.start({ logger });
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const files = await harness.upload(attempt.id, { 'out.txt': 'bytes\n' });
    // where the user's folder must go there is a file: the move cannot happen
    mkdirSync(join(harness.dataDir, 'files'), { recursive: true });
    writeFileSync(join(harness.dataDir, 'files', HARNESS_USER.id), 'in the way');

    expect(await harness.finished('w-1', attempt.id, 'succeeded', { files })).toBe('applied');
    const done = await harness.task(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.files.map((f) => f.path)).toEqual(['out.txt']);
    expect(readFileSync(join(harness.dataDir, 'files', '.staging', attempt.id, 'out.txt'), 'utf8')).toBe('bytes\n');
    expect(lines.some((line) => line.includes(attempt.id) && line.includes('could not be moved into place'))).toBe(true);

    // the obstacle goes; the next master start finishes the move the stored result calls for
    rmSync(join(harness.dataDir, 'files', HARNESS_USER.id));
    harness = await harness.restart();
    expect(readFileSync(join(harness.dataDir, 'files', HARNESS_USER.id, task.id, 'out.txt'), 'utf8')).toBe('bytes\n');
    expect(existsSync(join(harness.dataDir, 'files', '.staging', attempt.id))).toBe(false);
  });

  it('drops, at the next start, staged files that belong to no stored result', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.finished('w-1', attempt.id, 'succeeded');
    // bytes staged for the finished attempt that its stored result does not list (left by a crash)
    await harness.upload(attempt.id, { 'stray.txt': 'not the task\'s\n' });
    expect(existsSync(join(harness.dataDir, 'files', '.staging', attempt.id, 'stray.txt'))).toBe(true);
    harness = await harness.restart();
    expect(existsSync(join(harness.dataDir, 'files', '.staging', attempt.id))).toBe(false);
    expect(existsSync(join(harness.dataDir, 'files', HARNESS_USER.id, task.id))).toBe(false);
  });

  it('fails a DAG-style task that did not write a declared output, like a non-zero exit', async () => {
    harness = await TaskHarness.start({ clock: new ManualClock() });
    await harness.connectWorker('w-1');
    const task = await harness.tasks.submitMany(HARNESS_USER, [
      {
        name: 'train',
        image: 'wharf/busybox:latest',
        command: ['true'],
        env: {},
        runtime: 'docker',
        resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
        priority: 50,
        maxRetries: 0,
        timeoutSeconds: 0,
        labels: {},
        outputs: ['model.bin'],
      },
    ]);
    await harness.settle();
    const { attempt } = harness.assignmentOf('w-1', task[0]!.id);
    await harness.finished('w-1', attempt.id, 'succeeded');
    const failed = await harness.task(task[0]!.id);
    expect(failed).toMatchObject({ status: 'failed', reason: 'declared output "model.bin" not written to /output', exitCode: 0 });
    expect(failed.attempts[0]).toMatchObject({ status: 'failed', error: 'declared output "model.bin" not written to /output' });
  });
});

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('what a result claims, checked', () => {
  it('fails an attempt whose result claims another sha256 than the master received, charged; the file stays with the master’s digest', async () => {
    harness = await TaskHarness.start({ clock: new ManualClock() });
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 1 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.upload(attempt.id, { 'out.txt': 'real' });
    await harness.finished('w-1', attempt.id, 'succeeded', { files: [{ path: 'out.txt', size: 4, sha256: sha('fake') }] });
    const why = `result does not match the uploaded files: file out.txt: the result claims 4 bytes with sha256 ${sha('fake')}, the master received 4 bytes with sha256 ${sha('real')}`;
    const retrying = await harness.task(task.id);
    expect(retrying).toMatchObject({ status: 'queued', retriesUsed: 1 });
    expect(retrying.reason).toMatch(new RegExp(`^${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; retry 1 of 1 in \\d+s$`));
    expect(retrying.attempts[0]).toMatchObject({ status: 'failed', error: why, exitCode: 0 });
    expect(retrying.files.map((f) => [f.path, f.size, f.sha256])).toEqual([['out.txt', 4, sha('real')]]);
  });

  it('charges a worker’s cancelled report whose files do not verify, instead of re-queueing it for free', async () => {
    harness = await TaskHarness.start({ clock: new ManualClock() });
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 2 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.finished('w-1', attempt.id, 'cancelled', { files: [{ path: 'gone.txt', size: 3, sha256: sha('abc') }] });
    const charged = await harness.task(task.id);
    expect(charged).toMatchObject({ status: 'queued', retriesUsed: 1 });
    expect(charged.reason).toMatch(/^result does not match the uploaded files: file gone\.txt is listed in the result \(3 bytes, sha256 [0-9a-f]{64}\) but never arrived; retry 1 of 2 in \d+s$/);
    expect(charged.attempts[0]).toMatchObject({ status: 'failed' });
  });

  it('still re-queues, uncharged, a worker’s cancelled report whose files verify', async () => {
    harness = await TaskHarness.start({ clock: new ManualClock() });
    await harness.connectWorker('w-1');
    const task = await harness.submit({ maxRetries: 2 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const files = await harness.upload(attempt.id, { 'partial.txt': 'half' });
    await harness.finished('w-1', attempt.id, 'cancelled', { files });
    const requeued = await harness.task(task.id);
    // back at once (and placed again on w-1): not charged
    expect(requeued.retriesUsed).toBe(0);
    expect(requeued.attempts[0]).toMatchObject({ status: 'cancelled' });
    expect(requeued.events.some((e) => e.kind === 'queued' && e.message === 'its worker stopped it; re-queued')).toBe(true);
  });

  it('keeps, on success, only the files the result lists; a received file it does not list is deleted', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const files = await harness.upload(attempt.id, { 'listed.txt': 'listed', 'extra.txt': 'extra' });
    await harness.finished('w-1', attempt.id, 'succeeded', { files: files.filter((f) => f.path === 'listed.txt') });
    const done = await harness.task(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.files.map((f) => f.path)).toEqual(['listed.txt']);
    expect(readdirSync(join(harness.dataDir, 'files', HARNESS_USER.id, task.id))).toEqual(['listed.txt']);
  });

  it('fails an attempt whose outputs passed their cap, whatever the worker reported', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    const session = await harness.files.beginUpload(attempt.id, { diskBytes: 4 });
    await expect(session.write({ path: 'big.bin', offset: 0, data: Buffer.from('too big'), eof: true, size: 7, sha256: sha('too big') })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    await session.abort();
    await harness.finished('w-1', attempt.id, 'failed', { exitCode: 2 });
    const failed = await harness.task(task.id);
    expect(failed).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(failed.reason).toBe(`outputs of attempt ${attempt.id} exceed the cap of 4 bytes (4B, the task's disk request)`);
  });

  it('counts the log chunks that never arrived: the outcome stands, the attempt says how many, the log says so', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    harness.logs.append(task.id, attempt.id, 1, 'stdout', Buffer.from('one\n'));
    await harness.finished('w-1', attempt.id, 'succeeded', { logChunks: 3 });
    const done = await harness.task(task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts[0]?.logChunksMissing).toBe(2);
    const log = harness.logs.read(task.id, [attempt.id]).map((e) => `${e.stream}: ${e.data.toString()}`);
    expect(log).toEqual(['stdout: one\n', 'system: wharf: the worker sent 3 log chunks, the master received 1\n']);
  });

  it('records 0 missing log chunks when every chunk arrived, and writes no note', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    harness.logs.append(task.id, attempt.id, 1, 'stdout', Buffer.from('one\n'));
    await harness.finished('w-1', attempt.id, 'succeeded', { logChunks: 1 });
    expect((await harness.task(task.id)).attempts[0]?.logChunksMissing).toBe(0);
    expect(harness.logs.read(task.id, [attempt.id])).toHaveLength(1);
  });
});

describe('attempts that end, as listeners hear them (metrics count them by outcome)', () => {
  it('tells of each applied result and each lost attempt once, with its final status; a duplicate or stale result is not told', async () => {
    harness = await TaskHarness.start({ clock: new ManualClock() });
    const heard: [string, string, string | undefined][] = [];
    harness.tasks.onAttemptFinished((attempt) => heard.push([attempt.id, attempt.status, attempt.error]));
    await harness.connectWorker('w-1', { capacity: { cpu: 1 } });
    await harness.connectWorker('w-2', { capacity: { cpu: 1 } });
    const ok = await harness.submit({ name: 'ok' });
    const doomed = await harness.submit({ name: 'doomed' });
    const first = harness.assignmentOf('w-1', ok.id).attempt;
    const second = harness.assignmentOf('w-2', doomed.id).attempt;

    await harness.finished('w-1', first.id, 'succeeded');
    expect(await harness.finished('w-1', first.id, 'succeeded')).toBe('ignored');
    await harness.started('w-2', second.id);
    await harness.silenceWorker('w-2');
    expect(heard).toHaveLength(1); // held until w-2 must have stopped it: not over yet
    await harness.advance(5000); // past its fencing bound
    // the lost worker's late result for the attempt it lost
    expect(await harness.finished('w-2', second.id, 'failed')).toBe('ignored');

    expect(heard).toEqual([
      [first.id, 'succeeded', undefined],
      [second.id, 'lost', 'worker w-2 was lost'],
    ]);
  });

  it('tells a result that did not hold up as failed', async () => {
    harness = await TaskHarness.start();
    const heard: string[] = [];
    harness.tasks.onAttemptFinished((attempt) => heard.push(attempt.status));
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.finished('w-1', attempt.id, 'succeeded', { files: [{ path: 'never.txt', size: 1, sha256: 'a'.repeat(64) }] });
    expect(heard).toEqual(['failed']);
  });

  it('keeps applying results when a listener throws', async () => {
    harness = await TaskHarness.start();
    harness.tasks.onAttemptFinished(() => {
      throw new Error('a broken listener');
    });
    await harness.connectWorker('w-1');
    const task = await harness.submit();
    const { attempt } = harness.assignmentOf('w-1', task.id);
    expect(await harness.finished('w-1', attempt.id, 'succeeded')).toBe('applied');
    expect((await harness.task(task.id)).status).toBe('succeeded');
  });
});

describe('dead letters', () => {
  /** A task that failed with no retry left (maxRetries 1: two failed attempts). */
  async function deadLetter(name = 'doomed', user = HARNESS_USER) {
    const task = await harness.submit({ name, maxRetries: 1 }, user);
    for (let i = 0; i < 2; i += 1) {
      const attempt = (await harness.task(task.id)).attempts.at(-1)!;
      await harness.finished(attempt.workerId, attempt.id, 'failed', { exitCode: 3, error: `boom ${i + 1}` });
      await harness.advance(1100);
    }
    return task;
  }

  it('lists a task whose retries are exhausted with its last error and attempts, and re-queues it as the same task with its retries reset', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await deadLetter();
    const { deadLetters } = await harness.tasks.listDeadLetters(HARNESS_USER, { limit: 10 });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ task: { id: task.id, status: 'failed', retriesUsed: 1 }, lastError: 'boom 2' });
    expect(deadLetters[0]!.attempts.map((a) => a.number)).toEqual([1, 2]);
    expect(await harness.tasks.countDeadLetters()).toBe(1);

    const requeued = await harness.tasks.requeueDeadLetter(HARNESS_USER, task.id);
    expect(requeued).toMatchObject({ id: task.id, status: 'queued', retriesUsed: 0, attemptCount: 2 });
    expect(requeued.deadLetteredAt).toBeUndefined();
    expect(requeued.exitCode).toBeUndefined();
    await harness.settle();
    // placed again: attempt 3 of the same task, out of the dead letters
    const again = await harness.task(task.id);
    expect(again).toMatchObject({ status: 'assigned', attemptCount: 3 });
    expect(again.events.map((e) => e.kind)).toContain('requeued');
    expect((await harness.tasks.listDeadLetters(HARNESS_USER, { limit: 10 })).deadLetters).toEqual([]);
    // and it gets its retries again
    await harness.finished('w-1', again.attempts.at(-1)!.id, 'failed', { exitCode: 3 });
    expect(await harness.task(task.id)).toMatchObject({ status: 'queued', retriesUsed: 1 });
  });

  it('does not take a cancelled task (not a dead letter)', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const cancelled = await harness.submit({ name: 'cancelled' });
    await harness.tasks.cancel(HARNESS_USER, cancelled.id);
    await harness.settle();
    expect(await harness.tasks.countDeadLetters()).toBe(0);
    await expect(harness.tasks.requeueDeadLetter(HARNESS_USER, cancelled.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('dismisses one: it stays failed, out of the list, and can no longer be re-queued from there', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await deadLetter();
    const dismissed = await harness.tasks.dismissDeadLetter(HARNESS_USER, task.id);
    expect(dismissed).toMatchObject({ status: 'failed' });
    expect(dismissed.deadLetteredAt).toBeUndefined();
    expect((await harness.tasks.listDeadLetters(HARNESS_USER, { limit: 10 })).deadLetters).toEqual([]);
    await expect(harness.tasks.requeueDeadLetter(HARNESS_USER, task.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('acts in bulk by ids or by a filter, reporting the tasks it skipped; a user acts only on their own', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1', { capacity: { cpu: 16 } });
    const a = await deadLetter('alpha');
    const b = await deadLetter('beta');
    const c = await deadLetter('beta');
    const admins = await deadLetter('beta', HARNESS_ADMIN);
    // a user's filter takes only their own
    const byFilter = await harness.tasks.dismissDeadLetters(HARNESS_USER, { filter: { name: 'beta' } });
    expect(byFilter).toEqual({ done: [c.id, b.id], skipped: [], more: false });
    const byIds = await harness.tasks.requeueDeadLetters(HARNESS_USER, { taskIds: [a.id, b.id, admins.id, 'nope'] });
    expect(byIds.done).toEqual([a.id]);
    expect(byIds.skipped.map((s) => [s.taskId, s.code])).toEqual([
      [b.id, 'conflict'],
      [admins.id, 'not_found'],
      ['nope', 'not_found'],
    ]);
    expect((await harness.tasks.listDeadLetters(HARNESS_ADMIN, { limit: 10 })).deadLetters.map((d) => d.task.id)).toEqual([admins.id]);
  });
});

describe('deadlines', () => {
  it('fails a task not started by its startDeadline with deadline_exceeded; not a dead letter', async () => {
    harness = await TaskHarness.start();
    const task = await harness.submit({ startDeadline: harness.clock.now() + 5000, maxRetries: 3 });
    await harness.advance(4900);
    expect((await harness.task(task.id)).status).toBe('queued');
    await harness.advance(200);
    const failed = await harness.task(task.id);
    expect(failed).toMatchObject({ status: 'failed', deadlineExceeded: 'startDeadline' });
    expect(failed.reason).toMatch(/^deadline_exceeded: not started by its startDeadline 2030-01-01T00:00:05\.000Z \(still queued\)$/);
    expect(failed.deadLetteredAt).toBeUndefined();
    expect(failed.events.map((e) => e.kind)).toEqual(['submitted', 'deadline_exceeded']);
    expect(harness.tasks.queueSnapshot().total).toBe(0);
    // a worker joining later gets nothing
    const { channel } = await harness.connectWorker('w-1');
    expect(channel.assignments()).toHaveLength(0);
    expect(harness.clock.pendingTimers).toBe(0);
  });

  it('leaves a task that started in time alone, its start deadline disarmed', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ startDeadline: harness.clock.now() + 5000 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.started('w-1', attempt.id);
    expect(harness.clock.pendingTimers).toBe(0);
    await harness.advance(10_000);
    expect((await harness.task(task.id)).status).toBe('running');
  });

  it('stops a task still running at its deadline: failed at once, the worker told to stop it with grace, the attempt ends with the deadline as its error', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-1');
    const task = await harness.submit({ deadline: harness.clock.now() + 60_000 });
    const { attempt } = harness.assignmentOf('w-1', task.id);
    await harness.started('w-1', attempt.id);
    await harness.advance(60_100);
    const failed = await harness.task(task.id);
    expect(failed).toMatchObject({ status: 'failed', deadlineExceeded: 'deadline' });
    expect(failed.reason).toBe('deadline_exceeded: not finished by its deadline 2030-01-01T00:01:00.000Z (stopped on w-1)');
    expect(harness.channel('w-1').cancels()).toEqual([{ kind: 'cancel', attemptId: attempt.id, reason: failed.reason, graceSeconds: 2 }]);
    // the reservation stays until the worker confirms the stop
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(1);
    await harness.finished('w-1', attempt.id, 'cancelled', { exitCode: 143 });
    const settled = await harness.task(task.id);
    expect(settled.attempts[0]).toMatchObject({ status: 'cancelled', error: failed.reason });
    expect(settled.status).toBe('failed');
    expect(harness.registry.get('w-1')?.reserved.cpu).toBe(0);
  });

  it('ends a retry still waiting at the deadline', async () => {
    harness = await TaskHarness.start({ tasks: { retryBackoffMs: 30_000, retryBackoffMaxMs: 30_000 } });
    await harness.connectWorker('w-1');
    const task = await harness.submit({ deadline: harness.clock.now() + 10_000, maxRetries: 2 });
    await harness.finished('w-1', harness.assignmentOf('w-1', task.id).attempt.id, 'failed', { exitCode: 1 });
    expect((await harness.task(task.id)).status).toBe('queued');
    await harness.advance(10_100);
    expect(await harness.task(task.id)).toMatchObject({ status: 'failed', deadlineExceeded: 'deadline', retriesUsed: 1 });
  });

  it('survive a master restart: re-armed in recovery, and one that passed while the master was down fires at once', async () => {
    harness = await TaskHarness.start();
    const queued = await harness.submit({ name: 'queued', startDeadline: harness.clock.now() + 5000 });
    const later = await harness.submit({ name: 'later', startDeadline: harness.clock.now() + 60_000 });
    harness = await harness.restart();
    await harness.advance(5100);
    expect(await harness.task(queued.id)).toMatchObject({ status: 'failed', deadlineExceeded: 'startDeadline' });
    expect((await harness.task(later.id)).status).toBe('queued');
    // the master is down past the second deadline: it fires as the master comes back
    harness.clock.advance(60_000);
    harness = await harness.restart();
    await harness.advance(10);
    expect(await harness.task(later.id)).toMatchObject({ status: 'failed', deadlineExceeded: 'startDeadline' });
  });

  it('refuses a deadline that has already passed, naming the field', async () => {
    harness = await TaskHarness.start();
    await expect(harness.submit({ deadline: harness.clock.now() - 1 })).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'deadline: 2029-12-31T23:59:59.999Z has already passed',
    });
  });
});

describe('GPUs as devices', () => {
  const oneGpu = { resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 1, disk: 0 } };

  it('gives two 1-GPU tasks on a 2-GPU worker different device ids; a third waits until one is free', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-gpu', { capacity: { gpu: 2 }, gpuIds: ['0', '1'] });
    const a = await harness.submit({ ...oneGpu, name: 'a' });
    const b = await harness.submit({ ...oneGpu, name: 'b' });
    const c = await harness.submit({ ...oneGpu, name: 'c' });
    const first = harness.assignmentOf('w-gpu', a.id).attempt;
    const second = harness.assignmentOf('w-gpu', b.id).attempt;
    expect([first.gpuIds, second.gpuIds]).toEqual([['0'], ['1']]);
    expect((await harness.task(c.id)).status).toBe('queued');
    expect(harness.tasks.gpuIdsInUse('w-gpu')).toEqual(['0', '1']);

    // b ends: c gets b's card
    await harness.finished('w-gpu', second.id, 'succeeded');
    expect(harness.assignmentOf('w-gpu', c.id).attempt.gpuIds).toEqual(['1']);
    const stored = await harness.task(c.id);
    expect(stored.attempts[0]?.gpuIds).toEqual(['1']);
    expect(stored.events.find((e) => e.kind === 'assigned')?.message).toBe('attempt 1 on w-gpu (GPU 1)');
  });

  it('hands out distinct ids to tasks placed in one pass, and several to a task that asks for several', async () => {
    harness = await TaskHarness.start();
    const tasks = await harness.tasks.submitMany(HARNESS_USER, [
      { name: 'two', image: 'wharf/busybox:latest', command: [], env: {}, runtime: 'docker', resources: { cpu: 1, memory: 1024 ** 2 * 64, gpu: 2, disk: 0 }, priority: 60, maxRetries: 0, timeoutSeconds: 0, labels: {} },
      { name: 'one', image: 'wharf/busybox:latest', command: [], env: {}, runtime: 'docker', resources: { cpu: 1, memory: 1024 ** 2 * 64, gpu: 1, disk: 0 }, priority: 50, maxRetries: 0, timeoutSeconds: 0, labels: {} },
    ]);
    await harness.settle();
    await harness.connectWorker('w-gpu', { capacity: { gpu: 3 }, gpuIds: ['GPU-a', 'GPU-b', 'GPU-c'] });
    expect(harness.assignmentOf('w-gpu', tasks[0]!.id).attempt.gpuIds).toEqual(['GPU-a', 'GPU-b']);
    expect(harness.assignmentOf('w-gpu', tasks[1]!.id).attempt.gpuIds).toEqual(['GPU-c']);
  });

  it('keeps the ids of running attempts across a master restart', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-gpu', { capacity: { gpu: 2 }, gpuIds: ['0', '1'] });
    const a = await harness.submit({ ...oneGpu, name: 'a' });
    const held = harness.assignmentOf('w-gpu', a.id).attempt;
    await harness.started('w-gpu', held.id);
    harness = await harness.restart();
    await harness.connectWorker('w-gpu', { capacity: { gpu: 2 }, gpuIds: ['0', '1'], holding: [held.id] });
    const b = await harness.submit({ ...oneGpu, name: 'b' });
    expect(harness.assignmentOf('w-gpu', b.id).attempt.gpuIds).toEqual(['1']);
  });

  it('assigns no ids on a worker that offers a count only', async () => {
    harness = await TaskHarness.start();
    await harness.connectWorker('w-count', { capacity: { gpu: 2 } });
    const a = await harness.submit(oneGpu);
    expect(harness.assignmentOf('w-count', a.id).attempt.gpuIds).toBeUndefined();
  });
});
