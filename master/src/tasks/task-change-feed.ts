// Who hears about task changes (the DAG engine, telemetry, WebSockets, metrics, tests): every
// change a task system applies is told here after it was stored, and so is every attempt that
// reached a final status (metrics count them by outcome). A listener that throws is logged and
// never stops the change or the other listeners.
import type { Logger } from '../logger.js';
import type { Attempt } from '../records/attempt.js';
import type { Task } from '../records/task.js';

export type TaskChangeListener = (task: Task) => void;
/** Told of every attempt that reached a final status (succeeded, failed, timed_out, error, cancelled, stopped, preempted, lost). */
export type AttemptFinishedListener = (attempt: Attempt) => void;

export class TaskChangeFeed {
  private readonly listeners = new Set<TaskChangeListener>();
  private readonly attemptListeners = new Set<AttemptFinishedListener>();

  constructor(private readonly logger: Logger) {}

  /** Answers an unsubscribe. */
  subscribe(listener: TaskChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(task: Task): void {
    for (const listener of this.listeners) {
      try {
        listener(task);
      } catch (error: unknown) {
        this.logger.error({ err: error, taskId: task.id }, 'task change listener failed');
      }
    }
  }

  /** Answers an unsubscribe. */
  subscribeAttemptFinished(listener: AttemptFinishedListener): () => void {
    this.attemptListeners.add(listener);
    return () => this.attemptListeners.delete(listener);
  }

  /** The attempt reached its final status (stored); each listener gets its own copy. */
  emitAttemptFinished(attempt: Attempt): void {
    for (const listener of this.attemptListeners) {
      try {
        listener({ ...attempt });
      } catch (error: unknown) {
        this.logger.error({ err: error, attemptId: attempt.id, taskId: attempt.taskId }, 'attempt listener failed');
      }
    }
  }
}
