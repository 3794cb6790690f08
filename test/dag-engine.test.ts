// The DAG engine end to end without Docker: a real master (SQLite, REST, gRPC on loopback) and
// real workers running the `exec` runtime (host processes), driven through POST /api/dags as
// a user would. Covers a diamond passing files, upstream failure, cancel, a master restart in
// the middle of a run, validation answers, and who may see a run.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { confirmDirectUploads, prepareArtifactUploads } from '../master/src/artifacts/artifact-upload-targets.js';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

interface DagTask {
  name: string;
  status: string;
  taskId: string | null;
  reason: string | null;
  artifacts: { name: string; sha256: string; size: number }[];
}
interface DagBody {
  id: string;
  name: string;
  status: string;
  tasks: DagTask[];
}
interface DagDetailsBody {
  id: string;
  status: string;
  finishedAt: string | null;
  tasks: {
    name: string;
    status: string;
    taskId?: string;
    reason?: string;
    workerId?: string;
    workerName?: string;
    inputs: { name: string; fromTask: string; sha256?: string; size?: number; cache: 'hit' | 'miss' | null }[];
    attempts: { id: string; status: string; workerId: string; workerName?: string }[];
    artifacts?: { name: string; sha256: string; size: number }[];
  }[];
}

async function startMaster(dataDir?: string): Promise<Master> {
  const master = await startTestMaster({}, dataDir);
  cleanups.push(() => master.stop());
  return master;
}

async function startWorker(master: Master, name: string, dataDir?: string): Promise<WorkerHandle> {
  const worker = await startTestWorker(master, { name, runtimes: ['exec'], ...(dataDir ? { dataDir } : {}) });
  cleanups.push(() => worker.stop());
  return worker;
}

/** exec tasks need an admin (they run on the worker host) */
async function admin(master: Master): Promise<ApiClient> {
  return ApiClient.admin(master.httpUrl);
}

async function submitDag(client: ApiClient, dag: unknown): Promise<DagBody> {
  const response = await client.request<{ dag: DagBody }>('POST', '/api/dags', dag);
  expect(response.status, response.text).toBe(201);
  return response.body.dag;
}

async function dagDetails(client: ApiClient, id: string): Promise<DagDetailsBody> {
  const response = await client.request<{ dag: DagDetailsBody }>('GET', `/api/dags/${id}`);
  expect(response.status, response.text).toBe(200);
  return response.body.dag;
}

async function waitForDag(client: ApiClient, id: string, done: (dag: DagDetailsBody) => boolean, timeoutMs = 60_000): Promise<DagDetailsBody> {
  return waitFor(`DAG ${id}`, async () => {
    const dag = await dagDetails(client, id);
    return done(dag) ? dag : undefined;
  }, timeoutMs, 150);
}

const ended = (dag: DagDetailsBody) => dag.status !== 'running';
const stateOf = (dag: DagDetailsBody) => Object.fromEntries(dag.tasks.map((t) => [t.name, t.status]));

const sh = (script: string) => ({ runtime: 'exec', command: ['sh', '-c', script] });

/**
 * a → (b, c) → d: a writes a file, b and c each transform it, d reads both. Every script uses
 * $WHARF_INPUT_DIR / $WHARF_OUTPUT_DIR, as a container uses /input and /output.
 */
