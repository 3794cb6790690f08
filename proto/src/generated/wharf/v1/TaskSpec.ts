// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { TaskInput as _wharf_v1_TaskInput, TaskInput__Output as _wharf_v1_TaskInput__Output } from '../../wharf/v1/TaskInput.js';
import type { DeclaredOutputs as _wharf_v1_DeclaredOutputs, DeclaredOutputs__Output as _wharf_v1_DeclaredOutputs__Output } from '../../wharf/v1/DeclaredOutputs.js';

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
  'directOutputs': (_wharf_v1_DeclaredOutputs__Output | null);
}
