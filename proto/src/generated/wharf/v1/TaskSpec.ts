// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { TaskInput as _wharf_v1_TaskInput, TaskInput__Output as _wharf_v1_TaskInput__Output } from '../../wharf/v1/TaskInput.js';
import type { DeclaredOutputs as _wharf_v1_DeclaredOutputs, DeclaredOutputs__Output as _wharf_v1_DeclaredOutputs__Output } from '../../wharf/v1/DeclaredOutputs.js';
import type { RegistryAuth as _wharf_v1_RegistryAuth, RegistryAuth__Output as _wharf_v1_RegistryAuth__Output } from '../../wharf/v1/RegistryAuth.js';

export interface TaskSpec {
  'taskId'?: (string);
  'attemptId'?: (string);
  'attemptNumber'?: (number);
  'name'?: (string);
  'image'?: (string);
  'command'?: (string)[];
  'env'?: ({[key: string]: string});
  'runtime'?: (string);
  'resources'?: (_wharf_v1_Resources | null);
  /**
   * 0 = none
   */
  'timeoutSeconds'?: (number);
  'userId'?: (string);
  /**
   * DAG tasks: files staged read-only at /input/<name> before the task starts
   */
  'inputs'?: (_wharf_v1_TaskInput)[];
  /**
   * false: neither read nor fill the worker's artifact cache
   */
  'useCache'?: (boolean);
  /**
   * S3 artifact backend: the task's declared outputs, which the worker PUTs straight to the
   * object store after the task succeeds (PrepareArtifactUploads). Absent with the disk backend.
   */
  'directOutputs'?: (_wharf_v1_DeclaredOutputs | null);
  /**
   * How the container is isolated (issue 14); each absent/empty = the default.
   */
  'network'?: (string);
  /**
   * outside, not other tasks); "none"; "host"; "run": the
   * network of network_group, shared with its other tasks
   */
  'networkGroup'?: (string);
  /**
   * "uid[:gid]" or a name; "": the worker's --default-user, else the image's
   */
  'user'?: (string);
  /**
   * the image's files read-only; /tmp and /output stay writable
   */
  'readOnlyRootFilesystem'?: (boolean);
  /**
   * capabilities added to the minimal set, without CAP_
   */
  'capAdd'?: (string)[];
  /**
   * "" / "IfNotPresent" | "Always" | "Never"
   */
  'pullPolicy'?: (string);
  /**
   * The task owner's credentials for the image's registry, only when the owner stored some for
   * that registry host. The worker passes them to the engine's pull and never logs or stores them.
   */
  'registryAuth'?: (_wharf_v1_RegistryAuth | null);
  /**
   * 40-44: retries and devices.
   * The GPU device ids the master assigned to this attempt (resources.gpu of them) from the
   * worker's RegisterRequest.gpu_ids; empty when the worker gave no ids (then a count). The
   * Docker runtime passes them as DeviceRequests DeviceIDs; exec as CUDA_VISIBLE_DEVICES;
   * Kubernetes ignores them (the device plugin picks cards by count).
   */
  'gpuIds'?: (string)[];
  '_directOutputs'?: "directOutputs";
  '_registryAuth'?: "registryAuth";
}

export interface TaskSpec__Output {
  'taskId': (string);
  'attemptId': (string);
  'attemptNumber': (number);
  'name': (string);
  'image': (string);
  'command': (string)[];
  'env': ({[key: string]: string});
  'runtime': (string);
  'resources': (_wharf_v1_Resources__Output | null);
  /**
   * 0 = none
   */
  'timeoutSeconds': (number);
  'userId': (string);
  /**
   * DAG tasks: files staged read-only at /input/<name> before the task starts
   */
  'inputs': (_wharf_v1_TaskInput__Output)[];
  /**
   * false: neither read nor fill the worker's artifact cache
   */
  'useCache': (boolean);
  /**
   * S3 artifact backend: the task's declared outputs, which the worker PUTs straight to the
   * object store after the task succeeds (PrepareArtifactUploads). Absent with the disk backend.
   */
  'directOutputs'?: (_wharf_v1_DeclaredOutputs__Output | null);
  /**
   * How the container is isolated (issue 14); each absent/empty = the default.
   */
  'network': (string);
  /**
   * outside, not other tasks); "none"; "host"; "run": the
   * network of network_group, shared with its other tasks
   */
  'networkGroup': (string);
  /**
   * "uid[:gid]" or a name; "": the worker's --default-user, else the image's
   */
  'user': (string);
  /**
   * the image's files read-only; /tmp and /output stay writable
   */
  'readOnlyRootFilesystem': (boolean);
  /**
   * capabilities added to the minimal set, without CAP_
   */
  'capAdd': (string)[];
  /**
   * "" / "IfNotPresent" | "Always" | "Never"
   */
  'pullPolicy': (string);
  /**
   * The task owner's credentials for the image's registry, only when the owner stored some for
   * that registry host. The worker passes them to the engine's pull and never logs or stores them.
   */
  'registryAuth'?: (_wharf_v1_RegistryAuth__Output | null);
  /**
   * 40-44: retries and devices.
   * The GPU device ids the master assigned to this attempt (resources.gpu of them) from the
   * worker's RegisterRequest.gpu_ids; empty when the worker gave no ids (then a count). The
   * Docker runtime passes them as DeviceRequests DeviceIDs; exec as CUDA_VISIBLE_DEVICES;
   * Kubernetes ignores them (the device plugin picks cards by count).
   */
  'gpuIds': (string)[];
  '_directOutputs'?: "directOutputs";
  '_registryAuth'?: "registryAuth";
}
