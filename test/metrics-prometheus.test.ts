// GET /metrics as Prometheus scrapes it, after real work on a real master and Docker worker:
// the figures match what happened, and Prometheus' own checker (`promtool check metrics`,
// Debian package `prometheus`, installed by scripts/install-promtool.sh when missing) accepts
// the exposition.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;

beforeAll(async () => {
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'metrics' });
});

afterAll(async () => {
  await worker?.stop();
  if (worker) {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  }
  await master?.stop();
  removeTempDirs();
});

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** promtool's path: on PATH, or installed now (as root with apt); fails the test loudly otherwise. */
function promtool(): string {
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/install-promtool.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(`promtool is needed for this test and could not be installed: ${result.stderr.trim() || result.error?.message || 'unknown error'}`);
  }
  return result.stdout.trim().split('\n').at(-1)!;
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
});
