// What a kubernetes worker offers the cluster: the capacity given by --cpu/--memory/--gpu/
// --disk, and for what they leave out, the hard limits of the ResourceQuotas of its namespace
// (the smallest when there are several). The machine the worker process runs on says nothing
// about the cluster, so cpu and memory must come from one or the other.
import type { CoreV1Api, V1ResourceQuota } from '@kubernetes/client-node';
import type { Resources__Output } from '@wharf/proto';
import type { WorkerConfig } from '../config/worker-config.js';
import { kubeErrorMessage } from './kubernetes-runtime.js';

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("500m", "8Gi", "1e3", "2") as a number of base units, or undefined. */
export function parseQuantity(text: string): number | undefined {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(text.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  const value = match[2] !== undefined ? Number(`${match[1]}${match[2]}`) : base * (SUFFIXES[match[3] ?? ''] ?? 1);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Quota keys that bound each resource of a pod that requests = limits. */
const QUOTA_KEYS = {
  cpu: ['requests.cpu', 'cpu', 'limits.cpu'],
  memory: ['requests.memory', 'memory', 'limits.memory'],
  gpu: ['requests.nvidia.com/gpu'],
  disk: ['requests.ephemeral-storage', 'ephemeral-storage', 'limits.ephemeral-storage'],
} as const;

/** The smallest hard limit any of the quotas sets for each resource. */
export function capacityFromQuotas(quotas: V1ResourceQuota[]): Partial<Resources__Output> {
  const out: Partial<Resources__Output> = {};
  for (const resource of Object.keys(QUOTA_KEYS) as (keyof typeof QUOTA_KEYS)[]) {
    for (const quota of quotas) {
      const hard = quota.spec?.hard ?? {};
      for (const key of QUOTA_KEYS[resource]) {
        const text = hard[key];
        const value = text === undefined ? undefined : parseQuantity(String(text));
        if (value === undefined) continue;
        const rounded = resource === 'cpu' ? value : Math.floor(value);
        out[resource] = Math.min(out[resource] ?? Number.POSITIVE_INFINITY, rounded);
      }
    }
  }
  return out;
}

export async function kubernetesCapacity(
  core: CoreV1Api,
  namespace: string,
  caps: WorkerConfig['capacityCaps'],
): Promise<Resources__Output> {
  let fromQuota: Partial<Resources__Output> = {};
  if (caps.cpu === undefined || caps.memory === undefined || caps.gpu === undefined || caps.disk === undefined) {
    try {
      fromQuota = capacityFromQuotas((await core.listNamespacedResourceQuota({ namespace })).items);
    } catch (error: unknown) {
      if (caps.cpu === undefined || caps.memory === undefined) {
        throw new Error(
          `cannot read the ResourceQuotas of namespace ${namespace} (${kubeErrorMessage(error)}): set --cpu and --memory (WHARF_CPU, WHARF_MEMORY) for the kubernetes worker, or let it list resourcequotas (deploy/kubernetes/rbac.yaml)`,
          { cause: error },
        );
      }
    }
  }
  const cpu = caps.cpu ?? fromQuota.cpu;
  const memory = caps.memory ?? fromQuota.memory;
  if (cpu === undefined || memory === undefined) {
    throw new Error(
      `the kubernetes worker does not know how much the cluster offers: set --cpu and --memory (WHARF_CPU, WHARF_MEMORY), or create a ResourceQuota with requests.cpu and requests.memory in namespace ${namespace}`,
    );
  }
  return { cpu, memory, gpu: caps.gpu ?? fromQuota.gpu ?? 0, disk: caps.disk ?? fromQuota.disk ?? 0 };
}
