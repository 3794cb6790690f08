// The REST answers as zod schemas, one per view of views.ts and the route files: the OpenAPI
// document (http/openapi.ts) describes responses with them, and view-schemas.test.ts parses
// real view outputs with them, so a field added to a view without its schema fails a test.
// Objects are strict: a field the schema does not name is a drift, not an extra.
import { z } from 'zod';
import { ERROR_CODES, type WharfErrorCode } from '../errors.js';
import type { AttemptStatus } from '../records/attempt.js';
import { DAG_STATUSES, DAG_TASK_STATES, type DagStatus, type DagTaskState } from '../records/dag.js';
import { GANG_POLICIES, GANG_STATUSES, type GangPolicy, type GangStatus } from '../records/gang.js';
import { CONSTRAINT_OPS, PLACEMENT_STRATEGIES, PREEMPTION_POLICIES, type ConstraintOp, type PlacementStrategy, type PreemptionPolicy } from '../records/queue.js';
import { RUNTIMES, type Runtime } from '../records/resources.js';
import {
  PULL_POLICIES,
  RETRYABLE_ENDINGS,
  TASK_NETWORKS,
  TASK_STATUSES,
  type DeadlineKind,
  type PullPolicy,
  type RetryableEnding,
  type TaskNetwork,
  type TaskStatus,
} from '../records/task.js';
import type { WorkerStatus } from '../records/worker.js';

/** z.enum of one of the records' closed lists. */
const oneOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]]);

const time = z.iso.datetime().describe('ISO 8601 time (UTC)');
const count = z.number().int().min(0);
const sha256 = z.string().regex(/^[a-f0-9]{64}$/).describe('hex SHA-256');
const stringMap = z.record(z.string(), z.string());

export const resourcesSchema = z
  .strictObject({
    cpu: z.number().min(0).describe('cores'),
    memory: count.describe('bytes'),
    gpu: count,
    disk: count.describe('bytes'),
  })
  .describe('cpu in cores, memory and disk in bytes');

export const userViewSchema = z.strictObject({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['admin', 'user']),
  disabled: z.boolean().describe('an admin disabled the account: no login, none of its tokens work'),
  storageQuotaBytes: count.nullable().describe('bytes of logs, outputs and artifacts the user may keep; null = the master-wide WHARF_USER_STORAGE_QUOTA'),
  createdAt: time,
});

export const inviteViewSchema = z
  .strictObject({
    id: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'user']),
    createdBy: z.string().describe('the admin\'s user id, or console'),
    createdAt: time,
    expiresAt: time,
    usedAt: time.nullable(),
    usedBy: z.string().nullable().describe('the new user\'s id'),
    revokedAt: time.nullable(),
    state: z.enum(['open', 'used', 'revoked', 'expired']),
  })
  .describe('an invitation to register, never its code');

export const auditEntryViewSchema = z
  .strictObject({
    id: z.string(),
    at: time,
    userId: z.string().nullable().describe('null when the request had no account (a failed login)'),
    userEmail: z.string().nullable().describe('at the time'),
    address: z.string().describe('the client\'s address, or console for the REPL'),
    action: z.string().describe('task.submit, user.disable, … (docs/API.md, "Audit log")'),
    object: z.string().nullable().describe('task:<id>, user:<id>, email:<address>, …'),
    outcome: z.string().describe('ok, or the error code of the answer; aborted when the client left first'),
    status: z.number().int().describe('the HTTP status; 0 for the console'),
  })
  .describe('one entry of the audit trail');

export const oneLineJoinViewSchema = z
  .strictObject({
    available: z.boolean(),
    command: z.string().nullable().describe('the line with a <join token> placeholder; null when unavailable'),
    scriptUrl: z.string(),
    pinnedPublicKey: z.string().nullable().describe('curl\'s sha256//… pin of the HTTPS key; null over plain HTTP'),
    bundleSha256: z.string().nullable(),
    bundleVersion: z.string().nullable(),
    warning: z.string().nullable().describe('why it is unavailable, or what it does not protect against'),
  })
  .describe('the one-line join (GET /join.sh)');

export const effectiveSettingsSchema = z
  .strictObject({
    cpu: z.number().min(0),
    memory: count,
    disk: count,
    pidsLimit: z.number().int(),
    user: z.string().describe('"" = the image\'s own user'),
    readOnlyRootFilesystem: z.boolean(),
    noNewPrivileges: z.boolean(),
    capabilities: z.array(z.string()),
    network: z.string(),
    pullPolicy: z.string(),
  })
  .describe('what the worker applied to the container when the attempt started');

