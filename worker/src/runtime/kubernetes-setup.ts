// Builds the kubernetes runtime from the worker's config (called by worker/src/main.ts): finds
// the cluster (KUBECONFIG / --k8s-kubeconfig, else the in-cluster service account, else
// ~/.kube/config), picks the namespace, checks that the API answers and lets this worker list
// pods, and works out the capacity the worker advertises. The runtime itself is made once the
// worker id is known (after joining the master: pods are labelled with it).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Resources__Output } from '@wharf/proto';
import type { KubernetesWorkerConfig, WorkerConfig } from '../config/worker-config.js';
import { kubernetesCapacity } from './kubernetes-capacity.js';
import { LABEL_MANAGED_BY } from './kubernetes-pod-spec.js';
import { KubernetesRuntime, kubeErrorMessage } from './kubernetes-runtime.js';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubernetesSetup {
  capacity: Resources__Output;
  namespace: string;
  /** the runtime for this worker (its pods carry the worker id) */
  createRuntime(workerId: string): KubernetesRuntime;
}

/** The cluster connection and the namespace to use. Throws with what to set when there is none. */
export function loadKubeConfig(k8s: KubernetesWorkerConfig): { kubeConfig: KubeConfig; namespace: string; source: string } {
  const kubeConfig = new KubeConfig();
  let source: string;
  let inClusterNamespace: string | undefined;
  if (k8s.kubeconfigPath !== undefined) {
    const files = k8s.kubeconfigPath.split(path.delimiter).filter((f) => f !== '');
    const [first, ...rest] = files;
    if (first === undefined) throw new Error('KUBECONFIG (--k8s-kubeconfig) names no file');
    kubeConfig.loadFromFile(first);
    for (const file of rest) {
      const other = new KubeConfig();
      other.loadFromFile(file);
      kubeConfig.mergeConfig(other);
    }
    source = files.join(path.delimiter);
  } else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) {
    kubeConfig.loadFromCluster();
    source = 'the in-cluster service account';
    try {
      inClusterNamespace = readFileSync(path.join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
    } catch {
      inClusterNamespace = undefined;
    }
  } else if (existsSync(path.join(os.homedir(), '.kube', 'config'))) {
    kubeConfig.loadFromFile(path.join(os.homedir(), '.kube', 'config'));
    source = '~/.kube/config';
  } else {
    throw new Error(
      'the kubernetes runtime finds no cluster: set KUBECONFIG (or --k8s-kubeconfig) to a kubeconfig file, or run the worker inside the cluster (deploy/kubernetes/)',
    );
  }
  if (!kubeConfig.getCurrentCluster()) throw new Error(`the Kubernetes config from ${source} has no current cluster`);
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const namespace = k8s.namespace ?? inClusterNamespace ?? contextNamespace ?? 'default';
  return { kubeConfig, namespace, source };
}

export async function createKubernetesSetup(config: WorkerConfig, logger: Logger): Promise<KubernetesSetup> {
  const k8s = config.kubernetes;
  if (!k8s) throw new Error('the kubernetes runtime is not configured (--runtimes kubernetes)');
  const { kubeConfig, namespace, source } = loadKubeConfig(k8s);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.listNamespacedPod({ namespace, labelSelector: `${LABEL_MANAGED_BY}=wharf`, limit: 1 });
  } catch (error: unknown) {
    throw new Error(
      `the Kubernetes API at ${kubeConfig.getCurrentCluster()?.server} (config from ${source}) does not let this worker list pods in namespace ${namespace}: ${kubeErrorMessage(error)}; check the config, --k8s-namespace and the worker's Role (deploy/kubernetes/rbac.yaml)`,
      { cause: error },
    );
  }
  const capacity = await kubernetesCapacity(core, namespace, config.capacityCaps);
  logger.info({ server: kubeConfig.getCurrentCluster()?.server, namespace, source, capacity }, 'kubernetes runtime ready');
  return {
    capacity,
    namespace,
    createRuntime: (workerId) =>
      new KubernetesRuntime({
        kubeConfig,
        workerId,
        namespace,
        ...(k8s.serviceAccount !== undefined ? { serviceAccount: k8s.serviceAccount } : {}),
        nodeSelector: k8s.nodeSelector,
        tolerations: k8s.tolerations,
        imagePullSecrets: k8s.imagePullSecrets,
        helperImage: k8s.helperImage,
        ...(k8s.cacheHostPath !== undefined ? { cacheHostPath: k8s.cacheHostPath } : {}),
        pendingTimeoutMs: k8s.pendingTimeoutMs,
        logger: logger.child({ component: 'kubernetes', namespace }),
      }),
  };
}
