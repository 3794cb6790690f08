// The kubernetes runtime against a STAND-IN of the Kubernetes API server (k8s-api-standin.ts):
// real HTTP, watch streams, log follows and a real WebSocket exec over loopback, spoken by the
// real @kubernetes/client-node 1.4 client, but no kubelet: each test scripts what happens to
// its pods. No cluster can run on the development machines; k8s-real-cluster.test.ts runs the
// same flow against a real cluster when KUBECONFIG is set.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../src/config/worker-config.js';
import { walkOutputFiles } from '../src/outputs/output-walk.js';
import { KubernetesRuntime, PodFailure } from '../src/runtime/kubernetes-runtime.js';
import { createKubernetesSetup } from '../src/runtime/kubernetes-setup.js';
import { RuntimeError } from '../src/runtime/runtime-error.js';
import { DEFAULT_ISOLATION, type AttemptPaths, type AttemptSpec, type RuntimeHandle, type RuntimeLogEntry } from '../src/runtime/task-runtime.js';
import { K8sApiStandin, type SimulatedPod } from './k8s-api-standin.js';

const logger = pino({ level: 'silent' });
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let standin: K8sApiStandin;
let dir: string;
let kubeConfig: KubeConfig;
const runtimes: KubernetesRuntime[] = [];

beforeAll(async () => {
  standin = await K8sApiStandin.start({ namespace: 'wharf-test' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-k8s-runtime-'));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(standin.kubeconfigYaml());
});

afterAll(async () => {
  await standin.stop();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  expect(standin.programErrors).toEqual([]);
  standin.program = undefined;
});

function makeRuntime(workerId = `worker-${randomUUID()}`, extra: Partial<ConstructorParameters<typeof KubernetesRuntime>[0]> = {}): KubernetesRuntime {
  const runtime = new KubernetesRuntime({
    kubeConfig,
    workerId,
    namespace: 'wharf-test',
    helperImage: 'busybox:1.36',
    pendingTimeoutMs: 10_000,
    resyncMs: 500,
    logger,
    ...extra,
  });
  runtimes.push(runtime);
  return runtime;
}

function taskSpec(extra: Partial<AttemptSpec> = {}): AttemptSpec {
  const attemptId = randomUUID();
  return {
    taskId: randomUUID(),
    attemptId,
    attemptNumber: 1,
    name: 'standin',
    image: 'registry.example/team/job:1',
    command: ['sh', '-c', 'echo hello'],
    env: { GREETING: 'hello wharf' },
    runtime: 'kubernetes',
    resources: { cpu: 0.5, memory: 128 * 1024 * 1024, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'tester',
    isolation: DEFAULT_ISOLATION,
    ...extra,
  };
}

function pathsOf(spec: AttemptSpec): AttemptPaths {
  const root = path.join(dir, 'attempts', spec.attemptId);
  return { root, output: path.join(root, 'output'), work: path.join(root, 'work') };
}

async function collect(logs: AsyncIterable<RuntimeLogEntry>): Promise<RuntimeLogEntry[]> {
  const out: RuntimeLogEntry[] = [];
  for await (const entry of logs) out.push(entry);
  return out;
}

const textOf = (entries: RuntimeLogEntry[]): string => entries.map((e) => e.data.toString('utf8')).join('');

async function startTask(runtime: KubernetesRuntime, spec: AttemptSpec, notes: string[] = []): Promise<RuntimeHandle> {
  return runtime.start(spec, pathsOf(spec), { note: (text) => notes.push(text) });
}

describe('KubernetesRuntime against the API server stand-in', () => {
  it('runs a pod to success: notes, logs, exit code, outputs byte for byte, then deletes the pod', async () => {
    standin.program = async (pod: SimulatedPod) => {
      pod.waiting('ContainerCreating');
      await delay(150);
      pod.run();
      await delay(100);
      pod.log('hello');
      pod.log('world');
      await pod.writeOutput('hello.txt', 'hello\n');
      await pod.writeOutput('nested/deeper/numbers.txt', Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(''));
      await pod.writeOutput('binary.bin', Buffer.from([0, 1, 255]));
      await delay(100);
      pod.exit(0);
    };
    const runtime = makeRuntime();
    const spec = taskSpec();
    const notes: string[] = [];
    const before = Date.now();
    const handle = await startTask(runtime, spec, notes);
    expect(handle).toMatchObject({ runtime: 'kubernetes', attemptId: spec.attemptId, taskId: spec.taskId });
    expect(handle.startedAtMs).toBeGreaterThanOrEqual(before - 1000);
    expect(notes[0]).toBe(`created pod wharf-${spec.attemptId} in namespace wharf-test`);
    expect(notes).toContain(`pod wharf-${spec.attemptId}: container task: ContainerCreating`);

    const [entries, exit] = await Promise.all([collect(runtime.logs(handle)), runtime.wait(handle)]);
    expect(exit.exitCode).toBe(0);
    expect(textOf(entries)).toBe('hello\nworld\n');
    // the pod log API merges the streams, and the runtime says so
    expect(runtime.capabilities.mergesStdStreams).toBe(true);
    expect(entries.every((e) => e.stream === 'stdout' && e.cursor !== undefined)).toBe(true);

    const outDir = await runtime.collectOutputs(handle);
    expect(outDir).toBe(pathsOf(spec).output);
    const walk = await walkOutputFiles(outDir);
    expect(walk.files.map((f) => f.path)).toEqual(['binary.bin', 'hello.txt', 'nested/deeper/numbers.txt']);
    expect(await readFile(path.join(outDir, 'binary.bin'))).toEqual(Buffer.from([0, 1, 255]));
    expect(await readFile(path.join(outDir, 'nested/deeper/numbers.txt'), 'utf8')).toBe(
      Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(''),
    );
    const podName = `wharf-${spec.attemptId}`;
    expect(standin.execs.filter((e) => e.name === podName)).toEqual([
      { name: podName, container: 'wharf-outputs', command: ['tar', 'cf', '-', '-C', '/output', '.'] },
    ]);

    // the pod as the API received it
    const created = standin.created.find((p) => p['metadata'].name === podName);
    expect(created?.['metadata'].labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'wharf',
      'wharf.task': spec.taskId,
      'wharf.attempt': spec.attemptId,
    });
    expect(created?.['spec'].restartPolicy).toBe('Never');
    expect(created?.['spec'].containers[0]).toMatchObject({
      name: 'task',
      image: 'registry.example/team/job:1',
      args: ['sh', '-c', 'echo hello'],
      resources: { requests: { cpu: '500m', memory: '134217728' }, limits: { cpu: '500m', memory: '134217728' } },
    });
    expect(created?.['spec'].containers[0].command).toBeUndefined();

    await runtime.cleanup(handle);
    expect(standin.pods.has(podName)).toBe(false);
    expect(standin.deletes.filter((d) => d.name === podName)).toEqual([{ name: podName, grace: 0 }]);
    await runtime.cleanup(handle); // idempotent
  });

  it('reports a failing task\'s exit code and its log', async () => {
    standin.program = async (pod) => {
      pod.run();
      pod.log('about to fail');
      await delay(100);
      pod.exit(3);
    };
    const runtime = makeRuntime();
    const handle = await startTask(runtime, taskSpec());
    const [entries, exit] = await Promise.all([collect(runtime.logs(handle)), runtime.wait(handle)]);
    expect(exit.exitCode).toBe(3);
    expect(textOf(entries)).toBe('about to fail\n');
    await runtime.cleanup(handle);
  });

  it('names the memory limit when the kubelet killed the task for memory (OOMKilled), as on Docker', async () => {
    standin.program = async (pod) => {
      pod.run();
      await delay(50);
      pod.exit(137, 'OOMKilled');
    };
    const runtime = makeRuntime();
    const handle = await startTask(runtime, taskSpec());
    expect(await runtime.wait(handle)).toEqual({ exitCode: 137, reason: 'out of memory (limit 128Mi)' });
    await runtime.cleanup(handle);
  });

  it('fails the start at once on an image pull error, with Kubernetes\' reason, and deletes the pod', async () => {
    standin.program = (pod) => {
      pod.waiting('ErrImagePull', 'rpc error: pull access denied for registry.example/nope, repository does not exist');
    };
    const runtime = makeRuntime();
    const spec = taskSpec({ image: 'registry.example/nope:1' });
    const startedAt = Date.now();
    const error: unknown = await startTask(runtime, spec).catch((e: unknown) => e);
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('image_unavailable');
    expect((error as RuntimeError).message).toBe(
      'cannot pull image "registry.example/nope:1" (container task): ErrImagePull: rpc error: pull access denied for registry.example/nope, repository does not exist',
    );
    await expect.poll(() => standin.pods.has(`wharf-${spec.attemptId}`)).toBe(false);
  });

  it('fails a pod that stays unschedulable past the pending limit with the scheduler\'s message', async () => {
    standin.program = (pod) => {
      pod.unschedulable('0/3 nodes are available: 3 Insufficient nvidia.com/gpu.');
    };
    const runtime = makeRuntime(undefined, { pendingTimeoutMs: 1500 });
    const spec = taskSpec({ resources: { cpu: 1, memory: 0, gpu: 2, disk: 0 } });
    const startedAt = Date.now();
    const error: unknown = await startTask(runtime, spec).catch((e: unknown) => e);
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(6000);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('start_failed');
    expect((error as RuntimeError).message).toBe(
      'the pod stayed pending for more than 2 s: Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.',
    );
    expect(standin.created.find((p) => p['metadata'].name === `wharf-${spec.attemptId}`)?.['spec'].containers[0].resources).toEqual({
      requests: { cpu: '1000m', 'nvidia.com/gpu': '2' },
      limits: { cpu: '1000m', 'nvidia.com/gpu': '2' },
    });
    await expect.poll(() => standin.pods.has(`wharf-${spec.attemptId}`)).toBe(false);
  });

  it('fails the start when the init container cannot stage an input', async () => {
    standin.program = (pod) => {
      pod.initFailed('input data.csv: the download does not match sha256 ' + 'a'.repeat(64));
    };
    const runtime = makeRuntime();
    const spec = taskSpec();
    const error: unknown = await runtime
      .start(spec, pathsOf(spec), { inputs: [{ name: 'data.csv', sha256: 'a'.repeat(64), size: 3, url: 'http://127.0.0.1:9/data.csv' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).message).toBe(`staging the inputs failed: input data.csv: the download does not match sha256 ${'a'.repeat(64)}`);
    const created = standin.created.find((p) => p['metadata'].name === `wharf-${spec.attemptId}`);
    expect(created?.['spec'].initContainers[0].name).toBe('wharf-inputs');
  });

  it('cancels by deleting the pod with the grace period; a task that honours SIGTERM ends with its own code', async () => {
    standin.program = (pod) => {
      pod.exitCodeOnTerm = 143;
      pod.run();
      pod.log('ready');
    };
    const runtime = makeRuntime();
    const spec = taskSpec();
    const notes: string[] = [];
    const handle = await startTask(runtime, spec, notes);
    const logs = collect(runtime.logs(handle));
    await expect.poll(() => standin.sim(`wharf-${spec.attemptId}`).logs.length).toBe(1);
    await runtime.stop(handle, 7);
    expect(standin.deletes.filter((d) => d.name === `wharf-${spec.attemptId}`)).toEqual([{ name: `wharf-${spec.attemptId}`, grace: 7 }]);
    expect((await runtime.wait(handle)).exitCode).toBe(143);
    expect(textOf(await logs)).toBe('ready\n');
    // the pod and its /output are gone: nothing to collect, and the task's log says so
    const outDir = await runtime.collectOutputs(handle);
    expect((await walkOutputFiles(outDir)).files).toEqual([]);
    expect(notes.at(-1)).toContain('no outputs collected');
    await runtime.cleanup(handle);
  });

  it('kills a task that ignores SIGTERM once the grace period is over', async () => {
    standin.program = (pod) => {
      pod.run();
    };
    const runtime = makeRuntime();
    const spec = taskSpec();
    const handle = await startTask(runtime, spec);
    const stopAt = Date.now();
    await runtime.stop(handle, 1);
    const elapsed = Date.now() - stopAt;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(8000);
    expect((await runtime.wait(handle)).exitCode).toBe(137);
    expect(standin.pods.has(`wharf-${spec.attemptId}`)).toBe(false);
  });

  it('lowers the pod deadline to the task timeout once it runs, and reports a pod Kubernetes stopped at its deadline', async () => {
    standin.program = async (pod) => {
      pod.waiting('ContainerCreating');
      await delay(300);
      pod.run();
      pod.log('working');
    };
    const runtime = makeRuntime(undefined, { pendingTimeoutMs: 20_000, deadlineGraceSeconds: 1 });
    const spec = taskSpec({ timeoutSeconds: 1 });
    const handle = await startTask(runtime, spec);
    const podName = `wharf-${spec.attemptId}`;
    expect(standin.created.find((p) => p['metadata'].name === podName)?.['spec'].activeDeadlineSeconds).toBe(1 + 20 + 1);
    const patch = standin.patches.find((p) => p.name === podName);
    const lowered = patch?.body['spec'].activeDeadlineSeconds as number;
    expect(lowered).toBeGreaterThanOrEqual(2); // spent (≥ 0 s, rounded up) + timeout 1 + grace 1
    expect(lowered).toBeLessThanOrEqual(4);
    const error: unknown = await runtime.wait(handle).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodFailure);
    expect((error as Error).message).toBe(`the pod ran past its deadline (activeDeadlineSeconds ${lowered}) and Kubernetes stopped it`);
    await runtime.cleanup(handle);
  });

  it('turns an eviction into a clear error instead of an exit code', async () => {
    standin.program = async (pod) => {
      pod.run();
      await delay(200);
      pod.failPod('Evicted', 'The node was low on resource: memory.');
    };
    const runtime = makeRuntime();
    const handle = await startTask(runtime, taskSpec());
    const error: unknown = await runtime.wait(handle).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodFailure);
    expect((error as Error).message).toBe('the pod was evicted by Kubernetes: The node was low on resource: memory.');
    await runtime.cleanup(handle);
  });

  it('resumes a log follow the server closed early, without repeating or losing lines', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    standin.program = async (pod) => {
      pod.run();
      for (let i = 1; i <= 5; i += 1) pod.log(`line ${i}`);
      await delay(200);
      pod.cutLogStreams();
      standin.closeWatches();
      await delay(50);
      for (let i = 6; i <= 10; i += 1) pod.log(`line ${i}`);
      await released;
      pod.exit(0);
    };
    const runtime = makeRuntime();
    const handle = await startTask(runtime, taskSpec());
    const entries: RuntimeLogEntry[] = [];
    const logsDone = (async () => {
      for await (const entry of runtime.logs(handle)) entries.push(entry);
    })();
    await expect.poll(() => entries.length, { timeout: 10_000 }).toBe(10);
    release();
    expect((await runtime.wait(handle)).exitCode).toBe(0);
    await logsDone;
    expect(textOf(entries)).toBe(Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join(''));
    await runtime.cleanup(handle);
  });

  it('recover() re-attaches to this worker\'s running pods, resumes logs after a cursor and deletes pods that never started', async () => {
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    standin.program = async (pod) => {
      pod.run();
      pod.log('before');
      await delay(1100); // a later second than the first line, so sinceTime matters
      pod.log('after');
      await finished;
      await pod.writeOutput('result.txt', 'done\n');
      pod.exit(0);
    };
    const workerId = `worker-${randomUUID()}`;
    const first = makeRuntime(workerId);
    const spec = taskSpec({ timeoutSeconds: 90 });
    const original = await startTask(first, spec);
    const firstLogs = first.logs(original)[Symbol.asyncIterator]();
    const head = await firstLogs.next();
    expect(head.done ? '' : head.value.data.toString()).toBe('before\n');
    await firstLogs.return?.();

    // a pod this worker created but whose task never started (the worker died while it was pending)
    const stale = await standin.adopt({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'wharf-stale-attempt',
        labels: { 'app.kubernetes.io/managed-by': 'wharf', 'wharf.worker': workerId, 'wharf.attempt': 'stale-attempt', 'wharf.task': 't' },
        annotations: { 'wharf.io/attempt-id': 'stale-attempt', 'wharf.io/task-id': 't', 'wharf.io/output-dir': path.join(dir, 'stale') },
      },
      spec: { containers: [{ name: 'task', image: 'x' }, { name: 'wharf-outputs', image: 'busybox:1.36' }] },
    });
    stale.waiting('ContainerCreating');

    const restarted = makeRuntime(workerId);
    const recovered = await restarted.recover();
    expect(recovered).toHaveLength(1);
    const [found] = recovered;
    if (!found) throw new Error('nothing recovered');
    expect(found.running).toBe(true);
    expect(found.timeoutSeconds).toBe(90);
    expect(found.handle).toMatchObject({ runtime: 'kubernetes', attemptId: spec.attemptId, taskId: spec.taskId });
    expect(Math.abs(found.handle.startedAtMs - original.startedAtMs)).toBeLessThan(1000);
    expect(standin.pods.has('wharf-stale-attempt')).toBe(false);
    expect(await makeRuntime(`someone-else-${randomUUID()}`).recover()).toEqual([]);

    const cursor = head.done ? undefined : head.value.cursor;
    expect(cursor).toBeDefined();
    const resumed = restarted.logs(found.handle, cursor === undefined ? {} : { after: cursor })[Symbol.asyncIterator]();
    const next = await resumed.next();
    expect(next.done ? '' : next.value.data.toString()).toBe('after\n');
    await resumed.return?.();

    finish();
    expect((await restarted.wait(found.handle)).exitCode).toBe(0);
    const outDir = await restarted.collectOutputs(found.handle);
    expect(outDir).toBe(pathsOf(spec).output); // from the pod's annotation
    expect(await readFile(path.join(outDir, 'result.txt'), 'utf8')).toBe('done\n');
    await restarted.cleanup(found.handle);
    expect(await restarted.recover()).toEqual([]);
  });

  it('recover() reports a pod whose task ended while the worker was away as not running', async () => {
    standin.program = async (pod) => {
      pod.run();
      await delay(100);
      pod.exit(5);
    };
    const workerId = `worker-${randomUUID()}`;
    const handle = await startTask(makeRuntime(workerId), taskSpec());
    await expect.poll(() => standin.sim(`wharf-${handle.attemptId}`).taskState()?.['terminated']?.exitCode).toBe(5);
    const restarted = makeRuntime(workerId);
    const [found] = await restarted.recover();
    expect(found?.running).toBe(false);
    if (!found) throw new Error('nothing recovered');
    expect((await restarted.wait(found.handle)).exitCode).toBe(5);
    await restarted.cleanup(found.handle);
  });
});

