// Worker configuration in three stages, each a pure step that is tested alone:
//   raw      — strings as given by command-line flags (which win) and WHARF_* environment variables
//   validated — zod schema: types, defaults and one clear message per bad value
//   compiled — WorkerConfig: sizes in bytes, cores as numbers, durations as …Ms
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { CA_HASH_PATTERN, parseBytes, parseCpu, parseDurationMs } from '@wharf/proto';

export type RuntimeName = 'docker' | 'exec' | 'kubernetes';

export interface WorkerConfig {
  /**
   * The master's gRPC address HOST:PORT, or several masters as a comma list
   * (session/master-candidates.ts: the worker finds and follows the leader).
   */
  masterAddress: string;
  /**
   * The join token (--token-file, WHARF_JOIN_TOKEN, or --token): needed only to join, when the
   * data dir holds no certificate yet (worker/src/identity/).
   */
  joinToken?: string | undefined;
  /** How the worker trusts the master on first contact: the CA's hash (kubeadm's format)... */
  caHash?: string | undefined;
  /** ...or the CA certificate itself (PEM file). */
  caFile?: string | undefined;
  /** Throwaway labs only: trust whatever CA the master presents on first contact. */
  insecureSkipCaVerification?: boolean | undefined;
  /** The name the master's certificate must carry, when it differs from the --master host (NAT). */
  tlsServerName?: string | undefined;
  name: string;
  /**
   * Where other workers reach this worker's gang members (--advertise-address): a host name or
   * IP, no port. Absent: the master uses the address it sees this worker's Register come from.
   */
  advertiseAddress?: string | undefined;
  dataDir: string;
  runtimes: RuntimeName[];
  capacityCaps: { cpu?: number; memory?: number; gpu?: number; disk?: number };
  /**
   * The GPU device ids this worker offers (--gpus 0,1 / --gpu-ids, WHARF_GPU_IDS): indices or
   * UUIDs as nvidia-container-toolkit takes them. Absent: detected (systeminformation's NVIDIA
   * controllers, numbered 0…n-1 in the order it lists them).
   */
  gpuIds?: string[] | undefined;
  labels: Record<string, string>;
  heartbeatIntervalMs: number;
  cancelGraceSeconds: number;
  /**
   * Fencing: stop every running attempt after this long without contact with the master
   * (--stop-after); absent = the master's heartbeat TTL, learned at Register.
   */
  stopAfterMs?: number;
  logBatchMs: number;
  logBatchBytes: number;
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  pidsLimit: number;
  logLevel: string;
  /** Docker: the network every task joins unless it asks otherwise; absent = wharf-tasks (--task-network). */
  taskNetwork?: string;
  /** Docker: tasks that name no user run as this one, e.g. 65534:65534 (--default-user). */
  defaultUser?: string;
  /** Size limit of the DAG artifact cache in <dataDir>/cache; absent = 10 GiB (--cache-max-bytes). */
  cacheMaxBytes?: number;
  dockerSocketPath?: string;
  /** Present when the worker offers the kubernetes runtime. */
  kubernetes?: KubernetesWorkerConfig;
}

/** A toleration as the pod spec wants it (from --k8s-toleration key=value:Effect). */
export interface KubernetesToleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** Settings of the kubernetes runtime (each attempt becomes a pod). */
export interface KubernetesWorkerConfig {
  /** KUBECONFIG (or --k8s-kubeconfig); unset: in-cluster config, then ~/.kube/config. */
  kubeconfigPath?: string;
  /** Unset: the namespace of the in-cluster service account or of the kubeconfig context, else "default". */
  namespace?: string;
  serviceAccount?: string;
  nodeSelector: Record<string, string>;
  tolerations: KubernetesToleration[];
  imagePullSecrets: string[];
  /** A pod that has not started its task container after this long fails the attempt. */
  pendingTimeoutMs: number;
  /** A node-local folder for input artifacts, mounted as a hostPath into the init container. */
  cacheHostPath?: string;
  /** The image of the init container (stages inputs) and the output sidecar: needs sh, wget, sha256sum, tar. */
  helperImage: string;
}

/** A setting is missing or wrong; the message names the flag or variable to set. */
export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
}

