// The whole worker (startWorker) against a FakeMaster on real gRPC over loopback: register,
// heartbeats, assignments, logs, outputs, results and the outbox, reconnects, cancel,
// timeouts, and recovery of a running container after a worker restart.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TaskSpec } from '@wharf/proto';
import type { WorkerConfig } from '../src/config/worker-config.js';
import { startWorker, type WorkerHandle } from '../src/main.js';
import { FakeMaster } from './fake-master.js';

const logger = pino({ level: process.env['WHARF_TEST_LOG'] ?? 'silent' });
const docker = new Dockerode();

const masters: FakeMaster[] = [];
const workers: WorkerHandle[] = [];
/** this file's tasks network (machine-global: a unique name, removed in afterAll) */
const TASK_NETWORK = `wharf-session-${randomUUID().slice(0, 8)}`;
afterAll(async () => {
  await new Dockerode().getNetwork(TASK_NETWORK).remove().catch(() => undefined);
});
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(masters.splice(0).map((m) => m.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function newMaster(options: ConstructorParameters<typeof FakeMaster>[0] = {}): Promise<FakeMaster> {
  const master = new FakeMaster(options);
  await master.start();
  masters.push(master);
  return master;
}

async function newDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-worker-'));
  dirs.push(dir);
  return dir;
}

function configFor(master: FakeMaster, dataDir: string, extra: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    masterAddress: master.address,
    joinToken: 'join-secret',
    caHash: master.caHash,
    name: 'test-worker',
    dataDir,
    runtimes: ['exec', 'docker'],
    capacityCaps: { cpu: 1.5 },
    labels: { zone: 'test' },
    heartbeatIntervalMs: 200,
    cancelGraceSeconds: 1,
    logBatchMs: 20,
    logBatchBytes: 65536,
    reconnectBaseMs: 50,
    reconnectMaxMs: 400,
    pidsLimit: 256,
    logLevel: 'silent',
    taskNetwork: TASK_NETWORK,
    ...extra,
  };
}

async function newWorker(config: WorkerConfig): Promise<WorkerHandle> {
  const worker = await startWorker(config, { logger });
  workers.push(worker);
  return worker;
}

function spec(command: string[], extra: Partial<TaskSpec> = {}): TaskSpec & { attemptId: string } {
  const attemptId = `att-${randomUUID()}`;
  return {
    taskId: `task-${randomUUID()}`,
    attemptId,
    attemptNumber: 1,
    name: 'test',
    image: 'wharf/busybox:latest',
    command,
    env: {},
    runtime: 'exec',
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'u1',
    ...extra,
  };
}

const sh = (script: string): string[] => ['sh', '-c', script];

async function resultOf(master: FakeMaster, attemptId: string, timeout = 20_000) {
  await expect.poll(() => master.resultOf(attemptId), { timeout, interval: 50 }).toBeDefined();
  const result = master.resultOf(attemptId);
  if (!result) throw new Error('no result');
  return result;
}

