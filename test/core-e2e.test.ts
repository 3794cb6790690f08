// End to end on a real Docker engine: a real master and real workers over loopback gRPC,
// driven through the REST API as a user would drive it with curl.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import {
  removeTempDirs,
  spawnWorkerProcess,
  startTestMaster,
  startTestWorker,
  TEST_IMAGE,
  waitFor,
  freePort,
  tempDir,
} from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

function removeContainersOf(workerId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine is gone already: nothing to clean
  }
}

async function cluster(workers = 1, env: Record<string, string> = {}) {
  const master = await startTestMaster(env);
  cleanups.push(() => master.stop());
  const handles: WorkerHandle[] = [];
  for (let i = 0; i < workers; i += 1) {
    const worker = await startTestWorker(master, { name: `w${i}` });
    handles.push(worker);
    cleanups.push(async () => {
      await worker.stop();
      removeContainersOf(worker.workerId);
    });
  }
  const user = await ApiClient.registered(master.httpUrl, `user-${Math.random().toString(36).slice(2)}@example.com`);
  return { master, workers: handles, user };
}

async function submit(client: ApiClient, body: Record<string, unknown>): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', body);
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function task(client: ApiClient, id: string): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
  expect(response.status, response.text).toBe(200);
  return response.body.task;
}

async function waitForStatus(client: ApiClient, id: string, statuses: string[], timeoutMs = 60_000): Promise<TaskBody> {
  return waitFor(`task ${id} to reach ${statuses.join('|')}`, async () => {
    const current = await task(client, id);
    return statuses.includes(current.status) ? current : undefined;
  }, timeoutMs, 100);
}

function runningContainersOfTask(taskId: string): string[] {
  return execFileSync('docker', ['ps', '-q', '--filter', `label=wharf.task=${taskId}`]).toString().split(/\s+/).filter(Boolean);
}

