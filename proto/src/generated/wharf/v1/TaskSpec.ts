// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { TaskInput as _wharf_v1_TaskInput, TaskInput__Output as _wharf_v1_TaskInput__Output } from '../../wharf/v1/TaskInput.js';
import type { DeclaredOutputs as _wharf_v1_DeclaredOutputs, DeclaredOutputs__Output as _wharf_v1_DeclaredOutputs__Output } from '../../wharf/v1/DeclaredOutputs.js';
import type { RegistryAuth as _wharf_v1_RegistryAuth, RegistryAuth__Output as _wharf_v1_RegistryAuth__Output } from '../../wharf/v1/RegistryAuth.js';

/**
 * An assignment. The worker runs `command` (argv; for docker without a command, the image's own)
 * with `env` in the runtime named, and collects the files the task writes under its output
 * directory. What the task sees:
 * - docker / kubernetes: image `image`, the output directory mounted at /output, DAG inputs
 * read-only at /input/<name>; env = WHARF_TASK_ID, WHARF_ATTEMPT_ID, WHARF_OUTPUT_DIR=/output
 * (and WHARF_INPUT_DIR=/input with inputs), then `env` (which may override them); resources
 * as limits (cpu cores, memory bytes with no swap beyond it, gpu devices, disk bytes of
 * writable space: past it the worker stops the task and reports "failed" with the reason in
 * `error`), and a limit on processes (the worker's --pids-limit). Hardened: every Linux
 * capability dropped but CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE, SETGID,
 * SETUID plus `cap_add`; no-new-privileges; the user, root filesystem and network of fields
 * 20-25; the image pulled as `pull_policy` says, with `registry_auth` when present. The
 * "started" event carries what was applied (AttemptEvent.effective). Kubernetes maps what a
 * pod can (network host = hostNetwork, a numeric user) and fails the attempt for the rest
 * (network none and run, a user name); it pulls with the worker's own image pull secrets.
 * - exec: a host process (no image), argv = `command` (required; resolved on PATH), in a fresh
 * working directory of the attempt, leading its own process group (a stop signals the whole
 * group; the group dies with the worker process). env = `env`, plus the worker's PATH when
 * `env` sets none, then WHARF_OUTPUT_DIR (a directory on the worker's disk, the task's
 * outputs), WHARF_INPUT_DIR (with DAG inputs), WHARF_TASK_ID, WHARF_ATTEMPT_ID (these four
 * are set by the worker and win over `env`). No other variable of the worker's is passed.
 * - sim: nothing runs; the benchmarks' simulated workers report success at once (a real worker
 * does not offer it).
 */
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
   * 0 = none. Counted from the attempt's start; enforced by the worker (stop it, report
   * "timed_out") and by the master as a backstop (CancelAttempt, then it ends it itself).
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
   * "" / "default": the worker's tasks network (reaches the outside, not other tasks); "none":
   * loopback only; "host": the worker's network stack; "run": the network of network_group,
   * shared with that run's other tasks on this worker. Another value: report outcome "error".
   */
  'network'?: (string);
  /**
   * network "run": the DAG run id whose network it joins
   */
  'networkGroup'?: (string);
  /**
   * "uid[:gid]" or a name; "": the worker's --default-user, else the image's own user
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
   * "" / "IfNotPresent": pull only an image the worker lacks; "Always": pull every time (a
   * failed pull fails the attempt); "Never": an image the worker lacks fails the attempt
   */
  'pullPolicy'?: (string);
  /**
   * The task owner's credentials for the image's registry, only when the owner stored some for
   * that registry host. The worker passes them to the engine's pull and never logs or stores them
   * (they are not part of the outbox or of any event).
   */
  'registryAuth'?: (_wharf_v1_RegistryAuth | null);
  /**
   * 30-34: gangs (POST /api/gangs). Empty / 0 for a task that is not a gang member. The worker
   * gives a member the environment WHARF_GANG_ID, WHARF_GANG_SIZE, WHARF_GANG_RANK,
   * WHARF_GANG_PEERS (gang_peers joined by ","), WHARF_GANG_PORT, and for PyTorch DDP
   * MASTER_ADDR / MASTER_PORT (gang_peers[0]'s host and port), WORLD_SIZE and RANK.
   */
  'gangId'?: (string);
  'gangSize'?: (number);
  'gangRank'?: (number);
  /**
   * every member's address, in rank order: the advertise address of the worker it was placed on
   * and its own port (`host:port`; member r listens on the gang's first port + r)
   */
  'gangPeers'?: (string)[];
  /**
   * the port this member listens on (gang_peers[gang_rank]'s): the Docker runtime publishes it on
   * the worker's host (host port = container port); an exec task binds it directly
   */
  'gangPort'?: (number);
  /**
   * 40-44: retries and devices.
   * The GPU device ids this attempt may use: resources.gpu of the worker's RegisterRequest.gpu_ids,
   * none held by another of its active attempts. Empty when the task asks for no GPU or the worker
   * gave no ids (then resources.gpu is a count and the runtime picks the cards). The worker gives
   * the task exactly these cards and no others: the Docker runtime as DeviceRequests DeviceIDs,
   * exec as CUDA_VISIBLE_DEVICES; Kubernetes cannot pin ids (its device plugin picks cards by
   * count) and uses resources.gpu. The ids stay the attempt's when the assignment is sent again.
   */
  'gpuIds'?: (string)[];
}

