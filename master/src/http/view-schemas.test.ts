// The response schemas of the OpenAPI document against what the views really produce: every
// record here fills every optional field, so a field a view gains or loses without its schema
// (or a type that changes) fails.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { LiveWorker } from '../cluster/worker-registry.js';
import type { Attempt } from '../records/attempt.js';
import type { DagRun } from '../records/dag.js';
import type { TaskDetails } from '../records/task.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanLines } from '../logs/log-lines.js';
import { LogStore } from '../logs/log-store.js';
import { checkFit } from '../scheduler/fit-check.js';
import { joinTokenView } from './cluster-routes.js';
import { dagSummaryView } from './dag-routes.js';
import { gangSummaryView, gangView } from './gang-routes.js';
import { deadLetterView } from './dead-letter-routes.js';
import { queueRecordView, queueView, userLimitView } from './queue-routes.js';
import { registryCredentialView } from './registry-credential-routes.js';
import { apiTokenView } from './token-routes.js';
import { auditEntryView, inviteView } from './user-routes.js';
import {
  apiTokenViewSchema,
  attemptViewSchema,
  auditEntryViewSchema,
  dagSummaryViewSchema,
  gangSummaryViewSchema,
  gangViewSchema,
  deadLetterViewSchema,
  errorEnvelopeSchema,
  fileViewSchema,
  fitAnswerViewSchema,
  logLinesViewSchema,
  inviteViewSchema,
  joinTokenViewSchema,
  queueRecordViewSchema,
  queueViewSchema,
  userLimitViewSchema,
  registryCredentialViewSchema,
  taskViewSchema,
  userViewSchema,
  workerTelemetryViewSchema,
  workerViewSchema,
} from './view-schemas.js';
import { attemptView, fileView, taskView, userView, workerTelemetryView, workerView } from './views.js';

const T0 = Date.UTC(2030, 0, 31, 12, 0, 0);
const SHA = 'a'.repeat(64);
const resources = { cpu: 0.5, memory: 268435456, gpu: 0, disk: 0 };

/** What a client receives: the view through JSON. */
function wire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function expectValid(schema: z.ZodType, value: unknown): void {
  const parsed = schema.safeParse(wire(value));
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
}

const attempt: Attempt = {
  id: 'att-1',
  taskId: 'task-1',
  number: 1,
  workerId: 'w1',
  status: 'succeeded',
  resources,
  createdAt: T0,
  startedAt: T0 + 1000,
  finishedAt: T0 + 2000,
  exitCode: 0,
  error: 'none',
  inputReports: [{ name: 'data.csv', sha256: SHA, cacheHit: true, bytes: 10 }],
  logChunksMissing: 0,
  effective: {
    cpu: 0.5,
    memory: 268435456,
    disk: 0,
    pidsLimit: 1024,
    user: '1000',
    readOnlyRootFilesystem: true,
    noNewPrivileges: true,
    capabilities: ['CHOWN', 'NET_ADMIN'],
    network: 'wharf-tasks',
    pullPolicy: 'IfNotPresent',
  },
  gpuIds: ['0', '1'],
};

