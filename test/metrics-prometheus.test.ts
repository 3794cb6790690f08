// GET /metrics as Prometheus scrapes it, after real work on a real master and Docker worker:
// the figures match what happened, and Prometheus' own checker (`promtool check metrics`,
// Debian package `prometheus`, installed by scripts/install-promtool.sh when missing) accepts
// the exposition. The metrics that deploy/monitoring/'s alerts and Grafana board need (oldest
// queue wait, attempts by outcome, lost workers, the data dir's free space, per-worker
// capacity, reservations and usage) are checked against what happened too.
import { execFileSync, spawnSync } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';
import { findPromtool } from './support/promtool.js';

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;
/** workers a test starts besides `worker` (their containers are removed at the end) */
const extraWorkers: WorkerHandle[] = [];

beforeAll(async () => {
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'metrics' });
});

afterAll(async () => {
  await worker?.stop();
  for (const extra of extraWorkers) await extra.stop();
  for (const { workerId } of [worker, ...extraWorkers].filter(Boolean)) {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  }
  await master?.stop();
  await removeTempDirs();
});

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** promtool's path: on PATH, or installed now (as root with apt); fails the test loudly otherwise. */
function promtool(): string {
  const found = findPromtool();
  if ('unavailable' in found) throw new Error(`promtool is needed for this test and could not be installed: ${found.unavailable}`);
  return found.path;
}

