// Validates deploy/kubernetes/*.yaml and the pods the runtime builds against the Kubernetes
// OpenAPI schemas (kubernetes-models 4.5), and checks that the RBAC grants exactly what the
// runtime uses, in one namespace.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Namespace, PersistentVolumeClaim, Pod, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadWorkerConfig } from '../src/config/worker-config.js';
import { buildTaskPod } from '../src/runtime/kubernetes-pod-spec.js';
import { DEFAULT_ISOLATION, type AttemptSpec } from '../src/runtime/task-runtime.js';

const DEPLOY_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/kubernetes');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

async function loadDocs(): Promise<{ file: string; doc: Doc }[]> {
  const files = (await readdir(DEPLOY_DIR)).filter((f) => f.endsWith('.yaml')).sort();
  const out: { file: string; doc: Doc }[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(path.join(DEPLOY_DIR, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      const doc = document.toJS() as Doc | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

describe('deploy/kubernetes manifests', () => {
  it('are all valid against the Kubernetes schemas', async () => {
    const docs = await loadDocs();
    expect(docs.map(({ doc }) => `${doc.kind}/${doc.metadata.name}`).sort()).toEqual([
      'Deployment/wharf-worker',
      'Namespace/wharf',
      'NetworkPolicy/wharf-task-isolation',
      'PersistentVolumeClaim/wharf-worker-data',
      'Role/wharf-worker',
      'Role/wharf-worker-quota-reader',
      'RoleBinding/wharf-worker',
      'RoleBinding/wharf-worker-quota-reader',
      'ServiceAccount/wharf-worker',
    ]);
    for (const { file, doc } of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      if (!Model) throw new Error(`${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
      expect(() => new Model(doc as never).validate(), `${file} ${doc.kind}/${doc.metadata.name}`).not.toThrow();
    }
  });

  it('keeps every task pod closed to incoming connections (the NetworkPolicy selects the label task pods carry)', async () => {
    const policy = (await loadDocs()).find(({ doc }) => doc.kind === 'NetworkPolicy')?.doc as Doc & {
      spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: unknown[] };
    };
    const task: AttemptSpec = {
      taskId: 't-1', attemptId: 'a-1', attemptNumber: 1, name: 'job', image: 'busybox', command: [], env: {}, runtime: 'kubernetes',
      resources: { cpu: 1, memory: 2 ** 26, gpu: 0, disk: 0 }, timeoutSeconds: 0, userId: 'u', isolation: DEFAULT_ISOLATION,
    };
    const pod = buildTaskPod({ spec: task, outputDir: '/o' }, {
      workerId: 'w', namespace: 'wharf', nodeSelector: {}, tolerations: [], imagePullSecrets: [], helperImage: 'busybox:1.36', pendingTimeoutSeconds: 300,
    });
    for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels)) expect(pod.metadata?.labels?.[key]).toBe(value);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([]);
  });

  it('the schema check catches a broken manifest (so the test above can fail)', async () => {
    const deployment = (await loadDocs()).find(({ doc }) => doc.kind === 'Deployment')?.doc;
    const broken = structuredClone(deployment) as Doc & { spec: { replicas: unknown } };
    broken.spec.replicas = 'one';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('keeps every namespaced object in one namespace and the Role to pods, pods/log and pods/exec', async () => {
    const docs = (await loadDocs()).map(({ doc }) => doc);
    const namespaces = new Set(docs.filter((d) => d.kind !== 'Namespace').map((d) => d.metadata.namespace));
    expect([...namespaces]).toEqual(['wharf']);
    const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'wharf-worker') as Doc & { rules: { resources: string[] }[] };
    expect(role.rules.flatMap((r) => r.resources).sort()).toEqual(['pods', 'pods/exec', 'pods/log']);
    expect(docs.some((d) => d.kind === 'ClusterRole' || d.kind === 'ClusterRoleBinding')).toBe(false);
  });

  it('runs the worker with the kubernetes runtime and settings the worker accepts', async () => {
    const deployment = (await loadDocs()).find(({ doc }) => doc.kind === 'Deployment')?.doc as Doc & {
      spec: { template: { spec: { serviceAccountName: string; containers: { env: { name: string; value?: string }[] }[] } } };
    };
    expect(deployment.spec.template.spec.serviceAccountName).toBe('wharf-worker');
    const env: Record<string, string> = { WHARF_K8S_NAMESPACE: 'wharf', WHARF_JOIN_TOKEN: 'from-the-secret' };
    for (const e of deployment.spec.template.spec.containers[0]?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const config = loadWorkerConfig([], env);
    expect(config.runtimes).toEqual(['kubernetes']);
    expect(config.kubernetes).toMatchObject({ namespace: 'wharf', helperImage: 'busybox:1.36', pendingTimeoutMs: 300_000 });
    expect(config.capacityCaps).toEqual({ cpu: 16, memory: 64 * 2 ** 30 });
  });
});

describe('task pods built by the runtime', () => {
  const spec: AttemptSpec = {
    taskId: '0b6c3f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
    attemptId: '7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a',
    attemptNumber: 2,
    name: 'train',
    image: 'ghcr.io/example/train:3',
    command: ['python', 'train.py', '--epochs', '3'],
    env: { MODE: 'full' },
    runtime: 'kubernetes',
    resources: { cpu: 3.5, memory: 8 * 2 ** 30, gpu: 1, disk: 20 * 2 ** 30 },
    timeoutSeconds: 3600,
    userId: 'ada',
    isolation: DEFAULT_ISOLATION,
  };

  it.each([
    ['a plain task', {}, undefined],
    ['a task with inputs and a node cache', { cacheHostPath: '/var/cache/wharf' }, [{ name: 'data.csv', sha256: 'e'.repeat(64), size: 10, url: 'http://m:8080/a' }]],
    ['a task on tainted GPU nodes', { serviceAccount: 'trainer', nodeSelector: { 'example.com/gpu': 'a100' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' as const, effect: 'NoSchedule' as const }], imagePullSecrets: ['ghcr'] }, undefined],
  ])('%s is a valid Pod', (_name, extra, inputs) => {
    const pod = buildTaskPod(
      { spec, outputDir: '/var/lib/wharf/attempts/x/output', ...(inputs ? { inputs } : {}) },
      { workerId: 'w', namespace: 'wharf', nodeSelector: {}, tolerations: [], imagePullSecrets: [], helperImage: 'busybox:1.36', pendingTimeoutSeconds: 300, ...extra },
    );
    expect(() => new Pod(pod as never).validate()).not.toThrow();
  });
});