const ATTEMPT_STATUSES = [
  'assigned', 'running', 'cancelling', 'preempting', 'succeeded', 'failed', 'timed_out', 'cancelled', 'error', 'stopped', 'preempted', 'lost',
] as const satisfies readonly AttemptStatus[];

export const attemptViewSchema = z.strictObject({
  id: z.string(),
  number: z.number().int().min(1),
  workerId: z.string(),
  workerName: z.string().nullable().describe('the worker\'s name when the attempt was placed (kept after the worker is gone); null when unknown'),
  status: z.enum(ATTEMPT_STATUSES),
  exitCode: z.number().int().nullable(),
  createdAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  error: z.string().nullable(),
  logChunksMissing: count.nullable().describe('log chunks the worker sent that never arrived; null until the result is recorded'),
  effective: effectiveSettingsSchema.nullable(),
  gpuIds: z.array(z.string()).describe('the GPU device ids assigned to it; []: none, or its worker offers a count only'),
  preemptedBy: z
    .strictObject({ taskId: z.string(), priority: z.number().int(), queue: z.string() })
    .nullable()
    .describe('the higher-priority task priority preemption stopped it for (status preempting, then preempted); null: none'),
});

export const fileViewSchema = z.strictObject({
  taskId: z.string(),
  path: z.string(),
  size: count.describe('bytes, as the master measured them'),
  sha256,
  createdAt: time,
});

export const taskEventViewSchema = z.strictObject({
  at: time,
  kind: z.string(),
  message: z.string(),
  attemptId: z.string().optional(),
});

export const labelConstraintSchema = z
  .strictObject({ key: z.string(), op: oneOf<ConstraintOp>(CONSTRAINT_OPS), values: z.array(z.string()).optional().describe('in / notIn only') })
  .describe('a condition on a worker\'s labels');

const DEADLINE_KINDS = ['startDeadline', 'deadline'] as const satisfies readonly DeadlineKind[];

export const retryPolicyViewSchema = z
  .strictObject({
    maxRetries: count,
    backoffSeconds: z.number().min(0).optional(),
    backoffMultiplier: z.number().min(1).optional(),
    maxBackoffSeconds: z.number().min(0).optional(),
    retryOn: z
      .strictObject({ exitCodes: z.array(z.number().int()).optional(), outcomes: z.array(oneOf<RetryableEnding>(RETRYABLE_ENDINGS)).optional() })
      .optional()
      .describe('absent: every charged ending is retried'),
  })
  .describe('the resolved retry policy; a task stored before policies existed shows only maxRetries (it backs off as the master\'s defaults say)');

export const taskViewSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    userId: z.string(),
    image: z.string(),
    command: z.array(z.string()).describe('argv; empty = the image\'s own command'),
    env: stringMap,
    runtime: oneOf<Runtime>(RUNTIMES),
    status: oneOf<TaskStatus>(TASK_STATUSES),
    reason: z.string().optional().describe('why the task waits, or why it ended the way it did'),
    priority: z.number().int().min(0).max(100),
    resources: resourcesSchema,
    labels: stringMap,
    maxRetries: count,
    retriesUsed: count.describe('retries taken, never above maxRetries'),
    retryPolicy: retryPolicyViewSchema,
    deadLetteredAt: time.nullable().describe('when it failed through its retry policy (a dead letter); null when not one, or re-queued or dismissed'),
    filesRemovedAt: time.nullable().describe('when retention (WHARF_RETAIN_FILES) removed its logs and output files; null while they are kept'),
    startDeadline: time.nullable().describe('not running by then: fails with deadline_exceeded'),
    deadline: time.nullable().describe('not ended by then: stopped and fails with deadline_exceeded'),
    deadlineExceeded: z.enum(DEADLINE_KINDS).nullable().describe('the deadline that ended it'),
    timeoutSeconds: count.describe('0 = none'),
    network: oneOf<TaskNetwork>(TASK_NETWORKS),
    user: z.string().nullable().describe('null: the image\'s (or the worker\'s default) user'),
    readOnlyRootFilesystem: z.boolean(),
    capAdd: z.array(z.string()),
    pullPolicy: oneOf<PullPolicy>(PULL_POLICIES),
    createdAt: time,
    startedAt: time.optional(),
    finishedAt: time.optional(),
    exitCode: z.number().int().optional(),
    workerId: z.string().optional().describe('the worker of the latest attempt'),
    workerName: z.string().nullable().describe('that worker\'s name when the attempt was placed (kept after the worker is gone); null when never placed or unknown'),
    attemptCount: count.describe('attempts made so far (retries and re-queues after a lost worker included)'),
    dagId: z.string().optional().describe('DAG tasks only'),
    dagTask: z.string().optional().describe('DAG tasks only: the task\'s name in its run'),
    inputs: z
      .array(z.strictObject({ name: z.string(), fromTask: z.string(), sha256, size: count }))
      .optional()
      .describe('DAG tasks only: the artifacts staged at /input/<name>'),
    outputs: z.array(z.string()).optional().describe('DAG tasks only: the files the task must write'),
    gangId: z.string().optional().describe('gang members only: the gang (GET /api/gangs/{id})'),
    gangRank: count.optional().describe('gang members only: its rank, 0 …'),
    queue: z.string().describe('the queue it waits in'),
    constraints: z.array(labelConstraintSchema).describe('its own conditions on the worker\'s labels (besides its queue\'s)'),
    pinnedWorkerId: z.string().nullable().describe('the worker an admin pinned it to, or null'),
    preemptible: z.boolean().describe('false: priority preemption never evicts it (submitted preemptible: false)'),
    queuePosition: count.optional().describe('GET /api/tasks/{id} only, while queued'),
    attempts: z.array(attemptViewSchema).optional().describe('GET /api/tasks/{id} only'),
    files: z.array(fileViewSchema).optional().describe('GET /api/tasks/{id} only'),
    events: z.array(taskEventViewSchema).optional().describe('GET /api/tasks/{id} only'),
  })
  .describe('a task; lists leave out attempts, files, events and queuePosition');

