// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { TaskInput as _wharf_v1_TaskInput, TaskInput__Output as _wharf_v1_TaskInput__Output } from '../../wharf/v1/TaskInput.js';
import type { DeclaredOutputs as _wharf_v1_DeclaredOutputs, DeclaredOutputs__Output as _wharf_v1_DeclaredOutputs__Output } from '../../wharf/v1/DeclaredOutputs.js';

/**
 * An assignment. The worker runs `command` (argv; for docker without a command, the image's own)
 * with `env` in the runtime named, and collects the files the task writes under its output
 * directory. What the task sees:
 * - docker / kubernetes: image `image`, the output directory mounted at /output, DAG inputs
 * read-only at /input/<name>; env = WHARF_TASK_ID, WHARF_ATTEMPT_ID, WHARF_OUTPUT_DIR=/output
 * (and WHARF_INPUT_DIR=/input with inputs), then `env` (which may override them); resources
 * as limits (cpu cores, memory bytes, gpu devices).
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
}

/**
 * An assignment. The worker runs `command` (argv; for docker without a command, the image's own)
 * with `env` in the runtime named, and collects the files the task writes under its output
 * directory. What the task sees:
 * - docker / kubernetes: image `image`, the output directory mounted at /output, DAG inputs
 * read-only at /input/<name>; env = WHARF_TASK_ID, WHARF_ATTEMPT_ID, WHARF_OUTPUT_DIR=/output
 * (and WHARF_INPUT_DIR=/input with inputs), then `env` (which may override them); resources
 * as limits (cpu cores, memory bytes, gpu devices).
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
}
