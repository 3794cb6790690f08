// The master's assignment as the worker's own shapes: the one place a TaskSpec (the wire message,
// wharf.proto) becomes what the runner and the runtimes work with. The runtime gets the
// AttemptSpec; the runner keeps what is its own business (inputs to stage, the cache setting,
// outputs to upload straight to the object store).
import type { TaskSpec__Output } from '@wharf/proto';
import { DEFAULT_ISOLATION, type AttemptSpec } from '../runtime/task-runtime.js';

/** One input of a DAG task: staged at /input/<name>. */
export interface AssignedInput {
  name: string;
  sha256: string;
  size: number;
  /** a presigned GET URL (S3 artifact backend); undefined: fetch it from the master (FetchArtifact) */
  url: string | undefined;
}

export interface Assignment {
  spec: AttemptSpec;
  /** DAG tasks: the artifacts to stage read-only at /input (none for other tasks) */
  inputs: AssignedInput[];
  /** false: neither read nor fill the worker's artifact cache */
  useCache: boolean;
  /** S3 artifact backend: the declared outputs to PUT straight into the object store (none otherwise) */
  directOutputs: string[];
}

/** `runtime`: the runtime to use (the spec's, or the worker's default when it names none). */
export function assignmentOf(spec: TaskSpec__Output, runtime: string): Assignment {
  const resources = spec.resources;
  return {
    spec: {
      taskId: spec.taskId,
      attemptId: spec.attemptId,
      attemptNumber: spec.attemptNumber,
      name: spec.name,
      image: spec.image,
      command: [...spec.command],
      env: spec.gangId === '' ? { ...spec.env } : { ...ddpEnv(spec), ...spec.env, ...gangEnv(spec) },
      runtime,
      resources: {
        cpu: resources?.cpu ?? 0,
        memory: resources?.memory ?? 0,
        gpu: resources?.gpu ?? 0,
        disk: resources?.disk ?? 0,
        ...(spec.gpuIds.length > 0 ? { gpuIds: [...spec.gpuIds] } : {}),
      },
      timeoutSeconds: spec.timeoutSeconds,
      userId: spec.userId,
      isolation: {
        network: spec.network || DEFAULT_ISOLATION.network,
        networkGroup: spec.networkGroup,
        user: spec.user === '' ? undefined : spec.user,
        readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
        capAdd: [...spec.capAdd],
        pullPolicy: spec.pullPolicy || DEFAULT_ISOLATION.pullPolicy,
      },
      ...(spec.gangId !== '' && spec.gangPort > 0 ? { gangPort: spec.gangPort } : {}),
      ...(spec.registryAuth
        ? { registryAuth: { serverAddress: spec.registryAuth.serverAddress, username: spec.registryAuth.username, password: spec.registryAuth.password } }
        : {}),
    },
    inputs: spec.inputs.map((input) => ({ name: input.name, sha256: input.sha256, size: input.size, url: input.url === '' ? undefined : input.url })),
    useCache: spec.useCache,
    directOutputs: [...(spec.directOutputs?.names ?? [])],
  };
}

/** A gang member's own variables (they win over the task's env: the master's word on its gang). */
function gangEnv(spec: TaskSpec__Output): Record<string, string> {
  return {
    WHARF_GANG_ID: spec.gangId,
    WHARF_GANG_SIZE: String(spec.gangSize),
    WHARF_GANG_RANK: String(spec.gangRank),
    WHARF_GANG_PEERS: spec.gangPeers.join(','),
    WHARF_GANG_PORT: String(spec.gangPort),
  };
}

/** PyTorch DDP's env:// rendezvous, rank 0 as its master (the task's own env may override them). */
function ddpEnv(spec: TaskSpec__Output): Record<string, string> {
  const first = spec.gangPeers[0] ?? '';
  const colon = first.lastIndexOf(':');
  const host = colon > 0 ? first.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : first;
  const port = colon > 0 ? first.slice(colon + 1) : '';
  return { MASTER_ADDR: host, MASTER_PORT: port, WORLD_SIZE: String(spec.gangSize), RANK: String(spec.gangRank) };
}