const task: TaskDetails = {
  id: 'task-1',
  name: 'train',
  userId: 'u1',
  image: 'wharf/busybox:latest',
  command: ['sh', '-c', 'echo hi'],
  env: { A: 'b' },
  runtime: 'docker',
  labels: { zone: 'a' },
  status: 'succeeded',
  reason: 'exit code 0',
  priority: 50,
  resources,
  maxRetries: 1,
  retryPolicy: { backoffSeconds: 5, backoffMultiplier: 2, maxBackoffSeconds: 60, retryOn: { exitCodes: [3], outcomes: ['timed_out'] } },
  timeoutSeconds: 60,
  startDeadline: T0 + 500,
  deadline: T0 + 60_000,
  deadlineExceeded: 'deadline',
  deadLetteredAt: T0 + 2000,
  retriesUsed: 0,
  notBefore: T0,
  createdAt: T0,
  startedAt: T0 + 1000,
  finishedAt: T0 + 2000,
  exitCode: 0,
  workerId: 'w1',
  currentAttemptId: 'att-1',
  attemptCount: 1,
  dagId: 'dag-1',
  gangId: 'g1',
  gangRank: 0,
  dagTask: 'train',
  inputs: [{ name: 'data.csv', sha256: SHA, size: 10, fromTask: 'prepare' }],
  outputs: ['model.bin'],
  useCache: true,
  network: 'none',
  user: '1000:1000',
  readOnlyRootFilesystem: true,
  capAdd: ['NET_ADMIN'],
  pullPolicy: 'Always',
  queue: 'gpu-train',
  constraints: [
    { key: 'zone', op: 'in', values: ['a', 'b'] },
    { key: 'gpu', op: 'exists' },
  ],
  pinnedWorkerId: 'w1',
  preemptible: false,
  attempts: [attempt, { ...attempt, id: 'att-0', number: 2, status: 'lost', startedAt: undefined, finishedAt: undefined, exitCode: undefined, error: undefined, logChunksMissing: undefined, effective: undefined, gpuIds: undefined }],
  files: [{ taskId: 'task-1', userId: 'u1', attemptId: 'att-1', path: 'model.bin', size: 3, sha256: SHA, createdAt: T0 }],
  events: [
    { taskId: 'task-1', at: T0, kind: 'submitted', message: 'submitted' },
    { taskId: 'task-1', at: T0, kind: 'assigned', message: 'to w1', attemptId: 'att-1' },
  ],
  queuePosition: 3,
};

const worker: LiveWorker = {
  record: {
    id: 'w1',
    name: 'worker-1',
    hostname: 'host-1',
    status: 'ready',
    runtimes: ['docker', 'exec'],
    labels: { zone: 'a' },
    capacity: { cpu: 4, memory: 8589934592, gpu: 2, disk: 0 },
    gpuIds: ['0', '1'],
    version: '0.1.0',
    registeredAt: T0,
    lastHeartbeatAt: T0 + 500,
    fencing: { stopAfterMs: 3000, stopGraceMs: 1000 },
  },
  reserved: resources,
  usage: { cpuPercent: 12.5, memoryPercent: 40, diskPercent: 3, gpuPercent: 0 },
  reportedAttempts: ['att-1'],
  cachedArtifacts: new Set([SHA]),
  lastContactAt: T0,
};

const dag: DagRun = {
  id: 'dag-1',
  name: 'train-pipeline',
  userId: 'u1',
  status: 'succeeded',
  useCache: true,
  cancelRequested: false,
  createdAt: T0,
  finishedAt: T0 + 5000,
  version: 4,
  spec: [
    {
      name: 'train',
      image: 'wharf/busybox:latest',
      command: [],
      env: {},
      runtime: 'docker',
      resources: {},
      priority: 50,
      maxRetries: 0,
      timeoutSeconds: 0,
      labels: {},
      dependsOn: ['prepare'],
      inputs: [{ fromTask: 'prepare', name: 'data.csv' }],
      outputs: ['model.bin'],
    },
  ],
  tasks: [
    { name: 'train', state: 'succeeded', taskId: 'task-1', reason: 'done', finishedAt: T0 + 5000, artifacts: [{ name: 'model.bin', sha256: SHA, size: 3 }] },
    { name: 'prepare', state: 'upstream_failed' },
  ],
};