/** The most a log frame may carry, whatever logBatchBytes says. */
export const MAX_LOG_FRAME_BYTES = 64 * 1024;

const RUNTIME_NAMES: readonly RuntimeName[] = ['docker', 'exec', 'kubernetes'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every setting: its flag, its environment variable, and whether the flag may repeat. */
const SETTINGS = {
  master: { flag: '--master', env: 'WHARF_MASTER' },
  token: { flag: '--token', env: 'WHARF_JOIN_TOKEN' },
  tokenFile: { flag: '--token-file', env: 'WHARF_JOIN_TOKEN_FILE' },
  caHash: { flag: '--ca-hash', env: 'WHARF_CA_HASH' },
  caFile: { flag: '--ca-file', env: 'WHARF_CA_FILE' },
  insecureSkipCaVerification: { flag: '--insecure-skip-ca-verification', env: 'WHARF_INSECURE_SKIP_CA_VERIFICATION' },
  tlsServerName: { flag: '--tls-server-name', env: 'WHARF_TLS_SERVER_NAME' },
  name: { flag: '--name', env: 'WHARF_WORKER_NAME' },
  advertiseAddress: { flag: '--advertise-address', env: 'WHARF_ADVERTISE_ADDRESS' },
  dataDir: { flag: '--data-dir', env: 'WHARF_DATA_DIR' },
  runtimes: { flag: '--runtimes', env: 'WHARF_RUNTIMES' },
  cpu: { flag: '--cpu', env: 'WHARF_CPU' },
  memory: { flag: '--memory', env: 'WHARF_MEMORY' },
  gpu: { flag: '--gpu', env: 'WHARF_GPU' },
  gpuIds: { flag: '--gpus', env: 'WHARF_GPU_IDS' },
  disk: { flag: '--disk', env: 'WHARF_DISK' },
  labels: { flag: '--label', env: 'WHARF_LABELS' },
  heartbeatMs: { flag: '--heartbeat-ms', env: 'WHARF_HEARTBEAT_MS' },
  cancelGraceSeconds: { flag: '--cancel-grace-seconds', env: 'WHARF_CANCEL_GRACE_SECONDS' },
  stopAfter: { flag: '--stop-after', env: 'WHARF_STOP_AFTER' },
  logBatchMs: { flag: '--log-batch-ms', env: 'WHARF_LOG_BATCH_MS' },
  logBatchBytes: { flag: '--log-batch-bytes', env: 'WHARF_LOG_BATCH_BYTES' },
  reconnectBaseMs: { flag: '--reconnect-base-ms', env: 'WHARF_RECONNECT_BASE_MS' },
  reconnectMaxMs: { flag: '--reconnect-max-ms', env: 'WHARF_RECONNECT_MAX_MS' },
  pidsLimit: { flag: '--pids-limit', env: 'WHARF_PIDS_LIMIT' },
  taskNetwork: { flag: '--task-network', env: 'WHARF_TASK_NETWORK' },
  defaultUser: { flag: '--default-user', env: 'WHARF_DEFAULT_USER' },
  cacheMaxBytes: { flag: '--cache-max-bytes', env: 'WHARF_CACHE_MAX_BYTES' },
  logLevel: { flag: '--log-level', env: 'WHARF_LOG_LEVEL' },
  dockerSocket: { flag: '--docker-socket', env: 'DOCKER_HOST' },
  k8sKubeconfig: { flag: '--k8s-kubeconfig', env: 'KUBECONFIG' },
  k8sNamespace: { flag: '--k8s-namespace', env: 'WHARF_K8S_NAMESPACE' },
  k8sServiceAccount: { flag: '--k8s-service-account', env: 'WHARF_K8S_SERVICE_ACCOUNT' },
  k8sNodeSelector: { flag: '--k8s-node-selector', env: 'WHARF_K8S_NODE_SELECTOR' },
  k8sTolerations: { flag: '--k8s-toleration', env: 'WHARF_K8S_TOLERATIONS' },
  k8sImagePullSecrets: { flag: '--k8s-image-pull-secret', env: 'WHARF_K8S_IMAGE_PULL_SECRETS' },
  k8sPendingTimeout: { flag: '--k8s-pending-timeout', env: 'WHARF_K8S_PENDING_TIMEOUT' },
  k8sCacheHostPath: { flag: '--k8s-cache-host-path', env: 'WHARF_K8S_CACHE_HOST_PATH' },
  k8sHelperImage: { flag: '--k8s-helper-image', env: 'WHARF_K8S_HELPER_IMAGE' },
} as const;

type SettingKey = keyof typeof SETTINGS;
/** Settings whose flag may stand alone (meaning true). */
const BOOLEAN_SETTINGS: readonly SettingKey[] = ['insecureSkipCaVerification'];
/** Settings whose flag may repeat; their variable holds a comma-separated list. */
const LIST_SETTINGS = ['labels', 'k8sNodeSelector', 'k8sTolerations', 'k8sImagePullSecrets'] as const;
type ListSettingKey = (typeof LIST_SETTINGS)[number];
const isListSetting = (key: SettingKey): key is ListSettingKey => (LIST_SETTINGS as readonly string[]).includes(key);
type RawSettings = Partial<Record<Exclude<SettingKey, ListSettingKey>, string>> & Record<ListSettingKey, string[]>;

/** One line of usage per setting, for `wharf-worker --help`. */
export function describeWorkerSettings(): string[] {
  return Object.values(SETTINGS).map((s) => `${s.flag.padEnd(24)} ${s.env}`);
}

function where(key: SettingKey): string {
  const s = SETTINGS[key];
  return `${s.flag} or ${s.env}`;
}

// ---------------------------------------------------------------- stage 1: raw

function readFlags(argv: string[]): Partial<Record<SettingKey, string[]>> {
  const byFlag = new Map<string, SettingKey>();
  for (const [key, s] of Object.entries(SETTINGS)) byFlag.set(s.flag, key as SettingKey);
  // --gpu-ids is --gpus by its other name
  byFlag.set('--gpu-ids', 'gpuIds');
  const out: Partial<Record<SettingKey, string[]>> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      throw new WorkerConfigError(`unexpected argument "${arg}": settings are given as --flag value`);
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const key = byFlag.get(flag);
    if (key === undefined) {
      const known = Object.values(SETTINGS).map((s) => s.flag).join(', ');
      throw new WorkerConfigError(`unknown flag ${flag} (known flags: ${known})`);
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else if (BOOLEAN_SETTINGS.includes(key)) {
      value = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new WorkerConfigError(`flag ${flag} needs a value`);
      }
      value = next;
      i += 1;
    }
    if (!isListSetting(key) && out[key] !== undefined) {
      throw new WorkerConfigError(`flag ${flag} is given twice`);
    }
    (out[key] ??= []).push(value);
  }
  return out;
}

