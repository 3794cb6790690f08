// The shapes the REST API and the WebSockets send (docs/API.md). Times are ISO 8601 strings.

export type Role = 'admin' | 'user';
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** absent in answers of older masters */
  disabled?: boolean;
  createdAt: string;
}

export interface Invite {
  id: string;
  email: string;
  role: Role;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  usedBy: string | null;
  revokedAt: string | null;
  state: 'open' | 'used' | 'revoked' | 'expired';
}

export interface AuditEntry {
  id: string;
  at: string;
  userId: string | null;
  userEmail: string | null;
  address: string;
  action: string;
  object: string | null;
  outcome: string;
  status: number;
}

export type TaskStatus = 'queued' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled'];
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export interface Resources {
  cpu: number;
  memory: number;
  gpu: number;
  disk: number;
}

export interface Attempt {
  id: string;
  number: number;
  workerId: string;
  /** the worker's name when the attempt was placed (null: unknown, from an older master) */
  workerName?: string | null;
  status: string;
  exitCode: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** log chunks the worker sent that the master never received; null until the result is recorded */
  logChunksMissing?: number | null;
  /** what the worker applied to the container, once the attempt started (null: not reported) */
  effective?: EffectiveSettings | null;
  /** the GPU device ids the master gave it ([]: none, or its worker offers a count only) */
  gpuIds?: string[];
  /** the higher-priority task priority preemption stopped it for (status preempting, then preempted) */
  preemptedBy?: { taskId: string; priority: number; queue: string } | null;
}

/** Which endings a retry policy retries (absent: every failure). */
export interface RetryOn {
  exitCodes?: number[];
  outcomes?: ('failed' | 'timed_out' | 'error' | 'unverified')[];
}

export interface RetryPolicy {
  maxRetries: number;
  backoffSeconds?: number;
  backoffMultiplier?: number;
  maxBackoffSeconds?: number;
  retryOn?: RetryOn;
}

/** The settings an attempt's container ran with (docs/API.md, `effective`). */
export interface EffectiveSettings {
  cpu: number;
  memory: number;
  disk: number;
  pidsLimit: number;
  user: string;
  readOnlyRootFilesystem: boolean;
  noNewPrivileges: boolean;
  capabilities: string[];
  network: string;
  pullPolicy: string;
}

/** How a task's container is isolated (each absent = the default). */
export interface ContainerSettings {
  network?: 'default' | 'none' | 'host' | 'run';
  user?: string;
  readOnlyRootFilesystem?: boolean;
  capAdd?: string[];
  pullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
}