describe('the response schemas of the OpenAPI document', () => {
  it('describe the task view, in detail and as lists show it', () => {
    expectValid(taskViewSchema, taskView(task));
    const { attempts: _a, files: _f, events: _e, queuePosition: _q, ...plain } = task;
    expectValid(taskViewSchema, taskView({ ...plain, dagId: undefined, dagTask: undefined, inputs: undefined, outputs: undefined }));
    // a task stored before retry policies and deadlines existed
    expectValid(
      taskViewSchema,
      taskView({ ...plain, retryPolicy: undefined, startDeadline: undefined, deadline: undefined, deadlineExceeded: undefined, deadLetteredAt: undefined }),
    );
  });

  it('describe dead letters, with and without a last error', () => {
    const { attempts, files: _f, events: _e, queuePosition: _q, ...plain } = task;
    expectValid(deadLetterViewSchema, deadLetterView({ task: plain, attempts, lastError: 'exit code 3' }));
    expectValid(deadLetterViewSchema, deadLetterView({ task: plain, attempts: [], lastError: undefined }));
  });

  it('describe attempts, files and users', () => {
    expectValid(attemptViewSchema, attemptView(attempt));
    expectValid(attemptViewSchema, attemptView({ ...attempt, status: 'preempted', preemptedBy: { taskId: 'task-9', priority: 90, queue: 'urgent' } }));
    expectValid(fileViewSchema, fileView(task.files[0]!));
    expectValid(userViewSchema, userView({ id: 'u1', email: 'ada@example.com', name: 'Ada', role: 'admin', createdAt: T0 }));
    expectValid(userViewSchema, userView({ id: 'u2', email: 'bob@example.com', name: 'Bob', role: 'user', createdAt: T0, disabled: true, tokenVersion: 2 }));
  });

  it('describe queues and user limits, with every cap and without, as an admin and a user see them', () => {
    const bare = { name: 'default', defaultPriority: 50, preemptionPolicy: 'Never' as const, strategy: 'round-robin' as const, workerSelector: {}, constraints: [], createdAt: T0, updatedAt: T0 };
    const full = {
      ...bare,
      name: 'gpu-train',
      description: 'training',
      maxConcurrency: 8,
      maxTasks: 100,
      maxCpu: 16.5,
      maxMemory: 68719476736,
      maxGpus: 4,
      preemptionPolicy: 'PreemptLowerPriority' as const,
      strategy: 'binpack' as const,
      workerSelector: { pool: 'gpu' },
      constraints: [{ key: 'zone', op: 'notIn' as const, values: ['c'] }],
    };
    const status = {
      queued: 3,
      running: 2,
      cpu: 1.5,
      memory: 1073741824,
      gpu: 1,
      users: [{ userId: 'u1', user: 'ada@example.com', queued: 3, running: 2, cpu: 1.5, memory: 1073741824, gpu: 1, share: 0.25, weight: 3 }],
    };
    const admin = { id: 'u0', email: 'root@example.com', name: 'Root', role: 'admin' as const, createdAt: T0 };
    expectValid(queueViewSchema, queueView({ queue: full, status }, admin));
    expectValid(queueViewSchema, queueView({ queue: bare, status: { ...status, users: [] } }, { ...admin, id: 'u2', role: 'user' }));
    expectValid(queueRecordViewSchema, queueRecordView(full));
    expectValid(userLimitViewSchema, userLimitView({ userId: 'u1', queue: 'gpu-train', maxRunning: 4, maxCpu: 2, maxMemory: 1024, maxGpus: 1, weight: 3, updatedAt: T0 }));
    expectValid(userLimitViewSchema, userLimitView({ userId: 'u1', updatedAt: T0 }));
  });

  it('describe invites and audit entries, with every optional field and without', () => {
    const invite = { id: 'i1', codeHash: SHA, email: 'cy@example.com', role: 'user' as const, createdBy: 'u1', createdAt: T0, expiresAt: T0 + 1000 };
    expectValid(inviteViewSchema, inviteView(invite, T0));
    expectValid(inviteViewSchema, inviteView({ ...invite, usedAt: T0 + 1, usedBy: 'u3', revokedAt: T0 + 2 }, T0));
    const entry = { id: 'a1', at: T0, address: '127.0.0.1', action: 'task.submit', outcome: 'ok', status: 201 };
    expectValid(auditEntryViewSchema, auditEntryView(entry));
    expectValid(auditEntryViewSchema, auditEntryView({ ...entry, userId: 'u1', userEmail: 'ada@example.com', object: 'task:t1' }));
  });

  it('describe workers, with and without usage, and their telemetry', () => {
    expectValid(workerViewSchema, workerView(worker, 2));
    expectValid(workerViewSchema, workerView(worker, 2, ['1']));
    expectValid(workerViewSchema, workerView({ ...worker, usage: undefined, channel: undefined }, 0));
    expectValid(
      workerTelemetryViewSchema,
      workerTelemetryView({ worker, runningTasks: 1, running: [{ taskId: 'task-1', attemptId: 'att-1', name: 'train', resources, userId: 'u1' }], at: T0 }, { id: 'u1', role: 'user' }),
    );
  });

  it('describe gangs, pending and ended, with their members, and a member task', () => {
    const gang = { id: 'g1', name: 'ddp', userId: 'u1', size: 2, status: 'pending' as const, policy: 'restartGang' as const, timeoutSeconds: 60, maxRestarts: 3, restartsUsed: 0, memberIds: ['t1', 't2'], port: 29500, createdAt: T0, waitingSince: T0, version: 1 };
    expectValid(gangSummaryViewSchema, gangSummaryView(gang));
    const members = [
      { rank: 0, taskId: 't1', name: 'ddp-0', status: 'running' as const, workerId: 'w-1', attemptCount: 1 },
      { rank: 1, taskId: 't2', name: 'ddp-1', status: 'queued' as const, reason: 'gang g1: 1 of 2 members fit', attemptCount: 0 },
    ];
    expectValid(gangViewSchema, gangView({ ...gang, members }));
    expectValid(gangViewSchema, gangView({ ...gang, status: 'failed', reason: 'gang timed out after 60s: …', placedAt: T0, finishedAt: T0 + 1, members }));
    expect(gangViewSchema.safeParse({ ...gangView({ ...gang, members }), secret: 1 }).success).toBe(false);
  });

  it('describe DAG runs, API tokens, join tokens and registry credentials', () => {
    expectValid(dagSummaryViewSchema, dagSummaryView(dag));
    expectValid(apiTokenViewSchema, apiTokenView({ id: 't1', userId: 'u1', name: 'ci', secretHash: SHA, hint: 'wharf_pat_AbCd', createdAt: T0, expiresAt: T0 + 1, lastUsedAt: T0 }));
    expectValid(apiTokenViewSchema, apiTokenView({ id: 't2', userId: 'u1', name: 'ci2', secretHash: SHA, hint: 'wharf_pat_AbCd', createdAt: T0 }));
    const joinToken = { id: 'abc123', secretHash: SHA, description: 'rack 4', createdBy: 'admin@example.com', createdAt: T0, uses: 1 };
    expectValid(joinTokenViewSchema, joinTokenView({ ...joinToken, expiresAt: T0 + 10, usageLimit: 2, lastUsedAt: T0, revokedAt: T0, startToken: true }));
    expectValid(joinTokenViewSchema, joinTokenView(joinToken));
    expectValid(registryCredentialViewSchema, registryCredentialView({ id: 'c1', userId: 'u1', registry: 'ghcr.io', username: 'ada', createdAt: T0 }));
  });

  it('describe the error envelope and refuse a view field they do not name', () => {
    expectValid(errorEnvelopeSchema, { error: { code: 'rate_limited', message: 'too many logins', retryAfterSeconds: 3 } });
    expect(errorEnvelopeSchema.safeParse({ error: { code: 'teapot', message: 'x' } }).success).toBe(false);
    // the strictness the drift check relies on
    expect(taskViewSchema.safeParse({ ...(wire(taskView(task)) as object), secretField: 1 }).success).toBe(false);
  });

  it('describe a page of log lines and the fit answer as the scanner and the fit check produce them', async () => {
    const logs = new LogStore(mkdtempSync(join(tmpdir(), 'wharf-view-logs-')), 1024 ** 2);
    logs.append('t', 'a', 1, 'stdout', Buffer.from(`one\n${'x'.repeat(70 * 1024)}\n`));
    const page = await scanLines({ attempts: [{ id: 'a', number: 1, path: logs.pathOf('t', 'a') }], limit: 1, budgetMs: 10_000 });
    expectValid(logLinesViewSchema, { lines: page.lines, next: page.next, scanned: page.scanned, partial: page.budgetExhausted });
    const cut = await scanLines({ attempts: [{ id: 'a', number: 1, path: logs.pathOf('t', 'a') }], limit: 5, budgetMs: 10_000 });
    expect(cut.lines[1]!.cut).toBe(true);
    expectValid(logLinesViewSchema, { lines: cut.lines, next: cut.next, scanned: cut.scanned, partial: false });
    const fit = checkFit({
      now: T0,
      task: { id: 'x', runtime: 'docker', resources, labels: {} },
      workers: [{ id: 'w1', name: 'one', connected: true, status: 'ready', runtimes: ['docker'], labels: {}, capacity: resources, reserved: resources }],
    });
    expectValid(fitAnswerViewSchema, fit);
  });
});
