// The queue of tasks waiting for a worker: priority 100 first, FIFO (by submission sequence)
// within a priority. One bucket per priority keeps insertion and removal cheap at tens of
// thousands of tasks; a re-queued task (retry, lost worker) goes back to its original place.

export interface QueuedTask {
  id: string;
  priority: number;
  /** submission order; lower is older */
  seq: number;
}

interface Entry<T extends QueuedTask> {
  task: T;
  removed: boolean;
}

export class TaskQueue<T extends QueuedTask> {
  private readonly buckets = new Map<number, Entry<T>[]>();
  private readonly index = new Map<string, Entry<T>>();
  private readonly removedInBucket = new Map<number, number>();
  private sortedPriorities: number[] = [];

  get size(): number {
    return this.index.size;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  get(id: string): T | undefined {
    return this.index.get(id)?.task;
  }

  enqueue(task: T): void {
    if (this.index.has(task.id)) return;
    let bucket = this.buckets.get(task.priority);
    if (!bucket) {
      bucket = [];
      this.buckets.set(task.priority, bucket);
      this.sortedPriorities = [...this.buckets.keys()].sort((a, b) => b - a);
    }
    const entry: Entry<T> = { task, removed: false };
    // usually the newest task: append; a re-queued one goes back to its place by seq
    const last = bucket[bucket.length - 1];
    if (!last || last.task.seq <= task.seq) {
      bucket.push(entry);
    } else {
      let low = 0;
      let high = bucket.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (bucket[mid]!.task.seq <= task.seq) low = mid + 1;
        else high = mid;
      }
      bucket.splice(low, 0, entry);
    }
    this.index.set(task.id, entry);
  }

  remove(id: string): T | undefined {
    const entry = this.index.get(id);
    if (!entry) return undefined;
    entry.removed = true;
    this.index.delete(id);
    const priority = entry.task.priority;
    const removed = (this.removedInBucket.get(priority) ?? 0) + 1;
    const bucket = this.buckets.get(priority);
    if (bucket && removed * 2 > bucket.length) {
      const live = bucket.filter((e) => !e.removed);
      if (live.length === 0) {
        this.buckets.delete(priority);
        this.sortedPriorities = this.sortedPriorities.filter((p) => p !== priority);
      } else {
        this.buckets.set(priority, live);
      }
      this.removedInBucket.delete(priority);
    } else {
      this.removedInBucket.set(priority, removed);
    }
    return entry.task;
  }

  /** Tasks in scheduling order. Do not enqueue or remove while iterating; collect first. */
  *ordered(): IterableIterator<T> {
    for (const priority of this.sortedPriorities) {
      const bucket = this.buckets.get(priority);
      if (!bucket) continue;
      for (const entry of bucket) if (!entry.removed) yield entry.task;
    }
  }

  /** 1-based position in scheduling order, or undefined when not queued. O(n). */
  positionOf(id: string): number | undefined {
    if (!this.index.has(id)) return undefined;
    let position = 0;
    for (const task of this.ordered()) {
      position += 1;
      if (task.id === id) return position;
    }
    return undefined;
  }
}
