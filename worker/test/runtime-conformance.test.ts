// One conformance suite for the TaskRuntime contract, run against every runtime: the Docker
// runtime on the real engine (image wharf/busybox:latest) and the exec runtime on this host.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { walkOutputFiles } from '../src/outputs/output-walk.js';
import { DockerRuntime } from '../src/runtime/docker-runtime.js';
import { ExecRuntime } from '../src/runtime/exec-runtime.js';
import { RuntimeError } from '../src/runtime/runtime-error.js';
import { DEFAULT_ISOLATION, type AttemptPaths, type AttemptSpec, type RuntimeHandle, type RuntimeLogEntry, type TaskRuntime } from '../src/runtime/task-runtime.js';

const IMAGE = 'wharf/busybox:latest';
const docker = new Dockerode();
const logger = pino({ level: 'silent' });
/** this file's tasks network (machine-global: a unique name, removed in afterAll) */
const NETWORK = `wharf-conf-${randomUUID().slice(0, 8)}`;
afterAll(async () => {
  await docker.getNetwork(NETWORK).remove().catch(() => undefined);
});

interface RuntimeFixture {
  name: 'docker' | 'exec';
  create(workerId: string): TaskRuntime;
  /** How a shell command inside the task names its output folder. */
  outputDir: string;
  /** Whether recover() finds tasks started by an earlier instance. */
  recoversTasks: boolean;
}

const fixtures: RuntimeFixture[] = [
  {
    name: 'docker',
    create: (workerId) => new DockerRuntime({ docker, workerId, pidsLimit: 256, logger, taskNetwork: NETWORK }),
    outputDir: '/output',
    recoversTasks: true,
  },
  {
    name: 'exec',
    create: () => new ExecRuntime(),
    outputDir: '"$WHARF_OUTPUT_DIR"',
    recoversTasks: false,
  },
];

function taskSpec(runtime: string, command: string[], extra: Partial<AttemptSpec> = {}): AttemptSpec {
  const attemptId = `conf-${randomUUID()}`;
  return {
    taskId: `task-${attemptId}`,
    attemptId,
    attemptNumber: 1,
    name: 'conformance',
    image: IMAGE,
    command,
    env: {},
    runtime,
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'tester',
    isolation: DEFAULT_ISOLATION,
    ...extra,
  };
}

const sh = (script: string): string[] => ['sh', '-c', script];

async function collectLogs(logs: AsyncIterable<RuntimeLogEntry>): Promise<RuntimeLogEntry[]> {
  const entries: RuntimeLogEntry[] = [];
  for await (const entry of logs) entries.push(entry);
  return entries;
}

function textOf(entries: RuntimeLogEntry[], stream?: 'stdout' | 'stderr'): string {
  return entries
    .filter((e) => stream === undefined || e.stream === stream)
    .map((e) => e.data.toString('utf8'))
    .join('');
}

