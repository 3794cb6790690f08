// Domain → wire for what goes down a worker's Connect stream: the one place a MasterMessage or a
// TaskSpec is built. The domain says what to tell a worker (records/master-down.ts); this says
// how it looks in wharf.proto.
import type { MasterMessage, TaskSpec } from '@wharf/proto';
import type { Attempt } from '../records/attempt.js';
import type { AssignedInput, MasterDown, RegistryAuth } from '../records/master-down.js';
import type { Task } from '../records/task.js';

export function toMasterMessage(down: MasterDown): MasterMessage {
  switch (down.kind) {
    case 'assign': {
      const { task, attempt, inputs, directOutputs, registryAuth } = down.assignment;
      return { assign: toTaskSpec(task, attempt, inputs, directOutputs, registryAuth) };
    }
    case 'cancel':
      return { cancel: { attemptId: down.attemptId, reason: down.reason, graceSeconds: down.graceSeconds } };
    case 'resultAck':
      return { resultAck: { attemptId: down.attemptId } };
    case 'drain':
      return { drain: { draining: down.draining } };
    case 'heartbeatAck':
      return { heartbeatAck: { sentAtMs: down.sentAtMs } };
    case 'reportNack':
      return { reportNack: { attemptId: down.attemptId, kind: down.report, reason: down.reason, retryAfterMs: down.retryAfterMs } };
  }
}

/**
 * The assignment of one attempt. `inputs`: DAG tasks only (an empty url = FetchArtifact from the
 * master), with the task's cache setting; `directOutputs`: the declared outputs a worker PUTs
 * straight into the object store (S3 artifact backend), absent otherwise; `registryAuth`: the
 * owner's credentials for the image's registry, absent when there are none. The container
 * settings go only when they differ from the default, so the wire of a plain task is unchanged.
 */
export function toTaskSpec(
  task: Task,
  attempt: Attempt,
  inputs?: readonly AssignedInput[],
  directOutputs?: readonly string[],
  registryAuth?: RegistryAuth,
): TaskSpec {
  return {
    taskId: task.id,
    attemptId: attempt.id,
    attemptNumber: attempt.number,
    name: task.name,
    image: task.image,
    command: task.command,
    env: task.env,
    runtime: task.runtime,
    resources: { cpu: task.resources.cpu, memory: task.resources.memory, gpu: task.resources.gpu, disk: task.resources.disk },
    timeoutSeconds: task.timeoutSeconds,
    userId: task.userId,
    ...(inputs
      ? {
          inputs: inputs.map((input) => ({ name: input.name, sha256: input.sha256, size: input.size, url: input.url ?? '' })),
          useCache: task.useCache !== false,
        }
      : {}),
    ...(directOutputs && directOutputs.length > 0 ? { directOutputs: { names: [...directOutputs] } } : {}),
    ...(task.network && task.network !== 'default' ? { network: task.network } : {}),
    ...(task.network === 'run' && task.dagId ? { networkGroup: task.dagId } : {}),
    ...(task.user !== undefined ? { user: task.user } : {}),
    ...(task.readOnlyRootFilesystem ? { readOnlyRootFilesystem: true } : {}),
    ...(task.capAdd && task.capAdd.length > 0 ? { capAdd: [...task.capAdd] } : {}),
    ...(task.pullPolicy && task.pullPolicy !== 'IfNotPresent' ? { pullPolicy: task.pullPolicy } : {}),
    ...(attempt.gpuIds && attempt.gpuIds.length > 0 ? { gpuIds: [...attempt.gpuIds] } : {}),
    ...(task.gangId !== undefined
      ? { gangId: task.gangId, gangSize: task.gangSize ?? 0, gangRank: task.gangRank ?? 0, gangPeers: [...(attempt.gangPeers ?? [])], gangPort: (task.gangPort ?? 0) + (task.gangRank ?? 0) }
      : {}),
    ...(registryAuth ? { registryAuth: { serverAddress: registryAuth.serverAddress, username: registryAuth.username, password: registryAuth.password } } : {}),
  };
}
