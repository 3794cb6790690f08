// The pod one attempt runs in. Pure: an AttemptSpec and the worker's kubernetes settings in, a
// V1Pod out, so the whole shape is unit-tested (kubernetes-pod-spec.test.ts).
//
//   init container "wharf-inputs" (only when the task has inputs; helper image)
//       wget each input URL into the shared emptyDir /input, check its sha256; with a node
//       cache (hostPath at /cache) take a verified copy from /cache/<sha256> first and fill
//       the cache after a verified download
//   container "task"          the task's image with its own entrypoint; the task's command
//                             becomes `args` (it replaces only the image's CMD, as in Docker);
//                             /output (emptyDir) read-write, /input read-only; hardened like a
//                             Docker task: every capability dropped but the minimal set (plus
//                             capAdd), no privilege escalation, runAsUser/runAsGroup from a
//                             numeric `user`, readOnlyRootFilesystem with an emptyDir /tmp,
//                             imagePullPolicy from the task's pullPolicy; network host becomes
//                             hostNetwork. Not mapped (PodSpecError, the attempt fails saying
//                             so): network none and run, user names. Keeping pods apart is the
//                             namespace's NetworkPolicy (deploy/kubernetes/network-policy.yaml);
//                             registry credentials stored in Wharf are not used (the worker's
//                             --k8s-image-pull-secret Secrets are)
//   container "wharf-outputs" a tiny sidecar (helper image) that mounts /output read-only and
//                             stays alive after the task ends, so the worker can read the
//                             outputs through the API's exec (`tar cf - -C /output .`, as
//                             `kubectl cp` does) before it deletes the pod
//
// Because of the sidecar the pod stays Running after the task ends: the task's own container
// status, not the pod phase, says when and how it ended.
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod, V1ResourceRequirements, V1Volume } from '@kubernetes/client-node';
import type { KubernetesToleration } from '../config/worker-config.js';
import { MINIMAL_CAPABILITIES, type AttemptSpec, type EffectiveSettings, type RuntimeInput } from './task-runtime.js';

export const TASK_CONTAINER = 'task';
export const OUTPUTS_CONTAINER = 'wharf-outputs';
export const INPUTS_CONTAINER = 'wharf-inputs';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_TASK = 'wharf.task';
export const LABEL_ATTEMPT = 'wharf.attempt';
export const LABEL_WORKER = 'wharf.worker';
/** Label values are limited to 63 characters; the exact ids are kept in annotations. */
export const ANNOTATION_TASK_ID = 'wharf.io/task-id';
export const ANNOTATION_ATTEMPT_ID = 'wharf.io/attempt-id';
export const ANNOTATION_TIMEOUT = 'wharf.io/timeout-seconds';
/** The worker's host folder that receives the outputs (found again by recover()). */
export const ANNOTATION_OUTPUT_DIR = 'wharf.io/output-dir';

/**
 * Added to the pod's activeDeadlineSeconds at creation. The deadline counts from the pod's
 * start (image pulls included), so the first one allows the whole pending limit on top of the
 * task's timeout; once the task container runs, the runtime lowers it to the time already
 * spent + timeoutSeconds + this grace (see KubernetesRuntime.start).
 */
export const DEADLINE_GRACE_SECONDS = 30;

export interface PodSpecSettings {
  workerId: string;
  namespace: string;
  serviceAccount?: string;
  nodeSelector: Record<string, string>;
  tolerations: KubernetesToleration[];
  imagePullSecrets: string[];
  helperImage: string;
  /** A hostPath folder on the nodes caching input artifacts by sha256. */
  cacheHostPath?: string;
  pendingTimeoutSeconds: number;
  /** Default DEADLINE_GRACE_SECONDS. */
  deadlineGraceSeconds?: number;
}

export interface PodTaskInput {
  spec: AttemptSpec;
  /** The worker's folder that receives this attempt's outputs. */
  outputDir: string;
  inputs?: RuntimeInput[];
}

