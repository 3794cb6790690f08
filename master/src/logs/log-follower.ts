// Following a task's log: its stored chunks first, then live chunks until the task is
// terminal. Shared by `GET /api/tasks/:id/logs?follow=true` and the `/ws/tasks/:id/logs`
// WebSocket. The stored read and the live subscription happen in the same tick, so no chunk
// can fall between them or come twice.
import { TERMINAL_TASK_STATUSES, type Task } from '../records/task.js';
import type { TaskService } from '../tasks/task-service.js';
import type { LogEntry, LogStore } from './log-store.js';

export interface FollowedAttempt {
  id: string;
  number: number;
  workerId: string;
}

export interface LogFollowSink {
  /** one stored or live chunk; `attempt` is undefined only for an attempt never heard of */
  chunk(entry: LogEntry, attempt: FollowedAttempt | undefined): void;
  /**
   * No more chunks will come: the task became terminal (`task` is its final state), or it
   * already was, or `follow` was off (`task` undefined: the caller looks it up if it needs to).
   */
  end(task: Task | undefined): void;
}

/** Starts following; answers a stop function (for a client that goes away). */
export function followTaskLogs(
  deps: { logs: LogStore; tasks: TaskService },
  taskId: string,
  attempts: readonly FollowedAttempt[],
  follow: boolean,
  sink: LogFollowSink,
): () => void {
  const known = new Map(attempts.map((a) => [a.id, a]));
  for (const entry of deps.logs.read(taskId, attempts.map((a) => a.id))) sink.chunk(entry, known.get(entry.attemptId));
  if (!follow || !deps.tasks.isActive(taskId)) {
    sink.end(undefined);
    return () => undefined;
  }
  let stopped = false;
  const stopLogs = deps.logs.subscribe(taskId, (entry) => sink.chunk(entry, known.get(entry.attemptId)));
  const stopTasks = deps.tasks.onTaskChange((task) => {
    if (task.id !== taskId || stopped) return;
    // a new attempt (a retry, or a re-queue after a lost worker): learn its number first
    if (task.currentAttemptId && !known.has(task.currentAttemptId)) {
      known.set(task.currentAttemptId, { id: task.currentAttemptId, number: task.attemptCount, workerId: task.workerId ?? '?' });
    }
    if (TERMINAL_TASK_STATUSES.has(task.status)) {
      stop();
      sink.end({ ...task });
    }
  });
  function stop(): void {
    if (stopped) return;
    stopped = true;
    stopLogs();
    stopTasks();
  }
  return stop;
}
