// The master enforces timeoutSeconds itself (issue 12, point 5): a raw worker (test/support/
// raw-worker.ts, real gRPC over TLS) accepts, reports started and then ignores everything —
// its own timeout and the master's cancel. The master cancels the attempt when it has run its
// timeout, ends it timed out after the cancel grace (+ a margin), retries it, fails the task
// when the retry goes the same way, and acknowledges the late result without effect.
import { afterAll, describe, expect, it } from 'vitest';
import { TIMEOUT_MARGIN_MS } from '../master/src/tasks/systems/timeout-system.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, waitFor } from './support/cluster.js';
import { RawWorker } from './support/raw-worker.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await removeTempDirs();
});

describe('a worker that ignores timeouts', () => {
  it('is cancelled by the master at the timeout, and the attempt ends timed out after the grace: retried, then failed; a late result changes nothing', async () => {
    const master = await startTestMaster({ WHARF_CANCEL_GRACE: '1s' });
    cleanups.push(() => master.stop());
    const worker = await RawWorker.enrol(master);
    cleanups.push(() => worker.close());
    const admin = await ApiClient.admin(master.httpUrl);
    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', { image: 'wharf/busybox', command: 'sleep 600', timeoutSeconds: 1, maxRetries: 1 });
    expect(submitted.status).toBe(201);
    const taskId = submitted.body.task.id;
    const task = async () => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task;

    const first = await worker.assignmentOf(taskId, 1);
    worker.started(first);
    await waitFor('task running', async () => (await task()).status === 'running');
    const cancel = await waitFor('the master to cancel the first attempt', () => worker.cancels.find((c) => c.attemptId === first.attemptId), 10_000);
    expect(cancel).toMatchObject({ reason: 'timed out after 1s', graceSeconds: 1 });

    // nothing from the worker: after the grace and the margin the master ends it, and retries
    const second = await worker.assignmentOf(taskId, 2);
    const retried = await task();
    expect(retried.attempts[0]).toMatchObject({ status: 'timed_out', error: expect.stringMatching(/^timed out: no result from worker /) });
    expect(retried.retriesUsed).toBe(1);

    worker.started(second);
    await waitFor('task failed', async () => (await task()).status === 'failed', 1000 + 1000 + TIMEOUT_MARGIN_MS + 10_000);
    const failed = await task();
    // retriesUsed counts the retries taken; failed through its retry policy, it is a dead letter
    expect(failed).toMatchObject({ status: 'failed', retriesUsed: 1, reason: 'timed out after 1s (ended by the master: its worker did not stop it)' });
    expect(failed.attempts.map((a) => a.status)).toEqual(['timed_out', 'timed_out']);
    expect(failed.events.map((e) => e.kind)).toContain('dead_letter');
    const deadLetters = await admin.request<{ deadLetters: { id: string; lastError: string | null }[] }>('GET', '/api/dead-letters');
    expect(deadLetters.body.deadLetters.find((d) => d.id === taskId)?.lastError).toMatch(/^timed out: no result from worker /);
    expect(worker.cancels.map((c) => c.attemptId)).toEqual([first.attemptId, second.attemptId]);

    // the first attempt's result, late: acknowledged, without effect
    await worker.result(first, { outcome: 'succeeded' });
    const after = await task();
    expect(after.status).toBe('failed');
    expect(after.attempts.map((a) => a.status)).toEqual(['timed_out', 'timed_out']);
    expect(after.events.filter((e) => e.kind === 'succeeded')).toEqual([]);
  });
});