async function removeWorkerContainers(workerId: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`wharf.worker=${workerId}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

describe.each(fixtures)('TaskRuntime conformance: $name', (fixture) => {
  let dataDir: string;
  let workerId: string;
  let runtime: TaskRuntime;
  const started: RuntimeHandle[] = [];

  beforeAll(async () => {
    if (fixture.name === 'docker') await docker.getImage(IMAGE).inspect(); // fails clearly when the test image is missing
  });

  afterEach(async () => {
    for (const handle of started.splice(0)) await runtime.cleanup(handle).catch(() => undefined);
    if (fixture.name === 'docker') await removeWorkerContainers(workerId);
    await rm(dataDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    if (fixture.name === 'docker') await removeWorkerContainers(workerId);
  });

  async function setUp(): Promise<void> {
    dataDir = await mkdtemp(path.join(os.tmpdir(), `wharf-conf-${fixture.name}-`));
    workerId = `conformance-${randomUUID()}`;
    runtime = fixture.create(workerId);
  }

  function pathsOf(spec: AttemptSpec): AttemptPaths {
    const root = path.join(dataDir, 'attempts', spec.attemptId);
    return { root, output: path.join(root, 'output'), work: path.join(root, 'work') };
  }

  async function start(spec: AttemptSpec): Promise<RuntimeHandle> {
    const handle = await runtime.start(spec, pathsOf(spec));
    started.push(handle);
    return handle;
  }

  async function run(script: string, extra: Partial<AttemptSpec> = {}) {
    const spec = taskSpec(fixture.name, sh(script), extra);
    const handle = await start(spec);
    const [entries, exit] = await Promise.all([collectLogs(runtime.logs(handle)), runtime.wait(handle)]);
    return { spec, handle, entries, exitCode: exit.exitCode };
  }

  it('reports the exit code of the task', async () => {
    await setUp();
    expect((await run('exit 0')).exitCode).toBe(0);
    expect((await run('exit 3')).exitCode).toBe(3);
  });

  it('records when the task started', async () => {
    await setUp();
    const before = Date.now();
    const { handle } = await run('true');
    expect(handle.startedAtMs).toBeGreaterThanOrEqual(before - 1000);
    expect(handle.startedAtMs).toBeLessThanOrEqual(Date.now());
  });

  it('keeps stdout and stderr apart (or, if it declares it merges them, all as stdout), in the order they were written', async () => {
    await setUp();
    const { entries, exitCode } = await run(
      // two pipes have no order between them: leave time at each switch of stream
      'echo out-1; sleep 0.2; echo err-1 >&2; sleep 0.2; echo out-2; sleep 0.2; echo err-2 >&2; sleep 0.2; for i in 1 2 3 4 5; do echo "line $i"; done',
    );
    expect(exitCode).toBe(0);
    expect(textOf(entries)).toBe('out-1\nerr-1\nout-2\nerr-2\nline 1\nline 2\nline 3\nline 4\nline 5\n');
    if (runtime.capabilities.mergesStdStreams) {
      expect(entries.every((e) => e.stream === 'stdout')).toBe(true);
    } else {
      expect(textOf(entries, 'stdout')).toBe('out-1\nout-2\nline 1\nline 2\nline 3\nline 4\nline 5\n');
      expect(textOf(entries, 'stderr')).toBe('err-1\nerr-2\n');
    }
  });

  it('delivers every line of tasks that write fast and exit while their log is read slowly', async () => {
    await setUp();
    // the reader takes one entry, then waits until the task has exited before reading on: the
    // Docker engine 20.10 ended such follow streams early (the log file held every line)
    const lines = 100_000;
    const expected = Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join('');
    const readSlowly = async (): Promise<string> => {
      const handle = await start(taskSpec(fixture.name, sh(`seq 1 ${lines}; sleep 0.5`)));
      const iterator = runtime.logs(handle)[Symbol.asyncIterator]();
      const entries: RuntimeLogEntry[] = [];
      const first = await iterator.next();
      if (!first.done) entries.push(first.value);
      expect((await runtime.wait(handle)).exitCode).toBe(0);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) entries.push(next.value);
      return textOf(entries, 'stdout');
    };
    // three at once: the engine's early end is a race, and each task is one more chance to lose it
    const texts = await Promise.all([readSlowly(), readSlowly(), readSlowly()]);
    for (const text of texts) {
      expect(text.length, `${text.split('\n').length - 1} of ${lines} lines`).toBe(expected.length);
      expect(text === expected).toBe(true);
    }
  }, 60_000);

  it('passes the task env and the wharf variables', async () => {
    await setUp();
    const { entries, spec } = await run('echo "greeting=$GREETING"; echo "attempt=$WHARF_ATTEMPT_ID"; echo "task=$WHARF_TASK_ID"', {
      env: { GREETING: 'hello wharf' },
    });
    expect(textOf(entries, 'stdout')).toBe(`greeting=hello wharf\nattempt=${spec.attemptId}\ntask=${spec.taskId}\n`);
  });

  it('collects the files the task wrote to its output folder, byte for byte', async () => {
    await setUp();
    const out = fixture.outputDir;
    const { handle, exitCode } = await run(
      `printf 'hello\\n' > ${out}/hello.txt && mkdir -p ${out}/nested/deeper && seq 1 20000 > ${out}/nested/deeper/numbers.txt && printf '\\000\\001\\377' > ${out}/binary.bin`,
    );
    expect(exitCode).toBe(0);
    const dir = await runtime.collectOutputs(handle);
    const walk = await walkOutputFiles(dir);
    expect(walk.files.map((f) => f.path)).toEqual(['binary.bin', 'hello.txt', 'nested/deeper/numbers.txt']);
    expect(await readFile(path.join(dir, 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(path.join(dir, 'binary.bin'))).toEqual(Buffer.from([0, 1, 255]));
    const numbers = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
    expect(await readFile(path.join(dir, 'nested/deeper/numbers.txt'), 'utf8')).toBe(numbers);
  });

  it('stops a task that honours SIGTERM before the grace period ends', async () => {
    await setUp();
    const spec = taskSpec(fixture.name, sh('trap "echo bye; exit 7" TERM; echo ready; while :; do sleep 0.1; done'));
    const handle = await start(spec);
    const logs = runtime.logs(handle)[Symbol.asyncIterator]();
    const first = await logs.next();
    expect(first.done ? '' : first.value.data.toString()).toBe('ready\n');
    const stopAt = Date.now();
    await runtime.stop(handle, 10);
    expect(Date.now() - stopAt).toBeLessThan(8000);
    expect((await runtime.wait(handle)).exitCode).toBe(7);
    const rest: RuntimeLogEntry[] = [];
    for (let next = await logs.next(); !next.done; next = await logs.next()) rest.push(next.value);
    expect(textOf(rest, 'stdout')).toBe('bye\n'); // (a host shell may say "Terminated" on stderr for its killed sleep)
  });

  it('kills a task that ignores SIGTERM once the grace period is over', async () => {
    await setUp();
    const spec = taskSpec(fixture.name, sh('trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done'));
    const handle = await start(spec);
    const entries: RuntimeLogEntry[] = [];
    const logsDone = (async () => {
      for await (const entry of runtime.logs(handle)) entries.push(entry);
    })();
    await expect.poll(() => textOf(entries), { timeout: 10_000 }).toContain('ready');
    const stopAt = Date.now();
    await runtime.stop(handle, 2);
    const elapsed = Date.now() - stopAt;
    expect((await runtime.wait(handle)).exitCode).toBe(137); // 128 + SIGKILL
    await logsDone;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(10_000);
    expect(textOf(entries)).toContain('got TERM'); // SIGTERM came first and was survived
  });

  it('fails to start a command that does not exist, with a clear error', async () => {
    await setUp();
    const spec = taskSpec(fixture.name, ['no-such-command-wharf']);
    const error: unknown = await runtime.start(spec, pathsOf(spec)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('start_failed');
    expect((error as RuntimeError).message).toContain('no-such-command-wharf');
  });

  if (fixture.recoversTasks) {
    it('recover() finds a still-running task after a new runtime instance is created', async () => {
      await setUp();
      const spec = taskSpec(fixture.name, sh('echo before; sleep 1.2; echo after; sleep 60'), { timeoutSeconds: 90 });
      const original = await start(spec);
      const firstLogs = runtime.logs(original)[Symbol.asyncIterator]();
      const first = await firstLogs.next();
      expect(first.done ? '' : first.value.data.toString()).toBe('before\n');
      await firstLogs.return?.();

      const restarted = fixture.create(workerId);
      const recovered = await restarted.recover();
      expect(recovered).toHaveLength(1);
      const [found] = recovered;
      if (!found) throw new Error('nothing recovered');
      expect(found.running).toBe(true);
      expect(found.timeoutSeconds).toBe(90);
      expect(found.handle).toMatchObject({ attemptId: spec.attemptId, taskId: spec.taskId, runtime: fixture.name });
      expect(Math.abs(found.handle.startedAtMs - original.startedAtMs)).toBeLessThan(1000);

      // another worker on the same engine does not see it
      expect(await fixture.create(`someone-else-${randomUUID()}`).recover()).toEqual([]);

      // resuming after the first entry's cursor yields only what came later
      const cursor = first.done ? undefined : first.value.cursor;
      expect(cursor).toBeDefined();
      const resumed = restarted.logs(found.handle, cursor === undefined ? {} : { after: cursor })[Symbol.asyncIterator]();
      const next = await resumed.next();
      expect(next.done ? '' : next.value.data.toString()).toBe('after\n');
      await resumed.return?.();

      await restarted.stop(found.handle, 0);
      expect((await restarted.wait(found.handle)).exitCode).toBe(137);
      await restarted.cleanup(found.handle);
      expect(await restarted.recover()).toEqual([]);
    });
  } else {
    it('recover() reports nothing: host processes cannot be re-attached', async () => {
      await setUp();
      const handle = await start(taskSpec(fixture.name, sh('sleep 30')));
      expect(await fixture.create(workerId).recover()).toEqual([]);
      await runtime.stop(handle, 0);
      expect((await runtime.wait(handle)).exitCode).toBe(137);
    });
  }
});

describe('DockerRuntime image handling', () => {
  let dataDir: string;
  const workerId = `conformance-pull-${randomUUID()}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-pull-'));
  });
  afterAll(async () => {
    await removeWorkerContainers(workerId);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('fails clearly and quickly when an image is neither local nor pullable', async () => {
    const runtime = new DockerRuntime({ docker, workerId, pidsLimit: 256, logger, taskNetwork: NETWORK });
    const spec = taskSpec('docker', [], { image: 'wharf-test/does-not-exist:1' });
    const root = path.join(dataDir, spec.attemptId);
    const events: string[] = [];
    const notes: string[] = [];
    const startedAt = Date.now();
    const error: unknown = await runtime
      .start(spec, { root, output: path.join(root, 'output'), work: path.join(root, 'work') }, {
        onEvent: (kind) => events.push(kind),
        note: (text) => notes.push(text),
      })
      .catch((e: unknown) => e);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('image_unavailable');
    expect((error as RuntimeError).message).toMatch(/^image "wharf-test\/does-not-exist:1" not found locally and pull failed: .+/);
    expect(events).toEqual(['pulling']);
    expect(notes[0]).toContain('pulling');
    expect(await docker.listContainers({ all: true, filters: { label: [`wharf.worker=${workerId}`] } })).toEqual([]);
  });
});