// a hostPath cache folder may be shared by many pods at once: fill it by rename only
const STAGE_INPUTS_SCRIPT = [
  'set -eu',
  'fail() { echo "$1" > /dev/termination-log; echo "$1" >&2; exit 1; }',
  'printf "%s\\n" "$WHARF_INPUTS" | while read -r sha size name url; do',
  '  [ -n "$sha" ] || continue',
  '  dest="/input/$name"',
  '  if [ -f "/cache/$sha" ] && echo "$sha  /cache/$sha" | sha256sum -c -s; then',
  '    cp "/cache/$sha" "$dest.part" && mv "$dest.part" "$dest"',
  '    echo "input $name ($size bytes): from the node cache"',
  '    continue',
  '  fi',
  '  wget -q -O "$dest.part" "$url" || fail "input $name: cannot download $url"',
  '  echo "$sha  $dest.part" | sha256sum -c -s || fail "input $name: the download does not match sha256 $sha"',
  '  mv "$dest.part" "$dest"',
  '  echo "input $name ($size bytes): downloaded"',
  '  if [ -d /cache ]; then',
  '    tmp="/cache/.$sha.$$"',
  '    cp "$dest" "$tmp" && mv "$tmp" "/cache/$sha" || rm -f "$tmp"',
  '  fi',
  'done',
].join('\n');

// sleeps in the background so that TERM (pod deletion) ends it at once
const OUTPUTS_SIDECAR_SCRIPT = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done';

const INPUT_NAME = /^[A-Za-z0-9._-]{1,255}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Thrown for an input that cannot be staged safely (a bad name, URL or hash). */
export class PodSpecError extends Error {
  override readonly name = 'PodSpecError';
}

/** The pod's name: DNS-1123, at most 63 characters, unique per attempt. */
export function podNameOf(attemptId: string): string {
  const cleaned = attemptId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const name = `wharf-${cleaned}`;
  if (cleaned === attemptId && name.length <= 63) return name;
  // something was changed or cut: add a hash of the real id so two attempts cannot collide
  const hash = createHash('sha256').update(attemptId).digest('hex').slice(0, 10);
  return `wharf-${cleaned.slice(0, 63 - 'wharf-'.length - hash.length - 1).replace(/-+$/, '')}-${hash}`.replace(/--+/g, '-');
}

