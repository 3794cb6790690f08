// Dead letters end to end: a real master and a real Docker worker over loopback gRPC, tasks that
// really exit non-zero, driven through the REST API as a user's curl would, and through the
// master's REPL commands run against the same master as the operator's REPL runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { findCommand, type ReplContext } from '../master/src/repl/commands.js';
import { createStyle } from '../master/src/repl/format.js';
import { IdResolver } from '../master/src/repl/id-resolver.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

interface DeadLetterBody extends TaskBody {
  lastError: string | null;
  deadLetteredAt: string | null;
  maxRetries: number;
}

let master: Master;
let worker: WorkerHandle;
let alice: ApiClient;
let bob: ApiClient;

beforeAll(async () => {
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'dead-letters' });
  alice = await ApiClient.registered(master.httpUrl, `alice-${Date.now()}@example.com`);
  bob = await ApiClient.registered(master.httpUrl, `bob-${Date.now()}@example.com`);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await master?.stop();
  await removeTempDirs();
});

async function failingTask(client: ApiClient, name: string, maxRetries = 1): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', {
    name,
    image: TEST_IMAGE,
    command: 'echo "no luck" >&2; exit 3',
    maxRetries,
    resources: { cpu: 0.1, memory: '32Mi' },
  });
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function ended(client: ApiClient, id: string, status = 'failed'): Promise<TaskBody & { deadLetteredAt: string | null; maxRetries: number }> {
  return waitFor(`task ${id} ${status}`, async () => {
    const response = await client.request<{ task: TaskBody & { deadLetteredAt: string | null; maxRetries: number } }>('GET', `/api/tasks/${id}`);
    return response.body.task.status === status ? response.body.task : undefined;
  }, 60_000);
}

async function deadLetters(client: ApiClient, query = ''): Promise<DeadLetterBody[]> {
  const response = await client.request<{ deadLetters: DeadLetterBody[] }>('GET', `/api/dead-letters${query}`);
  expect(response.status, response.text).toBe(200);
  return response.body.deadLetters;
}

