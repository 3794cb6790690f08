// Original file: wharf.proto

import type { Resources as _wharf_v1_Resources, Resources__Output as _wharf_v1_Resources__Output } from '../../wharf/v1/Resources.js';
import type { RunningAttempt as _wharf_v1_RunningAttempt, RunningAttempt__Output as _wharf_v1_RunningAttempt__Output } from '../../wharf/v1/RunningAttempt.js';
import type { Fencing as _wharf_v1_Fencing, Fencing__Output as _wharf_v1_Fencing__Output } from '../../wharf/v1/Fencing.js';

export interface RegisterRequest {
  'joinToken'?: (string);
  /**
   * stable across restarts, kept in the worker's data dir
   */
  'workerId'?: (string);
  'name'?: (string);
  'hostname'?: (string);
  'capacity'?: (_wharf_v1_Resources | null);
  /**
   * "docker", "exec", "kubernetes", "sim"
   */
  'runtimes'?: (string)[];
  'labels'?: ({[key: string]: string});
  /**
   * what the worker still runs (recover())
   */
  'running'?: (_wharf_v1_RunningAttempt)[];
  'version'?: (string);
  /**
   * Required: how this worker stops its attempts when it loses the master. A Register without
   * it, or with a bound longer than the master allows (--max-stop-after), is refused
   * (INVALID_ARGUMENT).
   */
  'fencing'?: (_wharf_v1_Fencing | null);
}

export interface RegisterRequest__Output {
  'joinToken': (string);
  /**
   * stable across restarts, kept in the worker's data dir
   */
  'workerId': (string);
  'name': (string);
  'hostname': (string);
  'capacity': (_wharf_v1_Resources__Output | null);
  /**
   * "docker", "exec", "kubernetes", "sim"
   */
  'runtimes': (string)[];
  'labels': ({[key: string]: string});
  /**
   * what the worker still runs (recover())
   */
  'running': (_wharf_v1_RunningAttempt__Output)[];
  'version': (string);
  /**
   * Required: how this worker stops its attempts when it loses the master. A Register without
   * it, or with a bound longer than the master allows (--max-stop-after), is refused
   * (INVALID_ARGUMENT).
   */
  'fencing': (_wharf_v1_Fencing__Output | null);
}
