// The worker asks a runtime what it can do, never its name: a runtime that declares
// `stagesInputsItself` gets a task's inputs as URLs (and no staged folder), whatever it is
// called. A MasterSession on real gRPC (TLS, a worker certificate) against the FakeMaster, with a recording fake runtime
// (named `exec` on purpose: the name must not matter) that runs nothing.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskSpec } from '@wharf/proto';
import type { RuntimeName, WorkerConfig } from '../src/config/worker-config.js';
import { enrol } from '../src/identity/enrolment.js';
import { ResultOutbox } from '../src/outbox/result-outbox.js';
import { OutputUploader } from '../src/outputs/output-uploader.js';
import type {
  AttemptPaths,
  AttemptSpec,
  ExitStatus,
  RecoveredAttempt,
  RuntimeCapabilities,
  RuntimeHandle,
  RuntimeLogEntry,
  StartOptions,
  TaskRuntime,
} from '../src/runtime/task-runtime.js';
import { GatewayConnection } from '../src/session/gateway-connection.js';
import { declaredFencing, MasterSession } from '../src/session/master-session.js';
import { UsageSampler } from '../src/telemetry/usage-sampler.js';
import { FakeMaster } from './fake-master.js';

const logger = pino({ level: process.env['WHARF_TEST_LOG'] ?? 'silent' });

/** A fake runtime that fetches inputs itself: it records each start and ends every task at once with exit 0. */
class FakeInputStagingRuntime implements TaskRuntime {
  readonly name = 'exec' as const;
  readonly capabilities: RuntimeCapabilities = { stagesInputsItself: true, mergesStdStreams: false };
  readonly starts: { spec: AttemptSpec; options: StartOptions }[] = [];

  async start(spec: AttemptSpec, paths: AttemptPaths, options: StartOptions = {}): Promise<RuntimeHandle> {
    this.starts.push({ spec, options });
    await mkdir(paths.output, { recursive: true });
    return { runtime: this.name, attemptId: spec.attemptId, taskId: spec.taskId, startedAtMs: Date.now() };
  }

  async wait(): Promise<ExitStatus> {
    return { exitCode: 0 };
  }

  async stop(): Promise<void> {}

  async *logs(): AsyncIterable<RuntimeLogEntry> {}

  async collectOutputs(handle: RuntimeHandle): Promise<string> {
    return path.join(dataDir, 'attempts', handle.attemptId, 'output');
  }

  async recover(): Promise<RecoveredAttempt[]> {
    return [];
  }

  async cleanup(): Promise<void> {}
}

let dataDir: string;
let master: FakeMaster;
let session: MasterSession;
let gateway: GatewayConnection;

afterEach(async () => {
  await session?.stop();
  gateway?.close();
  await master?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function startSession(runtime: TaskRuntime): Promise<void> {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-capabilities-'));
  master = new FakeMaster();
  await master.start();
  const config: WorkerConfig = {
    masterAddress: master.address,
    joinToken: 'join-secret',
    name: 'capabilities',
    dataDir,
    runtimes: ['exec'],
    capacityCaps: {},
    labels: {},
    heartbeatIntervalMs: 200,
    cancelGraceSeconds: 1,
    logBatchMs: 20,
    logBatchBytes: 65536,
    reconnectBaseMs: 50,
    reconnectMaxMs: 400,
    pidsLimit: 256,
    logLevel: 'silent',
  };
  const backoff = { baseMs: 50, maxMs: 400 };
  const capacity = { cpu: 1, memory: 1024 ** 3, gpu: 0, disk: 1024 ** 3 };
  // joined as a worker joins: the token and a CSR; every later call presents the certificate
  const joined = await enrol({
    masterAddress: master.address,
    caPem: master.caPem,
    joinToken: 'join-secret',
    fields: { name: 'capabilities', hostname: 'test', capacity, runtimes: ['exec'], labels: {}, version: 'test', fencing: declaredFencing(config) },
    backoff,
    logger,
  });
  gateway = new GatewayConnection(master.address, backoff, { caPem: master.caPem, keyPem: joined.keyPem, certPem: joined.certPem });
  session = new MasterSession({
    config,
    workerId: joined.workerId,
    hostname: 'test',
    version: 'test',
    capacity,
    gateway,
    outbox: await ResultOutbox.open(path.join(dataDir, 'outbox'), logger),
    sampler: new UsageSampler({ dataDir, intervalMs: 200, hasGpu: false, logger }),
    runtimes: new Map<RuntimeName, TaskRuntime>([['exec', runtime]]),
    uploader: new OutputUploader({ gateway, backoff, logger }),
    attemptsDir: path.join(dataDir, 'attempts'),
    logger,
  });
  session.start();
  await session.registered;
  await expect.poll(() => master.connected).toBe(true);
}

function assignment(inputs: TaskSpec['inputs']): TaskSpec & { attemptId: string } {
  return {
    taskId: `task-${randomUUID()}`,
    attemptId: `att-${randomUUID()}`,
    attemptNumber: 1,
    name: 'dag-step',
    image: '',
    command: ['true'],
    env: {},
    runtime: 'exec',
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'u1',
    inputs,
    useCache: true,
  };
}

async function resultOf(attemptId: string) {
  await expect.poll(() => master.resultOf(attemptId), { timeout: 20_000, interval: 50 }).toBeDefined();
  return master.resultOf(attemptId)!;
}

describe('a runtime that stages inputs itself', () => {
  it('gets the inputs as URLs and no staged folder, and the result reports them fetched by it', async () => {
    const runtime = new FakeInputStagingRuntime();
    await startSession(runtime);
    const sha256 = 'c'.repeat(64);
    const task = assignment([{ name: 'data.csv', sha256, size: 42, url: 'https://s3.example/bucket/data.csv?sig=x' }]);
    master.assign(task);

    const result = await resultOf(task.attemptId);
    expect(result).toMatchObject({ outcome: 'succeeded', inputs: [{ name: 'data.csv', sha256, cacheHit: false, bytes: 42 }] });
    expect(runtime.starts).toHaveLength(1);
    expect(runtime.starts[0]?.options.inputs).toEqual([{ name: 'data.csv', sha256, size: 42, url: 'https://s3.example/bucket/data.csv?sig=x' }]);
    expect(runtime.starts[0]?.options.inputDir).toBeUndefined();
    // the worker's own shape, not the wire message
    expect(runtime.starts[0]?.spec).toEqual({
      taskId: task.taskId,
      attemptId: task.attemptId,
      attemptNumber: 1,
      name: 'dag-step',
      image: '',
      command: ['true'],
      env: {},
      runtime: 'exec',
      resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
      timeoutSeconds: 0,
      userId: 'u1',
      isolation: { network: 'default', networkGroup: '', user: undefined, readOnlyRootFilesystem: false, capAdd: [], pullPolicy: 'IfNotPresent' },
    });
  });

  it('refuses an input without a URL (the master keeps artifacts itself) before it starts anything', async () => {
    const runtime = new FakeInputStagingRuntime();
    await startSession(runtime);
    const task = assignment([{ name: 'data.csv', sha256: 'd'.repeat(64), size: 1, url: '' }]);
    master.assign(task);

    const result = await resultOf(task.attemptId);
    expect(result.outcome).toBe('error');
    expect(result.error).toContain('the exec runtime fetches inputs itself and needs presigned URLs');
    expect(runtime.starts).toEqual([]);
  });
});