/**
 * An assignment. The worker runs `command` (argv; for docker without a command, the image's own)
 * with `env` in the runtime named, and collects the files the task writes under its output
 * directory. What the task sees:
 * - docker / kubernetes: image `image`, the output directory mounted at /output, DAG inputs
 * read-only at /input/<name>; env = WHARF_TASK_ID, WHARF_ATTEMPT_ID, WHARF_OUTPUT_DIR=/output
 * (and WHARF_INPUT_DIR=/input with inputs), then `env` (which may override them); resources
 * as limits (cpu cores, memory bytes with no swap beyond it, gpu devices, disk bytes of
 * writable space: past it the worker stops the task and reports "failed" with the reason in
 * `error`), and a limit on processes (the worker's --pids-limit). Hardened: every Linux
 * capability dropped but CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE, SETGID,
 * SETUID plus `cap_add`; no-new-privileges; the user, root filesystem and network of fields
 * 20-25; the image pulled as `pull_policy` says, with `registry_auth` when present. The
 * "started" event carries what was applied (AttemptEvent.effective). Kubernetes maps what a
 * pod can (network host = hostNetwork, a numeric user) and fails the attempt for the rest
 * (network none and run, a user name); it pulls with the worker's own image pull secrets.
 * - exec: a host process (no image), argv = `command` (required; resolved on PATH), in a fresh
 * working directory of the attempt, leading its own process group (a stop signals the whole
 * group; the group dies with the worker process). env = `env`, plus the worker's PATH when
 * `env` sets none, then WHARF_OUTPUT_DIR (a directory on the worker's disk, the task's
 * outputs), WHARF_INPUT_DIR (with DAG inputs), WHARF_TASK_ID, WHARF_ATTEMPT_ID (these four
 * are set by the worker and win over `env`). No other variable of the worker's is passed.
 * - sim: nothing runs; the benchmarks' simulated workers report success at once (a real worker
 * does not offer it).
 */
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
   * 0 = none. Counted from the attempt's start; enforced by the worker (stop it, report
   * "timed_out") and by the master as a backstop (CancelAttempt, then it ends it itself).
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
  'directOutputs': (_wharf_v1_DeclaredOutputs__Output | null);
  /**
   * "" / "default": the worker's tasks network (reaches the outside, not other tasks); "none":
   * loopback only; "host": the worker's network stack; "run": the network of network_group,
   * shared with that run's other tasks on this worker. Another value: report outcome "error".
   */
  'network': (string);
  /**
   * network "run": the DAG run id whose network it joins
   */
  'networkGroup': (string);
  /**
   * "uid[:gid]" or a name; "": the worker's --default-user, else the image's own user
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
   * "" / "IfNotPresent": pull only an image the worker lacks; "Always": pull every time (a
   * failed pull fails the attempt); "Never": an image the worker lacks fails the attempt
   */
  'pullPolicy': (string);
  /**
   * The task owner's credentials for the image's registry, only when the owner stored some for
   * that registry host. The worker passes them to the engine's pull and never logs or stores them
   * (they are not part of the outbox or of any event).
   */
  'registryAuth': (_wharf_v1_RegistryAuth__Output | null);
  /**
   * 30-34: gangs (POST /api/gangs). Empty / 0 for a task that is not a gang member. The worker
   * gives a member the environment WHARF_GANG_ID, WHARF_GANG_SIZE, WHARF_GANG_RANK,
   * WHARF_GANG_PEERS (gang_peers joined by ","), WHARF_GANG_PORT, and for PyTorch DDP
   * MASTER_ADDR / MASTER_PORT (gang_peers[0]'s host and port), WORLD_SIZE and RANK.
   */
  'gangId': (string);
  'gangSize': (number);
  'gangRank': (number);
  /**
   * every member's address, in rank order: the advertise address of the worker it was placed on
   * and its own port (`host:port`; member r listens on the gang's first port + r)
   */
  'gangPeers': (string)[];
  /**
   * the port this member listens on (gang_peers[gang_rank]'s): the Docker runtime publishes it on
   * the worker's host (host port = container port); an exec task binds it directly
   */
  'gangPort': (number);
  /**
   * 40-44: retries and devices.
   * The GPU device ids this attempt may use: resources.gpu of the worker's RegisterRequest.gpu_ids,
   * none held by another of its active attempts. Empty when the task asks for no GPU or the worker
   * gave no ids (then resources.gpu is a count and the runtime picks the cards). The worker gives
   * the task exactly these cards and no others: the Docker runtime as DeviceRequests DeviceIDs,
   * exec as CUDA_VISIBLE_DEVICES; Kubernetes cannot pin ids (its device plugin picks cards by
   * count) and uses resources.gpu. The ids stay the attempt's when the assignment is sent again.
   */
  'gpuIds': (string)[];
}