function readRaw(argv: string[], env: NodeJS.ProcessEnv): RawSettings {
  const flags = readFlags(argv);
  const raw: RawSettings = { labels: [], k8sNodeSelector: [], k8sTolerations: [], k8sImagePullSecrets: [] };
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const fromFlag = flags[key];
    const fromEnv = env[SETTINGS[key].env];
    if (isListSetting(key)) {
      if (fromFlag) raw[key] = fromFlag;
      else if (fromEnv !== undefined && fromEnv.trim() !== '') raw[key] = fromEnv.split(',');
      continue;
    }
    const value = fromFlag?.[0] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

// ---------------------------------------------------------------- stage 2: validated

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER as never;
}

function intSetting(key: SettingKey, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const n = Number(value.trim());
      if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
        return fail(ctx, `invalid ${where(key)} "${value}": expected a whole number from ${min} to ${max}`);
      }
      return n;
    });
}

function bytesSetting(key: SettingKey) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const n = parseBytes(value);
      if (n === undefined) return fail(ctx, `invalid ${where(key)} "${value}": not a size (use e.g. 512Mi, 4Gi, 20G)`);
      return n;
    });
}

// Kubernetes names: a label key may carry a DNS prefix ("example.com/zone"); values, names of
// service accounts and secrets follow the DNS-1123 rules.
const K8S_LABEL_KEY = /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const K8S_LABEL_VALUE = /^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const K8S_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

