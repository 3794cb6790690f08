// Retention end to end: a real master (SQLite, its data dir on disk) and a real Docker worker over
// loopback gRPC run tasks that write logs and output files; the garbage collector is then run
// over REST as an operator would: a dry run removes nothing and says what a run would, a run
// removes the task beyond WHARF_RETAIN_TASKS_COUNT with its files on disk and reports the bytes,
// keeps the task a running DAG run still needs, counts in /metrics and the audit trail; per-user
// usage is visible and a storage quota refuses submissions with 403 storage_quota_exceeded.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, tempDir, TEST_IMAGE, waitFor } from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const execFileAsync = promisify(execFile);

interface GcReport {
  removed: { tasks: number; events: number; logs: number; files: number; dagRuns: number; artifacts: number; telemetry: number };
  bytesFreed: number;
  dryRun: boolean;
  durationMs: number;
}

let master: Master;
let worker: WorkerHandle;
let admin: ApiClient;
let alice: ApiClient;
let aliceId: string;

beforeAll(async () => {
  // keep one finished task (outside DAG runs); collect only on demand
  master = await startTestMaster({ WHARF_RETAIN_TASKS_COUNT: '1', WHARF_GC_INTERVAL: '0' }, undefined, { store: 'sqlite' });
  worker = await startTestWorker(master, { name: 'retention' });
  admin = await ApiClient.admin(master.httpUrl);
  alice = await ApiClient.registered(master.httpUrl, `alice-${Date.now()}@example.com`);
  aliceId = (await alice.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user.id;
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await master?.stop();
  await removeTempDirs();
});

const writer = (name: string) => ({
  name,
  image: TEST_IMAGE,
  command: ['sh', '-c', `echo "log of ${name}"; head -c 20000 /dev/zero > /output/${name}.bin`],
  resources: { cpu: 0.1, memory: '32Mi' },
});

async function succeeded(client: ApiClient, id: string): Promise<TaskBody> {
  return waitFor(`task ${id} succeeded`, async () => {
    const response = await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
    if (response.body.task.status === 'failed') throw new Error(`task ${id} failed: ${response.text}`);
    return response.body.task.status === 'succeeded' ? response.body.task : undefined;
  }, 60_000);
}

async function submit(client: ApiClient, name: string): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', writer(name));
  expect(response.status, response.text).toBe(201);
  return succeeded(client, response.body.task.id);
}