describe('dead letters over REST', () => {
  it('lists a task whose retries are exhausted with its last error and attempts; retriesUsed stays at maxRetries', async () => {
    const task = await failingTask(alice, 'exhausted');
    const failed = await ended(alice, task.id);
    expect(failed).toMatchObject({ retriesUsed: 1, maxRetries: 1, exitCode: 3 });
    expect(failed.deadLetteredAt).not.toBeNull();
    const listed = (await deadLetters(alice)).find((d) => d.id === task.id);
    expect(listed).toMatchObject({ status: 'failed', retriesUsed: 1, exitCode: 3, lastError: 'exit code 3' });
    expect(listed!.attempts.map((a) => [a.number, a.status, a.exitCode])).toEqual([
      [1, 'failed', 3],
      [2, 'failed', 3],
    ]);
    // another user sees none of it and cannot touch it
    expect((await deadLetters(bob)).some((d) => d.id === task.id)).toBe(false);
    expect((await bob.request('POST', `/api/dead-letters/${task.id}/requeue`)).status).toBe(404);
    expect((await bob.request('DELETE', `/api/dead-letters/${task.id}`)).status).toBe(404);
  });

  it('re-queues one as the same task: new attempts, retries reset, and back in the dead letters when it fails again', async () => {
    const task = await failingTask(alice, 'requeue-me', 0);
    await ended(alice, task.id);
    const response = await alice.request<{ task: TaskBody }>('POST', `/api/dead-letters/${task.id}/requeue`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.task).toMatchObject({ id: task.id, status: 'queued', retriesUsed: 0 });
    expect((await deadLetters(alice)).some((d) => d.id === task.id)).toBe(false);
    const again = await ended(alice, task.id);
    expect(again.attempts.map((a) => a.number)).toEqual([1, 2]);
    expect(again.events.map((e) => e.kind)).toContain('requeued');
    expect((await deadLetters(alice)).find((d) => d.id === task.id)?.attempts).toHaveLength(2);
  });

  it('dismisses one: still failed, out of the list; a task that is not a dead letter answers 409', async () => {
    const task = await failingTask(alice, 'dismiss-me', 0);
    await ended(alice, task.id);
    const dismissed = await alice.request<{ task: TaskBody }>('DELETE', `/api/dead-letters/${task.id}`);
    expect(dismissed.status, dismissed.text).toBe(200);
    expect(dismissed.body.task.status).toBe('failed');
    expect((await deadLetters(alice)).some((d) => d.id === task.id)).toBe(false);
    const again = await alice.request<{ error: { code: string; message: string } }>('POST', `/api/dead-letters/${task.id}/requeue`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('re-queues and dismisses in bulk by ids or by a filter, naming what it skipped', async () => {
    const name = `bulk-${Date.now()}`;
    const [a, b, c] = [await failingTask(alice, name, 0), await failingTask(alice, name, 0), await failingTask(alice, `${name}-other`, 0)];
    for (const t of [a, b, c]) await ended(alice, t.id);
    const byFilter = await alice.request<{ dismissed: string[]; skipped: unknown[]; more: boolean }>('POST', '/api/dead-letters/dismiss', { filter: { name } });
    expect(byFilter.status, byFilter.text).toBe(200);
    // a and b run side by side, so either may become a dead letter first (the list is newest first)
    expect({ ...byFilter.body, dismissed: [...byFilter.body.dismissed].sort() }).toEqual({
      dismissed: [a!.id, b!.id].sort(),
      skipped: [],
      more: false,
    });
    const byIds = await alice.request<{ requeued: string[]; skipped: { taskId: string; code: string }[] }>('POST', '/api/dead-letters/requeue', {
      taskIds: [c!.id, a!.id],
    });
    expect(byIds.body.requeued).toEqual([c!.id]);
    expect(byIds.body.skipped).toMatchObject([{ taskId: a!.id, code: 'conflict' }]);
    await ended(alice, c!.id);
  });

  it('answers 400 naming the field for a bad body or query', async () => {
    const empty = await alice.request<{ error: { code: string; message: string } }>('POST', '/api/dead-letters/requeue', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/taskIds/);
    const badIds = await alice.request<{ error: { message: string } }>('POST', '/api/dead-letters/requeue', { taskIds: [] });
    expect(badIds.status).toBe(400);
    expect(badIds.body.error.message).toMatch(/^taskIds: /);
    const badLimit = await alice.request<{ error: { message: string } }>('GET', '/api/dead-letters?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toMatch(/^limit: /);
  });
});

describe('dead letters in the REPL', () => {
  function repl(): { ctx: ReplContext; out: string[] } {
    const out: string[] = [];
    const admin = { id: 'repl-admin', email: 'operator@wharf.local', name: 'Operator', role: 'admin' as const, createdAt: 0 };
    const ctx = {
      services: master as unknown as ReplContext['services'],
      admin,
      ids: new IdResolver(master.tasks, master.registry, admin, master.dags, master.joinTokens),
      style: createStyle(false),
      terminal: false,
      print: (text: string) => void out.push(text),
      write: (text: string) => void out.push(text),
      interruptible: () => ({ signal: new AbortController().signal, release: () => undefined }),
      cwd: process.cwd(),
      exit: () => undefined,
      auditObject: () => undefined,
      now: () => Date.now(),
    } satisfies ReplContext;
    return { ctx, out };
  }

  it('lists them and re-queues one by its id prefix', async () => {
    const task = await failingTask(alice, 'repl-dead', 0);
    await ended(alice, task.id);
    const { ctx, out } = repl();
    await findCommand('dead-letters').run(ctx, ['ls', '--name', 'repl-dead']);
    expect(out.join('\n')).toMatch(/repl-dead.*exit code 3/);
    await findCommand('dead-letters').run(ctx, ['requeue', task.id.slice(0, 12)]);
    expect(out.at(-1)).toBe(`re-queued 1 task: ${task.id.slice(0, 8)}`);
    await ended(alice, task.id);
  });
});
