// What the Docker runtime asks the engine for, as one pure function of the attempt and the
// worker's settings (kubernetes-pod-spec.ts is its sibling for pods), so every hardening rule
// has a unit test without an engine:
//
//   - limits: NanoCpus (cpu), Memory = MemorySwap (memory, no swap beyond it), PidsLimit;
//   - capabilities: every one dropped, then the minimal set below plus the task's capAdd (the
//     master lets only admins ask); no-new-privileges always;
//   - user: the task's, else the worker's --default-user, else the image's own;
//   - readOnlyRootFilesystem: the image's files read-only, a tmpfs /tmp, /output (a bind mount)
//     and /input (read-only) as they are;
//   - network: the worker's tasks network (a bridge without inter-container traffic), none, host,
//     or the network of the task's DAG run, where the run's tasks find each other by task name;
//   - Docker's own log of the container is bounded (json-file, 2 × 256 MiB): Wharf ships and keeps
//     its own copy. The files are large as a precaution: a follow of a json-file log on Docker
//     20.10 lost 2 % of 300,000 lines with 16 MiB files, put down to the rotation before the
//     runtime read the log again after the exit (docker-log-reader.ts; with it the same test
//     lost nothing, so the early end of the follow stream was the likelier cause). The re-read
//     recovers the end of the log, not lines skipped mid-stream, so what Wharf keeps of an
//     attempt (WHARF_MAX_LOG_BYTES, 64 MiB) should come from the first file.
import type Dockerode from 'dockerode';
import { MINIMAL_CAPABILITIES, type AttemptPaths, type AttemptSpec, type EffectiveSettings } from './task-runtime.js';
import { RuntimeError } from './runtime-error.js';

/** Docker's json-file log of a container: at most this much, in this many files. */
export const CONTAINER_LOG_MAX_SIZE = '256m';
export const CONTAINER_LOG_MAX_FILES = '2';

export const LABEL_TASK = 'wharf.task';
export const LABEL_ATTEMPT = 'wharf.attempt';
export const LABEL_WORKER = 'wharf.worker';
export const LABEL_TIMEOUT = 'wharf.timeout';
export const LABEL_STARTED_AT = 'wharf.started-at';
/** the disk limit (bytes) the worker watches, so a restarted worker watches it again */
export const LABEL_DISK = 'wharf.disk';
/** a run network's group, on the network itself */
export const LABEL_GROUP = 'wharf.group';

export interface ContainerSpecSettings {
  workerId: string;
  pidsLimit: number;
  /** the worker's tasks network (a bridge with inter-container traffic disabled) */
  taskNetwork: string;
  /** --default-user: tasks that name no user run as this one */
  defaultUser?: string | undefined;
}

export interface ContainerSpec {
  create: Dockerode.ContainerCreateOptions;
  /** the network the container joins (what it is called on this engine) */
  network: NetworkChoice;
  effective: EffectiveSettings;
}

/** The network of a container: one of Docker's own (none, host), the tasks network, or a run's. */
export type NetworkChoice = { kind: 'builtin'; name: 'none' | 'host' } | { kind: 'tasks'; name: string } | { kind: 'group'; name: string; group: string };

export function containerName(attemptId: string): string {
  return `wharf-${attemptId}`;
}

/** The Docker network of a DAG run's tasks on this worker. */
export function groupNetworkName(group: string): string {
  return `wharf-run-${group.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100)}`;
}

/** A task name as a DNS label ("Train Model" -> "train-model"), or undefined when nothing is left. */
export function hostAlias(name: string): string | undefined {
  const label = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return label === '' ? undefined : label;
}

function networkOf(spec: AttemptSpec, settings: ContainerSpecSettings): NetworkChoice {
  const { network, networkGroup } = spec.isolation;
  switch (network) {
    case 'default':
      return { kind: 'tasks', name: settings.taskNetwork };
    case 'none':
    case 'host':
      return { kind: 'builtin', name: network };
    case 'run':
      if (networkGroup === '') throw new RuntimeError('unsupported', 'network "run" needs the DAG run it belongs to, and the assignment names none');
      return { kind: 'group', name: groupNetworkName(networkGroup), group: networkGroup };
    default:
      throw new RuntimeError('unsupported', `network "${network}" is not known to this worker (known: default, none, host, run)`);
  }
}