function k8sNameSetting(key: SettingKey) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!K8S_NAME.test(value.trim())) {
        return fail(ctx, `invalid ${where(key)} "${value}": expected a Kubernetes name (lower-case letters, digits, "-" and ".")`);
      }
      return value.trim();
    });
}

/** `key=value:Effect`, `key=value`, `key:Effect` or `key` (the last two tolerate any value). */
function parseToleration(entry: string): KubernetesToleration | undefined {
  const match = /^([^=:\s]+)(?:=([^:\s]*))?(?::(\w+))?$/.exec(entry.trim());
  const key = match?.[1];
  if (!match || key === undefined || !K8S_LABEL_KEY.test(key)) return undefined;
  const value = match[2];
  const effectName = match[3];
  const effect = K8S_EFFECTS.find((e) => e === effectName);
  if (effectName !== undefined && !effect) return undefined;
  if (value !== undefined && !K8S_LABEL_VALUE.test(value)) return undefined;
  const toleration: KubernetesToleration = value === undefined ? { key, operator: 'Exists' } : { key, operator: 'Equal', value };
  if (effect) toleration.effect = effect;
  return toleration;
}

const MASTER_ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

const SettingsSchema = z.object({
  master: z
    .string({ error: `the master address is missing: set ${where('master')} to HOST:PORT` })
    .transform((value, ctx) => {
      // one master, or several (h1:50051,h2:50051,h3:50051): the worker finds the leader
      const entries = value.split(',').map((entry) => entry.trim());
      for (const entry of entries) {
        const match = MASTER_ADDRESS.exec(entry);
        const port = Number(match?.[1]);
        if (!match || port < 1 || port > 65535) {
          return fail(ctx, `invalid ${where('master')} "${value}": expected HOST:PORT or a comma list of them, e.g. 10.0.0.5:7070 or m1:50051,m2:50051`);
        }
      }
      return entries.join(',');
    }),
  token: z
    .string()
    .optional()
    .refine((t) => t === undefined || t.trim() !== '', { error: `the join token is empty: set ${where('token')}` }),
  tokenFile: z.string().optional(),
  caHash: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const hash = value.trim().toLowerCase();
      if (!CA_HASH_PATTERN.test(hash)) {
        return fail(ctx, `invalid ${where('caHash')} "${value}": expected sha256:<64 hex digits>, as in the join line the master prints`);
      }
      return hash;
    }),
  caFile: z.string().optional(),
  insecureSkipCaVerification: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || ['false', '0', 'no'].includes(value)) return false;
      if (['true', '1', 'yes'].includes(value)) return true;
      return fail(ctx, `invalid ${where('insecureSkipCaVerification')} "${value}": expected true or false`);
    }),
  tlsServerName: z.string().optional(),
  name: z.string().optional(),
  advertiseAddress: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const trimmed = value?.trim();
      if (trimmed === undefined || trimmed === '') return undefined;
      if (!/^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|[0-9A-Fa-f:.]{2,45})$/.test(trimmed)) {
        return fail(ctx, `invalid ${where('advertiseAddress')} "${trimmed.slice(0, 60)}": expected a host name, an IPv4 or an IPv6 address, without a port`);
      }
      return trimmed;
    }),
  dataDir: z.string().optional(),
  runtimes: z
    .string()
    .optional()
    .transform((value, ctx): RuntimeName[] => {
      if (value === undefined) return ['docker'];
      const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (names.length === 0) return fail(ctx, `invalid ${where('runtimes')}: name at least one of ${RUNTIME_NAMES.join(', ')}`);
      const out: RuntimeName[] = [];
      for (const n of names) {
        const known = RUNTIME_NAMES.find((r) => r === n);
        if (!known) return fail(ctx, `invalid ${where('runtimes')}: unknown runtime "${n}" (known: ${RUNTIME_NAMES.join(', ')})`);
        if (!out.includes(known)) out.push(known);
      }
      return out;
    }),
  cpu: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const n = parseCpu(value);
      if (n === undefined) return fail(ctx, `invalid ${where('cpu')} "${value}": expected cores, e.g. 2, 0.5 or 500m`);
      return n;
    }),
  memory: bytesSetting('memory'),
  disk: bytesSetting('disk'),
  gpu: intSetting('gpu', -1, 0, 1024).transform((n) => (n < 0 ? undefined : n)),
  gpuIds: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      // "none": this worker offers no GPUs, whatever is detected
      if (value.trim() === 'none') return [];
      const ids = value.split(',').map((id) => id.trim());
      if (ids.some((id) => !/^[A-Za-z0-9][A-Za-z0-9:.-]{0,63}$/.test(id)) || new Set(ids).size !== ids.length) {
        return fail(ctx, `invalid ${where('gpuIds')} "${value}": expected distinct device indices or UUIDs separated by commas, e.g. 0,1 or GPU-8f3c…, or none`);
      }
      return ids;
    }),
  labels: z.array(z.string()).transform((entries, ctx) => {
    const labels: Record<string, string> = {};
    for (const entry of entries) {
      const eq = entry.indexOf('=');
      const key = eq > 0 ? entry.slice(0, eq).trim() : '';
      if (key === '') return fail(ctx, `invalid ${where('labels')} "${entry}": expected key=value`);
      labels[key] = entry.slice(eq + 1).trim();
    }
    return labels;
  }),
  heartbeatMs: intSetting('heartbeatMs', 5000, 100, 600_000),
  cancelGraceSeconds: intSetting('cancelGraceSeconds', 10, 0, 3600),
  stopAfter: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const ms = parseDurationMs(value);
      if (ms === undefined || ms < 100 || ms > 86_400_000) {
        return fail(ctx, `invalid ${where('stopAfter')} "${value}": expected a duration from 100ms to 1d, e.g. 15s or 2m`);
      }
      return ms;
    }),
  logBatchMs: intSetting('logBatchMs', 50, 1, 60_000),
  logBatchBytes: intSetting('logBatchBytes', 65536, 1, MAX_LOG_FRAME_BYTES),
  reconnectBaseMs: intSetting('reconnectBaseMs', 250, 1, 600_000),
  reconnectMaxMs: intSetting('reconnectMaxMs', 10_000, 1, 3_600_000),
  pidsLimit: intSetting('pidsLimit', 1024, 1, 4_194_304),
  taskNetwork: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const name = value.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name) || ['bridge', 'host', 'none', 'default'].includes(name)) {
        return fail(ctx, `invalid ${where('taskNetwork')} "${value}": expected a Docker network name of your own (not bridge, host or none)`);
      }
      return name;
    }),
  defaultUser: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const user = value.trim();
      if (!/^([0-9]{1,10}|[a-z_][a-z0-9_.-]{0,31})(:([0-9]{1,10}|[a-z_][a-z0-9_.-]{0,31}))?$/.test(user)) {
        return fail(ctx, `invalid ${where('defaultUser')} "${value}": expected uid, uid:gid or a user name, e.g. 65534:65534`);
      }
      return user;
    }),
  cacheMaxBytes: bytesSetting('cacheMaxBytes'),
  logLevel: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return 'info';
      const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase());
      if (!level) return fail(ctx, `invalid ${where('logLevel')} "${value}": expected one of ${LOG_LEVELS.join(', ')}`);
      return level;
    }),
  dockerSocket: z
    .string()
    .optional()
    .transform((value) => {
      if (value === undefined) return undefined;
      if (value.startsWith('unix://')) return value.slice('unix://'.length);
      if (value.startsWith('/')) return value;
      return undefined; // tcp:// and friends: dockerode reads DOCKER_HOST itself
    }),
  k8sKubeconfig: z.string().optional(),
  k8sNamespace: k8sNameSetting('k8sNamespace'),
  k8sServiceAccount: k8sNameSetting('k8sServiceAccount'),
  k8sNodeSelector: z.array(z.string()).transform((entries, ctx) => {
    const selector: Record<string, string> = {};
    for (const entry of entries) {
      const eq = entry.indexOf('=');
      const key = eq > 0 ? entry.slice(0, eq).trim() : '';
      const value = entry.slice(eq + 1).trim();
      if (!K8S_LABEL_KEY.test(key) || !K8S_LABEL_VALUE.test(value)) {
        return fail(ctx, `invalid ${where('k8sNodeSelector')} "${entry}": expected a node label as key=value`);
      }
      selector[key] = value;
    }
    return selector;
  }),
  k8sTolerations: z.array(z.string()).transform((entries, ctx) => {
    const tolerations: KubernetesToleration[] = [];
    for (const entry of entries) {
      const toleration = parseToleration(entry);
      if (!toleration) {
        return fail(
          ctx,
          `invalid ${where('k8sTolerations')} "${entry}": expected key=value:Effect, key=value, key:Effect or key (Effect: ${K8S_EFFECTS.join(', ')})`,
        );
      }
      tolerations.push(toleration);
    }
    return tolerations;
  }),
  k8sImagePullSecrets: z.array(z.string()).transform((entries, ctx) => {
    const names = entries.map((e) => e.trim()).filter((e) => e !== '');
    const bad = names.find((n) => !K8S_NAME.test(n));
    if (bad !== undefined) return fail(ctx, `invalid ${where('k8sImagePullSecrets')} "${bad}": expected the name of a Secret`);
    return [...new Set(names)];
  }),
  k8sPendingTimeout: intSetting('k8sPendingTimeout', 300, 1, 86_400),
  k8sCacheHostPath: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      if (!path.posix.isAbsolute(value.trim()) || value.trim() === '/') {
        return fail(ctx, `invalid ${where('k8sCacheHostPath')} "${value}": expected an absolute folder on the nodes, e.g. /var/cache/wharf`);
      }
      return path.posix.normalize(value.trim()).replace(/\/+$/, '');
    }),
  k8sHelperImage: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return 'busybox:1.36';
      if (value.trim() === '' || /\s/.test(value.trim())) return fail(ctx, `invalid ${where('k8sHelperImage')} "${value}": expected an image reference`);
      return value.trim();
    }),
});