function containersOfTask(taskId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.task=${taskId}`]).toString().split(/\s+/).filter(Boolean);
}

/**
 * A master on fixed ports with its own data dir and one worker; a task submitted and seen
 * running; then the master stopped. `restartMaster` starts it again on the same ports and data.
 */
async function runningTaskThenMasterStopped(command: string) {
  const dataDir = tempDir('master-restart');
  const ports = { WHARF_HTTP_PORT: String(await freePort()), WHARF_GRPC_PORT: String(await freePort()) };
  let master: Master | undefined = await startTestMaster(ports, dataDir);
  cleanups.push(() => master?.stop());
  const worker = await startTestWorker(master, { name: 'steady' });
  cleanups.push(async () => {
    await worker.stop();
    removeContainersOf(worker.workerId);
  });
  const user = await ApiClient.registered(master.httpUrl, `restart-${Math.random().toString(36).slice(2)}@example.com`);
  const submitted = await submit(user, { image: TEST_IMAGE, command });
  await waitForStatus(user, submitted.id, ['running']);
  await master.stop();
  master = undefined;
  return {
    user,
    submitted,
    restartMaster: async () => {
      master = await startTestMaster(ports, dataDir);
    },
  };
}

describe('a task submitted over REST', () => {
  it('runs in a container, and its logs and output bytes come back intact', async () => {
    const { user } = await cluster(1);
    const script = [
      'echo "hello from wharf"',
      'echo "to stderr" >&2',
      'echo "$GREETING"',
      'mkdir -p /output/nested',
      'seq 1 50000 > /output/numbers.txt',
      'head -c 300000 /dev/urandom > /output/nested/random.bin',
      'sha256sum /output/nested/random.bin | cut -d" " -f1',
    ].join('; ');
    const submitted = await submit(user, { image: TEST_IMAGE, command: script, env: { GREETING: 'bonjour' }, name: 'e2e' });
    expect(submitted.status).toBe('queued');
    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed']);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.status).toBe('succeeded');

    const logs = await user.request('GET', `/api/tasks/${submitted.id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.headers.get('content-type')).toContain('text/plain');
    const lines = logs.text.trim().split('\n');
    expect(lines).toContain('hello from wharf');
    expect(lines).toContain('to stderr');
    expect(lines).toContain('bonjour');
    const containerSha = lines[lines.length - 1]!;
    expect(containerSha).toMatch(/^[0-9a-f]{64}$/);

    const files = await user.request<{ files: { path: string; size: number; sha256: string }[] }>('GET', `/api/files/${submitted.id}`);
    expect(files.body.files.map((f) => f.path).sort()).toEqual(['nested/random.bin', 'numbers.txt']);
    const random = await user.bytes(`/api/files/${submitted.id}/download/nested/random.bin`);
    expect(random.status).toBe(200);
    expect(random.data.length).toBe(300000);
    expect(createHash('sha256').update(random.data).digest('hex')).toBe(containerSha);
    const numbers = await user.bytes(`/api/files/${submitted.id}/download/numbers.txt`);
    const expected = Array.from({ length: 50000 }, (_, i) => String(i + 1)).join('\n') + '\n';
    expect(numbers.data.toString()).toBe(expected);
    // the container was removed once its outputs were collected
    await waitFor('container removal', () => containersOfTask(submitted.id).length === 0, 10_000);
  });

  it('follows logs live until the task ends', async () => {
    const { user } = await cluster(1);
    const submitted = await submit(user, { image: TEST_IMAGE, command: 'for i in 1 2 3 4 5; do echo line-$i; sleep 0.3; done' });
    const response = await fetch(`${user.baseUrl}/api/tasks/${submitted.id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(response.status).toBe(200);
    const body = await response.text(); // resolves only when the server ends the follow
    expect(body.trim().split('\n')).toEqual(['line-1', 'line-2', 'line-3', 'line-4', 'line-5']);
    expect((await task(user, submitted.id)).status).toBe('succeeded');
  });

  it('delivers every line of a chatty task to a follower, in order', async () => {
    const { user } = await cluster(1);
    const submitted = await submit(user, { image: TEST_IMAGE, command: 'sleep 0.5; seq 1 200000' });
    const response = await fetch(`${user.baseUrl}/api/tasks/${submitted.id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    const followed = (await response.text()).split('\n');
    const expected = Array.from({ length: 200000 }, (_, i) => String(i + 1));
    expect(followed.slice(0, -1)).toEqual(expected);
    const stored = (await user.request('GET', `/api/tasks/${submitted.id}/logs`)).text.split('\n');
    expect(stored.slice(0, -1)).toEqual(expected);
  });

  it('retries a non-zero exit, then fails with the exit code', async () => {
    const { user } = await cluster(1);
    const submitted = await submit(user, { image: TEST_IMAGE, command: 'echo attempt; exit 3', maxRetries: 2 });
    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.exitCode).toBe(3);
    expect(done.reason).toBe('exit code 3');
    expect(done.attempts.map((a) => [a.number, a.status, a.exitCode])).toEqual([
      [1, 'failed', 3],
      [2, 'failed', 3],
      [3, 'failed', 3],
    ]);
    const logs = await user.request('GET', `/api/tasks/${submitted.id}/logs`);
    expect(logs.text.match(/^attempt$/gm)).toHaveLength(3);
    expect(logs.text).toContain('--- attempt 3 on worker');
  });

  it('stops a task that runs past its timeout', async () => {
    const { user } = await cluster(1);
    const submitted = await submit(user, { image: TEST_IMAGE, command: 'echo started; sleep 60', timeoutSeconds: 1 });
    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed'], 30_000);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe('timed out after 1s');
    expect(done.attempts[0]!.status).toBe('timed_out');
    await waitFor('container removal', () => containersOfTask(submitted.id).length === 0, 10_000);
  });

  it('cancels a queued task and a running one', async () => {
    const { user } = await cluster(1);
    const waiting = await submit(user, { image: TEST_IMAGE, command: 'true', labels: { zone: 'nowhere' } });
    const queued = await waitFor('a waiting reason', async () => {
      const t = await task(user, waiting.id);
      return t.reason ? t : undefined;
    });
    expect(queued.reason).toBe('no ready worker with runtime docker has labels zone=nowhere');
    const cancelledQueued = await user.request<{ task: TaskBody }>('DELETE', `/api/tasks/${waiting.id}`);
    expect(cancelledQueued.status).toBe(202);
    expect(cancelledQueued.body.task.status).toBe('cancelled');
    expect((await user.request('DELETE', `/api/tasks/${waiting.id}`)).status).toBe(409);

    const running = await submit(user, { image: TEST_IMAGE, command: 'echo up; sleep 120' });
    await waitForStatus(user, running.id, ['running']);
    const response = await user.request<{ task: TaskBody }>('DELETE', `/api/tasks/${running.id}`);
    expect(response.status).toBe(202);
    expect(response.body.task.status).toBe('cancelled');
    const attempt = await waitFor('the attempt to be cancelled', async () => {
      const t = await task(user, running.id);
      return t.attempts[0]?.status === 'cancelled' ? t.attempts[0] : undefined;
    });
    expect(attempt.status).toBe('cancelled');
    await waitFor('container removal', () => containersOfTask(running.id).length === 0, 15_000);
  });
});

