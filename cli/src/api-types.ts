// The records as the REST API shows them (docs/API.md): times are ISO 8601 strings, sizes
// bytes, cpu cores. Only what the CLI reads is typed; everything else is passed through to
// `-o json` / `-o yaml` untouched.

export type TaskStatus = 'queued' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled'];
export const UNFINISHED_STATUSES: readonly TaskStatus[] = ['queued', 'assigned', 'running'];

export interface Resources {
  cpu: number;
  memory: number;
  gpu: number;
  disk: number;
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'user';
  createdAt: string;
}

export interface AttemptView {
  id: string;
  number: number;
  workerId: string;
  status: string;
  exitCode: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

export interface FileView {
  taskId: string;
  path: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export interface EventView {
  at: string;
  kind: string;
  message: string;
  attemptId?: string;
}

export interface TaskView {
  id: string;
  name: string;
  userId: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  runtime: string;
  status: TaskStatus;
  reason?: string;
  priority: number;
  resources: Resources;
  labels: Record<string, string>;
  maxRetries: number;
  retriesUsed: number;
  retryPolicy?: { maxRetries: number; backoffSeconds?: number; backoffMultiplier?: number; maxBackoffSeconds?: number; retryOn?: { exitCodes?: number[]; outcomes?: string[] } };
  deadLetteredAt?: string | null;
  startDeadline?: string | null;
  deadline?: string | null;
  deadlineExceeded?: 'startDeadline' | 'deadline' | null;
  timeoutSeconds: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  workerId?: string;
  dagId?: string;
  dagTask?: string;
  queuePosition?: number;
  /** absent on masters from before queues */
  queue?: string;
  pinnedWorkerId?: string | null;
  attempts?: AttemptView[];
  files?: FileView[];
  events?: EventView[];
}

/** GET /api/dead-letters: a task failed through its retry policy, with its attempts and last error. */
export interface DeadLetterView extends TaskView {
  attempts: AttemptView[];
  lastError: string | null;
}

/** POST /api/dead-letters/requeue|dismiss */
export interface DeadLetterBulkView {
  requeued?: string[];
  dismissed?: string[];
  skipped: { taskId: string; code: string; message: string }[];
  more: boolean;
}

export interface WorkerView {
  id: string;
  name: string;
  hostname: string;
  status: 'ready' | 'draining' | 'lost';
  connected: boolean;
  runtimes: string[];
  labels: Record<string, string>;
  capacity: Resources;
  reserved: Resources;
  usage: { cpuPercent: number; memoryPercent: number; diskPercent: number; gpuPercent?: number } | null;
  runningTasks: number;
  version: string;
  registeredAt: string;
  lastHeartbeatAt: string;
}

export interface DagTaskView {
  name: string;
  status: string;
  taskId: string | null;
  reason: string | null;
  dependsOn: string[];
  outputs: string[];
  workerId?: string | null;
  attempts?: { exitCode?: number | null }[];
  inputs?: { name: string; fromTask: string; sha256?: string; size?: number; cache?: string | null }[];
  artifacts?: { name: string; sha256: string; size: number }[];
  /** a retry took this task over from that run instead of running it again */
  reusedFrom?: string | null;
}

export interface DagView {
  id: string;
  name: string;
  userId: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  useCache: boolean;
  cancelRequested: boolean;
  createdAt: string;
  finishedAt: string | null;
  /** null: a fresh submission; else the run this one retried or re-ran */
  origin?: { kind: 'retry' | 'rerun'; dagId: string } | null;
  tasks: DagTaskView[];
}

export interface DagRunMetricsView {
  dagId: string;
  dagName: string;
  startTime: string;
  endTime: string | null;
  durationMs: number | null;
  status: string;
  cacheEnabled: boolean;
  cacheHit: string;
  taskCount: number;
  taskSucceeded: number;
  taskFailed: number;
  cacheHitTasks: number;
  cacheMissTasks: number;
  bytesFromCache: number;
  bytesDownloaded: number;
  nodes: string[];
}

export interface ApiTokenView {
  id: string;
  name: string;
  userId: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** ISO time → epoch ms (undefined for null/absent/invalid). */
export function timeOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A join token (`GET /api/join-tokens`): never its secret. */
export interface JoinTokenView {
  id: string;
  description?: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  usageLimit: number | null;
  uses: number;
  lastUsedAt: string | null;
  revokedAt: string | null;
  startToken: boolean;
  state: 'active' | 'expired' | 'used_up' | 'revoked';
}

/** `DELETE /api/workers/:id` */
export interface RemovedWorkerView {
  id: string;
  name: string;
  removed: boolean;
}

/** A queue as GET /api/queues shows it. */
export interface QueueView {
  name: string;
  description: string | null;
  maxConcurrency: number | null;
  maxTasks: number | null;
  maxCpu: number | null;
  maxMemory: number | null;
  maxGpus: number | null;
  defaultPriority: number;
  preemptionPolicy: string;
  strategy: string;
  workerSelector: Record<string, string>;
  constraints: { key: string; op: string; values?: string[] }[];
  createdAt: string;
  updatedAt: string;
  usage: { queued: number; running: number; cpu: number; memory: number; gpu: number };
  users: { userId: string; user: string; queued: number; running: number; cpu: number; memory: number; gpu: number; share: number; weight: number }[];
}