describe('worker session', () => {
  it('joins with the token and a CSR, then registers with its certificate, its capacity, runtimes and labels, and heartbeats', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const worker = await newWorker(configFor(master, dataDir));
    await worker.registered;
    const [joining, registration] = master.registrations;
    // joining: the token, no id (the master assigns it), a certificate signing request
    expect(joining).toMatchObject({ joinToken: 'join-secret', workerId: '', running: [] });
    expect(joining?.csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    // from then on: the certificate says who we are; the token is never sent again
    expect(registration).toMatchObject({
      joinToken: '',
      csr: '',
      workerId: worker.workerId,
      name: 'test-worker',
      hostname: os.hostname(),
      runtimes: ['exec', 'docker'],
      labels: { zone: 'test' },
      running: [],
      version: '0.1.0',
    });
    expect(registration?.capacity?.cpu).toBe(Math.min(1.5, os.availableParallelism()));
    expect(registration?.capacity?.memory).toBe(os.totalmem());
    expect(registration?.capacity?.disk).toBeGreaterThan(0);
    expect(registration?.capacity?.gpu).toBe(0);
    await expect.poll(() => master.heartbeats.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    expect(master.heartbeats[0]).toMatchObject({ runningAttempts: [] });
    // a heartbeat carries usage only once the first sample exists, never made-up zeros
    await expect.poll(() => master.heartbeats.find((h) => h.usage)?.usage, { timeout: 5000 }).toBeTruthy();
    const sampled = master.heartbeats.find((h) => h.usage)!.usage!;
    expect(sampled.hasGpu).toBe(false);
    expect(sampled.memoryPercent).toBeGreaterThan(0);
    expect(master.heartbeats.slice(master.heartbeats.indexOf(master.heartbeats.find((h) => h.usage)!)).every((h) => h.usage)).toBe(true);
    expect(worker.workerId).toMatch(/^fake-/);
    for (const file of ['worker.key', 'worker.crt', 'ca.crt']) {
      expect(((await stat(path.join(dataDir, 'tls', file))).mode & 0o777).toString(8)).toBe('600');
    }
    expect(((await stat(path.join(dataDir, 'tls'))).mode & 0o777).toString(8)).toBe('700');

    // a restart keeps the identity: no second join, no token needed
    await worker.stop();
    const again = await newWorker(configFor(master, dataDir, { joinToken: undefined }));
    await again.registered;
    expect(again.workerId).toBe(worker.workerId);
    expect(master.registrations.filter((r) => r.joinToken !== '')).toHaveLength(1);
  });

  it('runs an exec task: accepted, started, logs in order, outputs, one result, cleaned up after the ack', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const worker = await newWorker(configFor(master, dataDir));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);

    const task = spec(
      sh('for i in $(seq 1 300); do echo "out $i"; done; echo "to stderr" >&2; printf "result" > "$WHARF_OUTPUT_DIR/answer.txt"; mkdir "$WHARF_OUTPUT_DIR/d"; ln -s /etc/passwd "$WHARF_OUTPUT_DIR/d/link"'),
    );
    master.assign(task);
    const result = await resultOf(master, task.attemptId);
    expect(master.accepted).toContain(task.attemptId);
    expect(master.events.filter((e) => e.attemptId === task.attemptId).map((e) => e.kind)).toEqual(['started']);
    expect(result).toMatchObject({
      attemptId: task.attemptId,
      taskId: task.taskId,
      outcome: 'succeeded',
      exitCode: 0,
      hasExitCode: true,
      error: '',
      files: [{ path: 'answer.txt', size: 6 }],
    });
    expect(result.finishedAtMs).toBeGreaterThanOrEqual(result.startedAtMs);
    const expected = Array.from({ length: 300 }, (_, i) => `out ${i + 1}\n`).join('');
    expect(master.logTextOf(task.attemptId, ['STDOUT'])).toBe(expected);
    expect(master.logTextOf(task.attemptId, ['STDERR'])).toBe('to stderr\n');
    expect(master.logTextOf(task.attemptId, ['SYSTEM'])).toContain('d/link is a symlink; not uploaded');
    const seqs = [...(master.logs.get(task.attemptId)?.keys() ?? [])].sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(result.logChunks).toBe(seqs.length);
    expect(master.files.get(task.attemptId)?.get('answer.txt')?.toString()).toBe('result');
    expect(master.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);

    // acknowledged: the outbox and the attempt's folder are gone
    await expect.poll(async () => readdir(path.join(dataDir, 'outbox'))).toEqual([]);
    await expect.poll(async () => readdir(path.join(dataDir, 'attempts'))).toEqual([]);

    // assigned again: accepted again, not run again
    master.assign(task);
    await expect.poll(() => master.accepted.filter((id) => id === task.attemptId).length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(master.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);
  });

  it('reports failed, cancelled, timed_out and error outcomes', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);

    const failing = spec(sh('echo oops >&2; exit 4'));
    const cancelled = spec(sh('trap "" TERM; echo ready; while :; do sleep 0.1; done'));
    const slow = spec(sh('sleep 30'), { timeoutSeconds: 1 });
    const wrongRuntime = spec(['true'], { runtime: 'kubernetes' });
    for (const task of [failing, cancelled, slow, wrongRuntime]) master.assign(task);

    await expect.poll(() => master.logTextOf(cancelled.attemptId), { timeout: 10_000 }).toContain('ready');
    master.cancel(cancelled.attemptId, 1, 'user asked');

    expect(await resultOf(master, failing.attemptId)).toMatchObject({ outcome: 'failed', exitCode: 4, hasExitCode: true });
    expect(await resultOf(master, cancelled.attemptId)).toMatchObject({ outcome: 'cancelled', exitCode: 137, error: 'cancelled: user asked' });
    const timedOut = await resultOf(master, slow.attemptId);
    expect(timedOut).toMatchObject({ outcome: 'timed_out', hasExitCode: true, error: 'timed out after 1 s' });
    expect(timedOut.finishedAtMs - timedOut.startedAtMs).toBeLessThan(5000);
    expect(await resultOf(master, wrongRuntime.attemptId)).toMatchObject({
      outcome: 'error',
      hasExitCode: false,
      error: 'runtime "kubernetes" is not offered by this worker (it offers: exec, docker)',
    });
  });

  it('turns a refused upload into an error (a failed task stays failed) and retries a failed one', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);

    master.uploadFailures = [grpc.status.RESOURCE_EXHAUSTED];
    const refused = spec(sh('echo x > "$WHARF_OUTPUT_DIR/big.bin"'));
    master.assign(refused);
    const refusedResult = await resultOf(master, refused.attemptId);
    expect(refusedResult.outcome).toBe('error');
    expect(refusedResult.error).toMatch(/^output upload refused: RESOURCE_EXHAUSTED: upload failed by the test/);

    // a task that failed on its own stays failed (its cause first) when its outputs are refused too
    master.uploadFailures = [grpc.status.RESOURCE_EXHAUSTED];
    const failedAndRefused = spec(sh('echo x > "$WHARF_OUTPUT_DIR/big.bin"; exit 3'));
    master.assign(failedAndRefused);
    const failedResult = await resultOf(master, failedAndRefused.attemptId);
    expect(failedResult).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(failedResult.error).toMatch(/^output upload refused: RESOURCE_EXHAUSTED: upload failed by the test/);

    master.uploadFailures = [grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS];
    const callsBefore = master.uploadCalls;
    const retried = spec(sh('echo y > "$WHARF_OUTPUT_DIR/out.txt"'));
    master.assign(retried);
    expect(await resultOf(master, retried.attemptId)).toMatchObject({ outcome: 'succeeded', files: [{ path: 'out.txt', size: 2 }] });
    expect(master.uploadCalls - callsBefore).toBe(3);

    master.uploadFailures = [grpc.status.FAILED_PRECONDITION];
    const notOurs = spec(sh('echo z > "$WHARF_OUTPUT_DIR/z.txt"'));
    master.assign(notOurs);
    expect(await resultOf(master, notOurs.attemptId)).toMatchObject({ outcome: 'succeeded', error: '', files: [] });
  });

  it('sends a start, a result, outputs and logs the master could not store (its disk is full) again on the same stream, until it takes them', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    const connects = master.connects;
    master.nackReports.set('started', 2);
    master.nackReports.set('result', 3);
    master.uploadStorageFull = 2;
    master.logStorageFull = 1;
    const task = spec(sh('echo hello; echo kept > "$WHARF_OUTPUT_DIR/out.txt"'));
    const uploadsBefore = master.uploadCalls;
    master.assign(task);

    const result = await resultOf(master, task.attemptId);
    expect(result).toMatchObject({ outcome: 'succeeded', files: [{ path: 'out.txt', size: 5 }] });
    expect(master.nacked.filter((n) => n.attemptId === task.attemptId).map((n) => n.kind).sort()).toEqual(['result', 'result', 'result', 'started', 'started']);
    // the start arrived in the end, once; the result once
    expect(master.events.filter((e) => e.attemptId === task.attemptId).map((e) => e.kind)).toEqual(['started']);
    expect(master.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);
    // outputs and logs waited for room instead of failing the attempt
    expect(master.uploadCalls - uploadsBefore).toBe(3);
    expect(master.files.get(task.attemptId)?.get('out.txt')?.toString()).toBe('kept\n');
    expect(master.logTextOf(task.attemptId, ['STDOUT'])).toBe('hello\n');
    // all on the stream it had: no reconnect
    expect(master.connects).toBe(connects);
  });

  it('reports the start of an attempt still running again on every new stream, so one in flight when a stream broke is not lost', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    const task = spec(sh('sleep 2'));
    master.assign(task);
    await expect.poll(() => master.events.filter((e) => e.attemptId === task.attemptId).length, { timeout: 10_000 }).toBe(1);
    await master.restart();
    await expect.poll(() => master.events.filter((e) => e.attemptId === task.attemptId).length, { timeout: 10_000 }).toBe(2);
    const [first, again] = master.events.filter((e) => e.attemptId === task.attemptId);
    expect(again).toEqual(first);
    expect(await resultOf(master, task.attemptId)).toMatchObject({ outcome: 'succeeded' });
  });

  it('resends every log chunk from seq 1 after a broken log stream, losing and repeating nothing', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir(), { logBatchBytes: 64 }));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    master.breakLogStreamAfter = 5;
    const task = spec(sh('for i in $(seq 1 200); do echo "line $i"; done'));
    master.assign(task);
    const result = await resultOf(master, task.attemptId);
    expect(result.outcome).toBe('succeeded');
    expect(master.logCalls).toBeGreaterThanOrEqual(2);
    expect(master.logTextOf(task.attemptId)).toBe(Array.from({ length: 200 }, (_, i) => `line ${i + 1}\n`).join(''));
    expect(result.logChunks).toBe(master.logs.get(task.attemptId)?.size);
  });

  it('resends from the seq the master names when it missed a log chunk, so every line arrives once, in order', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir(), { logBatchBytes: 64 }));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    master.missLogChunkOnce = 4;
    const task = spec(sh('for i in $(seq 1 200); do echo "line $i"; done'));
    master.assign(task);
    const result = await resultOf(master, task.attemptId);
    expect(result.outcome).toBe('succeeded');
    expect(master.logTextOf(task.attemptId)).toBe(Array.from({ length: 200 }, (_, i) => `line ${i + 1}\n`).join(''));
    // the second stream started at the missed chunk, not at seq 1
    expect(master.logStreamFirstSeqs.slice(0, 2)).toEqual([1, 4]);
    expect(result.logChunks).toBe(master.logs.get(task.attemptId)?.size);
  });

  it('does not take a log ack that names another attempt as its own', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    master.wrongLogAckAttemptOnce = 'att-someone-else';
    const task = spec(sh('echo one; echo two'));
    master.assign(task);
    const result = await resultOf(master, task.attemptId);
    expect(result.outcome).toBe('succeeded');
    expect(master.logCalls).toBe(2);
    expect(master.logTextOf(task.attemptId)).toBe('one\ntwo\n');
  });

  it('keeps running through a master restart and delivers the result from the outbox', async () => {
    const master = await newMaster({ autoAckResults: false });
    const dataDir = await newDataDir();
    const worker = await newWorker(configFor(master, dataDir));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);

    const task = spec(sh('echo begin; sleep 2; echo end; echo done > "$WHARF_OUTPUT_DIR/f.txt"'));
    master.assign(task);
    await expect.poll(() => master.logTextOf(task.attemptId), { timeout: 10_000 }).toContain('begin');
    const before = master.registrations.length;
    await master.restart(600);
    // the worker comes back and says what it still runs
    await expect.poll(() => master.registrations.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(master.registrations.at(-1)?.running).toEqual([{ attemptId: task.attemptId, taskId: task.taskId }]);

    const result = await resultOf(master, task.attemptId);
    expect(result.outcome).toBe('succeeded');
    expect(master.logTextOf(task.attemptId)).toBe('begin\nend\n');
    expect((await readdir(path.join(dataDir, 'outbox'))).length).toBe(1);

    // unacknowledged: sent again after the next reconnect, then acknowledged and removed
    await master.restart();
    await expect.poll(() => master.results.filter((r) => r.attemptId === task.attemptId).length, { timeout: 10_000 }).toBe(2);
    master.ackResult(task.attemptId);
    await expect.poll(async () => readdir(path.join(dataDir, 'outbox'))).toEqual([]);
    await expect.poll(async () => readdir(path.join(dataDir, 'attempts'))).toEqual([]);
  });

  it('keeps retrying while the master refuses the join token', async () => {
    const master = await newMaster({ joinToken: 'another-token' });
    // joining comes before anything else: the start waits until the master takes the token
    const starting = newWorker(configFor(master, await newDataDir()));
    let started = false;
    void starting.then(() => {
      started = true;
    });
    await expect.poll(() => master.refusedJoins, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(started).toBe(false);
    master.joinToken = 'join-secret';
    const worker = await starting;
    await worker.registered;
    expect(master.registrations.map((r) => r.joinToken)).toEqual(['join-secret', '']);
  });

  it('refuses a master whose CA is not the pinned one, showing both hashes, and saves nothing', async () => {
    const master = await newMaster();
    const other = await newMaster();
    const dataDir = await newDataDir();
    const error = await startWorker(configFor(master, dataDir, { caHash: other.caHash }), { logger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).toContain(`--ca-hash expects ${other.caHash}, but the master's CA is ${master.caHash}`);
    expect(master.registrations).toEqual([]);
    await expect(readdir(path.join(dataDir, 'tls'))).rejects.toThrow(/ENOENT/);
  });

  it('says what to pass when it has neither a CA pin nor a join token', async () => {
    const master = await newMaster();
    await expect(startWorker(configFor(master, await newDataDir(), { caHash: undefined }), { logger })).rejects.toThrow(/pass --ca-hash sha256:/);
    await expect(startWorker(configFor(master, await newDataDir(), { joinToken: undefined }), { logger })).rejects.toThrow(
      /has not joined a master yet .*--token-file FILE or WHARF_JOIN_TOKEN/,
    );
  });

  it('trusts a CA given as a file, checks the master\'s name (or the one --tls-server-name gives), and says what to do when the master changed', async () => {
    const master = await newMaster();
    const dir = await newDataDir();
    const caFile = path.join(dir, 'master-ca.crt');
    await writeFile(caFile, master.caPem);
    // --ca-file instead of a hash; the address dialled by a name the certificate carries
    const byFile = await newWorker(configFor(master, await newDataDir(), { caHash: undefined, caFile, masterAddress: `localhost:${master.port}` }));
    await byFile.registered;

    // a name the certificate does not carry: refused (and not joined), saying what to change
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const giveUp = new AbortController();
    const wrongName = startWorker(configFor(master, await newDataDir(), { tlsServerName: 'elsewhere.example' }), { logger: capture, signal: giveUp.signal });
    await expect.poll(() => lines.some((l) => l.includes('--tls-server-name')), { timeout: 10_000 }).toBe(true);
    giveUp.abort();
    await expect(wrongName).rejects.toThrow(/stopped before the worker joined/);
    expect(master.registrations).toHaveLength(2); // byFile's join and registration only
    // --tls-server-name naming one it does carry works
    const named = await newWorker(configFor(master, await newDataDir(), { tlsServerName: 'localhost' }));
    await named.registered;

    // the master was set up anew (another CA): the worker says to remove its tls folder and join again
    const joinedDir = await newDataDir();
    const first = await newWorker(configFor(master, joinedDir));
    await first.registered;
    await first.stop();
    const other = await newMaster();
    lines.length = 0;
    const lost = await startWorker(configFor(other, joinedDir, { caHash: undefined }), { logger: capture });
    workers.push(lost);
    await expect.poll(() => lines.find((l) => l.includes('cannot verify the master')), { timeout: 10_000 }).toContain(`remove <data-dir>/tls on this worker and join again`);
  });

  it('reports a clear error when the image cannot be found or pulled', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir()));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    const task = spec([], { runtime: 'docker', image: 'wharf-test/missing:1' });
    master.assign(task);
    const result = await resultOf(master, task.attemptId, 15_000);
    expect(result.outcome).toBe('error');
    expect(result.error).toMatch(/^image "wharf-test\/missing:1" not found locally and pull failed: /);
    expect(master.events.filter((e) => e.attemptId === task.attemptId).map((e) => e.kind)).toEqual(['pulling']);
    expect(master.logTextOf(task.attemptId, ['SYSTEM'])).toContain('pulling');
  });
});

