// The kubernetes runtime against a REAL cluster. Runs only when KUBECONFIG is set (no cluster
// can run on the development machines); otherwise it prints one line and skips. Pods go to
// WHARF_K8S_TEST_NAMESPACE (default: the kubeconfig context's namespace, else "default"), use
// the image WHARF_K8S_TEST_IMAGE (default busybox:1.36) and are deleted afterwards.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRuntime } from '../src/runtime/kubernetes-runtime.js';
import { loadKubeConfig } from '../src/runtime/kubernetes-setup.js';
import { RuntimeError } from '../src/runtime/runtime-error.js';
import { DEFAULT_ISOLATION, type AttemptPaths, type AttemptSpec, type RuntimeLogEntry } from '../src/runtime/task-runtime.js';

const KUBECONFIG = process.env['KUBECONFIG'];
if (!KUBECONFIG) {
  console.log('k8s-real-cluster: skipped — KUBECONFIG is not set, so no real Kubernetes cluster was tested');
}

const IMAGE = process.env['WHARF_K8S_TEST_IMAGE'] ?? 'busybox:1.36';

describe.skipIf(!KUBECONFIG)('KubernetesRuntime on a real cluster', () => {
  const workerId = `realcluster-${randomUUID().slice(0, 8)}`;
  let runtime: KubernetesRuntime;
  let core: CoreV1Api;
  let namespace: string;
  let dir: string;
  const make = (): KubernetesRuntime =>
    new KubernetesRuntime({
      kubeConfig: loadKubeConfig({ kubeconfigPath: KUBECONFIG ?? '', nodeSelector: {}, tolerations: [], imagePullSecrets: [], pendingTimeoutMs: 180_000, helperImage: IMAGE }).kubeConfig,
      workerId,
      namespace,
      helperImage: IMAGE,
      pendingTimeoutMs: 180_000,
      logger: pino({ level: 'silent' }),
    });

  beforeAll(async () => {
    const loaded = loadKubeConfig({
      kubeconfigPath: KUBECONFIG ?? '',
      ...(process.env['WHARF_K8S_TEST_NAMESPACE'] ? { namespace: process.env['WHARF_K8S_TEST_NAMESPACE'] } : {}),
      nodeSelector: {},
      tolerations: [],
      imagePullSecrets: [],
      pendingTimeoutMs: 180_000,
      helperImage: IMAGE,
    });
    namespace = loaded.namespace;
    core = loaded.kubeConfig.makeApiClient(CoreV1Api);
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-k8s-real-'));
    runtime = make();
  });

  afterAll(async () => {
    if (core) {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `wharf.worker=${workerId}` });
      await Promise.all(pods.items.map((p) => core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 }).catch(() => undefined)));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function spec(command: string[], extra: Partial<AttemptSpec> = {}): AttemptSpec {
    return {
      taskId: randomUUID(), attemptId: randomUUID(), attemptNumber: 1, name: 'real', image: IMAGE, command, env: { GREETING: 'hi' },
      runtime: 'kubernetes', resources: { cpu: 0.1, memory: 64 * 2 ** 20, gpu: 0, disk: 0 }, timeoutSeconds: 0, userId: 't', isolation: DEFAULT_ISOLATION, ...extra,
    };
  }
  const pathsOf = (s: AttemptSpec): AttemptPaths => {
    const root = path.join(dir, s.attemptId);
    return { root, output: path.join(root, 'output'), work: path.join(root, 'work') };
  };
  async function collect(logs: AsyncIterable<RuntimeLogEntry>): Promise<string> {
    let text = '';
    for await (const e of logs) text += e.data.toString();
    return text;
  }

  it('runs a pod: log, exit code, outputs', async () => {
    const s = spec(['sh', '-c', 'echo "$GREETING"; mkdir -p /output/d; printf abc > /output/d/f.txt; exit 4']);
    const handle = await runtime.start(s, pathsOf(s));
    const [text, exit] = await Promise.all([collect(runtime.logs(handle)), runtime.wait(handle)]);
    expect(text).toBe('hi\n');
    expect(exit.exitCode).toBe(4);
    const out = await runtime.collectOutputs(handle);
    expect(await readFile(path.join(out, 'd/f.txt'), 'utf8')).toBe('abc');
    await runtime.cleanup(handle);
  });

  it('fails clearly on an image that cannot be pulled', async () => {
    const s = spec([], { image: `registry.invalid/wharf/nope:${randomUUID().slice(0, 8)}` });
    const error: unknown = await runtime.start(s, pathsOf(s)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('image_unavailable');
  });

  it('cancels with a grace period and recovers a running pod from a new runtime instance', async () => {
    const s = spec(['sh', '-c', 'trap "exit 143" TERM; echo up; while :; do sleep 1; done'], { timeoutSeconds: 600 });
    const handle = await runtime.start(s, pathsOf(s));
    const [found] = (await make().recover()).filter((r) => r.handle.attemptId === s.attemptId);
    expect(found?.running).toBe(true);
    expect(found?.timeoutSeconds).toBe(600);
    await runtime.stop(handle, 5);
    expect([137, 143]).toContain((await runtime.wait(handle)).exitCode);
    await runtime.cleanup(handle);
  });
});
