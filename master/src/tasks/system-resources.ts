// The one resources bag every task system takes (trigger.dev's SystemResources): what the
// systems share, passed explicitly, so a test builds the same systems on a temp SqliteStore, a
// recording fake of the worker channels and a manual clock (testing/harness.ts).
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import type { FileStore } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { QueueCatalog } from '../queues/queue-catalog.js';
import type { LogStore } from '../logs/log-store.js';
import type { AttemptReport } from '../records/attempt.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { TaskLimits } from '../records/resources.js';
import type { RegistryAuth } from '../records/master-down.js';
import type { Task } from '../records/task.js';
import type { SerialExecutor } from '../serial-executor.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { TaskChangeFeed } from './task-change-feed.js';
import type { TaskState } from './task-state.js';

export interface TaskSystemOptions {
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  cancelGraceMs: number;
  allowUserExec: boolean;
  /** min/default/max cpu, memory and disk of a task (task-limits.ts); default DEFAULT_TASK_LIMITS */
  limits?: TaskLimits | undefined;
  /**
   * DAG inputs with an object store (S3): a presigned GET URL the worker fetches the artifact
   * from directly. Absent, or answering undefined: the worker fetches it from the master
   * (FetchArtifact).
   */
  inputUrl?: ((sha256: string) => Promise<string | undefined>) | undefined;
  /**
   * A task that has waited this long for room gets a reservation on the worker that needs the
   * least freed to fit it (scheduler/placement.ts); undefined = no reservations.
   */
  reserveAfterMs?: number | undefined;
}

/**
 * DAG outputs that workers PUT straight into an object store (S3 artifact backend), set by the
 * DAG service: assignments of tasks with declared outputs carry their names, and a successful
 * result that reports direct uploads is confirmed before the task succeeds.
 */
export interface DirectOutputUploads {
  /** Why the reported uploads do not hold up (the attempt then fails like a non-zero exit), or undefined. */
  confirm(task: Task, files: readonly OutputFileRecord[], reported: NonNullable<AttemptReport['directUploads']>): Promise<string | undefined>;
}

/**
 * The task owner's credentials for the registry of the task's image, set by the registry
 * credential service: undefined at once when there are none (most tasks: no promise, no wait).
 */
export interface RegistryAuthSource {
  credentialsFor(task: Task): Promise<RegistryAuth | undefined> | undefined;
}

/** Hooks other domains set after the systems were built. */
export interface TaskHooks {
  directOutputs?: DirectOutputUploads | undefined;
  registryAuth?: RegistryAuthSource | undefined;
}

/** The registry as the task systems use it: reservations, each worker's channel, the placement snapshot, the fencing limit. */
export type TaskRegistry = Pick<WorkerRegistry, 'reserve' | 'release' | 'send' | 'get' | 'list' | 'schedulingSnapshot' | 'longestFencingBoundMs'>;

export interface TaskSystemResources {
  store: Store;
  registry: TaskRegistry;
  /** live tasks, active attempts, the queue */
  state: TaskState;
  /** every change runs here, one at a time */
  serial: SerialExecutor;
  clock: Clock;
  /** [0, 1): the jitter of retry backoffs */
  random: () => number;
  logger: Logger;
  /** task change listeners */
  changes: TaskChangeFeed;
  files: Pick<FileStore, 'received' | 'stagedRecords' | 'promote' | 'discard' | 'stagedAttempts'>;
  logs: Pick<LogStore, 'closeAttempt' | 'chunksReceived' | 'appendSystem'>;
  options: TaskSystemOptions;
  hooks: TaskHooks;
  /** the queues and user limits (the queue service changes them) */
  queues: QueueCatalog;
  /**
   * The leadership gate (several masters, leadership/leadership.ts): only while this answers
   * true does the dispatch system schedule and do timers fire; a standby's systems stay idle.
   * One master alone always leads. (Workers are refused by the gateway, and every commit is
   * fenced by the lease epoch, so a gate that answered late could still not write.)
   */
  leading: () => boolean;
}