// ---------------------------------------------------------------- stage 3: compiled

/** Reads flags (argv without node and script) and environment into a WorkerConfig, or throws WorkerConfigError. */
export function loadWorkerConfig(argv: string[], env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = SettingsSchema.safeParse(readRaw(argv, env));
  if (!parsed.success) {
    throw new WorkerConfigError(parsed.error.issues.map((issue) => issue.message).join('; '));
  }
  const s = parsed.data;
  if (s.reconnectMaxMs < s.reconnectBaseMs) {
    throw new WorkerConfigError(
      `${where('reconnectMaxMs')} (${s.reconnectMaxMs}) must not be below ${where('reconnectBaseMs')} (${s.reconnectBaseMs})`,
    );
  }
  const trust = [s.caHash !== undefined, s.caFile !== undefined, s.insecureSkipCaVerification].filter(Boolean).length;
  if (trust > 1) {
    throw new WorkerConfigError(`give one of ${where('caHash')}, ${where('caFile')} and ${SETTINGS.insecureSkipCaVerification.flag}`);
  }
  const joinToken = readJoinToken(s.token, s.tokenFile, argv);
  const capacityCaps: WorkerConfig['capacityCaps'] = {};
  if (s.cpu !== undefined) capacityCaps.cpu = s.cpu;
  if (s.memory !== undefined) capacityCaps.memory = s.memory;
  if (s.gpu !== undefined) capacityCaps.gpu = s.gpu;
  if (s.disk !== undefined) capacityCaps.disk = s.disk;
  const config: WorkerConfig = {
    masterAddress: s.master,
    joinToken,
    name: s.name?.trim() || os.hostname(),
    ...(s.advertiseAddress !== undefined ? { advertiseAddress: s.advertiseAddress } : {}),
    dataDir: path.resolve(s.dataDir ?? path.join(env['HOME'] ?? os.homedir(), '.wharf', 'worker')),
    runtimes: s.runtimes,
    capacityCaps,
    ...(s.gpuIds !== undefined ? { gpuIds: s.gpuIds } : {}),
    labels: s.labels,
    heartbeatIntervalMs: s.heartbeatMs,
    cancelGraceSeconds: s.cancelGraceSeconds,
    logBatchMs: s.logBatchMs,
    logBatchBytes: s.logBatchBytes,
    reconnectBaseMs: s.reconnectBaseMs,
    reconnectMaxMs: s.reconnectMaxMs,
    pidsLimit: s.pidsLimit,
    logLevel: s.logLevel,
  };
  if (s.caHash !== undefined) config.caHash = s.caHash;
  if (s.caFile !== undefined) config.caFile = path.resolve(s.caFile);
  if (s.insecureSkipCaVerification) config.insecureSkipCaVerification = true;
  if (s.tlsServerName !== undefined && s.tlsServerName.trim() !== '') config.tlsServerName = s.tlsServerName.trim();
  if (s.dockerSocket !== undefined) config.dockerSocketPath = s.dockerSocket;
  if (s.stopAfter !== undefined) config.stopAfterMs = s.stopAfter;
  if (s.taskNetwork !== undefined) config.taskNetwork = s.taskNetwork;
  if (s.defaultUser !== undefined) config.defaultUser = s.defaultUser;
  if (s.cacheMaxBytes !== undefined) config.cacheMaxBytes = s.cacheMaxBytes;
  const kubernetes = compileKubernetes(s, readRaw(argv, env));
  if (kubernetes) config.kubernetes = kubernetes;
  return config;
}