describe('failures', () => {
  it('finishes a task on another worker when its worker process is killed mid-task', async () => {
    const master = await startTestMaster();
    cleanups.push(() => master.stop());
    const user = await ApiClient.registered(master.httpUrl, 'kill@example.com');
    const doomed = spawnWorkerProcess(master, ['--name', 'doomed']);
    cleanups.push(() => {
      doomed.child.kill('SIGKILL');
    });
    await waitFor('the worker process to register', async () => {
      const workers = await user.request<{ workers: { name: string; status: string; connected: boolean }[] }>('GET', '/api/workers');
      return workers.body.workers.some((w) => w.name === 'doomed' && w.connected) || undefined;
    }, 60_000);
    const submitted = await submit(user, { image: TEST_IMAGE, command: 'echo begin; sleep 4; echo end > /output/result.txt; echo finished' });
    const running = await waitForStatus(user, submitted.id, ['running']);
    const doomedId = running.workerId!;
    cleanups.push(() => removeContainersOf(doomedId));

    const survivor = await startTestWorker(master, { name: 'survivor' });
    cleanups.push(async () => {
      await survivor.stop();
      removeContainersOf(survivor.workerId);
    });
    doomed.child.kill('SIGKILL');

    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed'], 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.workerId).toBe(survivor.workerId);
    expect(done.attempts.map((a) => [a.status, a.workerId])).toEqual([
      ['lost', doomedId],
      ['succeeded', survivor.workerId],
    ]);
    const workers = await user.request<{ workers: { id: string; status: string }[] }>('GET', '/api/workers');
    expect(workers.body.workers.find((w) => w.id === doomedId)?.status).toBe('lost');
    const result = await user.bytes(`/api/files/${submitted.id}/download/result.txt`);
    expect(result.data.toString()).toBe('end\n');
  });

  it('records a task once when the master restarts while it runs', async () => {
    const { user, submitted, restartMaster } = await runningTaskThenMasterStopped(
      'echo before; sleep 3; echo after; echo kept > /output/kept.txt',
    );
    await new Promise((r) => setTimeout(r, 500));
    await restartMaster();

    // the same user and token still work after the restart
    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed'], 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.status).toBe('succeeded');
    expect(done.events.filter((e) => e.kind === 'succeeded')).toHaveLength(1);
    const logs = await user.request('GET', `/api/tasks/${submitted.id}/logs`);
    expect(logs.text).toBe('before\nafter\n');
    const kept = await user.bytes(`/api/files/${submitted.id}/download/kept.txt`);
    expect(kept.data.toString()).toBe('kept\n');
  });
  it('records a task that finished while the master was down, without running it again', async () => {
    const { submitted, user, restartMaster } = await runningTaskThenMasterStopped('echo run >> /output/runs.txt; sleep 1; echo done');
    // the task ends while nobody listens: its result waits in the worker's outbox
    await waitFor('the container to exit', () => runningContainersOfTask(submitted.id).length === 0 || undefined, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    await restartMaster();
    const done = await waitForStatus(user, submitted.id, ['succeeded', 'failed'], 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempts.map((a) => a.status)).toEqual(['succeeded']);
    expect((await user.bytes(`/api/files/${submitted.id}/download/runs.txt`)).data.toString()).toBe('run\n');
    expect((await user.request('GET', `/api/tasks/${submitted.id}/logs`)).text).toBe('done\n');
  });
});

describe('access control and validation', () => {
  let master: Master;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceTask: TaskBody;
  beforeAll(async () => {
    master = await startTestMaster();
    const worker = await startTestWorker(master, { name: 'acl' });
    alice = await ApiClient.registered(master.httpUrl, 'alice@example.com');
    bob = await ApiClient.registered(master.httpUrl, 'bob@example.com');
    aliceTask = await submit(alice, { image: TEST_IMAGE, command: 'echo secret > /output/secret.txt' });
    await waitForStatus(alice, aliceTask.id, ['succeeded']);
    return async () => {
      await worker.stop();
      removeContainersOf(worker.workerId);
      await master.stop();
    };
  });

  it('answers 401 without a token or with a bad one', async () => {
    const anonymous = new ApiClient(master.httpUrl);
    const response = await anonymous.request<{ error: { code: string } }>('GET', '/api/tasks');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthenticated');
    expect((await new ApiClient(master.httpUrl, 'not-a-jwt').request('GET', '/api/tasks')).status).toBe(401);
    expect((await anonymous.request('POST', '/api/tasks', { image: TEST_IMAGE })).status).toBe(401);
    expect((await anonymous.request('POST', '/api/auth/login', { email: 'alice@example.com', password: 'wrong-password' })).status).toBe(401);
  });

  it("answers 404 for another user's task, logs and files, and lets an admin see them", async () => {
    expect((await bob.request('GET', `/api/tasks/${aliceTask.id}`)).status).toBe(404);
    expect((await bob.request('GET', `/api/tasks/${aliceTask.id}/logs`)).status).toBe(404);
    expect((await bob.request('DELETE', `/api/tasks/${aliceTask.id}`)).status).toBe(404);
    expect((await bob.request('GET', `/api/files/${aliceTask.id}`)).status).toBe(404);
    expect((await bob.bytes(`/api/files/${aliceTask.id}/download/secret.txt`)).status).toBe(404);
    const bobsFiles = await bob.request<{ files: unknown[] }>('GET', '/api/files');
    expect(bobsFiles.body.files).toEqual([]);
    const bobsTasks = await bob.request<{ tasks: unknown[] }>('GET', '/api/tasks');
    expect(bobsTasks.body.tasks).toEqual([]);
    const admin = await ApiClient.admin(master.httpUrl);
    expect((await admin.request('GET', `/api/tasks/${aliceTask.id}`)).status).toBe(200);
    expect((await admin.bytes(`/api/files/${aliceTask.id}/download/secret.txt`)).data.toString()).toBe('secret\n');
    expect((await alice.request('POST', '/api/workers/x/drain')).status).toBe(403);
  });

  it('answers 400 for traversal paths', async () => {
    for (const path of ['..%2F..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'a%5C..%5Cb']) {
      const response = await alice.request<{ error: { code: string; message: string } }>(
        'GET',
        `/api/files/${aliceTask.id}/download/${path}`,
      );
      expect(response.status, path).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.message).toMatch(/^path: /);
    }
  });

  it('answers 400 naming the field for bad submissions, and keeps nothing', async () => {
    const before = (await alice.request<{ tasks: unknown[] }>('GET', '/api/tasks')).body.tasks.length;
    const bad = await alice.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      resources: { memory: 'a lot' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^resources\.memory: /);
    const exec = await alice.request<{ error: { code: string } }>('POST', '/api/tasks', { runtime: 'exec', command: 'id' });
    expect(exec.status).toBe(403);
    const after = (await alice.request<{ tasks: unknown[] }>('GET', '/api/tasks')).body.tasks.length;
    expect(after).toBe(before);
  });

  it('answers 413 for a body over the limit and 400 for broken JSON', async () => {
    const big = await alice.request<{ error: { code: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'x'.repeat(17 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const broken = await alice.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', '{"image": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toBe('body: not valid JSON');
  });

  it('submits a batch all or nothing', async () => {
    const before = (await alice.request<{ tasks: unknown[] }>('GET', '/api/tasks?limit=500')).body.tasks.length;
    const refused = await alice.request<{ error: { code: string; message: string } }>('POST', '/api/tasks/batch', {
      tasks: [{ image: TEST_IMAGE, command: 'true' }, { image: TEST_IMAGE, timeoutSeconds: -1 }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/^tasks\[1\]\.timeoutSeconds: /);
    expect((await alice.request<{ tasks: unknown[] }>('GET', '/api/tasks?limit=500')).body.tasks).toHaveLength(before);
    const accepted = await alice.request<{ tasks: TaskBody[] }>('POST', '/api/tasks/batch', {
      tasks: [1, 2, 3].map((i) => ({ image: TEST_IMAGE, command: `echo batch-${i}`, name: `batch-${i}` })),
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.tasks).toHaveLength(3);
    for (const [i, t] of accepted.body.tasks.entries()) {
      await waitForStatus(alice, t.id, ['succeeded']);
      expect((await alice.request('GET', `/api/tasks/${t.id}/logs`)).text).toBe(`batch-${i + 1}\n`);
    }
  });

  it('pages the task list with a cursor', async () => {
    for (let i = 0; i < 3; i += 1) await submit(alice, { image: TEST_IMAGE, command: 'true', name: `page-${i}` });
    const first = await alice.request<{ tasks: { name: string }[]; nextCursor: string | null }>('GET', '/api/tasks?limit=2');
    expect(first.body.tasks.map((t) => t.name)).toEqual(['page-2', 'page-1']);
    const second = await alice.request<{ tasks: { name: string }[]; nextCursor: string | null }>(
      'GET',
      `/api/tasks?limit=2&cursor=${encodeURIComponent(first.body.nextCursor!)}`,
    );
    expect(second.body.tasks).toHaveLength(2);
    expect(second.body.tasks[0]!.name).toBe('page-0');
    expect(second.body.tasks.map((t) => t.name)).not.toContain('page-1');
    expect((await alice.request('GET', '/api/tasks?limit=0')).status).toBe(400);
    expect((await alice.request('GET', '/api/tasks?status=sleeping')).status).toBe(400);
  });
});