describe('retention over REST with a real master and worker', () => {
  let dagTaskId: string;
  let older: TaskBody;
  let newer: TaskBody;
  let dryRun: GcReport;

  it('runs a DAG task first (its run still going), then two tasks, each with a log and an output file on disk', async () => {
    const run = await alice.request<{ dag: { id: string } }>('POST', '/api/dags', {
      dagName: 'still-running',
      tasks: [
        { ...writer('first'), outputs: ['first.bin'] },
        { name: 'wait', image: TEST_IMAGE, command: ['sleep', '300'], resources: { cpu: 0.1, memory: '32Mi' }, depends_on: ['first'] },
      ],
    });
    expect(run.status, run.text).toBe(201);
    dagTaskId = await waitFor('the DAG run\'s first task succeeded', async () => {
      const dag = await alice.request<{ dag: { tasks: { name: string; status: string; taskId?: string }[] } }>('GET', `/api/dags/${run.body.dag.id}`);
      const first = dag.body.dag.tasks.find((t) => t.name === 'first');
      return first?.status === 'succeeded' ? first.taskId : undefined;
    }, 60_000);
    older = await submit(alice, 'older');
    newer = await submit(alice, 'newer');
    for (const task of [older, newer]) {
      expect(existsSync(join(master.dataDir, 'logs', task.id))).toBe(true);
      expect(existsSync(join(master.dataDir, 'files', aliceId, task.id, task === older ? 'older.bin' : 'newer.bin'))).toBe(true);
    }
  }, 120_000);

  it('shows each user\'s usage: alice her own bytes, the admin everyone\'s; a user cannot read another\'s', async () => {
    const own = await alice.request<{ users: { userId: string; logBytes: number; outputBytes: number; totalBytes: number; quotaBytes: number | null }[] }>('GET', '/api/usage');
    expect(own.status, own.text).toBe(200);
    expect(own.body.users).toHaveLength(1);
    expect(own.body.users[0]).toMatchObject({ userId: aliceId, quotaBytes: null });
    expect(own.body.users[0]!.outputBytes).toBeGreaterThanOrEqual(3 * 20000);
    expect(own.body.users[0]!.logBytes).toBeGreaterThan(0);
    const all = await admin.request<{ users: { userId: string }[] }>('GET', '/api/usage');
    expect(all.body.users.map((u) => u.userId)).toContain(aliceId);
    const adminId = (await admin.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user.id;
    expect((await alice.request('GET', `/api/usage?user=${adminId}`)).status).toBe(404);
    expect((await alice.request('GET', '/api/usage?bogus=1')).status).toBe(400);
  });

  it('refuses a gc run to a non-admin and a bad dryRun', async () => {
    expect((await alice.request('POST', '/api/admin/gc')).status).toBe(403);
    const bad = await admin.request<{ error: { code: string; message: string } }>('POST', '/api/admin/gc?dryRun=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('dryRun');
  });

  it('a dry run reports the older task beyond the count with its bytes, and removes nothing', async () => {
    const response = await admin.request<GcReport>('POST', '/api/admin/gc?dryRun=true');
    expect(response.status, response.text).toBe(200);
    dryRun = response.body;
    expect(dryRun).toMatchObject({ dryRun: true, removed: { tasks: 1, logs: 1, files: 1, dagRuns: 0 } });
    expect(dryRun.removed.events).toBeGreaterThan(0);
    expect(dryRun.bytesFreed).toBeGreaterThanOrEqual(20000);
    expect((await alice.request('GET', `/api/tasks/${older.id}`)).status).toBe(200);
    expect(existsSync(join(master.dataDir, 'files', aliceId, older.id, 'older.bin'))).toBe(true);
    expect(existsSync(join(master.dataDir, 'logs', older.id))).toBe(true);
  });

  it('a run removes the older task with its log and file on disk, reports the bytes, and keeps the newest and the DAG run\'s task', async () => {
    const response = await admin.request<GcReport>('POST', '/api/admin/gc');
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ dryRun: false, removed: dryRun.removed, bytesFreed: dryRun.bytesFreed });
    expect((await alice.request('GET', `/api/tasks/${older.id}`)).status).toBe(404);
    expect(existsSync(join(master.dataDir, 'files', aliceId, older.id))).toBe(false);
    expect(existsSync(join(master.dataDir, 'logs', older.id))).toBe(false);
    // the newest finished task, and the DAG task (the oldest of all) its running run needs, stay
    expect((await alice.request('GET', `/api/tasks/${newer.id}`)).status).toBe(200);
    expect(existsSync(join(master.dataDir, 'files', aliceId, newer.id, 'newer.bin'))).toBe(true);
    expect((await alice.request('GET', `/api/tasks/${dagTaskId}`)).status).toBe(200);
    expect((await alice.request('GET', `/api/tasks/${dagTaskId}/logs`)).status).toBe(200);
    // nothing more to collect
    expect((await admin.request<GcReport>('POST', '/api/admin/gc')).body.removed.tasks).toBe(0);
  });

  it('counts runs and what they removed in /metrics, and records them in the audit trail', async () => {
    const metrics = await (await fetch(`${master.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wharf_gc_removed_total\{kind="tasks"\} 1$/m);
    expect(metrics).toMatch(/^wharf_gc_runs_total\{dry_run="true"\} 1$/m);
    expect(metrics).toMatch(/^wharf_gc_runs_total\{dry_run="false"\} 2$/m);
    const bytes = Number(/^wharf_gc_bytes_freed_total (\S+)$/m.exec(metrics)?.[1]);
    expect(bytes).toBe(dryRun.bytesFreed);
    await master.audit.flush();
    const audit = await admin.request<{ entries: { action: string; object: string; outcome: string }[] }>('GET', '/api/audit?action=gc.run');
    expect(audit.body.entries.map((e) => e.object)).toEqual(expect.arrayContaining(['gc:run', 'gc:dry-run']));
  });

  it('the wharf CLI runs a gc (dry run) as an admin and shows a user her usage; a non-admin\'s gc fails with the master\'s error', async () => {
    const home = tempDir('cli-home');
    const wharf = async (token: string, ...args: string[]) => {
      try {
        const { stdout, stderr } = await execFileAsync(process.execPath, [join(REPO_ROOT, 'cli/bin/wharf.js'), ...args], {
          env: { PATH: process.env.PATH ?? '', HOME: home, WHARF_URL: master.httpUrl, WHARF_TOKEN: token, NO_COLOR: '1' },
        });
        return { code: 0, stdout, stderr };
      } catch (error: unknown) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
      }
    };
    const dry = await wharf(admin.token!, 'gc', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would remove 0 tasks \(0 events\), 0 DAG runs, 0 logs, 0 output files, 0 artifacts, 0 telemetry histories; 0 ?B would be freed/m);
    const json = await wharf(admin.token!, 'gc', '--dry-run', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, removed: { tasks: 0 } });
    const usage = await wharf(alice.token!, 'usage');
    expect(usage.code, usage.stderr).toBe(0);
    expect(usage.stdout).toMatch(/USER\s+LOGS\s+OUTPUTS\s+ARTIFACTS\s+TOTAL\s+QUOTA/);
    expect(usage.stdout).toContain('alice-');
    const refused = await wharf(alice.token!, 'gc');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('admin');
  });

  it('refuses alice\'s submissions with 403 storage_quota_exceeded once an admin sets her quota below her usage, and lets them through again', async () => {
    const set = await admin.request<{ user: { storageQuotaBytes: number | null } }>('PATCH', `/api/users/${aliceId}`, { storageQuotaBytes: 1000 });
    expect(set.status, set.text).toBe(200);
    expect(set.body.user.storageQuotaBytes).toBe(1000);
    const refused = await alice.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', writer('over'));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('storage_quota_exceeded');
    expect(refused.body.error.message).toMatch(/keeps \d+ bytes .* the limit is 1000 bytes/);
    const dag = await alice.request<{ error: { code: string } }>('POST', '/api/dags', { dagName: 'over', tasks: [writer('over')] });
    expect(dag.status).toBe(403);
    expect(dag.body.error.code).toBe('storage_quota_exceeded');
    const usage = await alice.request<{ users: { quotaBytes: number | null }[] }>('GET', '/api/usage');
    expect(usage.body.users[0]!.quotaBytes).toBe(1000);
    // a bad quota is refused naming the field; null goes back to the master-wide quota (none here)
    const bad = await admin.request<{ error: { message: string } }>('PATCH', `/api/users/${aliceId}`, { storageQuotaBytes: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('storageQuotaBytes');
    expect((await admin.request('PATCH', `/api/users/${aliceId}`, { storageQuotaBytes: null })).status).toBe(200);
    expect((await alice.request('POST', '/api/tasks', writer('after'))).status).toBe(201);
  });
});

describe('the free-space floor with a real master and worker', () => {
  let floored: Master;
  let floorWorker: WorkerHandle;

  beforeAll(async () => {
    // a floor above what any test disk has free: every upload is refused
    floored = await startTestMaster({ WHARF_MIN_FREE_DISK: '99.99%', WHARF_GC_INTERVAL: '0' }, undefined, { store: 'sqlite' });
    floorWorker = await startTestWorker(floored, { name: 'floor' });
  }, 60_000);

  afterAll(async () => {
    await floorWorker?.stop();
    await floored?.stop();
  });

  it('refuses a task\'s output upload, says why on the task, keeps the task waiting instead of half-writing, and exports the floor', async () => {
    const client = await ApiClient.registered(floored.httpUrl, `floor-${Date.now()}@example.com`);
    const created = await client.request<{ task: TaskBody }>('POST', '/api/tasks', writer('floored'));
    expect(created.status, created.text).toBe(201);
    const event = await waitFor('an upload_refused event on the task', async () => {
      const task = await client.request<{ task: TaskBody & { events: { kind: string; message: string }[] } }>('GET', `/api/tasks/${created.body.task.id}`);
      return task.body.task.events.find((e) => e.kind === 'upload_refused');
    }, 60_000);
    expect(event.message).toMatch(/^output upload refused, retried by the worker until there is room: master storage full: .* below the floor of \d+ bytes \(WHARF_MIN_FREE_DISK=99.99%\)/);
    const task = (await client.request<{ task: TaskBody & { userId: string; reason?: string } }>('GET', `/api/tasks/${created.body.task.id}`)).body.task;
    expect(task.status).toBe('running');
    expect(task.reason).toBe(event.message);
    expect(existsSync(join(floored.dataDir, 'files', task.userId, task.id))).toBe(false);
    const metrics = await (await fetch(`${floored.httpUrl}/metrics`)).text();
    const floor = Number(/^wharf_data_dir_min_free_bytes (\S+)$/m.exec(metrics)?.[1]);
    const available = Number(/^wharf_data_dir_available_bytes (\S+)$/m.exec(metrics)?.[1]);
    expect(floor).toBeGreaterThan(available);
    await client.request('DELETE', `/api/tasks/${task.id}`);
  }, 90_000);
});