/**
 * The join token: from --token-file (or WHARF_JOIN_TOKEN_FILE), else --token / WHARF_JOIN_TOKEN.
 * Absent is fine here: a worker that has joined needs none (startWorker says so when it does).
 */
function readJoinToken(token: string | undefined, tokenFile: string | undefined, argv: readonly string[]): string | undefined {
  if (tokenFile !== undefined && tokenOnCommandLine(argv)) {
    throw new WorkerConfigError(`give the join token once: ${SETTINGS.tokenFile.flag} or ${SETTINGS.token.flag}, not both`);
  }
  if (tokenFile === undefined) return token?.trim();
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8');
  } catch (error: unknown) {
    throw new WorkerConfigError(`cannot read the join token from ${where('tokenFile')} "${tokenFile}": ${error instanceof Error ? error.message : String(error)}`);
  }
  const value = text.trim();
  if (value === '') throw new WorkerConfigError(`${where('tokenFile')} "${tokenFile}" is empty: it must hold the join token`);
  return value;
}

/** Whether --token was given on the command line (visible to anyone running `ps`). */
export function tokenOnCommandLine(argv: readonly string[]): boolean {
  return argv.some((arg) => arg === SETTINGS.token.flag || arg.startsWith(`${SETTINGS.token.flag}=`));
}