const WORKER_STATUSES = ['ready', 'draining', 'lost'] as const satisfies readonly WorkerStatus[];

export const workerViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  hostname: z.string(),
  status: z.enum(WORKER_STATUSES),
  connected: z.boolean().describe('its Connect stream is open'),
  runtimes: z.array(oneOf<Runtime>(RUNTIMES)),
  labels: stringMap,
  capacity: resourcesSchema,
  reserved: resourcesSchema.describe('what the tasks placed on it hold'),
  gpuIds: z.array(z.string()).describe('its GPU device ids; []: it offers capacity.gpu as a count only'),
  gpuIdsInUse: z.array(z.string()).nullable().describe('the ids its active attempts hold; null on telemetry (WebSocket, /telemetry), which does not carry them'),
  usage: z
    .strictObject({ cpuPercent: z.number(), memoryPercent: z.number(), diskPercent: z.number(), gpuPercent: z.number().optional() })
    .nullable()
    .describe('from its last heartbeat; null before the first'),
  runningTasks: count,
  version: z.string(),
  registeredAt: time,
  lastHeartbeatAt: time,
});

const capOrNull = (schema: z.ZodNumber) => schema.nullable().describe('null: no cap');

export const queueRecordViewSchema = z.strictObject({
  name: z.string(),
  description: z.string().nullable(),
  maxConcurrency: capOrNull(count).describe('placed tasks (assigned, running, cancelling, preempting) at once; null: no cap'),
  maxTasks: capOrNull(count).describe('unfinished tasks it holds (a submission past it: 409); null: no cap'),
  maxCpu: capOrNull(z.number().min(0)).describe('cores; null: no cap'),
  maxMemory: capOrNull(count).describe('bytes; null: no cap'),
  maxGpus: capOrNull(count),
  defaultPriority: z.number().int().min(0).max(100),
  preemptionPolicy: oneOf<PreemptionPolicy>(PREEMPTION_POLICIES).describe('stored and validated; no task preempts another yet'),
  strategy: oneOf<PlacementStrategy>(PLACEMENT_STRATEGIES),
  workerSelector: stringMap.describe('labels a worker must carry'),
  constraints: z.array(labelConstraintSchema),
  createdAt: time,
  updatedAt: time,
});

export const queueViewSchema = queueRecordViewSchema
  .extend({
    usage: z.strictObject({ queued: count, running: count, cpu: z.number().min(0), memory: count, gpu: count }),
    users: z
      .array(
        z.strictObject({
          userId: z.string(),
          user: z.string().describe('their email'),
          queued: count,
          running: count,
          cpu: z.number().min(0),
          memory: count,
          gpu: count,
          share: z.number().min(0).describe('dominant share of the ready cluster, 0-1'),
          weight: z.number().positive(),
        }),
      )
      .describe('each user\'s tasks in the queue; a non-admin sees only their own line'),
  })
  .describe('a queue with its usage against its caps');