export function buildContainerSpec(
  spec: AttemptSpec,
  paths: AttemptPaths,
  settings: ContainerSpecSettings,
  options: { inputDir?: string | undefined; startedAtMs: number },
): ContainerSpec {
  const { gpu, cpu, memory, disk } = spec.resources;
  const { readOnlyRootFilesystem, capAdd } = spec.isolation;
  const network = networkOf(spec, settings);
  const capabilities = [...new Set([...MINIMAL_CAPABILITIES, ...capAdd.map((c) => c.toUpperCase().replace(/^CAP_/, ''))])].sort();
  const hostConfig: Dockerode.HostConfig = {
    PidsLimit: settings.pidsLimit,
    SecurityOpt: ['no-new-privileges'],
    CapDrop: ['ALL'],
    CapAdd: capabilities,
    // DAG inputs, staged by the worker beforehand, read-only
    Binds: [`${paths.output}:/output`, ...(options.inputDir ? [`${options.inputDir}:/input:ro`] : [])],
    NetworkMode: network.name,
    LogConfig: { Type: 'json-file', Config: { 'max-size': CONTAINER_LOG_MAX_SIZE, 'max-file': CONTAINER_LOG_MAX_FILES } },
  };
  if (cpu > 0) hostConfig.NanoCpus = Math.round(cpu * 1e9);
  if (memory > 0) {
    hostConfig.Memory = memory;
    hostConfig.MemorySwap = memory; // no swap beyond the limit
  }
  // the cards the master assigned by id (two 1-GPU tasks never share one); a count only when
  // the worker offers no ids (Count 1 then means whichever card the driver picks, GPU 0)
  const { gpuIds } = spec.resources;
  if (gpuIds && gpuIds.length > 0) hostConfig.DeviceRequests = [{ Driver: 'nvidia', DeviceIDs: [...gpuIds], Capabilities: [['gpu']] }];
  else if (gpu > 0) hostConfig.DeviceRequests = [{ Driver: 'nvidia', Count: gpu, Capabilities: [['gpu']] }];
  if (readOnlyRootFilesystem) {
    hostConfig.ReadonlyRootfs = true;
    // a tmpfs counts against the memory limit; with a disk limit it is also at most that big
    hostConfig.Tmpfs = { '/tmp': `rw,nosuid,nodev,mode=1777${disk > 0 ? `,size=${disk}` : ''}` };
  }
  const user = spec.isolation.user ?? settings.defaultUser;

  const env: Record<string, string> = {
    WHARF_TASK_ID: spec.taskId,
    WHARF_ATTEMPT_ID: spec.attemptId,
    WHARF_OUTPUT_DIR: '/output',
    ...(options.inputDir ? { WHARF_INPUT_DIR: '/input' } : {}),
    ...spec.env,
  };
  const create: Dockerode.ContainerCreateOptions = {
    name: containerName(spec.attemptId),
    Image: spec.image,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Tty: false,
    AttachStdin: false,
    OpenStdin: false,
    Labels: {
      [LABEL_TASK]: spec.taskId,
      [LABEL_ATTEMPT]: spec.attemptId,
      [LABEL_WORKER]: settings.workerId,
      [LABEL_TIMEOUT]: String(spec.timeoutSeconds),
      [LABEL_STARTED_AT]: String(options.startedAtMs),
      ...(disk > 0 ? { [LABEL_DISK]: String(disk) } : {}),
    },
    HostConfig: hostConfig,
  };
  if (user !== undefined) create.User = user;
  // a gang member listens on its gang port for its peers on other workers: published on the
  // worker's host, the same number (WHARF_GANG_PEERS names the host's address and this port);
  // with network host it binds the host's port itself, with none it has no peers to reach
  if (spec.gangPort !== undefined && network.kind !== 'builtin') {
    const port = `${spec.gangPort}/tcp`;
    create.ExposedPorts = { [port]: {} };
    hostConfig.PortBindings = { [port]: [{ HostPort: String(spec.gangPort) }] };
  }
  // on its run's network a task is found by its name in the DAG (Docker's DNS on the network)
  const alias = network.kind === 'group' ? hostAlias(spec.name) : undefined;
  if (network.kind === 'group' && alias) create.NetworkingConfig = { EndpointsConfig: { [network.name]: { Aliases: [alias] } } };
  if (spec.command.length > 0) create.Cmd = spec.command;
  return {
    create,
    network,
    effective: {
      cpu,
      memory,
      disk,
      pidsLimit: settings.pidsLimit,
      user: user ?? '',
      readOnlyRootFilesystem,
      noNewPrivileges: true,
      capabilities,
      network: network.name,
      pullPolicy: spec.isolation.pullPolicy,
    },
  };
}
