// Priority preemption end to end: a real master (REST, gRPC over loopback, SQLite) and a real
// exec worker with one cpu. A low-priority shell task holds the whole worker; a high-priority
// task of a PreemptLowerPriority queue is submitted. The victim's shell traps SIGTERM and writes
// a file (so the test sees the worker's stop reach the task's process), its attempt ends
// `preempted`, the high task runs on the freed cpu, and the victim, re-queued without a retry
// charged, runs again and finishes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await removeTempDirs();
});

/** A task as GET /api/tasks/:id shows it, with its priority and its attempts' preemptedBy. */
type Task = Omit<TaskBody, 'attempts'> & {
  priority: number;
  attempts: (TaskBody['attempts'][number] & { preemptedBy: { taskId: string; priority: number; queue: string } | null })[];
};

describe('priority preemption with a real exec worker', () => {
  it('stops the low-priority task with SIGTERM, ends its attempt preempted, runs the high-priority task, then both finish', async () => {
    const master = await startTestMaster({ WHARF_CANCEL_GRACE: '5s' });
    cleanups.push(() => master.stop());
    const worker = await startTestWorker(master, { name: 'preempt-e2e', runtimes: ['exec'], capacityCaps: { cpu: 1 } });
    cleanups.push(() => worker.stop());
    const admin = await ApiClient.admin(master.httpUrl);
    const queue = await admin.request('POST', '/api/queues', { name: 'urgent', defaultPriority: 90, preemptionPolicy: 'PreemptLowerPriority' });
    expect(queue.status).toBe(201);

    const dir = tempDir('preempt-e2e');
    const termed = join(dir, 'got-term');
    // the first run waits until SIGTERM, notes it and exits 143; the run after it finishes at once
    const victimScript = `if [ -e ${termed} ]; then echo second run; exit 0; fi; trap 'echo TERM > ${termed}; exit 143' TERM; echo waiting; sleep 300 & wait`;
    const low = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
      name: 'low',
      runtime: 'exec',
      command: ['sh', '-c', victimScript],
      priority: 10,
      maxRetries: 0,
      resources: { cpu: 1, memory: '16Mi' },
    });
    expect(low.status).toBe(201);
    const lowId = low.body.task.id;
    const task = async (id: string) => (await admin.request<{ task: Task }>('GET', `/api/tasks/${id}`)).body.task;
    await waitFor('the low task running', async () => (await task(lowId)).status === 'running', 30_000);

    const high = await admin.request<{ task: Task }>('POST', '/api/tasks', {
      name: 'high',
      runtime: 'exec',
      queue: 'urgent',
      command: ['sh', '-c', 'echo high ran'],
      resources: { cpu: 1, memory: '16Mi' },
    });
    expect(high.status).toBe(201);
    const highId = high.body.task.id;
    expect(high.body.task.priority).toBe(90);

    // the worker's stop reached the task's shell as SIGTERM
    await waitFor('the victim to get SIGTERM', () => existsSync(termed), 30_000);
    expect(readFileSync(termed, 'utf8').trim()).toBe('TERM');
    await waitFor('the high task to succeed', async () => (await task(highId)).status === 'succeeded', 30_000);

    const done = await waitFor('the victim to run again and succeed', async () => {
      const t = await task(lowId);
      return t.status === 'succeeded' ? t : undefined;
    }, 30_000);
    const reason = `preempted by task ${highId} (priority 90, queue urgent)`;
    expect(done.retriesUsed).toBe(0);
    expect(done.attempts.map((a) => a.status)).toEqual(['preempted', 'succeeded']);
    expect(done.attempts[0]).toMatchObject({ error: reason, preemptedBy: { taskId: highId, priority: 90, queue: 'urgent' } });
    expect(done.events.map((e) => e.kind)).toEqual(['submitted', 'assigned', 'running', 'preempting', 'queued', 'assigned', 'running', 'succeeded']);
    expect(done.events.find((e) => e.kind === 'queued')?.message).toBe(`${reason}; re-queued`);
    // the high task ran only once the victim had stopped, and says whom it evicted
    const preemptor = await task(highId);
    expect(preemptor.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect(preemptor.events.find((e) => e.kind === 'preempting')?.message).toBe(`evicting 1 lower-priority task(s) on worker ${worker.workerId}: ${lowId} (priority 10)`);

    const metrics = await fetch(`${master.httpUrl}/metrics`);
    expect(await metrics.text()).toMatch(/^wharf_preemptions_total\{queue="urgent"\} 1$/m);
  });
});
