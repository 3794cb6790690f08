// Who hears about task changes (the DAG engine, telemetry, WebSockets, metrics, tests): every
// change a task system applies is told here after it was stored. A listener that throws is
// logged and never stops the change or the other listeners.
import type { Logger } from '../logger.js';
import type { Task } from '../records/task.js';

export type TaskChangeListener = (task: Task) => void;

export class TaskChangeFeed {
  private readonly listeners = new Set<TaskChangeListener>();

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
}
