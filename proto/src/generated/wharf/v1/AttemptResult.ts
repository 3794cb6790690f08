// Original file: wharf.proto

import type { OutputFile as _wharf_v1_OutputFile, OutputFile__Output as _wharf_v1_OutputFile__Output } from '../../wharf/v1/OutputFile.js';
import type { InputReport as _wharf_v1_InputReport, InputReport__Output as _wharf_v1_InputReport__Output } from '../../wharf/v1/InputReport.js';
import type { DirectUploads as _wharf_v1_DirectUploads, DirectUploads__Output as _wharf_v1_DirectUploads__Output } from '../../wharf/v1/DirectUploads.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The final report of an attempt. Kept in the worker's on-disk outbox until acknowledged.
 */
export interface AttemptResult {
  'attemptId'?: (string);
  'taskId'?: (string);
  /**
   * "succeeded" | "failed" | "timed_out" | "cancelled" | "error" | "stopped"
   * stopped: the worker stopped the attempt on its own because it had lost contact with the
   * master for longer than its Fencing.stop_after_ms (or refused an assignment for that
   * reason); `error` says so. The master re-queues the task without charging a retry, or,
   * when it has already given the attempt to another worker, acknowledges it without effect.
   */
  'outcome'?: (string);
  'exitCode'?: (number);
  'hasExitCode'?: (boolean);
  'startedAtMs'?: (number | string | Long);
  'finishedAtMs'?: (number | string | Long);
  'error'?: (string);
  /**
   * The attempt's files, each as uploaded (UploadAck answers the size and sha256 the master
   * computed). The master keeps its own digests, never these: a file listed with another size
   * or sha256 than the master received, a file listed that never arrived, or an attempt whose
   * uploads passed their cap fails the attempt with a reason naming the file and both sides
   * (retried while the task's retries allow). Files uploaded but not listed are dropped.
   */
  'files'?: (_wharf_v1_OutputFile)[];
  /**
   * How many log chunks the worker sent for this attempt (its last seq). When the master
   * applied fewer, it adds a system line to the task's log ("wharf: the worker sent N log
   * chunks, the master received M") and shows the difference as the attempt's
   * logChunksMissing; the task's outcome does not change.
   */
  'logChunks'?: (number | string | Long);
  /**
   * how each DAG input was staged
   */
  'inputs'?: (_wharf_v1_InputReport)[];
  /**
   * The declared outputs the worker put into the object store (or found there), when the
   * assignment carried direct_outputs. Absent: the master stores the outputs itself from its
   * copy of the task's files (a worker restarted while the task ran does not know them).
   */
  'directUploads'?: (_wharf_v1_DirectUploads | null);
}

/**
 * The final report of an attempt. Kept in the worker's on-disk outbox until acknowledged.
 */
export interface AttemptResult__Output {
  'attemptId': (string);
  'taskId': (string);
  /**
   * "succeeded" | "failed" | "timed_out" | "cancelled" | "error" | "stopped"
   * stopped: the worker stopped the attempt on its own because it had lost contact with the
   * master for longer than its Fencing.stop_after_ms (or refused an assignment for that
   * reason); `error` says so. The master re-queues the task without charging a retry, or,
   * when it has already given the attempt to another worker, acknowledges it without effect.
   */
  'outcome': (string);
  'exitCode': (number);
  'hasExitCode': (boolean);
  'startedAtMs': (number);
  'finishedAtMs': (number);
  'error': (string);
  /**
   * The attempt's files, each as uploaded (UploadAck answers the size and sha256 the master
   * computed). The master keeps its own digests, never these: a file listed with another size
   * or sha256 than the master received, a file listed that never arrived, or an attempt whose
   * uploads passed their cap fails the attempt with a reason naming the file and both sides
   * (retried while the task's retries allow). Files uploaded but not listed are dropped.
   */
  'files': (_wharf_v1_OutputFile__Output)[];
  /**
   * How many log chunks the worker sent for this attempt (its last seq). When the master
   * applied fewer, it adds a system line to the task's log ("wharf: the worker sent N log
   * chunks, the master received M") and shows the difference as the attempt's
   * logChunksMissing; the task's outcome does not change.
   */
  'logChunks': (number);
  /**
   * how each DAG input was staged
   */
  'inputs': (_wharf_v1_InputReport__Output)[];
  /**
   * The declared outputs the worker put into the object store (or found there), when the
   * assignment carried direct_outputs. Absent: the master stores the outputs itself from its
   * copy of the task's files (a worker restarted while the task ran does not know them).
   */
  'directUploads': (_wharf_v1_DirectUploads__Output | null);
}