describe('worker restart with Docker', () => {
  async function containersOf(attemptId: string) {
    return docker.listContainers({ all: true, filters: { label: [`wharf.attempt=${attemptId}`] } });
  }

  it('recovers a running container after a restart without repeating its log lines', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const first = await newWorker(configFor(master, dataDir));
    await first.registered;
    await expect.poll(() => master.connected).toBe(true);

    const task = spec(sh('echo one; sleep 2; echo two; echo saved > /output/o.txt'), { runtime: 'docker', timeoutSeconds: 60 });
    master.assign(task);
    await expect.poll(() => master.logTextOf(task.attemptId), { timeout: 15_000 }).toBe('one\n');
    expect(master.events.filter((e) => e.attemptId === task.attemptId).map((e) => e.kind)).toEqual(['started']);
    await first.stop({ leaveRunning: true });
    expect((await containersOf(task.attemptId))[0]?.State).toBe('running');

    const second = await newWorker(configFor(master, dataDir));
    expect(second.workerId).toBe(first.workerId);
    await second.registered;
    expect(master.registrations.at(-1)?.running).toEqual([{ attemptId: task.attemptId, taskId: task.taskId }]);

    const result = await resultOf(master, task.attemptId, 20_000);
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0, files: [{ path: 'o.txt', size: 6 }] });
    expect(master.logTextOf(task.attemptId)).toBe('one\ntwo\n');
    await expect.poll(() => containersOf(task.attemptId)).toEqual([]);
  });

  it('reports a container that ended while the worker was away, with its exit code, logs and outputs', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const first = await newWorker(configFor(master, dataDir));
    await first.registered;
    await expect.poll(() => master.connected).toBe(true);

    const task = spec(sh('echo early; sleep 1; echo late >&2; echo kept > /output/k.txt; exit 5'), { runtime: 'docker' });
    master.assign(task);
    await expect.poll(() => master.logTextOf(task.attemptId), { timeout: 15_000 }).toBe('early\n');
    await first.stop({ leaveRunning: true });
    await expect.poll(async () => (await containersOf(task.attemptId))[0]?.State, { timeout: 15_000 }).toBe('exited');

    const second = await newWorker(configFor(master, dataDir));
    await second.registered;
    expect(master.registrations.at(-1)?.running).toEqual([{ attemptId: task.attemptId, taskId: task.taskId }]);
    const result = await resultOf(master, task.attemptId);
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 5, hasExitCode: true, files: [{ path: 'k.txt', size: 5 }] });
    expect(master.logTextOf(task.attemptId)).toBe('early\nlate\n');
    expect(master.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);
    await expect.poll(() => containersOf(task.attemptId)).toEqual([]);
  });

  it('stops and drops an attempt the master gave to another worker', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const first = await newWorker(configFor(master, dataDir));
    await first.registered;
    await expect.poll(() => master.connected).toBe(true);
    const task = spec(['sleep', '60'], { runtime: 'docker' });
    master.assign(task);
    await expect.poll(() => master.events.some((e) => e.attemptId === task.attemptId && e.kind === 'started'), { timeout: 15_000 }).toBe(true);
    await first.stop({ leaveRunning: true });

    master.stopAttemptsOnRegister = [task.attemptId];
    const second = await newWorker(configFor(master, dataDir));
    await second.registered;
    await expect.poll(() => containersOf(task.attemptId), { timeout: 15_000 }).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(master.resultOf(task.attemptId)).toBeUndefined();
    await expect.poll(async () => readdir(path.join(dataDir, 'attempts'))).toEqual([]);
  });
});

