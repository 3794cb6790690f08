// Deadlines end to end over REST on a real master (SQLite in a temp data dir): a task nobody can
// run fails at its start deadline with deadline_exceeded, also when the master restarted in
// between (the timer is re-armed from the store), and a task still running at its deadline is
// stopped on a real Docker worker.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

type DeadlineTask = TaskBody & { deadlineExceeded: string | null; startDeadline: string | null; deadline: string | null; deadLetteredAt: string | null };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

async function ended(client: ApiClient, id: string): Promise<DeadlineTask> {
  return waitFor(`task ${id} to end`, async () => {
    const { body } = await client.request<{ task: DeadlineTask }>('GET', `/api/tasks/${id}`);
    return ['failed', 'succeeded', 'cancelled'].includes(body.task.status) ? body.task : undefined;
  }, 60_000);
}

describe('deadlines', () => {
  it('fail a task not started by its start deadline, across a master restart', async () => {
    const first = await startTestMaster();
    let master = first;
    cleanups.push(() => master.stop());
    const user = await ApiClient.registered(first.httpUrl, `deadline-${Date.now()}@example.com`);
    // no worker carries this label: it can never start
    const submitted = await user.request<{ task: DeadlineTask }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      labels: { zone: 'nowhere' },
      startDeadline: '+4s',
    });
    expect(submitted.status, submitted.text).toBe(201);
    const task = submitted.body.task;
    expect(Date.parse(task.startDeadline!)).toBeGreaterThan(Date.now());

    await first.stop();
    master = await startTestMaster({}, first.dataDir);
    const client = new ApiClient(master.httpUrl, user.token);
    const failed = await ended(client, task.id);
    expect(failed).toMatchObject({ status: 'failed', deadlineExceeded: 'startDeadline', deadLetteredAt: null });
    expect(failed.reason).toMatch(/^deadline_exceeded: not started by its startDeadline .* \(still queued\)$/);
    expect(failed.events.map((e) => e.kind)).toContain('deadline_exceeded');
    // not before its time
    const at = Date.parse(failed.events.find((e) => e.kind === 'deadline_exceeded')!.at!);
    expect(at).toBeGreaterThanOrEqual(Date.parse(task.startDeadline!));
  });

  it('stop a task still running at its deadline on a real worker', async () => {
    const master = await startTestMaster();
    cleanups.push(() => master.stop());
    const worker = await startTestWorker(master, { name: 'deadline-worker' });
    cleanups.push(() => worker.stop());
    const admin = await ApiClient.admin(master.httpUrl);
    const submitted = await admin.request<{ task: DeadlineTask }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'sleep 60',
      resources: { cpu: 0.1, memory: '32Mi' },
      deadline: '+3s',
    });
    expect(submitted.status, submitted.text).toBe(201);
    const failed = await ended(admin, submitted.body.task.id);
    expect(failed).toMatchObject({ status: 'failed', deadlineExceeded: 'deadline' });
    expect(failed.reason).toMatch(/^deadline_exceeded: not finished by its deadline .* \((stopped|still starting) on /);
    // the worker confirms the stop: the attempt ends cancelled with the deadline as its error
    const settled = await waitFor('the attempt to end', async () => {
      const { body } = await admin.request<{ task: DeadlineTask }>('GET', `/api/tasks/${failed.id}`);
      return body.task.attempts[0]?.status === 'cancelled' ? body.task.attempts[0] : undefined;
    }, 30_000);
    expect(settled.error).toBe(failed.reason);
  });

  it('refuses a deadline that is not a time, naming the field', async () => {
    const master = await startTestMaster();
    cleanups.push(() => master.stop());
    const admin = await ApiClient.admin(master.httpUrl);
    const refused = await admin.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, deadline: 'soon' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed' });
    expect(refused.body.error.message).toMatch(/^deadline: "soon" is not an ISO 8601 date-time/);
  });
});
