// DAGs on a real Docker engine: a real master and workers over loopback gRPC, tasks in
// containers (wharf/busybox) writing /output and reading /input. Covers the example DAG
// run twice (the second run served from a worker's artifact cache, visible in the metrics, and
// placed on the worker that holds the input), one task with two inputs and two outputs, and
// LRU eviction under a small cache limit.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, TEST_IMAGE, waitFor } from './support/cluster.js';
import { trainPipelineYaml } from './support/dags.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

beforeAll(() => {
  // the suite needs the engine and the test image (bash scripts/docker-up.sh && bash scripts/build-test-image.sh)
  execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'ignore' });
});

function removeContainersOf(workerId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine is gone already: nothing to clean
  }
}

async function startMaster(): Promise<Master> {
  const master = await startTestMaster();
  cleanups.push(() => master.stop());
  return master;
}

async function startWorker(master: Master, name: string, overrides: { dataDir?: string; cacheMaxBytes?: number } = {}): Promise<WorkerHandle> {
  const worker = await startTestWorker(master, { name, runtimes: ['docker'], ...overrides });
  cleanups.push(async () => {
    await worker.stop();
    removeContainersOf(worker.workerId);
  });
  return worker;
}

interface DagTaskDetails {
  name: string;
  status: string;
  taskId?: string;
  workerId?: string;
  reason?: string;
  inputs: { name: string; sha256?: string; size?: number; cache: 'hit' | 'miss' | null }[];
}
interface DagDetails {
  id: string;
  status: string;
  tasks: DagTaskDetails[];
}
interface RunMetrics {
  dagId: string;
  status: string;
  cacheHit: string;
  cacheHitTasks: number;
  cacheMissTasks: number;
  bytesFromCache: number;
  bytesDownloaded: number;
  taskCount: number;
  taskSucceeded: number;
  nodes: string[];
}

async function runDag(client: ApiClient, body: string | Record<string, unknown>, contentType = 'application/json'): Promise<DagDetails> {
  const response = await fetch(`${client.baseUrl}/api/dags`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, text).toBe(201);
  const id = (JSON.parse(text) as { dag: { id: string } }).dag.id;
  return waitFor(
    `DAG ${id} to end`,
    async () => {
      const dag = (await client.request<{ dag: DagDetails }>('GET', `/api/dags/${id}`)).body.dag;
      return dag.status !== 'running' ? dag : undefined;
    },
    100_000,
    200,
  );
}

async function metricsOf(client: ApiClient, name: string): Promise<RunMetrics[]> {
  const response = await client.request<{ runs: RunMetrics[] }>('GET', `/api/dags/${name}/metrics?limit=20`);
  expect(response.status, response.text).toBe(200);
  return response.body.runs;
}

/** The example, as YAML, exactly as written there. */
const TRAIN_PIPELINE = trainPipelineYaml();

const DATA_TXT = Buffer.from(`${Array.from({ length: 100000 }, (_, i) => i + 1).join('\n')}\n`);

function cachedObjects(workerDataDir: string): { sha256: string; size: number }[] {
  const root = join(workerDataDir, 'cache', 'objects');
  const found: { sha256: string; size: number }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push({ sha256: entry.name, size: statSync(full).size });
    }
  };
  try {
    walk(root);
  } catch {
    // no cache folder yet
  }
  return found;
}

