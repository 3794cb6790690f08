// The whole worker (startWorker) against a FakeMaster on real gRPC over loopback: register,
// heartbeats, assignments, logs, outputs, results and the outbox, reconnects, cancel,
// timeouts, and recovery of a running container after a worker restart.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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
  it('registers with a stable id, its capacity, runtimes and labels, then heartbeats', async () => {
    const master = await newMaster();
    const dataDir = await newDataDir();
    const worker = await newWorker(configFor(master, dataDir));
    await worker.registered;
    const [registration] = master.registrations;
    expect(registration).toMatchObject({
      joinToken: 'join-secret',
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
    expect(((await stat(path.join(dataDir, 'worker-id'))).mode & 0o777).toString(8)).toBe('600');

    await worker.stop();
    const again = await newWorker(configFor(master, dataDir));
    expect(again.workerId).toBe(worker.workerId);
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

  it('turns a refused upload into an error and retries a failed one', async () => {
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

  it('keeps running through a master restart and delivers the result from the outbox', async () => {
    const master = await newMaster({ autoAckResults: false });
    const dataDir = await newDataDir();
    const worker = await newWorker(configFor(master, dataDir));
    await worker.registered;
    await expect.poll(() => master.connected).toBe(true);

    const task = spec(sh('echo begin; sleep 2; echo end; echo done > "$WHARF_OUTPUT_DIR/f.txt"'));
    master.assign(task);
    await expect.poll(() => master.logTextOf(task.attemptId), { timeout: 10_000 }).toContain('begin');
    await master.restart(600);
    // the worker comes back and says what it still runs
    await expect.poll(() => master.registrations.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
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
    const worker = await newWorker(configFor(master, await newDataDir()));
    let registered = false;
    void worker.registered.then(() => {
      registered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(registered).toBe(false);
    master.joinToken = 'join-secret';
    await worker.registered;
    expect(master.registrations).toHaveLength(1);
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