describe('DockerRuntime limits and their reasons', () => {
  let dataDir: string;
  const workerId = `conformance-limits-${randomUUID()}`;
  const runtime = new DockerRuntime({ docker, workerId, pidsLimit: 256, logger, taskNetwork: NETWORK, diskCheck: { minIntervalMs: 50, maxIntervalMs: 250 } });
  const handles: RuntimeHandle[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-limits-'));
  });
  afterAll(async () => {
    for (const handle of handles) await runtime.cleanup(handle).catch(() => undefined);
    await removeWorkerContainers(workerId);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startTask(script: string, extra: Partial<AttemptSpec> = {}): Promise<RuntimeHandle> {
    const spec = taskSpec('docker', sh(script), extra);
    const root = path.join(dataDir, spec.attemptId);
    const handle = await runtime.start(spec, { root, output: path.join(root, 'output'), work: path.join(root, 'work') });
    handles.push(handle);
    return handle;
  }

  it('says "out of memory (limit 32Mi)" when the kernel killed the task inside its memory limit', async () => {
    const handle = await startTask('x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}', { resources: { cpu: 0.5, memory: 32 * 1024 ** 2, gpu: 0, disk: 0 } });
    const exit = await runtime.wait(handle);
    expect(exit).toEqual({ exitCode: 137, reason: 'out of memory (limit 32Mi)' });
  });

  it('says so when a task was killed from outside Wharf, and not when Wharf stopped it', async () => {
    const outside = await startTask('sleep 60');
    await docker.getContainer(`wharf-${outside.attemptId}`).kill({ signal: 'SIGKILL' });
    const exit = await runtime.wait(outside);
    expect(exit.exitCode).toBe(137);
    expect(exit.reason).toMatch(/^killed by SIGKILL, not by Wharf and not for lack of memory/);

    const ours = await startTask('sleep 60');
    await runtime.stop(ours, 0);
    expect(await runtime.wait(ours)).toEqual({ exitCode: 137 });
  });

  it('stops a task that writes past its disk limit, in /output or in its own layer, with the limit as the reason', async () => {
    const disk = 10 * 1024 ** 2;
    const layer = await startTask('dd if=/dev/zero of=/big bs=1M count=200 2>/dev/null; sleep 30', { resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk } });
    const exit = await runtime.wait(layer);
    expect(exit.exitCode).toBe(137);
    expect(exit.reason).toMatch(/^disk limit 10Mi exceeded \(wrote [\d.]+[KMG]i\)$/);

    const output = await startTask('dd if=/dev/zero of=/output/big bs=1M count=200 2>/dev/null; sleep 30', { resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk } });
    expect((await runtime.wait(output)).reason).toMatch(/^disk limit 10Mi exceeded/);
  });

  it('fails a task that ends just past its disk limit, between two looks', async () => {
    // a short task: it is gone before a look can catch it, the look at its end does
    const slow = new DockerRuntime({ docker, workerId, pidsLimit: 256, logger, taskNetwork: NETWORK, diskCheck: { minIntervalMs: 60_000, maxIntervalMs: 60_000 } });
    const spec = taskSpec('docker', sh('sleep 0.5; dd if=/dev/zero of=/output/f bs=1M count=12 2>/dev/null'), { resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 10 * 1024 ** 2 } });
    const root = path.join(dataDir, spec.attemptId);
    const handle = await slow.start(spec, { root, output: path.join(root, 'output'), work: path.join(root, 'work') });
    const exit = await slow.wait(handle);
    await slow.cleanup(handle);
    expect(exit.exitCode).toBe(0);
    expect(exit.reason).toBe('disk limit 10Mi exceeded (wrote 12Mi)');
  });

  it('bounds Docker\'s own log of the container and reports what it applied', async () => {
    const handle = await startTask('true', { isolation: { ...DEFAULT_ISOLATION, readOnlyRootFilesystem: true, user: '1000:1000' } });
    const info = await docker.getContainer(`wharf-${handle.attemptId}`).inspect();
    expect(info.HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '256m', 'max-file': '2' } });
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect(info.Config.User).toBe('1000:1000');
    expect(handle.effective).toMatchObject({ user: '1000:1000', readOnlyRootFilesystem: true, network: NETWORK, noNewPrivileges: true });
    await runtime.wait(handle);
  });

  it('refuses to pull with pullPolicy Never, naming the policy', async () => {
    const spec = taskSpec('docker', [], { image: 'wharf-test/not-here:1', isolation: { ...DEFAULT_ISOLATION, pullPolicy: 'Never' } });
    const root = path.join(dataDir, spec.attemptId);
    const events: string[] = [];
    const error: unknown = await runtime.start(spec, { root, output: path.join(root, 'output'), work: path.join(root, 'work') }, { onEvent: (kind) => events.push(kind) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'image_unavailable', message: 'image "wharf-test/not-here:1" is not on this worker and the task\'s pullPolicy is Never' });
    expect(events).toEqual([]);
  });

  it('pulls an image that is present when pullPolicy is Always', async () => {
    const spec = taskSpec('docker', [], { isolation: { ...DEFAULT_ISOLATION, pullPolicy: 'Always' } });
    const root = path.join(dataDir, spec.attemptId);
    const events: string[] = [];
    // wharf/busybox exists only on this engine, so the pull it must try fails: proof it tried
    const error: unknown = await runtime.start(spec, { root, output: path.join(root, 'output'), work: path.join(root, 'work') }, { onEvent: (kind) => events.push(kind) }).catch((e: unknown) => e);
    expect(events).toEqual(['pulling']);
    expect(error).toMatchObject({ code: 'image_unavailable', message: expect.stringMatching(/^pull of image "wharf\/busybox:latest" failed \(pullPolicy Always\): /) });
  });
});
