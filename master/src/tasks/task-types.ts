// The task and attempt records, as stored and as the API shows them.
//
//   queued ──assign──▶ assigned ──start──▶ running ──exit 0──▶ succeeded
//     ▲                   │                   ├──exit≠0 / timeout──▶ (retry left?) ─yes─┐
//     │                   │                   │                             no──▶ failed │
//     └──── backoff ◀─────┴── worker lost (attempt lost, not charged to retries) ◀───────┘
//   any non-terminal state ──cancel──▶ cancelled

export type TaskStatus = 'queued' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled'];
export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * assigned: sent to a worker; running: the worker started it; the rest are final.
 * lost: the worker went silent or the master restarted and nobody claimed it.
 * cancelling: the user cancelled; the worker has been told to stop and has not yet confirmed.
 * stopped: the worker lost contact with the master and stopped it itself (fencing); not charged.
 */
export type AttemptStatus =
  | 'assigned'
  | 'running'
  | 'cancelling'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'error'
  | 'stopped'
  | 'lost';
export const ACTIVE_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['assigned', 'running', 'cancelling'];

/**
 * docker: a container; exec: a host process (admins only by default); sim: completes at once
 * without running anything, offered only by simulated workers (benchmarks, load tests).
 */
export type Runtime = 'docker' | 'kubernetes' | 'exec' | 'sim';
export const RUNTIMES: readonly Runtime[] = ['docker', 'kubernetes', 'exec', 'sim'];

export interface Resources {
  /** cores */
  cpu: number;
  /** bytes */
  memory: number;
  gpu: number;
  /** bytes */
  disk: number;
}

export const ZERO_RESOURCES: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };

export interface Task {
  id: string;
  name: string;
  userId: string;
  image: string;
  /** argv; empty = the image's own command */
  command: string[];
  env: Record<string, string>;
  runtime: Runtime;
  labels: Record<string, string>;
  status: TaskStatus;
  /** why a task waits, or why it ended the way it did */
  reason?: string | undefined;
  priority: number;
  resources: Resources;
  maxRetries: number;
  /** 0 = no timeout */
  timeoutSeconds: number;
  /** attempts charged to maxRetries (lost attempts are not charged) */
  retriesUsed: number;
  /** epoch ms before which a retry must not be placed */
  notBefore?: number | undefined;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  exitCode?: number | undefined;
  workerId?: string | undefined;
  currentAttemptId?: string | undefined;
  /** number of attempts created so far */
  attemptCount: number;
  /** DAG tasks only: the run (dags/dag-types.ts) and this task's name in it */
  dagId?: string | undefined;
  dagTask?: string | undefined;
  /** DAG tasks only: the artifacts staged read-only at /input/<name>, resolved when queued */
  inputs?: TaskInput[] | undefined;
  /** DAG tasks only: files the task must write under /output/<name>; a missing one fails the attempt */
  outputs?: string[] | undefined;
  /** DAG tasks only: false = the worker neither reads nor fills its artifact cache */
  useCache?: boolean | undefined;
}

/** One input file of a DAG task: an artifact produced by `fromTask`. */
export interface TaskInput {
  name: string;
  sha256: string;
  size: number;
  fromTask: string;
}

/** What the worker reported about staging one input (cache hit or download). */
export interface InputReport {
  name: string;
  sha256: string;
  cacheHit: boolean;
  bytes: number;
}

export interface Attempt {
  id: string;
  taskId: string;
  number: number;
  workerId: string;
  status: AttemptStatus;
  resources: Resources;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  exitCode?: number | undefined;
  error?: string | undefined;
  /** DAG tasks: how each input was staged on the worker (cache hit or download) */
  inputReports?: InputReport[] | undefined;
}

export interface OutputFileRecord {
  taskId: string;
  userId: string;
  attemptId: string;
  path: string;
  size: number;
  sha256: string;
  createdAt: number;
}

export interface TaskEvent {
  taskId: string;
  at: number;
  kind: string;
  message: string;
  attemptId?: string | undefined;
}
