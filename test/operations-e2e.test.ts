// Operating a cluster through the REST API: workers as an operator sees them, drain and
// activate, the exec runtime, and a task whose image cannot be had.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

interface WorkerBody {
  id: string;
  name: string;
  status: string;
  connected: boolean;
  runtimes: string[];
  labels: Record<string, string>;
  capacity: { cpu: number; memory: number; gpu: number; disk: number };
  reserved: { cpu: number; memory: number; gpu: number; disk: number };
  usage: { cpuPercent: number; memoryPercent: number; diskPercent: number } | null;
  runningTasks: number;
}

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;
let admin: ApiClient;
let user: ApiClient;

beforeAll(async () => {
  master = await startTestMaster();
  worker = await startTestWorker(master, {
    name: 'ops',
    runtimes: ['docker', 'exec'],
    capacityCaps: { cpu: 2, memory: 2 * 1024 ** 3 },
    labels: { zone: 'a' },
  });
  admin = await ApiClient.admin(master.httpUrl);
  user = await ApiClient.registered(master.httpUrl, 'ops-user@example.com');
});

afterAll(async () => {
  await worker.stop();
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  await master.stop();
  removeTempDirs();
});

async function getTask(client: ApiClient, id: string): Promise<TaskBody> {
  return (await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
}

async function until(client: ApiClient, id: string, statuses: string[]): Promise<TaskBody> {
  return waitFor(`task ${id} in ${statuses.join('|')}`, async () => {
    const task = await getTask(client, id);
    return statuses.includes(task.status) ? task : undefined;
  }, 60_000);
}

describe('workers as an operator sees them', () => {
  it('shows capacity capped by flags, labels, runtimes, live usage and reservations', async () => {
    const listed = await waitFor('a heartbeat with usage', async () => {
      const response = await user.request<{ workers: WorkerBody[] }>('GET', '/api/workers');
      const found = response.body.workers.find((w) => w.id === worker.workerId);
      return found?.usage ? found : undefined;
    });
    expect(listed).toMatchObject({ name: 'ops', status: 'ready', connected: true, labels: { zone: 'a' } });
    expect(listed.runtimes.sort()).toEqual(['docker', 'exec']);
    expect(listed.capacity.cpu).toBe(2);
    expect(listed.capacity.memory).toBe(2 * 1024 ** 3);
    expect(listed.usage!.memoryPercent).toBeGreaterThan(0);
    expect(listed.usage!.memoryPercent).toBeLessThanOrEqual(100);

    const sleeper = await user.request<{ task: TaskBody }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'sleep 30',
      resources: { cpu: 1.5, memory: '300Mi' },
    });
    await until(user, sleeper.body.task.id, ['running']);
    const busy = (await user.request<{ worker: WorkerBody }>('GET', `/api/workers/${worker.workerId}`)).body.worker;
    expect(busy.reserved.cpu).toBeCloseTo(1.5);
    expect(busy.reserved.memory).toBe(300 * 1024 ** 2);
    expect(busy.runningTasks).toBe(1);

    // a second task that needs more cpu than is left waits, and says why
    const blocked = await user.request<{ task: TaskBody }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', resources: { cpu: 1 } });
    const waiting = await waitFor('a reason', async () => (await getTask(user, blocked.body.task.id)).reason);
    expect(waiting).toBe('waiting for free resources on a matching worker');
    await user.request('DELETE', `/api/tasks/${sleeper.body.task.id}`);
    const ran = await until(user, blocked.body.task.id, ['succeeded']);
    expect(ran.status).toBe('succeeded');
    const idle = await waitFor('reservations released', async () => {
      const w = (await user.request<{ worker: WorkerBody }>('GET', `/api/workers/${worker.workerId}`)).body.worker;
      return w.reserved.cpu === 0 && w.runningTasks === 0 ? w : undefined;
    });
    expect(idle.reserved.memory).toBe(0);
    expect((await user.request('GET', '/api/workers/no-such-worker')).status).toBe(404);
  });

  it('stops placing tasks on a drained worker until it is activated', async () => {
    const drained = await admin.request<{ worker: WorkerBody }>('POST', `/api/workers/${worker.workerId}/drain`);
    expect(drained.status).toBe(202);
    expect(drained.body.worker.status).toBe('draining');
    const held = await user.request<{ task: TaskBody }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'echo drained' });
    const reason = await waitFor('a reason', async () => (await getTask(user, held.body.task.id)).reason);
    expect(reason).toBe('no ready worker');
    expect((await getTask(user, held.body.task.id)).status).toBe('queued');
    const activated = await admin.request<{ worker: WorkerBody }>('POST', `/api/workers/${worker.workerId}/activate`);
    expect(activated.body.worker.status).toBe('ready');
    expect((await until(user, held.body.task.id, ['succeeded'])).status).toBe('succeeded');
  });
});

describe('runtimes', () => {
  it('runs an exec task submitted by an admin as a host process with WHARF_OUTPUT_DIR', async () => {
    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
      runtime: 'exec',
      command: ['sh', '-c', 'echo "on the host: $WHARF_GREETING"; printf exec-bytes > "$WHARF_OUTPUT_DIR/host.txt"'],
      env: { WHARF_GREETING: 'hi' },
    });
    expect(submitted.status).toBe(201);
    const done = await until(admin, submitted.body.task.id, ['succeeded', 'failed']);
    expect(done.status).toBe('succeeded');
    const logs = await admin.request('GET', `/api/tasks/${done.id}/logs`);
    expect(logs.text).toBe('on the host: hi\n');
    const file = await admin.bytes(`/api/files/${done.id}/download/host.txt`);
    expect(file.data.toString()).toBe('exec-bytes');
  });

  it('fails a task whose image is not present and cannot be pulled, saying so', async () => {
    const submitted = await user.request<{ task: TaskBody }>('POST', '/api/tasks', { image: 'wharf/does-not-exist:1.0', command: 'true' });
    const done = await until(user, submitted.body.task.id, ['succeeded', 'failed']);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain('wharf/does-not-exist:1.0');
    expect(done.attempts[0]!.status).toBe('error');
    expect(done.events.map((e) => e.kind)).toContain('pulling');
  });
});