/** A label value for an id: the id itself when Kubernetes accepts it, else a hash of it. */
export function labelValueOf(id: string): string {
  if (LABEL_VALUE.test(id)) return id;
  return `h-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

/** Cores as millicores ("1500m"); always rounds up so a task never gets less than it asked. */
export function cpuQuantity(cores: number): string {
  return `${Math.ceil(cores * 1000)}m`;
}

export function buildTaskPod(task: PodTaskInput, settings: PodSpecSettings): V1Pod {
  const { spec } = task;
  const inputs = task.inputs ?? [];
  for (const input of inputs) checkInput(input);
  if (new Set(inputs.map((i) => i.name)).size !== inputs.length) throw new PodSpecError('two inputs have the same name');

  const env: Record<string, string> = {
    WHARF_TASK_ID: spec.taskId,
    WHARF_ATTEMPT_ID: spec.attemptId,
    WHARF_OUTPUT_DIR: '/output',
    ...(inputs.length > 0 ? { WHARF_INPUT_DIR: '/input' } : {}),
    ...spec.env,
  };
  const taskContainer: V1Container = {
    name: TASK_CONTAINER,
    image: spec.image,
    env: Object.entries(env).map(([name, value]) => ({ name, value })),
    volumeMounts: [
      { name: 'output', mountPath: '/output' },
      ...(inputs.length > 0 ? [{ name: 'input', mountPath: '/input', readOnly: true }] : []),
    ],
    securityContext: taskSecurityContext(spec),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  const pullPolicy = spec.isolation.pullPolicy;
  if (pullPolicy !== 'IfNotPresent' && pullPolicy !== 'Always' && pullPolicy !== 'Never') {
    throw new PodSpecError(`pullPolicy "${pullPolicy}" is not known to this worker (known: IfNotPresent, Always, Never)`);
  }
  taskContainer.imagePullPolicy = pullPolicy;
  if (spec.isolation.readOnlyRootFilesystem) {
    // the image's files read-only; /tmp writable (counted against the pod's ephemeral storage)
    taskContainer.volumeMounts!.push({ name: 'tmp', mountPath: '/tmp' });
  }
  // `command` would replace the image's ENTRYPOINT; `args` replaces only its CMD
  if (spec.command.length > 0) taskContainer.args = [...spec.command];
  const resources = taskResources(spec);
  if (resources) taskContainer.resources = resources;

  const outputsContainer: V1Container = {
    name: OUTPUTS_CONTAINER,
    image: settings.helperImage,
    command: ['sh', '-c', OUTPUTS_SIDECAR_SCRIPT],
    volumeMounts: [{ name: 'output', mountPath: '/output', readOnly: true }],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
    securityContext: { allowPrivilegeEscalation: false },
  };

  const volumes: V1Volume[] = [{ name: 'output', emptyDir: {} }];
  if (spec.isolation.readOnlyRootFilesystem) volumes.push({ name: 'tmp', emptyDir: spec.resources.disk > 0 ? { sizeLimit: String(spec.resources.disk) } : {} });
  const initContainers: V1Container[] = [];
  if (inputs.length > 0) {
    volumes.push({ name: 'input', emptyDir: {} });
    const mounts = [{ name: 'input', mountPath: '/input' }];
    if (settings.cacheHostPath !== undefined) {
      volumes.push({ name: 'cache', hostPath: { path: settings.cacheHostPath, type: 'DirectoryOrCreate' } });
      mounts.push({ name: 'cache', mountPath: '/cache' });
    }
    initContainers.push({
      name: INPUTS_CONTAINER,
      image: settings.helperImage,
      command: ['sh', '-c', STAGE_INPUTS_SCRIPT],
      env: [{ name: 'WHARF_INPUTS', value: inputs.map((i) => `${i.sha256} ${i.size} ${i.name} ${i.url}`).join('\n') }],
      volumeMounts: mounts,
      resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      securityContext: { allowPrivilegeEscalation: false },
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
  }

  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameOf(spec.attemptId),
      namespace: settings.namespace,
      labels: {
        [LABEL_MANAGED_BY]: 'wharf',
        [LABEL_TASK]: labelValueOf(spec.taskId),
        [LABEL_ATTEMPT]: labelValueOf(spec.attemptId),
        [LABEL_WORKER]: labelValueOf(settings.workerId),
      },
      annotations: {
        [ANNOTATION_TASK_ID]: spec.taskId,
        [ANNOTATION_ATTEMPT_ID]: spec.attemptId,
        [ANNOTATION_TIMEOUT]: String(spec.timeoutSeconds),
        [ANNOTATION_OUTPUT_DIR]: task.outputDir,
      },
    },
    spec: {
      restartPolicy: 'Never',
      enableServiceLinks: false,
      // a task gets API credentials only from a service account chosen for it
      automountServiceAccountToken: settings.serviceAccount !== undefined,
      containers: [taskContainer, outputsContainer],
      volumes,
    },
  };
  const podSpec = pod.spec!;
  if (initContainers.length > 0) podSpec.initContainers = initContainers;
  if (spec.timeoutSeconds > 0) {
    podSpec.activeDeadlineSeconds =
      spec.timeoutSeconds + settings.pendingTimeoutSeconds + (settings.deadlineGraceSeconds ?? DEADLINE_GRACE_SECONDS);
  }
  if (settings.serviceAccount !== undefined) podSpec.serviceAccountName = settings.serviceAccount;
  if (Object.keys(settings.nodeSelector).length > 0) podSpec.nodeSelector = { ...settings.nodeSelector };
  if (settings.tolerations.length > 0) podSpec.tolerations = settings.tolerations.map((t) => ({ ...t }));
  if (settings.imagePullSecrets.length > 0) podSpec.imagePullSecrets = settings.imagePullSecrets.map((name) => ({ name }));
  const network = spec.isolation.network;
  if (network === 'host') podSpec.hostNetwork = true;
  else if (network !== 'default') {
    const why =
      network === 'none' || network === 'run'
        ? `network "${network}" is not available on the kubernetes runtime (pods share the cluster network; keep them apart with a NetworkPolicy)`
        : `network "${network}" is not known to this worker (known: default, none, host, run)`;
    throw new PodSpecError(why);
  }
  return pod;
}

/** uid[:gid] as numbers, or a PodSpecError: Kubernetes takes no user names. */
function numericUser(user: string): { uid: number; gid?: number } {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  if (!match) throw new PodSpecError(`user "${user}": the kubernetes runtime needs a numeric uid or uid:gid (runAsUser/runAsGroup)`);
  return match[2] === undefined ? { uid: Number(match[1]) } : { uid: Number(match[1]), gid: Number(match[2]) };
}

function capabilitiesOf(spec: AttemptSpec): string[] {
  return [...new Set([...MINIMAL_CAPABILITIES, ...spec.isolation.capAdd.map((c) => c.toUpperCase().replace(/^CAP_/, ''))])].sort();
}

function taskSecurityContext(spec: AttemptSpec): NonNullable<V1Container['securityContext']> {
  const context: NonNullable<V1Container['securityContext']> = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: capabilitiesOf(spec) },
  };
  if (spec.isolation.readOnlyRootFilesystem) context.readOnlyRootFilesystem = true;
  if (spec.isolation.user !== undefined) {
    const { uid, gid } = numericUser(spec.isolation.user);
    context.runAsUser = uid;
    if (gid !== undefined) context.runAsGroup = gid;
  }
  return context;
}

/** What a task pod applies (reported with `started`), from the same rules as buildTaskPod. */
export function effectiveOfPod(spec: AttemptSpec): EffectiveSettings {
  return {
    cpu: spec.resources.cpu,
    memory: spec.resources.memory,
    // ephemeral-storage: the kubelet evicts the pod past it
    disk: spec.resources.disk,
    // the node's pod pids limit applies; the pod spec has none
    pidsLimit: 0,
    user: spec.isolation.user ?? '',
    readOnlyRootFilesystem: spec.isolation.readOnlyRootFilesystem,
    noNewPrivileges: true,
    capabilities: capabilitiesOf(spec),
    network: spec.isolation.network === 'host' ? 'host' : 'pod',
    pullPolicy: spec.isolation.pullPolicy,
  };
}

/** Requests = limits (a task gets what it reserved on the worker, no more). */
function taskResources(spec: AttemptSpec): V1ResourceRequirements | undefined {
  const r = spec.resources;
  const amounts: Record<string, string> = {};
  if (r.cpu > 0) amounts['cpu'] = cpuQuantity(r.cpu);
  if (r.memory > 0) amounts['memory'] = String(r.memory);
  if (r.disk > 0) amounts['ephemeral-storage'] = String(r.disk);
  if (r.gpu > 0) amounts['nvidia.com/gpu'] = String(r.gpu);
  if (Object.keys(amounts).length === 0) return undefined;
  return { requests: { ...amounts }, limits: { ...amounts } };
}

function checkInput(input: RuntimeInput): void {
  if (!INPUT_NAME.test(input.name) || input.name === '.' || input.name === '..' || input.name.endsWith('.part')) {
    throw new PodSpecError(`input name ${JSON.stringify(input.name)} cannot name a file in /input`);
  }
  if (!SHA256.test(input.sha256)) throw new PodSpecError(`input ${input.name}: sha256 must be 64 lower-case hex digits`);
  if (!Number.isSafeInteger(input.size) || input.size < 0) throw new PodSpecError(`input ${input.name}: size must be a whole number of bytes`);
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new PodSpecError(`input ${input.name}: ${JSON.stringify(input.url)} is not a URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(input.url)) {
    throw new PodSpecError(`input ${input.name}: the URL must be http(s) without spaces`);
  }
}
