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
   * One of these, and what the master does with it (while the attempt is the task's current
   * one; "charged" = retried after a backoff while TaskSpec's task has retries left, else the
   * task fails with the reason shown):
   * "succeeded"  the task exited 0 (exit_code 0): the task succeeds, with the files of
   * `files` (unless they fail verification: then charged, as a failure).
   * "failed"     it exited non-zero (exit_code set), or the runtime ended it for a cause it
   * names in `error` (out of memory, a disk limit passed, a kill from outside):
   * charged, reason "<error>; exit code N" ("exit code N" without `error`).
   * "timed_out"  the worker stopped it at its timeout: charged, reason "timed out after Ns".
   * "error"      the worker could not run it (no image, a bad command; `error` says what):
   * charged, reason = `error`.
   * "cancelled"  the worker stopped it: asked by a CancelAttempt (the task was cancelled —
   * it stays cancelled — or the master's timeout: recorded as timed_out,
   * charged), or unasked (the worker shutting down): re-queued, not charged.
   * "stopped"    the worker stopped it on its own because it had lost contact with the master
   * for longer than its Fencing.stop_after_ms (or refused an assignment for
   * that reason, `error` starting "not started:"); `error` says so: re-queued,
   * not charged, or, when the master has already given the attempt to another
   * worker, acknowledged without effect.
   * Any other string is recorded as "error" ("unknown outcome ..."). Every result is answered
   * by a ResultAck (or a ReportNack): a duplicate, or one for an attempt that is no longer the
   * task's current one (cancelled, timed out by the master, given away), changes nothing.
   */
  'outcome'?: (string);
  'exitCode'?: (number);
  /**
   * exit_code means something (the task ran and exited)
   */
  'hasExitCode'?: (boolean);
  'startedAtMs'?: (number | string | Long);
  'finishedAtMs'?: (number | string | Long);
  /**
   * why, for error / stopped / cancelled (shown as the attempt's error)
   */
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
   * One of these, and what the master does with it (while the attempt is the task's current
   * one; "charged" = retried after a backoff while TaskSpec's task has retries left, else the
   * task fails with the reason shown):
   * "succeeded"  the task exited 0 (exit_code 0): the task succeeds, with the files of
   * `files` (unless they fail verification: then charged, as a failure).
   * "failed"     it exited non-zero (exit_code set), or the runtime ended it for a cause it
   * names in `error` (out of memory, a disk limit passed, a kill from outside):
   * charged, reason "<error>; exit code N" ("exit code N" without `error`).
   * "timed_out"  the worker stopped it at its timeout: charged, reason "timed out after Ns".
   * "error"      the worker could not run it (no image, a bad command; `error` says what):
   * charged, reason = `error`.
   * "cancelled"  the worker stopped it: asked by a CancelAttempt (the task was cancelled —
   * it stays cancelled — or the master's timeout: recorded as timed_out,
   * charged), or unasked (the worker shutting down): re-queued, not charged.
   * "stopped"    the worker stopped it on its own because it had lost contact with the master
   * for longer than its Fencing.stop_after_ms (or refused an assignment for
   * that reason, `error` starting "not started:"); `error` says so: re-queued,
   * not charged, or, when the master has already given the attempt to another
   * worker, acknowledged without effect.
   * Any other string is recorded as "error" ("unknown outcome ..."). Every result is answered
   * by a ResultAck (or a ReportNack): a duplicate, or one for an attempt that is no longer the
   * task's current one (cancelled, timed out by the master, given away), changes nothing.
   */
  'outcome': (string);
  'exitCode': (number);
  /**
   * exit_code means something (the task ran and exited)
   */
  'hasExitCode': (boolean);
  'startedAtMs': (number);
  'finishedAtMs': (number);
  /**
   * why, for error / stopped / cancelled (shown as the attempt's error)
   */
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
