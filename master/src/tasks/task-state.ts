// The live side of the task lifecycle, in memory: the tasks not yet terminal (the source of
// truth while they live; every change to one is stored before it is made here), the attempts in
// assigned, running or cancelling, and the queue of tasks waiting for a worker. Only the task
// systems change it, one change at a time (SerialExecutor).
import type { Attempt } from '../records/attempt.js';
import type { Task } from '../records/task.js';
import type { TaskSnapshot } from '../scheduler/placement.js';
import { TaskQueue } from '../scheduler/task-queue.js';

export interface QueueEntry extends TaskSnapshot {
  priority: number;
  seq: number;
}

export class TaskState {
  readonly queue = new TaskQueue<QueueEntry>();
  /** tasks not yet terminal */
  readonly tasks = new Map<string, Task>();
  /** attempts in assigned, running or cancelling */
  readonly attempts = new Map<string, Attempt>();

  /** Puts a queued task in the queue (back in its place by submission order when it returns). */
  enqueue(task: Task): void {
    this.queue.enqueue({
      id: task.id,
      priority: task.priority,
      seq: task.createdAt,
      runtime: task.runtime,
      resources: task.resources,
      labels: task.labels,
      notBefore: task.notBefore,
      inputs: task.inputs?.map((input) => ({ sha256: input.sha256, size: input.size })),
    });
  }

  /** The worker's active attempts, as a list the caller may walk while the map changes. */
  attemptsOn(workerId: string): Attempt[] {
    return [...this.attempts.values()].filter((attempt) => attempt.workerId === workerId);
  }
}