const diamond = {
  dagName: 'diamond',
  tasks: [
    { name: 'a', ...sh('seq 1 1000 > "$WHARF_OUTPUT_DIR/numbers.txt"'), outputs: ['numbers.txt'] },
    {
      name: 'b',
      ...sh('wc -l < "$WHARF_INPUT_DIR/numbers.txt" | tr -d " " > "$WHARF_OUTPUT_DIR/count.txt"'),
      depends_on: ['a'],
      inputs: [{ fromTask: 'a', name: 'numbers.txt' }],
      outputs: ['count.txt'],
    },
    {
      name: 'c',
      ...sh('tail -n 1 "$WHARF_INPUT_DIR/numbers.txt" > "$WHARF_OUTPUT_DIR/last.txt"'),
      depends_on: ['a'],
      inputs: [{ fromTask: 'a', name: 'numbers.txt' }],
      outputs: ['last.txt'],
    },
    {
      name: 'd',
      ...sh('echo "$(cat "$WHARF_INPUT_DIR/count.txt")/$(cat "$WHARF_INPUT_DIR/last.txt")" > "$WHARF_OUTPUT_DIR/summary.txt"'),
      depends_on: ['b', 'c'],
      inputs: [
        { fromTask: 'b', name: 'count.txt' },
        { fromTask: 'c', name: 'last.txt' },
      ],
      outputs: ['summary.txt'],
    },
  ],
};