describe('kubernetes worker setup against the stand-in', () => {
  it('reads the namespace from the kubeconfig and the capacity from its ResourceQuota; flags win', async () => {
    standin.quotas = [
      { kind: 'ResourceQuota', apiVersion: 'v1', metadata: { name: 'team' }, spec: { hard: { 'requests.cpu': '8', 'requests.memory': '32Gi', 'requests.nvidia.com/gpu': '2' } } },
      { kind: 'ResourceQuota', apiVersion: 'v1', metadata: { name: 'tight' }, spec: { hard: { 'limits.cpu': '6500m' } } },
    ];
    const kubeconfigFile = await standin.writeKubeconfig(dir);
    const base = ['--master', 'master.local:7070', '--token', 't', '--runtimes', 'kubernetes', '--data-dir', path.join(dir, 'w')];
    const fromQuota = await createKubernetesSetup(loadWorkerConfig(base, { KUBECONFIG: kubeconfigFile }), logger);
    expect(fromQuota.namespace).toBe('wharf-test');
    expect(fromQuota.createRuntime('w1').namespace).toBe('wharf-test');
    expect(fromQuota.capacity).toEqual({ cpu: 6.5, memory: 32 * 2 ** 30, gpu: 2, disk: 0 });

    const fromFlags = await createKubernetesSetup(loadWorkerConfig([...base, '--cpu', '3', '--memory', '4Gi'], { KUBECONFIG: kubeconfigFile }), logger);
    expect(fromFlags.capacity).toEqual({ cpu: 3, memory: 4 * 2 ** 30, gpu: 2, disk: 0 });

    standin.quotas = [];
    await expect(createKubernetesSetup(loadWorkerConfig(base, { KUBECONFIG: kubeconfigFile }), logger)).rejects.toThrow(
      'the kubernetes worker does not know how much the cluster offers: set --cpu and --memory (WHARF_CPU, WHARF_MEMORY), or create a ResourceQuota with requests.cpu and requests.memory in namespace wharf-test',
    );
  });

  it('fails at start with what to check when the namespace is not served', async () => {
    const kubeconfigFile = await standin.writeKubeconfig(dir);
    const argv = ['--master', 'm:1', '--token', 't', '--runtimes', 'kubernetes', '--k8s-namespace', 'elsewhere', '--cpu', '1', '--memory', '1Gi'];
    await expect(createKubernetesSetup(loadWorkerConfig(argv, { KUBECONFIG: kubeconfigFile }), logger)).rejects.toThrow(
      /does not let this worker list pods in namespace elsewhere: .*\(HTTP 404\); check the config, --k8s-namespace/,
    );
  });
});