describe('DAGs on Docker', () => {
  it('runs the example DAG twice; the second run reads its input from the worker cache', async () => {
    const master = await startMaster();
    const dirs = [tempDir('dag-w1'), tempDir('dag-w2')];
    const workers = [await startWorker(master, 'w1', { dataDir: dirs[0]! }), await startWorker(master, 'w2', { dataDir: dirs[1]! })];
    const client = await ApiClient.registered(master.httpUrl, `dag-${Date.now()}@example.com`);

    const first = await runDag(client, TRAIN_PIPELINE, 'application/yaml');
    expect(first.status, JSON.stringify(first.tasks)).toBe('succeeded');
    const train1 = first.tasks.find((t) => t.name === 'train-model')!;
    expect(train1.inputs).toEqual([{ name: 'data.txt', fromTask: 'generate-data', sha256: createHash('sha256').update(DATA_TXT).digest('hex'), size: DATA_TXT.length, cache: 'miss' }]);
    const weights = await client.bytes(`/api/files/${train1.taskId}/download/weights.txt`);
    expect(weights.data.toString().trim()).toBe('100000 /input/data.txt');

    // the consumer's worker now holds data.txt in its cache, by content
    const holder = workers.findIndex((w) => w.workerId === train1.workerId);
    expect(holder).toBeGreaterThanOrEqual(0);
    expect(cachedObjects(dirs[holder]!).map((o) => o.sha256)).toContain(createHash('sha256').update(DATA_TXT).digest('hex'));

    const second = await runDag(client, TRAIN_PIPELINE, 'application/yaml');
    expect(second.status).toBe('succeeded');
    const train2 = second.tasks.find((t) => t.name === 'train-model')!;
    // placement preferred the worker holding the input; the input was served from its cache
    expect(train2.workerId).toBe(train1.workerId);
    expect(train2.inputs[0]!.cache).toBe('hit');

    const runs = await metricsOf(client, 'train-pipeline');
    expect(runs.map((r) => r.dagId)).toEqual([second.id, first.id]); // newest first
    expect(runs[1]).toMatchObject({ cacheHit: 'Miss', cacheHitTasks: 0, cacheMissTasks: 1, bytesFromCache: 0, bytesDownloaded: DATA_TXT.length, taskCount: 2, taskSucceeded: 2 });
    expect(runs[0]).toMatchObject({ cacheHit: 'Hit', cacheHitTasks: 1, cacheMissTasks: 0, bytesFromCache: DATA_TXT.length, bytesDownloaded: 0 });
    expect(runs[0]!.bytesFromCache).toBeGreaterThan(0);
  });

  it('stages two inputs and collects two outputs of one task; useCache false downloads every input', async () => {
    const master = await startMaster();
    await startWorker(master, 'w1');
    const client = await ApiClient.registered(master.httpUrl, `dag2-${Date.now()}@example.com`);
    const dag = {
      dagName: 'two-by-two',
      useCache: false,
      tasks: [
        { name: 'left', image: 'wharf/busybox', command: ['sh', '-c', 'echo left > /output/l.txt'], outputs: ['l.txt'] },
        { name: 'right', image: 'wharf/busybox', command: ['sh', '-c', 'mkdir -p /output/sub && echo right > /output/sub/r.txt'], outputs: ['sub/r.txt'] },
        {
          name: 'join',
          image: 'wharf/busybox',
          // /input is read-only: a write there must fail, and the task says so in its output
          command: ['sh', '-c', 'mkdir -p /output/meta && cat /input/l.txt /input/sub/r.txt > /output/both.txt && (touch /input/x 2>/dev/null && echo writable || echo read-only) > /output/meta/mode.txt'],
          depends_on: ['left', 'right'],
          inputs: [
            { fromTask: 'left', name: 'l.txt' },
            { fromTask: 'right', name: 'sub/r.txt' },
          ],
          outputs: ['both.txt', 'meta/mode.txt'],
        },
      ],
    };
    const result = await runDag(client, dag);
    expect(result.status, JSON.stringify(result.tasks)).toBe('succeeded');
    const join = result.tasks.find((t) => t.name === 'join')!;
    expect((await client.bytes(`/api/files/${join.taskId}/download/both.txt`)).data.toString()).toBe('left\nright\n');
    expect((await client.bytes(`/api/files/${join.taskId}/download/meta/mode.txt`)).data.toString()).toBe('read-only\n');
    expect(join.inputs.map((i) => [i.name, i.cache])).toEqual([
      ['l.txt', 'miss'],
      ['sub/r.txt', 'miss'],
    ]);
    const [run] = await metricsOf(client, 'two-by-two');
    expect(run).toMatchObject({ cacheHit: 'N/A', bytesFromCache: 0, bytesDownloaded: 'left\n'.length + 'right\n'.length, cacheHitTasks: 0, cacheMissTasks: 0 });
  });

  it('evicts least recently used artifacts to stay under a small cache limit', async () => {
    const master = await startMaster();
    const dataDir = tempDir('dag-evict');
    await startWorker(master, 'w1', { dataDir, cacheMaxBytes: 1500 });
    const client = await ApiClient.registered(master.httpUrl, `dag3-${Date.now()}@example.com`);
    const dag = {
      dagName: 'evict',
      tasks: [
        { name: 'make-a', image: 'wharf/busybox', command: ['sh', '-c', 'yes a | head -c 1000 > /output/a.bin'], outputs: ['a.bin'] },
        { name: 'make-b', image: 'wharf/busybox', command: ['sh', '-c', 'yes b | head -c 1000 > /output/b.bin'], outputs: ['b.bin'] },
        { name: 'use-a', image: 'wharf/busybox', command: ['sh', '-c', 'wc -c /input/a.bin'], depends_on: ['make-a'], inputs: [{ fromTask: 'make-a', name: 'a.bin' }] },
        // after use-a, so a.bin is unpinned when b.bin arrives
        { name: 'use-b', image: 'wharf/busybox', command: ['sh', '-c', 'wc -c /input/b.bin'], depends_on: ['make-b', 'use-a'], inputs: [{ fromTask: 'make-b', name: 'b.bin' }] },
      ],
    };
    const shaB = createHash('sha256').update(Buffer.from('b\n'.repeat(500))).digest('hex');
    const first = await runDag(client, dag);
    expect(first.status, JSON.stringify(first.tasks)).toBe('succeeded');
    // both were downloaded; only the most recent fits under 1500 bytes
    await waitFor('eviction of a.bin', () => {
      const objects = cachedObjects(dataDir);
      return objects.length === 1 && objects[0]!.sha256 === shaB ? objects : undefined;
    }, 10_000);
    expect(cachedObjects(dataDir).reduce((sum, o) => sum + o.size, 0)).toBeLessThanOrEqual(1500);

    // the second run finds a.bin evicted (a miss) and, having to make room for it, b.bin too
    const second = await runDag(client, dag);
    expect(second.status).toBe('succeeded');
    expect(second.tasks.find((t) => t.name === 'use-a')!.inputs[0]!.cache).toBe('miss');
    expect(second.tasks.find((t) => t.name === 'use-b')!.inputs[0]!.cache).toBe('miss');
    const runs = await metricsOf(client, 'evict');
    expect(runs[0]).toMatchObject({ dagId: second.id, cacheHit: 'Miss', bytesFromCache: 0, bytesDownloaded: 2000 });
    expect(cachedObjects(dataDir).reduce((sum, o) => sum + o.size, 0)).toBeLessThanOrEqual(1500);
  });
});