export interface OutputFile {
  taskId: string;
  path: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export interface TaskEvent {
  at: string;
  kind: string;
  message: string;
  attemptId?: string;
}

export interface Task {
  id: string;
  /** the container settings, defaults shown (older masters leave them out) */
  network?: ContainerSettings['network'];
  user?: string | null;
  readOnlyRootFilesystem?: boolean;
  capAdd?: string[];
  pullPolicy?: ContainerSettings['pullPolicy'];
  name: string;
  userId: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  runtime: 'docker' | 'exec' | 'sim';
  status: TaskStatus;
  reason?: string;
  priority: number;
  resources: Resources;
  labels: Record<string, string>;
  maxRetries: number;
  retriesUsed: number;
  /** the whole retry policy (older masters leave it out) */
  retryPolicy?: RetryPolicy;
  /** when it became a dead letter (null: it is not one) */
  deadLetteredAt?: string | null;
  startDeadline?: string | null;
  deadline?: string | null;
  /** the deadline that ended it, or null */
  deadlineExceeded?: 'startDeadline' | 'deadline' | null;
  timeoutSeconds: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** the worker of the latest attempt, and its name then (kept after the worker is gone) */
  workerId?: string;
  workerName?: string | null;
  /** attempts made so far (older masters leave it out) */
  attemptCount?: number;
  /** 1-based, in its queue, while queued */
  queuePosition?: number;
  /** the queue it waits in (absent from masters before queues) */
  queue?: string;
  /** the worker it is pinned to (admins pin), or null */
  pinnedWorkerId?: string | null;
  /** false: priority preemption never evicts it */
  preemptible?: boolean;
  /** DAG tasks only: the run and the task's name in it */
  dagId?: string;
  dagTask?: string;
  /** gang members only: the gang and this member's rank */
  gangId?: string;
  gangRank?: number;
}

export interface TaskDetails extends Task {
  attempts: Attempt[];
  files: OutputFile[];
  events: TaskEvent[];
}

export type WorkerStatus = 'ready' | 'draining' | 'lost';
export interface Usage {
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  gpuPercent?: number;
}

export interface Worker {
  id: string;
  name: string;
  hostname: string;
  status: WorkerStatus;
  connected: boolean;
  runtimes: string[];
  labels: Record<string, string>;
  capacity: Resources;
  reserved: Resources;
  usage: Usage | null;
  runningTasks: number;
  version: string;
  registeredAt: string;
  lastHeartbeatAt: string;
  /** its GPU device ids ([]: a count only) and those its active attempts hold */
  gpuIds?: string[];
  gpuIdsInUse?: string[] | null;
}

/** GET /api/workers/:id/history: what happened to a worker and its recent attempts, newest first. */
export interface WorkerHistory {
  events: { at: string; kind: string; detail: string | null }[];
  recentTasks: {
    taskId: string;
    name: string;
    taskStatus: string;
    attempt: number;
    attemptStatus: string;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
  }[];
}

/** GET /api/dead-letters: a task that failed through its retry policy, with its attempts and last error. */
export interface DeadLetter extends Task {
  attempts: Attempt[];
  lastError: string | null;
}

/** POST /api/dead-letters/requeue|dismiss */
export interface DeadLetterBulkAnswer {
  requeued?: string[];
  dismissed?: string[];
  skipped: { taskId: string; code: string; message: string }[];
  more: boolean;
}

export interface RunningTask {
  taskId: string;
  attemptId: string;
  name: string;
  resources: Resources;
}

/** What /ws/telemetry and GET /telemetry carry per worker. */
export interface WorkerTelemetry extends Worker {
  running: RunningTask[];
  at: string;
}

export interface MetricsSample {
  at: string;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  gpuPercent?: number;
  runningTasks: number;
  reserved: Resources;
}

export interface WorkerMetrics {
  workerId: string;
  intervalMs: number;
  samples: MetricsSample[];
}

export type TelemetryMessage =
  | { type: 'snapshot'; workers: WorkerTelemetry[] }
  | { type: 'telemetry'; worker: WorkerTelemetry }
  | { type: 'lagged'; message: string }
  | { type: 'error'; code: string; message: string };

export type GangStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** GET /api/gangs/:id (docs/API.md, "Gangs"). */
export interface GangDetails {
  id: string;
  name: string;
  userId: string;
  status: GangStatus;
  size: number;
  policy: 'restartGang' | 'failGang';
  gangTimeoutSeconds: number;
  maxRestarts: number;
  restartsUsed: number;
  port: number;
  reason: string | null;
  createdAt: string;
  placedAt: string | null;
  finishedAt: string | null;
  memberIds: string[];
  members: { rank: number; taskId: string; name: string; status: TaskStatus; workerId: string | null; reason: string | null; attemptCount: number }[];
}

export type EventsMessage =
  | { type: 'task'; task: Task }
  | { type: 'gang'; gang: Omit<GangDetails, 'members'> }
  | { type: 'worker'; event: 'joined' | 'ready' | 'draining' | 'lost'; worker: Worker }
  | { type: 'lagged'; message: string }
  | { type: 'error'; code: string; message: string };

export type LogStream = 'stdout' | 'stderr' | 'system';
export type LogMessage =
  | { type: 'log'; attemptId: string; attempt: number; stream: LogStream; data: string; ts?: string }
  | { type: 'complete'; status: TaskStatus; exitCode: number | null }
  | { type: 'lagged'; message: string }
  | { type: 'error'; code: string; message: string };

/** The body of POST /api/tasks. */
export interface TaskSubmission extends ContainerSettings {
  image?: string;
  command?: string | string[];
  name?: string;
  env?: Record<string, string>;
  runtime?: 'docker' | 'exec';
  resources?: { cpu?: number | string; memory?: number | string; gpu?: number; disk?: number | string };
  priority?: number;
  maxRetries?: number;
  retryPolicy?: Omit<Partial<RetryPolicy>, 'maxRetries'>;
  timeoutSeconds?: number;
  startDeadline?: string;
  deadline?: string;
  labels?: Record<string, string>;
}

// ---- DAG runs (docs/DAGS.md, the DAG section of docs/API.md)

export type DagStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type DagTaskStatus = 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'upstream_failed';
export const TERMINAL_DAG_TASK_STATUSES: ReadonlySet<DagTaskStatus> = new Set(['succeeded', 'failed', 'cancelled', 'upstream_failed']);
export type CacheHit = 'Hit' | 'Partial' | 'Miss' | 'N/A';

export interface DagArtifact {
  name: string;
  sha256: string;
  size: number;
}

/** A task of a run as POST /api/dags, GET /api/dags and DELETE show it. */
export interface DagTaskSummary {
  name: string;
  status: DagTaskStatus;
  taskId: string | null;
  reason: string | null;
  dependsOn: string[];
  inputs: { fromTask: string; name: string }[];
  outputs: string[];
  artifacts: DagArtifact[];
  /** a retry took this succeeded task over from that run instead of running it again */
  reusedFrom?: string | null;
}

/** How a run came to be when it is not a fresh submission. */
export interface DagOrigin {
  kind: 'retry' | 'rerun';
  dagId: string;
}

/** A field of another engine's DAG file that the master ignored. */
export interface DagWarning {
  path: string;
  message: string;
}

export interface DagSummary {
  id: string;
  name: string;
  userId: string;
  status: DagStatus;
  useCache: boolean;
  cancelRequested: boolean;
  createdAt: string;
  finishedAt: string | null;
  /** null (or absent, from an older master): a fresh submission */
  origin?: DagOrigin | null;
  tasks: DagTaskSummary[];
}

/** Times inside GET /api/dags/:id's tasks come as epoch milliseconds; either form is read. */
export type TimeValue = string | number | null | undefined;

export interface DagInputReport {
  name: string;
  sha256: string;
  cacheHit: boolean;
  bytes: number;
}

export interface DagTaskAttempt {
  id: string;
  number: number;
  workerId: string;
  status: string;
  startedAt?: TimeValue;
  finishedAt?: TimeValue;
  exitCode?: number | null;
  error?: string | null;
  inputReports?: DagInputReport[];
}

/** A task of GET /api/dags/:id. */
export interface DagTaskDetails {
  name: string;
  status: DagTaskStatus;
  taskId?: string | null;
  reason?: string | null;
  finishedAt?: TimeValue;
  dependsOn: string[];
  outputs: string[];
  artifacts?: DagArtifact[];
  inputs: { name: string; fromTask: string; sha256?: string; size?: number; cache: 'hit' | 'miss' | null }[];
  workerId?: string | null;
  attempts: DagTaskAttempt[];
  reusedFrom?: string | null;
}

export interface DagDetails extends Omit<DagSummary, 'tasks'> {
  tasks: DagTaskDetails[];
}

/** One run of GET /api/dags/:name/metrics. */
export interface DagRunMetrics {
  dagId: string;
  dagName: string;
  status: DagStatus;
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  cacheEnabled: boolean;
  cacheHit: CacheHit;
  taskCount: number;
  taskSucceeded: number;
  taskFailed: number;
  taskUpstreamFailed: number;
  cacheHitTasks: number;
  cacheMissTasks: number;
  bytesFromCache: number;
  bytesDownloaded: number;
  nodes: string[];
  /** those workers' names, {id: name} (older masters leave it out) */
  nodeNames?: Record<string, string>;
}

/** A join token as GET /api/join-tokens lists it (never its secret). */
export interface JoinToken {
  id: string;
  description: string;
  createdBy: string;
  createdAt: string | null;
  expiresAt: string | null;
  usageLimit: number | null;
  uses: number;
  lastUsedAt: string | null;
  revokedAt: string | null;
  startToken: boolean;
  state: 'active' | 'expired' | 'used_up' | 'revoked';
}

/** GET /api/cluster/join: what a worker needs to join this master. */
export interface ClusterJoin {
  grpcAddress: string;
  caHash: string;
  /** the runWorker.sh line (a clone of the repository) */
  command: string;
  /** the one-line join (no clone: curl … /join.sh | sh); null on a master without it */
  oneLine: OneLineJoin | null;
}

export interface OneLineJoin {
  available: boolean;
  /** with a `<join token>` placeholder; null when unavailable */
  command: string | null;
  scriptUrl: string;
  pinnedPublicKey: string | null;
  bundleSha256: string | null;
  bundleVersion: string | null;
  /** why it is unavailable, or what it does not protect against */
  warning: string | null;
}

/** One user's part of a queue (GET /api/queues). */
export interface QueueUser {
  userId: string;
  user: string;
  queued: number;
  running: number;
  cpu: number;
  memory: number;
  gpu: number;
  /** dominant share of the ready cluster, 0-1 */
  share: number;
  weight: number;
}

/** A queue with its usage against its caps (GET /api/queues). */
export interface Queue {
  name: string;
  description: string | null;
  maxConcurrency: number | null;
  maxTasks: number | null;
  maxCpu: number | null;
  maxMemory: number | null;
  maxGpus: number | null;
  defaultPriority: number;
  preemptionPolicy: 'Never' | 'PreemptLowerPriority';
  strategy: 'round-robin' | 'binpack' | 'spread';
  workerSelector: Record<string, string>;
  constraints: { key: string; op: string; values?: string[] }[];
  createdAt: string;
  updatedAt: string;
  usage: { queued: number; running: number; cpu: number; memory: number; gpu: number };
  users: QueueUser[];
}

/** One line of GET /api/tasks/:id/logs with search parameters. */
export interface LogLineView {
  n: number;
  attempt: number;
  stream: LogStream;
  ts: string | null;
  text: string;
  cut?: true;
}

export interface LogLinesAnswer {
  lines: LogLineView[];
  next: string | null;
  scanned: number;
  partial: boolean;
}

/** POST /api/tasks/fit. */
export interface FitAnswer {
  fits: boolean;
  workerId: string | null;
  workers: { id: string; name: string; fits: boolean; reasons: string[] }[];
  queue: { name: string; fits: boolean; reasons: string[] };
}

/** GET /api/tasks: a page of the tasks the filters match, and how many match in all. */
export interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
  /** every matching task, on every page (older masters leave it out) */
  total?: number;
}

/** GET /api/tasks/counts */
export interface TaskCountsAnswer {
  counts: Record<TaskStatus, number>;
  total: number;
}
