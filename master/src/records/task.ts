// The task record, as stored and as the API shows it, its events, and what a person submits.
// Records are the master's ground floor: every folder imports them, they import only each
// other. The lifecycle these statuses move through is drawn beside the code that implements
// it, at the top of tasks/task-service.ts.
import type { Attempt } from './attempt.js';
import type { OutputFileRecord } from './output-file.js';
import type { LabelConstraint } from './queue.js';
import type { ResourceRequest, Resources, Runtime } from './resources.js';

export type TaskStatus = 'queued' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled'];
export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * default: the worker's tasks network (reaches the outside, not other tasks); none: no network;
 * host: the worker's own network stack (admins only); run: a network of the task's DAG run,
 * shared with the run's other tasks that ask for it on the same worker.
 */
export type TaskNetwork = 'default' | 'none' | 'host' | 'run';
export const TASK_NETWORKS: readonly TaskNetwork[] = ['default', 'none', 'host', 'run'];

/** When the worker pulls the task's image (Kubernetes' imagePullPolicy). */
export type PullPolicy = 'IfNotPresent' | 'Always' | 'Never';
export const PULL_POLICIES: readonly PullPolicy[] = ['IfNotPresent', 'Always', 'Never'];

/**
 * How a task's container is set up beyond its resources. Every field is optional: absent means
 * the default (network `default`, the image's user or the worker's --default-user, a writable
 * root filesystem, no added capabilities, pull policy `IfNotPresent`).
 */
export interface ContainerSettings {
  network?: TaskNetwork | undefined;
  /** "uid", "uid:gid" (or a user name, admins only) */
  user?: string | undefined;
  /** the image's files read-only; /tmp and /output stay writable */
  readOnlyRootFilesystem?: boolean | undefined;
  /** Linux capabilities added to the minimal set, without the CAP_ prefix (admins only) */
  capAdd?: string[] | undefined;
  pullPolicy?: PullPolicy | undefined;
}

/** The endings a retry policy can name in `retryOn.outcomes` (the charged rows of tasks/outcome-policy.ts; the master's own timeout_enforced is named timed_out). */
export type RetryableEnding = 'failed' | 'timed_out' | 'error' | 'unverified';
export const RETRYABLE_ENDINGS: readonly RetryableEnding[] = ['failed', 'timed_out', 'error', 'unverified'];

/**
 * Which charged endings are retried. Absent: every one. Present: an ending is retried when its
 * outcome is in `outcomes`, or it is `failed` with an exit code in `exitCodes`; any other ends
 * the task at once (failed, a dead letter) without charging a retry.
 */
export interface RetryOn {
  exitCodes?: number[] | undefined;
  outcomes?: RetryableEnding[] | undefined;
}

/**
 * How a task is retried: up to maxRetries times, the n-th retry waiting
 * min(maxBackoffSeconds, backoffSeconds · backoffMultiplier^(n-1)), then 50–100 % of that (jitter,
 * so many tasks failing together do not come back together).
 */
export interface RetryPolicy {
  maxRetries: number;
  backoffSeconds: number;
  backoffMultiplier: number;
  maxBackoffSeconds: number;
  retryOn?: RetryOn | undefined;
}

/** What a submission may say of its retry policy; absent fields take the master's defaults. */
export interface RetryPolicyInput {
  backoffSeconds?: number | undefined;
  backoffMultiplier?: number | undefined;
  maxBackoffSeconds?: number | undefined;
  retryOn?: RetryOn | undefined;
}