describe('DAG engine (exec runtime)', () => {
  it('runs a diamond in dependency order, passing files between tasks', async () => {
    const master = await startMaster();
    await startWorker(master, 'w1');
    await startWorker(master, 'w2');
    const client = await admin(master);

    const created = await submitDag(client, diamond);
    expect(created.name).toBe('diamond');
    expect(created.status).toBe('running');
    // only the root is queued at once; the rest wait for it
    expect(Object.fromEntries(created.tasks.map((t) => [t.name, t.status]))).toEqual({ a: 'queued', b: 'pending', c: 'pending', d: 'pending' });

    const dag = await waitForDag(client, created.id, ended);
    expect(dag.status).toBe('succeeded');
    expect(stateOf(dag)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'succeeded', d: 'succeeded' });
    expect(dag.finishedAt).not.toBeNull();
    // each task names the worker that ran it, as its attempts do
    for (const task of dag.tasks) {
      expect(['w1', 'w2']).toContain(task.workerName);
      expect(task.attempts.at(-1)).toMatchObject({ workerId: task.workerId, workerName: task.workerName });
    }

    // d read both upstream files: 1000 lines, the last being 1000
    const d = dag.tasks.find((t) => t.name === 'd')!;
    const summary = await client.bytes(`/api/files/${d.taskId}/download/summary.txt`);
    expect(summary.status).toBe(200);
    expect(summary.data.toString().trim()).toBe('1000/1000');

    // inputs resolve to the producer's artifact, by content
    const numbers = Buffer.from(`${Array.from({ length: 1000 }, (_, i) => i + 1).join('\n')}\n`);
    const b = dag.tasks.find((t) => t.name === 'b')!;
    expect(b.inputs).toEqual([
      expect.objectContaining({ name: 'numbers.txt', fromTask: 'a', sha256: createHash('sha256').update(numbers).digest('hex'), size: numbers.length }),
    ]);
    expect(b.inputs[0]!.cache === 'hit' || b.inputs[0]!.cache === 'miss').toBe(true);

    // dependency order: no task started before its dependencies ended
    const times = new Map<string, { started: number; finished: number }>();
    for (const t of dag.tasks) {
      const task = await client.request<{ task: { startedAt: string; finishedAt: string } }>('GET', `/api/tasks/${t.taskId}`);
      times.set(t.name, { started: Date.parse(task.body.task.startedAt), finished: Date.parse(task.body.task.finishedAt) });
    }
    for (const [child, parents] of [['b', ['a']], ['c', ['a']], ['d', ['b', 'c']]] as const) {
      for (const parent of parents) expect(times.get(child)!.started).toBeGreaterThanOrEqual(times.get(parent)!.finished);
    }

    const metrics = await client.request<{ runs: Record<string, unknown>[] }>('GET', '/api/dags/diamond/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body.runs).toHaveLength(1);
    expect(metrics.body.runs[0]).toMatchObject({ dagId: created.id, dagName: 'diamond', status: 'succeeded', taskCount: 4, taskSucceeded: 4, taskFailed: 0, taskUpstreamFailed: 0, cacheEnabled: true });
    // b, c and d staged 4 inputs in all: their bytes are counted as from cache or downloaded
    const run = metrics.body.runs[0] as { bytesFromCache: number; bytesDownloaded: number; durationMs: number };
    expect(run.bytesFromCache + run.bytesDownloaded).toBe(numbers.length * 2 + Buffer.from('1000\n').length * 2);
    expect(run.durationMs).toBeGreaterThan(0);
  });

  it('marks every dependent of a failed task upstream_failed and lets the other branch finish', async () => {
    const master = await startMaster();
    await startWorker(master, 'w1');
    const client = await admin(master);
    const created = await submitDag(client, {
      dagName: 'failing',
      tasks: [
        { name: 'root', ...sh('true') },
        { name: 'bad', ...sh('exit 3'), depends_on: ['root'], retries: { count: 1 } },
        { name: 'after-bad', ...sh('true'), depends_on: ['bad'] },
        { name: 'further', ...sh('true'), depends_on: ['after-bad'] },
        { name: 'good', ...sh('true'), depends_on: ['root'] },
      ],
    });
    const dag = await waitForDag(client, created.id, ended);
    expect(dag.status).toBe('failed');
    expect(stateOf(dag)).toEqual({ root: 'succeeded', bad: 'failed', 'after-bad': 'upstream_failed', further: 'upstream_failed', good: 'succeeded' });
    const bad = dag.tasks.find((t) => t.name === 'bad')!;
    expect(bad.attempts).toHaveLength(2); // retried once, then failed
    expect(bad.reason).toContain('exit code 3');
    expect(dag.tasks.find((t) => t.name === 'after-bad')!.reason).toContain('"bad"');
    // never started: no Wharf task was made for them
    expect(dag.tasks.find((t) => t.name === 'further')!.taskId).toBeUndefined();

    const metrics = await client.request<{ runs: { taskFailed: number; taskUpstreamFailed: number; taskSucceeded: number; cacheHit: string }[] }>('GET', '/api/dags/failing/metrics?limit=5');
    expect(metrics.body.runs[0]).toMatchObject({ taskFailed: 1, taskUpstreamFailed: 2, taskSucceeded: 2, cacheHit: 'N/A' });
  });

  it('fails a task that did not write a declared output, and its dependents with it', async () => {
    const master = await startMaster();
    await startWorker(master, 'w1');
    const client = await admin(master);
    const created = await submitDag(client, {
      dagName: 'forgetful',
      tasks: [
        { name: 'writer', ...sh('echo hi > "$WHARF_OUTPUT_DIR/other.txt"'), outputs: ['promised.txt'] },
        { name: 'reader', ...sh('cat "$WHARF_INPUT_DIR/promised.txt"'), depends_on: ['writer'], inputs: [{ fromTask: 'writer', name: 'promised.txt' }] },
      ],
    });
    const dag = await waitForDag(client, created.id, ended);
    expect(dag.status).toBe('failed');
    expect(stateOf(dag)).toEqual({ writer: 'failed', reader: 'upstream_failed' });
    expect(dag.tasks[0]!.reason).toContain('declared output "promised.txt" not written');
  });

  it('cancels a run: the running task is stopped and pending ones are cancelled', async () => {
    const master = await startMaster();
    await startWorker(master, 'w1');
    const client = await admin(master);
    const created = await submitDag(client, {
      dagName: 'long',
      tasks: [
        { name: 'slow', ...sh('sleep 60') },
        { name: 'next', ...sh('true'), depends_on: ['slow'] },
      ],
    });
    await waitForDag(client, created.id, (dag) => dag.tasks[0]!.status === 'running');
    const cancel = await client.request<{ dag: DagBody }>('DELETE', `/api/dags/${created.id}`);
    expect(cancel.status, cancel.text).toBe(202);
    const dag = await waitForDag(client, created.id, ended, 30_000);
    expect(dag.status).toBe('cancelled');
    expect(stateOf(dag)).toEqual({ slow: 'cancelled', next: 'cancelled' });
    const slowTask = await client.request<{ task: { status: string } }>('GET', `/api/tasks/${dag.tasks[0]!.taskId}`);
    expect(slowTask.body.task.status).toBe('cancelled');
    // a second cancel of an ended run is a conflict
    const again = await client.request<{ error: { code: string } }>('DELETE', `/api/dags/${created.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('resumes a run after a master restart and dispatches no task twice', async () => {
    const dataDir = tempDir('dag-restart');
    let master = await startMaster(dataDir);
    const workerDir = tempDir('dag-restart-worker');
    let worker = await startWorker(master, 'w1', workerDir);
    let client = await admin(master);
    const created = await submitDag(client, {
      dagName: 'restart',
      tasks: [
        { name: 'first', ...sh('sleep 2; echo one > "$WHARF_OUTPUT_DIR/one.txt"'), outputs: ['one.txt'] },
        { name: 'second', ...sh('cat "$WHARF_INPUT_DIR/one.txt" > "$WHARF_OUTPUT_DIR/two.txt"'), depends_on: ['first'], inputs: [{ fromTask: 'first', name: 'one.txt' }], outputs: ['two.txt'] },
      ],
    });
    await waitForDag(client, created.id, (dag) => dag.tasks[0]!.status === 'running');
    // stop the master while `first` runs; the worker keeps it and reports when the master is back
    await master.stop();
    master = await startMaster(dataDir);
    await worker.stop();
    worker = await startWorker(master, 'w1', workerDir);
    client = await admin(master);
    const dag = await waitForDag(client, created.id, ended, 90_000);
    expect(dag.status).toBe('succeeded');
    expect(stateOf(dag)).toEqual({ first: 'succeeded', second: 'succeeded' });
    // one Wharf task per DAG task, never two
    const all = await client.request<{ tasks: { id: string; name: string }[] }>('GET', '/api/tasks?limit=100');
    expect(all.body.tasks.filter((t) => t.name === 'first' || t.name === 'second')).toHaveLength(2);
    const second = dag.tasks.find((t) => t.name === 'second')!;
    const out = await client.bytes(`/api/files/${second.taskId}/download/two.txt`);
    expect(out.data.toString()).toBe('one\n');
  });

  it('answers bad DAG files with 400 naming the problem, and accepts YAML', async () => {
    const master = await startMaster();
    const client = await admin(master);
    const cycle = await client.request<{ error: { code: string; message: string } }>('POST', '/api/dags', {
      dagName: 'c',
      tasks: [
        { name: 'a', ...sh('true'), depends_on: ['b'] },
        { name: 'b', ...sh('true'), depends_on: ['a'] },
      ],
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.code).toBe('validation_failed');
    expect(cycle.body.error.message).toMatch(/^cycle: a -> b -> a/);

    const unknown = await client.request<{ error: { message: string } }>('POST', '/api/dags', { dagName: 'u', tasks: [{ name: 'train', ...sh('true'), depends_on: ['trian'] }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('tasks[0].depends_on: unknown task "trian"');

    const yaml = `dagName: from-yaml\ntasks:\n  - name: only\n    runtime: exec\n    command: ["true"]\n`;
    const response = await fetch(`${master.httpUrl}/api/dags`, { method: 'POST', headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/yaml' }, body: yaml });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { dag: DagBody };
    expect(body.dag.name).toBe('from-yaml');

    const broken = await fetch(`${master.httpUrl}/api/dags`, { method: 'POST', headers: { authorization: `Bearer ${client.token}`, 'content-type': 'text/yaml' }, body: 'tasks: [' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { message: string } }).error.message).toMatch(/^body: not valid YAML/);

    const badLimit = await client.request('GET', '/api/dags/from-yaml/metrics?limit=0');
    expect(badLimit.status).toBe(400);
    const missing = await client.request('GET', '/api/dags/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
  });

  it('keeps runs private: another user gets 404 and an empty list; exec DAGs need an admin', async () => {
    const master = await startMaster();
    const owner = await ApiClient.registered(master.httpUrl, `owner-${Date.now()}@example.com`);
    const other = await ApiClient.registered(master.httpUrl, `other-${Date.now()}@example.com`);
    const refused = await owner.request<{ error: { code: string } }>('POST', '/api/dags', { dagName: 'x', tasks: [{ name: 'a', ...sh('true') }] });
    expect(refused.status).toBe(403);
    const created = await submitDag(owner, { dagName: 'mine', tasks: [{ name: 'a', image: 'wharf/busybox', command: ['true'] }] });
    expect((await other.request('GET', `/api/dags/${created.id}`)).status).toBe(404);
    expect((await other.request('DELETE', `/api/dags/${created.id}`)).status).toBe(404);
    expect((await other.request<{ dags: unknown[] }>('GET', '/api/dags')).body.dags).toEqual([]);
    expect((await other.request<{ runs: unknown[] }>('GET', '/api/dags/mine/metrics')).body.runs).toEqual([]);
    const mine = await owner.request<{ dags: DagBody[] }>('GET', '/api/dags');
    expect(mine.body.dags.map((d) => d.id)).toEqual([created.id]);
  });
  it('moves outputs and inputs straight between workers and S3 (s3rver on loopback) with presigned URLs when WHARF_S3_ENDPOINT is set', async () => {
    const S3rver = createRequire(import.meta.url)('s3rver') as new (options: { address: string; port: number; directory: string; silent: boolean }) => {
      run(): Promise<AddressInfo>;
      close(): Promise<void>;
      httpServer: Server;
    };
    const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(tempDir('s3rver'), 'data'), silent: true });
    const { port } = await s3.run();
    cleanups.push(() => s3.close());
    // every request the object store receives, to tell a worker's presigned PUT from the master's own
    const requests: { method: string; url: string }[] = [];
    s3.httpServer.on('request', (request: IncomingMessage) => requests.push({ method: request.method ?? '', url: request.url ?? '' }));
    const master = await startTestMaster({
      WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      WHARF_S3_BUCKET: 'wharf-dag-test',
      WHARF_S3_ACCESS_KEY: 'S3RVER',
      WHARF_S3_SECRET_KEY: 'S3RVER',
    });
    cleanups.push(() => master.stop());
    expect(master.artifacts.kind).toBe('s3');
    const masterPuts = vi.spyOn(master.artifacts, 'put');
    await startWorker(master, 'w1');
    const client = await admin(master);
    const created = await submitDag(client, {
      dagName: 'via-s3',
      tasks: [
        { name: 'p', ...sh('printf s3-bytes > "$WHARF_OUTPUT_DIR/x.txt"'), outputs: ['x.txt'] },
        { name: 'c', ...sh('cat "$WHARF_INPUT_DIR/x.txt" > "$WHARF_OUTPUT_DIR/y.txt"'), depends_on: ['p'], inputs: [{ fromTask: 'p', name: 'x.txt' }], outputs: ['y.txt'] },
      ],
    });
    const dag = await waitForDag(client, created.id, ended);
    expect(dag.status).toBe('succeeded');
    const sha = createHash('sha256').update('s3-bytes').digest('hex');
    // the artifact is in the bucket, and the consumer's log says it came from the object store
    expect(await master.artifacts.stat(sha)).toEqual({ sha256: sha, size: 8 });
    const c = dag.tasks.find((t) => t.name === 'c')!;
    const log = await client.request('GET', `/api/tasks/${c.taskId}/logs`);
    expect(log.text).toContain(`input x.txt: downloaded from http://127.0.0.1:${port}/wharf-dag-test/artifacts/${sha}`);
    expect((await client.bytes(`/api/files/${c.taskId}/download/y.txt`)).data.toString()).toBe('s3-bytes');
    // the producer's worker PUT x.txt into the bucket itself with a presigned URL; the master
    // never stored an artifact (no put through its backend)
    const p = dag.tasks.find((t) => t.name === 'p')!;
    const pLog = await client.request('GET', `/api/tasks/${p.taskId}/logs`);
    expect(pLog.text).toContain(`output x.txt: uploaded to http://127.0.0.1:${port}/wharf-dag-test/artifacts/${sha}`);
    const puts = requests.filter((r) => r.method === 'PUT' && r.url.startsWith(`/wharf-dag-test/artifacts/${sha}`));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.url).toContain('X-Amz-Signature=');
    expect(masterPuts).not.toHaveBeenCalled();
    // the consumer's y.txt has the same bytes: found in the bucket, not moved again
    expect(log.text).toContain(`output y.txt: already in the object store (sha256 ${sha})`);
    expect(dag.tasks.find((t) => t.name === 'c')!.artifacts).toEqual([{ name: 'y.txt', sha256: sha, size: 8 }]);
  });
  it('refuses a reported direct upload whose object is missing or of another size (s3rver), and only for declared outputs', async () => {
    const S3rver = createRequire(import.meta.url)('s3rver') as new (options: { address: string; port: number; directory: string; silent: boolean }) => {
      run(): Promise<AddressInfo>;
      close(): Promise<void>;
    };
    const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(tempDir('s3rver'), 'data'), silent: true });
    const { port } = await s3.run();
    cleanups.push(() => s3.close());
    const master = await startTestMaster({
      WHARF_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      WHARF_S3_BUCKET: 'wharf-dag-confirm',
      WHARF_S3_ACCESS_KEY: 'S3RVER',
      WHARF_S3_SECRET_KEY: 'S3RVER',
    });
    cleanups.push(() => master.stop());
    const bytes = Buffer.from('eight by');
    const sha = createHash('sha256').update(bytes).digest('hex');
    const file = { path: 'x.txt', sha256: sha, size: 8 };
    expect(await confirmDirectUploads(master.artifacts, ['x.txt'], [file], [{ name: 'x.txt', sha256: sha, size: 8 }])).toBe(
      `declared output "x.txt" is not in the object store as reported: artifact ${sha}: nothing was uploaded`,
    );
    expect(await confirmDirectUploads(master.artifacts, ['x.txt'], [file], [])).toBe('declared output "x.txt" was not uploaded to the object store');
    // a PUT through a presigned URL of fewer bytes than reported: refused and removed
    const [target] = await prepareArtifactUploads(master.artifacts, ['x.txt'], [{ name: 'x.txt', sha256: sha, size: 8 }]);
    expect(target!.alreadyStored).toBe(false);
    expect((await fetch(target!.putUrl, { method: 'PUT', body: bytes.subarray(0, 5) })).status).toBe(200);
    expect(await confirmDirectUploads(master.artifacts, ['x.txt'], [file], [{ name: 'x.txt', sha256: sha, size: 8 }])).toContain('received 5 bytes');
    expect(await master.artifacts.exists(sha)).toBe(false);
    // whole bytes: confirmed, and the next ask says they are stored
    expect((await fetch(target!.putUrl, { method: 'PUT', body: bytes })).status).toBe(200);
    expect(await confirmDirectUploads(master.artifacts, ['x.txt'], [file], [{ name: 'x.txt', sha256: sha, size: 8 }])).toBeUndefined();
    expect((await prepareArtifactUploads(master.artifacts, ['x.txt'], [{ name: 'x.txt', sha256: sha, size: 8 }]))[0]!.alreadyStored).toBe(true);
    await expect(prepareArtifactUploads(master.artifacts, ['x.txt'], [{ name: 'secret.txt', sha256: sha, size: 8 }])).rejects.toThrow(
      'artifacts[0]: "secret.txt" is not a declared output of this task (it declares "x.txt")',
    );
  });
});