export const userLimitViewSchema = z
  .strictObject({
    userId: z.string(),
    queue: z.string().nullable().describe('null: across all queues'),
    maxRunning: capOrNull(count),
    maxCpu: capOrNull(z.number().min(0)),
    maxMemory: capOrNull(count),
    maxGpus: capOrNull(count),
    weight: z.number().positive().describe('fair-share weight (1 unless set)'),
    updatedAt: time,
  })
  .describe('an admin\'s limits for one user');

export const deadLetterViewSchema = taskViewSchema
  .extend({
    attempts: z.array(attemptViewSchema),
    lastError: z.string().nullable().describe('the last attempt\'s error (or the task\'s reason)'),
  })
  .describe('a task that failed through its retry policy, with its attempts and last error');

export const bulkSkippedSchema = z
  .array(z.strictObject({ taskId: z.string(), code: z.string().describe('an error code: not_found, conflict, …'), message: z.string() }))
  .describe('the tasks the action was not applied to, and why');

export const workerTelemetryViewSchema = workerViewSchema
  .extend({
    running: z.array(z.strictObject({ taskId: z.string(), attemptId: z.string(), name: z.string(), resources: resourcesSchema })),
    at: time,
  })
  .describe('a worker and the tasks placed on it');

export const workerHistorySchema = z.strictObject({
  workerId: z.string(),
  intervalMs: count,
  samples: z.array(
    z.strictObject({
      at: time,
      cpuPercent: z.number(),
      memoryPercent: z.number(),
      diskPercent: z.number(),
      gpuPercent: z.number().optional(),
      runningTasks: count,
      reserved: resourcesSchema,
    }),
  ),
});

export const dagSummaryViewSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    userId: z.string(),
    status: oneOf<DagStatus>(DAG_STATUSES),
    useCache: z.boolean(),
    cancelRequested: z.boolean(),
    createdAt: time,
    finishedAt: time.nullable(),
    origin: z
      .strictObject({ kind: z.enum(['retry', 'rerun']), dagId: z.string() })
      .nullable()
      .describe('null: a fresh submission; else the run this one retried (failed part again, succeeded tasks reused) or re-ran'),
    tasks: z.array(
      z.strictObject({
        name: z.string(),
        status: oneOf<DagTaskState>(DAG_TASK_STATES),
        taskId: z.string().nullable(),
        reason: z.string().nullable(),
        dependsOn: z.array(z.string()),
        inputs: z.array(z.strictObject({ fromTask: z.string(), name: z.string() })),
        outputs: z.array(z.string()),
        artifacts: z.array(z.strictObject({ name: z.string(), sha256, size: count })),
        reusedFrom: z.string().nullable().describe('a retry took this succeeded task over from that run (its taskId and artifacts are that run\'s) instead of running it again'),
      }),
    ),
  })
  .describe('a DAG run with its tasks\' states (docs/DAGS.md)');

export const gangSummaryViewSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    userId: z.string(),
    status: oneOf<GangStatus>(GANG_STATUSES),
    size: z.number().int().min(1),
    policy: oneOf<GangPolicy>(GANG_POLICIES),
    gangTimeoutSeconds: count.describe('0 = waits for placement for ever'),
    maxRestarts: count,
    restartsUsed: count,
    port: z.number().int().min(1).max(65535).describe('member r listens on port + r'),
    reason: z.string().nullable().describe('why it waits, or why it ended'),
    createdAt: time,
    placedAt: time.nullable().describe('when its members were last all placed'),
    finishedAt: time.nullable(),
    memberIds: z.array(z.string()).describe('the member task ids in rank order'),
  })
  .describe('a gang: member tasks placed all-or-nothing');

export const gangViewSchema = gangSummaryViewSchema
  .extend({
    members: z.array(
      z.strictObject({
        rank: count,
        taskId: z.string(),
        name: z.string(),
        status: oneOf<TaskStatus>(TASK_STATUSES),
        workerId: z.string().nullable(),
        reason: z.string().nullable(),
        attemptCount: count,
      }),
    ),
  })
  .describe('a gang with its members: rank, task, status, worker, reason');