describe('GET /metrics', () => {
  it('counts tasks, latencies, workers, heartbeats, log and upload bytes and store operations, and passes promtool', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'metrics@example.com');
    const output = 'x'.repeat(1000);
    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: `echo hello metrics; printf '${output}' > /output/thousand.txt`,
      resources: { cpu: 0.1, memory: '32Mi' },
    });
    expect(submitted.status).toBe(201);
    await waitFor(
      'the task to succeed',
      async () => (await user.request<{ task: { status: string } }>('GET', `/api/tasks/${submitted.body.task.id}`)).body.task.status === 'succeeded',
      60_000,
    );
    // a task no worker can take stays queued
    const waiting = await user.request('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', resources: { gpu: 1 } });
    expect(waiting.status).toBe(201);

    const response = await fetch(`${master.httpUrl}/metrics`); // no token: a scrape target
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();

    expect(sample(text, 'wharf_tasks_finished_total{state="succeeded"}')).toBe(1);
    expect(sample(text, 'wharf_tasks_finished_total{state="failed"}')).toBe(0);
    expect(sample(text, 'wharf_tasks{state="queued"}')).toBe(1);
    expect(sample(text, 'wharf_tasks{state="running"}')).toBe(0);
    expect(sample(text, 'wharf_queue_depth')).toBe(1);
    expect(sample(text, 'wharf_task_submit_to_assign_seconds_count')).toBe(1);
    expect(sample(text, 'wharf_task_assign_to_running_seconds_count')).toBe(1);
    expect(sample(text, 'wharf_task_assign_to_running_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'wharf_workers{status="ready"}')).toBe(1);
    expect(sample(text, 'wharf_workers{status="lost"}')).toBe(0);
    expect(sample(text, 'wharf_workers_connected')).toBe(1);
    const lag = sample(text, `wharf_worker_heartbeat_lag_seconds{worker_id="${worker.workerId}"}`);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1.5); // the test TTL: a worker past it would be lost
    expect(sample(text, 'wharf_log_bytes_received_total{stream="stdout"}')).toBeGreaterThanOrEqual('hello metrics\n'.length);
    expect(sample(text, 'wharf_upload_bytes_received_total')).toBe(output.length);
    // the task service writes through commit (or group commits, commitMany); reads too are timed
    const writes = (sample(text, 'wharf_store_operation_seconds_count{operation="commit",result="ok"}') ?? 0) +
      (sample(text, 'wharf_store_operation_seconds_count{operation="commitMany",result="ok"}') ?? 0);
    expect(writes).toBeGreaterThanOrEqual(2);
    const storeOps = [...text.matchAll(/^wharf_store_operation_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(storeOps).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    const check = spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });

  it('exports what the alerts and the Grafana board read: oldest wait, attempts by outcome, lost workers, data disk, per-worker capacity, reservations and usage', async () => {
    const admin = await ApiClient.admin(master.httpUrl);
    const user = await ApiClient.registered(master.httpUrl, 'operations@example.com');
    const scrape = async (): Promise<string> => (await fetch(`${master.httpUrl}/metrics`)).text();
    const before = await scrape();
    const finished = (text: string, outcome: string): number => sample(text, `wharf_task_attempts_finished_total{outcome="${outcome}"}`) ?? Number.NaN;
    // every outcome is exported from the start, so rate() works from the first scrape
    for (const outcome of ['succeeded', 'failed', 'timed_out', 'error', 'cancelled', 'lost']) expect(finished(before, outcome)).toBeGreaterThanOrEqual(0);
    expect(sample(before, 'wharf_workers_lost_total')).toBe(0);

    // per worker: what it registered with, by id and name
    const { body: view } = await admin.request<{ worker: { capacity: { cpu: number; memory: number; gpu: number; disk: number } } }>('GET', `/api/workers/${worker.workerId}`);
    const labels = `{worker_id="${worker.workerId}",worker_name="metrics"}`;
    expect(sample(before, `wharf_worker_cpu_capacity_cores${labels}`)).toBe(view.worker.capacity.cpu);
    expect(sample(before, `wharf_worker_memory_capacity_bytes${labels}`)).toBe(view.worker.capacity.memory);
    expect(sample(before, `wharf_worker_gpu_capacity${labels}`)).toBe(view.worker.capacity.gpu);
    expect(sample(before, `wharf_worker_disk_capacity_bytes${labels}`)).toBe(view.worker.capacity.disk);
    expect(before).toMatch(new RegExp(`^wharf_worker_info\\{worker_id="${worker.workerId}",worker_name="metrics",status="ready",version="[^"]+"\\} 1$`, 'm'));

    // the master's data dir: the filesystem's figures, as statfs gives them
    const disk = await statfs(master.dataDir);
    expect(sample(before, 'wharf_data_dir_size_bytes')).toBe(disk.blocks * disk.bsize);
    const available = sample(before, 'wharf_data_dir_available_bytes')!;
    expect(available).toBeGreaterThan(0);
    expect(Math.abs(available - disk.bavail * disk.bsize)).toBeLessThan(0.05 * disk.blocks * disk.bsize);

    // the host usage of the last heartbeat, as a 0..1 ratio per resource
    const usage = await waitFor('a usage sample', async () => {
      const text = await scrape();
      return sample(text, `wharf_worker_usage_ratio{worker_id="${worker.workerId}",worker_name="metrics",resource="cpu"}`) === undefined ? undefined : text;
    });
    for (const resource of ['cpu', 'memory', 'disk']) {
      const ratio = sample(usage, `wharf_worker_usage_ratio{worker_id="${worker.workerId}",worker_name="metrics",resource="${resource}"}`)!;
      expect(ratio).toBeGreaterThanOrEqual(0);
      expect(ratio).toBeLessThanOrEqual(1);
    }

    // a failing task and a timed-out one count under their outcome
    const failing = await user.request<{ task: { id: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'exit 3', resources: { cpu: 0.1, memory: '32Mi' } });
    const slow = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'sleep 30',
      timeoutSeconds: 1,
      resources: { cpu: 0.1, memory: '32Mi' },
    });
    for (const id of [failing.body.task.id, slow.body.task.id]) {
      await waitFor(`task ${id} to fail`, async () => (await user.request<{ task: { status: string } }>('GET', `/api/tasks/${id}`)).body.task.status === 'failed', 60_000);
    }
    const afterFailures = await scrape();
    expect(finished(afterFailures, 'failed') - finished(before, 'failed')).toBe(1);
    expect(finished(afterFailures, 'timed_out') - finished(before, 'timed_out')).toBe(1);

    // a task no worker can take waits: the oldest wait grows while it does
    expect((await user.request('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', resources: { gpu: 1 } })).status).toBe(201);
    const waited = sample(await scrape(), 'wharf_queue_oldest_wait_seconds')!;
    expect(waited).toBeGreaterThanOrEqual(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sample(await scrape(), 'wharf_queue_oldest_wait_seconds')).toBeGreaterThanOrEqual(waited + 0.299);

    // a running task's reservation is on its worker; when that worker goes silent it is lost and
    // its per-worker series are gone (its usage is stale); its attempt is lost once the worker
    // must have stopped it (fencing: its --stop-after 1.5 s + 2 s grace + 2 s margin)
    const second = await startTestWorker(master, { name: 'metrics-second', labels: { pool: 'second' }, stopAfterMs: 1500 });
    extraWorkers.push(second);
    const running = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'sleep 60',
      labels: { pool: 'second' },
      resources: { cpu: 0.5, memory: '64Mi' },
    });
    expect(running.status).toBe(201);
    await waitFor('the task to run', async () => (await user.request<{ task: { status: string } }>('GET', `/api/tasks/${running.body.task.id}`)).body.task.status === 'running', 60_000);
    const secondLabels = `{worker_id="${second.workerId}",worker_name="metrics-second"}`;
    const whileRunning = await scrape();
    expect(sample(whileRunning, `wharf_worker_cpu_reserved_cores${secondLabels}`)).toBe(0.5);
    expect(sample(whileRunning, `wharf_worker_memory_reserved_bytes${secondLabels}`)).toBe(64 * 1024 * 1024);
    expect(sample(whileRunning, `wharf_worker_cpu_reserved_cores${labels}`)).toBe(0);

    await second.stop({ leaveRunning: true });
    const afterLoss = await waitFor('the second worker to be lost', async () => {
      const text = await scrape();
      return sample(text, 'wharf_workers_lost_total') === 1 ? text : undefined;
    });
    expect(afterLoss).not.toContain(`wharf_worker_cpu_capacity_cores${secondLabels}`);
    expect(afterLoss).not.toContain(`wharf_worker_usage_ratio{worker_id="${second.workerId}"`);
    expect(afterLoss).toContain(`wharf_worker_info{worker_id="${second.workerId}",worker_name="metrics-second",status="lost"`);
    const afterRequeue = await waitFor('the lost worker’s attempt to be lost once its fencing bound passed', async () => {
      const text = await scrape();
      return finished(text, 'lost') - finished(before, 'lost') >= 1 ? text : undefined;
    });
    expect(finished(afterRequeue, 'lost') - finished(before, 'lost')).toBe(1);
    expect((await user.request('DELETE', `/api/tasks/${running.body.task.id}`)).status).toBe(202);

    const check = spawnSync(promtool(), ['check', 'metrics'], { input: afterLoss, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
  });
});
