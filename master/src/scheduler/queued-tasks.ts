// The tasks waiting for a worker, as one sub-queue per (queue, user) — each a TaskQueue in
// priority-then-submission order — so the scheduler can take the next task of the user with the
// smallest fair share without re-sorting everything (placement.ts). Insertion and removal stay
// as cheap as in one TaskQueue; reading all tasks in one order (the REPL, positions) merges.
import { TaskQueue, type QueuedTask } from './task-queue.js';
import { userQueueKey } from './usage.js';

export interface StreamTask extends QueuedTask {
  queue: string;
  userId: string;
}

export interface QueuedStream<T extends StreamTask> {
  queue: string;
  userId: string;
  tasks: TaskQueue<T>;
}

const byPriorityThenAge = (a: QueuedTask, b: QueuedTask): number => b.priority - a.priority || a.seq - b.seq;

export class QueuedTasks<T extends StreamTask> {
  private readonly streamsByKey = new Map<string, QueuedStream<T>>();
  private readonly keyOf = new Map<string, string>();

  get size(): number {
    return this.keyOf.size;
  }

  has(id: string): boolean {
    return this.keyOf.has(id);
  }

  get(id: string): T | undefined {
    const key = this.keyOf.get(id);
    return key === undefined ? undefined : this.streamsByKey.get(key)?.tasks.get(id);
  }

  enqueue(task: T): void {
    if (this.keyOf.has(task.id)) return;
    const key = userQueueKey(task.queue, task.userId);
    let stream = this.streamsByKey.get(key);
    if (!stream) {
      stream = { queue: task.queue, userId: task.userId, tasks: new TaskQueue<T>() };
      this.streamsByKey.set(key, stream);
    }
    stream.tasks.enqueue(task);
    this.keyOf.set(task.id, key);
  }

  remove(id: string): T | undefined {
    const key = this.keyOf.get(id);
    if (key === undefined) return undefined;
    this.keyOf.delete(id);
    const stream = this.streamsByKey.get(key);
    const removed = stream?.tasks.remove(id);
    if (stream && stream.tasks.size === 0) this.streamsByKey.delete(key);
    return removed;
  }

  /** The non-empty (queue, user) sub-queues. Do not enqueue or remove while walking one. */
  streams(): QueuedStream<T>[] {
    return [...this.streamsByKey.values()];
  }

  /** Tasks waiting in one queue (every user). */
  countIn(queue: string): number {
    let count = 0;
    for (const stream of this.streamsByKey.values()) if (stream.queue === queue) count += stream.tasks.size;
    return count;
  }

  /** Every task by priority, then submission order (across queues and users). O(n log n): for reads, not for the scheduler. */
  ordered(): T[] {
    const all: T[] = [];
    for (const stream of this.streamsByKey.values()) for (const task of stream.tasks.ordered()) all.push(task);
    return all.sort(byPriorityThenAge);
  }

  /** 1-based position in its queue by priority, then submission order (every user), or undefined. O(n) in the queue. */
  positionOf(id: string): number | undefined {
    const task = this.get(id);
    if (!task) return undefined;
    let position = 1;
    for (const stream of this.streamsByKey.values()) {
      if (stream.queue !== task.queue) continue;
      for (const other of stream.tasks.ordered()) {
        if (byPriorityThenAge(other, task) < 0) position += 1;
        else break;
      }
    }
    return position;
  }
}