export interface Task extends ContainerSettings {
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
  /** the retry policy's maxRetries (kept as its own field: older records and clients know it) */
  maxRetries: number;
  /**
   * The rest of the retry policy, resolved with the master's defaults when submitted. Absent on
   * tasks stored before policies existed: they back off as the master's defaults say.
   */
  retryPolicy?: Omit<RetryPolicy, 'maxRetries'> | undefined;
  /** 0 = no timeout */
  timeoutSeconds: number;
  /** epoch ms: a task not started (running) by then fails with deadline_exceeded */
  startDeadline?: number | undefined;
  /** epoch ms: a task not ended by then is stopped (cancel with grace) and fails with deadline_exceeded */
  deadline?: number | undefined;
  /** the deadline that ended it (its reason says more) */
  deadlineExceeded?: DeadlineKind | undefined;
  /**
   * retries taken: attempts charged to maxRetries that were followed by another attempt (lost
   * attempts are not charged, and the last failure is not a retry), so never above maxRetries
   */
  retriesUsed: number;
  /**
   * epoch ms the task became a dead letter: it failed with no retry left (or its ending is not
   * in retryOn). Cleared when it is re-queued from the dead letters or dismissed.
   */
  deadLetteredAt?: number | undefined;
  /**
   * epoch ms before which a retry must not be placed. Set by a retry and kept until the task
   * is placed again (or cancelled): while it is set, the task waits for a retry and its reason
   * is the retry's, not the scheduler's.
   */
  notBefore?: number | undefined;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  exitCode?: number | undefined;
  workerId?: string | undefined;
  /** the name that worker had when the latest attempt was placed (kept after the worker is gone) */
  workerName?: string | undefined;
  currentAttemptId?: string | undefined;
  /** number of attempts created so far */
  attemptCount: number;
  /** DAG tasks only: the run (records/dag.ts) and this task's name in it */
  dagId?: string | undefined;
  dagTask?: string | undefined;
  /** DAG tasks only: the artifacts staged read-only at /input/<name>, resolved when queued */
  inputs?: TaskInput[] | undefined;
  /** DAG tasks only: files the task must write under /output/<name>; a missing one fails the attempt */
  outputs?: string[] | undefined;
  /** DAG tasks only: false = the worker neither reads nor fills its artifact cache */
  useCache?: boolean | undefined;
  /**
   * epoch ms retention removed the task's logs and output files (WHARF_RETAIN_FILES, gc/): the
   * record stays, and its logs and downloads answer 410 saying so
   */
  filesRemovedAt?: number | undefined;
  // ---- queues and placement (records/queue.ts) ----
  /** the queue the task waits in (`default` when the submission named none) */
  queue: string;
  /** conditions on the labels of the worker it may run on, besides `labels` */
  constraints?: LabelConstraint[] | undefined;
  /** the only worker it may run on (submitted as `workerId`, admins only) */
  pinnedWorkerId?: string | undefined;
  /**
   * false: priority preemption never evicts it (scheduler/placement.ts); absent = true. Stored
   * and shown; the master does not apply evictions yet.
   */
  preemptible?: boolean | undefined;
  // ---- end of queues and placement ----
  // ---- gangs (records/gang.ts) ----
  /** gang members only: the gang, this member's rank (0 …), the gang's size and first port */
  gangId?: string | undefined;
  gangRank?: number | undefined;
  gangSize?: number | undefined;
  gangPort?: number | undefined;
  // ---- end of gangs ----
}

/** One input file of a DAG task: an artifact produced by `fromTask`. */
export interface TaskInput {
  name: string;
  sha256: string;
  size: number;
  fromTask: string;
}

export interface TaskEvent {
  taskId: string;
  at: number;
  kind: string;
  message: string;
  attemptId?: string | undefined;
}

/** A validated submission (tasks/task-input.ts), the same for REST, the REPL and the UI. */
export interface NewTask extends ContainerSettings {
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  runtime: Runtime;
  /** what was asked for; the task gets these with the configured defaults and limits applied */
  resources: ResourceRequest;
  /** absent: the queue's default priority */
  priority?: number | undefined;
  maxRetries: number;
  /** the rest of the retry policy; absent fields take the master's defaults */
  retryPolicy?: RetryPolicyInput | undefined;
  timeoutSeconds: number;
  /** epoch ms (see Task) */
  startDeadline?: number | undefined;
  /** epoch ms (see Task) */
  deadline?: number | undefined;
  labels: Record<string, string>;
  // ---- queues and placement ----
  /** absent: `default` */
  queue?: string | undefined;
  constraints?: LabelConstraint[] | undefined;
  /** pin to this worker (admins only) */
  workerId?: string | undefined;
  /** false: never evicted by priority preemption; absent = true */
  preemptible?: boolean | undefined;
  // ---- end of queues and placement ----
}

export type DeadlineKind = 'startDeadline' | 'deadline';

/** The DAG fields a task may carry besides those of a plain submission (see Task). */
export type DagTaskFields = Partial<Pick<Task, 'dagId' | 'dagTask' | 'inputs' | 'outputs' | 'useCache'>>;

/** The gang fields a member task carries besides those of a plain submission (see Task). */
export type GangTaskFields = Partial<Pick<Task, 'gangId' | 'gangRank' | 'gangSize' | 'gangPort'>>;

/** A task with its history, as GET /api/tasks/:id shows it. */
export interface TaskDetails extends Task {
  attempts: Attempt[];
  files: OutputFileRecord[];
  events: TaskEvent[];
  queuePosition?: number | undefined;
}