describe('worker fencing (no contact with the master)', () => {
  /** Live processes whose environment holds this marker (exec tasks of a test). */
  async function processesWith(marker: string): Promise<number[]> {
    const found: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const environ = await readFile(`/proc/${name}/environ`, 'utf8');
        const stat = await readFile(`/proc/${name}/stat`, 'utf8');
        if (environ.split('\0').includes(marker) && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) found.push(Number(name));
      } catch {
        // gone
      }
    }
    return found;
  }

  it('declares its bound at every Register, joining included: --stop-after, or 0 for the master\'s heartbeat TTL, and its cancel grace', async () => {
    const master = await newMaster();
    const withFlag = await newWorker(configFor(master, await newDataDir(), { stopAfterMs: 4000, cancelGraceSeconds: 3 }));
    await withFlag.registered;
    const byDefault = await newWorker(configFor(master, await newDataDir()));
    await byDefault.registered;
    // each worker: the joining Register (a CSR, no certificate yet), then the one with its certificate
    expect(master.registrations.map((r) => [r.csr !== '', r.fencing])).toEqual([
      [true, { stopAfterMs: 4000, stopGraceMs: 3000 }],
      [false, { stopAfterMs: 4000, stopGraceMs: 3000 }],
      [true, { stopAfterMs: 0, stopGraceMs: 1000 }],
      [false, { stopAfterMs: 0, stopGraceMs: 1000 }],
    ]);
  });

  it('stops its running attempts once no heartbeat is acknowledged for --stop-after, reports them stopped, and takes no new ones until contact is back', async () => {
    const master = await newMaster();
    const worker = await newWorker(configFor(master, await newDataDir(), { stopAfterMs: 1000 }));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);
    const marker = `WHARF_FENCE_TEST=${randomUUID()}`;
    const [key, value] = marker.split('=') as [string, string];
    const task = spec(sh('echo started; echo partial > "$WHARF_OUTPUT_DIR/partial.txt"; sleep 60 & sleep 60; wait'), { env: { [key]: value } });
    master.assign(task);
    await expect.poll(() => master.logTextOf(task.attemptId), { timeout: 10_000 }).toBe('started\n');
    expect((await processesWith(marker)).length).toBeGreaterThan(0);

    // the master still hears the worker but its answers no longer arrive: no proof of contact
    master.ackHeartbeats = false;
    const result = await resultOf(master, task.attemptId, 15_000);
    expect(result.outcome).toBe('stopped');
    expect(result.error).toMatch(/^stopped: no contact with the master for [\d.]+s \(--stop-after 1s\)$/);
    expect(result.files.map((f) => f.path)).toEqual(['partial.txt']); // what it wrote until then, as for a cancel
    expect(await processesWith(marker)).toEqual([]);
    expect(master.logTextOf(task.attemptId, ['SYSTEM'])).toContain('no contact with the master');

    // cut off: an assignment is refused at once, nothing is started
    const refused = spec(sh('echo should-not-run'), { env: { [key]: value } });
    master.assign(refused);
    const refusal = await resultOf(master, refused.attemptId);
    expect(refusal.outcome).toBe('stopped');
    expect(refusal.error).toMatch(/^not started: no contact with the master for [\d.]+s \(--stop-after 1s\)$/);
    expect(master.events.filter((e) => e.attemptId === refused.attemptId)).toEqual([]);

    // contact is back: the next assignment runs
    master.ackHeartbeats = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const next = spec(sh('echo back'));
    master.assign(next);
    expect((await resultOf(master, next.attemptId)).outcome).toBe('succeeded');
    expect(master.logTextOf(next.attemptId)).toBe('back\n');
  });

  it('stops at once the container it recovers after a restart when its last contact is older than --stop-after, and delivers that result when the master is back', async () => {
    const master = await newMaster({ autoAckResults: true });
    const dataDir = await newDataDir();
    const first = await newWorker(configFor(master, dataDir, { stopAfterMs: 1000 }));
    await first.registered;
    await expect.poll(() => master.connected).toBe(true);
    const task = spec(['sleep', '60'], { runtime: 'docker' });
    master.assign(task);
    await expect.poll(() => master.events.some((e) => e.attemptId === task.attemptId && e.kind === 'started'), { timeout: 15_000 }).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the last contact reaches the disk (at most once a second)
    await first.stop({ leaveRunning: true });
    await master.stop(); // and the master goes away
    await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than --stop-after

    const containers = () => docker.listContainers({ all: true, filters: { label: [`wharf.attempt=${task.attemptId}`] } });
    expect((await containers())[0]?.State).toBe('running');
    await newWorker(configFor(master, dataDir, { stopAfterMs: 1000 }));
    // no master to ask: the worker stops what it recovered on its own
    await expect.poll(async () => (await containers())[0]?.State ?? 'gone', { timeout: 15_000 }).not.toBe('running');
    await master.start();
    const result = await resultOf(master, task.attemptId, 20_000);
    expect(result.outcome).toBe('stopped');
    expect(result.error).toMatch(/^stopped: no contact with the master for/);
  });
});
