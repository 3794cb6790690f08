// How records look on the API: times as ISO 8601 strings, internal fields left out.
import type { LiveWorker } from '../cluster/worker-registry.js';
import type { Attempt } from '../records/attempt.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { Task, TaskDetails, TaskEvent } from '../records/task.js';
import type { User } from '../records/user.js';
import type { WorkerTelemetry } from '../telemetry/telemetry-service.js';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function userView(user: User) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled ?? false,
    // null: the master-wide WHARF_USER_STORAGE_QUOTA applies
    storageQuotaBytes: user.storageQuotaBytes ?? null,
    createdAt: iso(user.createdAt),
  };
}

export function attemptView(attempt: Attempt) {
  return {
    id: attempt.id,
    number: attempt.number,
    workerId: attempt.workerId,
    workerName: attempt.workerName ?? null,
    status: attempt.status,
    exitCode: attempt.exitCode ?? null,
    createdAt: iso(attempt.createdAt),
    startedAt: iso(attempt.startedAt) ?? null,
    finishedAt: iso(attempt.finishedAt) ?? null,
    error: attempt.error ?? null,
    // null until the attempt's result is recorded (lost attempts have none)
    logChunksMissing: attempt.logChunksMissing ?? null,
    // what the worker applied to the container (limits, user, capabilities, network), once started
    effective: attempt.effective ?? null,
    // the GPU device ids assigned to it ([]: none, or its worker offers a count only)
    gpuIds: attempt.gpuIds ?? [],
    // the higher-priority task it was stopped for (status preempting, then preempted), or null
    preemptedBy: attempt.preemptedBy ? { taskId: attempt.preemptedBy.taskId, priority: attempt.preemptedBy.priority, queue: attempt.preemptedBy.queue } : null,
  };
}

export function fileView(file: OutputFileRecord) {
  return { taskId: file.taskId, path: file.path, size: file.size, sha256: file.sha256, createdAt: iso(file.createdAt) };
}

export function eventView(event: TaskEvent) {
  return { at: iso(event.at), kind: event.kind, message: event.message, attemptId: event.attemptId };
}

export function taskView(task: Task | TaskDetails) {
  const details = 'attempts' in task ? task : undefined;
  return {
    id: task.id,
    name: task.name,
    userId: task.userId,
    image: task.image,
    command: task.command,
    env: task.env,
    runtime: task.runtime,
    status: task.status,
    reason: task.reason,
    priority: task.priority,
    resources: task.resources,
    labels: task.labels,
    maxRetries: task.maxRetries,
    // retries taken; a task failed before retriesUsed stopped counting the last failure as a
    // retry is stored one over: the min shows what it took (never more than maxRetries)
    retriesUsed: Math.min(task.retriesUsed, task.maxRetries),
    // the whole policy, maxRetries included (a task stored before policies existed shows only
    // maxRetries: it backs off as the master's defaults say)
    retryPolicy: { maxRetries: task.maxRetries, ...task.retryPolicy },
    deadLetteredAt: iso(task.deadLetteredAt) ?? null,
    filesRemovedAt: iso(task.filesRemovedAt) ?? null,
    startDeadline: iso(task.startDeadline) ?? null,
    deadline: iso(task.deadline) ?? null,
    // the deadline that ended it (with the reason deadline_exceeded: …), or null
    deadlineExceeded: task.deadlineExceeded ?? null,
    timeoutSeconds: task.timeoutSeconds,
    // how the container is isolated, with the defaults shown
    network: task.network ?? 'default',
    user: task.user ?? null,
    readOnlyRootFilesystem: task.readOnlyRootFilesystem ?? false,
    capAdd: task.capAdd ?? [],
    pullPolicy: task.pullPolicy ?? 'IfNotPresent',
    createdAt: iso(task.createdAt),
    startedAt: iso(task.startedAt),
    finishedAt: iso(task.finishedAt),
    exitCode: task.exitCode,
    workerId: task.workerId,
    workerName: task.workerName ?? null,
    // attempts made so far (retries, and re-queues after a lost worker, included)
    attemptCount: task.attemptCount,
    // DAG tasks only (absent otherwise): the run, the task's name in it, its resolved inputs
    // and its declared outputs
    dagId: task.dagId,
    dagTask: task.dagTask,
    inputs: task.inputs?.map((input) => ({ name: input.name, fromTask: input.fromTask, sha256: input.sha256, size: input.size })),
    outputs: task.outputs,
    // gang members only (absent otherwise): the gang and this member's rank in it
    gangId: task.gangId,
    gangRank: task.gangRank,
    queue: task.queue,
    constraints: task.constraints ?? [],
    pinnedWorkerId: task.pinnedWorkerId ?? null,
    preemptible: task.preemptible !== false,
    queuePosition: details?.queuePosition,
    attempts: details?.attempts.map(attemptView),
    files: details?.files.map(fileView),
    events: details?.events.map(eventView),
  };
}

/**
 * A worker's telemetry (GET /telemetry, /ws/telemetry) as `viewer` may see it: the worker view
 * (capacity, usage, reservations and the count of unfinished attempts, all users' together) plus
 * the tasks placed on it: every one for an admin, only the viewer's own for anyone else.
 */
export function workerTelemetryView(telemetry: WorkerTelemetry, viewer: Pick<User, 'id' | 'role'>) {
  const running = telemetry.running
    .filter((task) => viewer.role === 'admin' || task.userId === viewer.id)
    .map(({ userId: _owner, ...task }) => task);
  return { ...workerView(telemetry.worker, telemetry.runningTasks), running, at: iso(telemetry.at) };
}

export function workerView(worker: LiveWorker, runningTasks: number, gpuIdsInUse?: readonly string[]) {
  const r = worker.record;
  return {
    id: r.id,
    name: r.name,
    hostname: r.hostname,
    status: r.status,
    connected: Boolean(worker.channel),
    runtimes: r.runtimes,
    labels: r.labels,
    capacity: r.capacity,
    reserved: worker.reserved,
    // its GPU device ids ([]: a count only) and those its active attempts hold (null on telemetry
    // messages, which do not carry them)
    gpuIds: r.gpuIds ?? [],
    gpuIdsInUse: gpuIdsInUse ?? null,
    usage: worker.usage ?? null,
    runningTasks,
    version: r.version,
    registeredAt: iso(r.registeredAt),
    lastHeartbeatAt: iso(r.lastHeartbeatAt),
  };
}
