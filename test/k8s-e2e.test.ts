// A task with runtime `kubernetes` through the whole system: submitted over REST to a real
// master, placed on a real worker process started with `--runtimes kubernetes`, run as a pod on
// a STAND-IN of the Kubernetes API server (worker/test/k8s-api-standin.ts: no cluster can run
// here, so the pod's phases, log and /output are scripted), its log and output file back through
// the master. The real-cluster suite is worker/test/k8s-real-cluster.test.ts (needs KUBECONFIG).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K8sApiStandin, type SimulatedPod } from '../worker/test/k8s-api-standin.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, spawnWorkerProcess, startTestMaster, tempDir, waitFor } from './support/cluster.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('kubernetes runtime end to end (API server stand-in)', () => {
  let master: Awaited<ReturnType<typeof startTestMaster>>;
  let standin: K8sApiStandin;
  let worker: ReturnType<typeof spawnWorkerProcess>;

  beforeAll(async () => {
    standin = await K8sApiStandin.start();
    standin.program = async (pod: SimulatedPod) => {
      pod.waiting('ContainerCreating');
      await delay(100);
      pod.run();
      pod.log('hello from a pod');
      await pod.writeOutput('result.txt', 'forty-two\n');
      await delay(100);
      pod.exit(0);
    };
    master = await startTestMaster();
    const kubeconfig = await standin.writeKubeconfig(tempDir('kubeconfig'));
    worker = spawnWorkerProcess(master, [
      '--runtimes', 'kubernetes',
      '--k8s-kubeconfig', kubeconfig,
      '--k8s-namespace', standin.namespace,
      '--cpu', '4',
      '--memory', '8Gi',
    ]);
    await waitFor('the kubernetes worker to join', () => master.registry.list().find((w) => w.record.status === 'ready' && w.channel), 30_000).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}\n${worker.output().slice(-3000)}`);
      },
    );
  });

  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await master?.stop();
    await standin?.stop();
    await removeTempDirs();
  });

  it('runs the task as a labelled pod and brings back its log and output', async () => {
    const user = await ApiClient.registered(master.httpUrl, 'k8s@example.com');
    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: 'wharf/busybox',
      runtime: 'kubernetes',
      command: ['sh', '-c', 'echo hello from a pod'],
      resources: { cpu: 1, memory: '128Mi' },
      timeoutSeconds: 60,
    });
    expect(submitted.status, submitted.text).toBe(201);
    const id = submitted.body.task.id;
    const task = await waitFor(
      'the task to end',
      async () => {
        const { body } = await user.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(body.task.status) ? body.task : undefined;
      },
      60_000,
    );
    expect(task.status).toBe('succeeded');
    expect(task.exitCode).toBe(0);
    const logs = await user.request('GET', `/api/tasks/${id}/logs`);
    expect(logs.text).toContain('hello from a pod\n');
    const file = await user.bytes(`/api/files/${id}/download/result.txt`);
    expect(file.data.toString()).toBe('forty-two\n');

    const pod = standin.created.find((p) => p.metadata?.labels?.['wharf.task'] === id);
    expect(pod?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('wharf');
    expect(pod?.spec?.restartPolicy).toBe('Never');
    // the pod is deleted once the result was acknowledged: nothing left behind
    await waitFor('the pod to be deleted', () => (standin.pods.size === 0 ? true : undefined), 20_000);
  });
});