/** The kubernetes runtime's settings, or undefined when the worker does not offer it. */
function compileKubernetes(s: z.output<typeof SettingsSchema>, raw: RawSettings): KubernetesWorkerConfig | undefined {
  if (!s.runtimes.includes('kubernetes')) {
    // KUBECONFIG is often set for other tools; only Wharf's own kubernetes settings conflict
    const given = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => {
      if (!key.startsWith('k8s') || key === 'k8sKubeconfig') return false;
      const value = raw[key];
      return Array.isArray(value) ? value.length > 0 : value !== undefined;
    });
    const first = given[0];
    if (first !== undefined) {
      throw new WorkerConfigError(`${where(first)} is set but ${where('runtimes')} does not include kubernetes`);
    }
    return undefined;
  }
  if (s.runtimes.length > 1) {
    // capacity is per worker: a cluster's quota and this machine's cores cannot be one number
    throw new WorkerConfigError(
      `invalid ${where('runtimes')} "${s.runtimes.join(',')}": the kubernetes runtime runs every task as a pod; give it a worker of its own (--runtimes kubernetes)`,
    );
  }
  const k8s: KubernetesWorkerConfig = {
    nodeSelector: s.k8sNodeSelector,
    tolerations: s.k8sTolerations,
    imagePullSecrets: s.k8sImagePullSecrets,
    pendingTimeoutMs: s.k8sPendingTimeout * 1000,
    helperImage: s.k8sHelperImage,
  };
  if (s.k8sKubeconfig !== undefined && s.k8sKubeconfig.trim() !== '') k8s.kubeconfigPath = s.k8sKubeconfig.trim();
  if (s.k8sNamespace !== undefined) k8s.namespace = s.k8sNamespace;
  if (s.k8sServiceAccount !== undefined) k8s.serviceAccount = s.k8sServiceAccount;
  if (s.k8sCacheHostPath !== undefined) k8s.cacheHostPath = s.k8sCacheHostPath;
  return k8s;
}