export const dagRunMetricsSchema = z.strictObject({
  dagId: z.string(),
  dagName: z.string(),
  startTime: time,
  endTime: time.nullable(),
  durationMs: count.nullable(),
  status: oneOf<DagStatus>(DAG_STATUSES),
  cacheEnabled: z.boolean(),
  cacheHit: z.enum(['Hit', 'Partial', 'Miss', 'N/A']),
  taskCount: count,
  taskSucceeded: count,
  taskFailed: count,
  taskUpstreamFailed: count,
  cacheHitTasks: count,
  cacheMissTasks: count,
  bytesFromCache: count,
  bytesDownloaded: count,
  nodes: z.array(z.string()),
  nodeNames: z.record(z.string(), z.string()).describe('the workers of nodes by name: {id: name}; a worker whose name is unknown is left out'),
});

export const apiTokenViewSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    userId: z.string(),
    hint: z.string().describe('the secret\'s first characters, to tell tokens apart'),
    createdAt: time,
    expiresAt: time.nullable().describe('null: never'),
    lastUsedAt: time.nullable().describe('null: never used'),
  })
  .describe('an API token, never its secret');

export const joinTokenViewSchema = z
  .strictObject({
    id: z.string(),
    description: z.string(),
    createdBy: z.string(),
    createdAt: time,
    expiresAt: time.nullable(),
    usageLimit: z.number().int().min(1).nullable(),
    uses: count,
    lastUsedAt: time.nullable(),
    revokedAt: time.nullable(),
    startToken: z.boolean(),
    state: z.enum(['active', 'expired', 'used_up', 'revoked']),
  })
  .describe('a join token, never its secret');

export const registryCredentialViewSchema = z
  .strictObject({ id: z.string(), userId: z.string(), registry: z.string(), username: z.string(), createdAt: time })
  .describe('a registry credential, never its password');

// retention and storage (http/gc-routes.ts)
export const gcReportSchema = z.strictObject({
  removed: z
    .strictObject({ tasks: count, events: count, logs: count, files: count, dagRuns: count, artifacts: count, telemetry: count })
    .describe('tasks, their events, attempt logs, output files, DAG runs, unreferenced artifacts, idle workers\' telemetry histories'),
  bytesFreed: count.describe('bytes of logs, output files and artifacts removed (a dry run: would be)'),
  dryRun: z.boolean(),
  durationMs: count,
  startedAt: time,
});

export const userUsageViewSchema = z.strictObject({
  userId: z.string(),
  email: z.string().nullable().describe('null: the account was deleted (its work is kept)'),
  logBytes: count,
  outputBytes: count,
  artifactBytes: count.describe('artifacts of the user\'s DAG runs (one shared by two users counts for both)'),
  totalBytes: count,
  quotaBytes: count.nullable().describe('the user\'s own quota, else WHARF_USER_STORAGE_QUOTA; null = none'),
});

export const errorEnvelopeSchema = z
  .strictObject({
    error: z
      .object({
        code: z.enum(Object.keys(ERROR_CODES) as [WharfErrorCode, ...WharfErrorCode[]]),
        message: z.string().describe('names the field when a field is wrong'),
        retryAfterSeconds: z.number().int().optional().describe('rate_limited only (also the Retry-After header)'),
      })
      .loose(),
  })
  .describe('every error answer');

export const logLineViewSchema = z
  .strictObject({
    n: z.number().int().min(1).describe("the line's number within its attempt (all streams, whatever the filters)"),
    attempt: z.number().int().min(1),
    stream: z.enum(['stdout', 'stderr', 'system']).describe("system: the master's own notes"),
    ts: time.nullable().describe('when the worker read the chunk the line began in; null: stored before timestamps'),
    text: z.string(),
    cut: z.literal(true).optional().describe('the line was longer than 64 KiB: text holds its first 64 KiB'),
  })
  .describe('one line of a task log');

export const logLinesViewSchema = z.strictObject({
  lines: z.array(logLineViewSchema),
  next: z.string().nullable().describe('pass as after for the next page; null: the log was read to its end'),
  scanned: count.describe('lines read to answer (matching or not)'),
  partial: z.boolean().describe("the scan's time budget ran out before limit lines were found; go on from next"),
});

export const fitAnswerViewSchema = z.strictObject({
  fits: z.boolean().describe('the next scheduling pass would place the task at once (were it at the head of its queue)'),
  workerId: z.string().nullable().describe('the worker it would go to'),
  workers: z.array(z.strictObject({ id: z.string(), name: z.string(), fits: z.boolean(), reasons: z.array(z.string()).describe('empty when the worker could take it') })),
  queue: z.strictObject({ name: z.string(), fits: z.boolean(), reasons: z.array(z.string()).describe("the queue's and the user's caps it would go past, a full queue") }),
});
