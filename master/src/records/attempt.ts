// One run of a task on one worker, and what the worker reports about it.
// (Records: the ground floor; they import only each other.)
import type { ReportedFile } from './output-file.js';
import type { Resources } from './resources.js';

/**
 * assigned: sent to a worker; running: the worker started it; the rest are final.
 * lost: the worker went silent or the master restarted and nobody claimed it.
 * cancelling: the user cancelled; the worker has been told to stop and has not yet confirmed.
 * stopped: the worker lost contact with the master and stopped it itself (fencing); not charged.
 * preempting: priority preemption chose it as a victim; the worker has been told to stop it
 * (SIGTERM, the grace, SIGKILL) and has not yet confirmed. Active: it holds its resources.
 * preempted: ended for a higher-priority task (priority preemption); not charged.
 */
export type AttemptStatus =
  | 'assigned'
  | 'running'
  | 'cancelling'
  | 'preempting'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'error'
  | 'stopped'
  | 'preempted'
  | 'lost';
export const ACTIVE_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['assigned', 'running', 'cancelling', 'preempting'];

/** The higher-priority task an attempt was stopped for (priority preemption). */
export interface Preemptor {
  taskId: string;
  priority: number;
  /** the preemptor's queue (wharf_preemptions_total{queue}) */
  queue: string;
}

export interface Attempt {
  id: string;
  taskId: string;
  number: number;
  workerId: string;
  /** the worker's name when the attempt was placed (kept after the worker is gone; absent on older records) */
  workerName?: string | undefined;
  status: AttemptStatus;
  resources: Resources;
  /**
   * The GPU device ids the master assigned to this attempt (resources.gpu of them) from its
   * worker's free ids at dispatch; absent when the worker gives no ids (a count only).
   */
  gpuIds?: string[] | undefined;
  /**
   * Gang members only: every member's address (`host:port`, in rank order) as placed in the pass
   * that placed the whole gang; kept so a re-sent assignment says the same.
   */
  gangPeers?: string[] | undefined;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  exitCode?: number | undefined;
  error?: string | undefined;
  /** DAG tasks: how each input was staged on the worker (cache hit or download) */
  inputReports?: InputReport[] | undefined;
  /**
   * Log chunks the worker said it sent (AttemptResult.log_chunks) that the master never
   * applied; 0 when all arrived. Set when the result is recorded.
   */
  logChunksMissing?: number | undefined;
  /** what the worker actually applied to the container (reported when it started) */
  effective?: EffectiveSettings | undefined;
  /** set when priority preemption chose it as a victim (status preempting, then preempted) */
  preemptedBy?: Preemptor | undefined;
}

/**
 * The settings a task's container actually ran with, as its worker reports them at start: the
 * limits, the user, the capabilities, the network. A runtime that cannot apply a setting says
 * so by what it reports (exec: the worker's own user and network).
 */
export interface EffectiveSettings {
  /** cores of CPU quota; 0 = none */
  cpu: number;
  /** bytes of memory limit (swap included); 0 = none */
  memory: number;
  /** bytes of writable space before the task is stopped; 0 = not watched */
  disk: number;
  pidsLimit: number;
  /** "uid[:gid]" or a name; "" = the image's own user */
  user: string;
  readOnlyRootFilesystem: boolean;
  noNewPrivileges: boolean;
  /** the container's capabilities, sorted, without the CAP_ prefix */
  capabilities: string[];
  /** the network it joined: the worker's tasks network, "none", "host" or a run's network */
  network: string;
  pullPolicy: string;
}

/** What the worker reported about staging one input (cache hit or download). */
export interface InputReport {
  name: string;
  sha256: string;
  cacheHit: boolean;
  bytes: number;
}

/**
 * How a worker says an attempt ended (gRPC AttemptResult.outcome). stopped: the worker lost
 * contact with the master and stopped it itself before the master gave it away (fencing).
 */
export type ReportedOutcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'error' | 'stopped';
export const REPORTED_OUTCOMES: readonly ReportedOutcome[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'error', 'stopped'];

/** What a worker reports at the end of an attempt (translated from gRPC AttemptResult in grpc/). */
export interface AttemptReport {
  attemptId: string;
  outcome: ReportedOutcome;
  exitCode?: number | undefined;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  error?: string | undefined;
  files: ReportedFile[];
  /** DAG tasks: how each input was staged (cache hit or download) */
  inputs?: InputReport[] | undefined;
  /** DAG tasks with direct output uploads: the declared outputs the worker put into the object store */
  directUploads?: { name: string; sha256: string; size: number }[] | undefined;
  /** how many log chunks the worker sent for the attempt */
  logChunks?: number | undefined;
}

/** How events and reasons name a worker: "name (id)", or the id alone when the name is unknown or the same. */
export function workerLabel(workerId: string, workerName: string | undefined): string {
  return workerName !== undefined && workerName !== '' && workerName !== workerId ? `${workerName} (${workerId})` : workerId;
}
