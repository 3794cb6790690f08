// How records look on the API: times as ISO 8601 strings, internal fields left out.
import type { LiveWorker } from '../cluster/worker-registry.js';
import type { Attempt } from '../records/attempt.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { Task, TaskDetails, TaskEvent } from '../records/task.js';
import type { User } from '../records/user.js';
import type { WorkerTelemetry } from '../telemetry/telemetry-service.js';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function userView(user: User) {
  return { id: user.id, email: user.email, name: user.name, role: user.role, createdAt: iso(user.createdAt) };
}

export function attemptView(attempt: Attempt) {
  return {
    id: attempt.id,
    number: attempt.number,
    workerId: attempt.workerId,
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
    retriesUsed: task.retriesUsed,
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
    // DAG tasks only (absent otherwise): the run, the task's name in it, its resolved inputs
    // and its declared outputs
    dagId: task.dagId,
    dagTask: task.dagTask,
    inputs: task.inputs?.map((input) => ({ name: input.name, fromTask: input.fromTask, sha256: input.sha256, size: input.size })),
    outputs: task.outputs,
    queue: task.queue,
    constraints: task.constraints ?? [],
    pinnedWorkerId: task.pinnedWorkerId ?? null,
    queuePosition: details?.queuePosition,
    attempts: details?.attempts.map(attemptView),
    files: details?.files.map(fileView),
    events: details?.events.map(eventView),
  };
}

/** A worker's telemetry (GET /telemetry, /ws/telemetry): the worker view plus the tasks placed on it. */
export function workerTelemetryView(telemetry: WorkerTelemetry) {
  return { ...workerView(telemetry.worker, telemetry.runningTasks), running: telemetry.running, at: iso(telemetry.at) };
}

export function workerView(worker: LiveWorker, runningTasks: number) {
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
    usage: worker.usage ?? null,
    runningTasks,
    version: r.version,
    registeredAt: iso(r.registeredAt),
    lastHeartbeatAt: iso(r.lastHeartbeatAt),
  };
}
