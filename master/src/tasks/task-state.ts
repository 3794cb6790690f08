// The live side of the task lifecycle, in memory: the tasks not yet terminal (the source of
// truth while they live; every change to one is stored before it is made here), the attempts in
// assigned, running, cancelling or preempting, and the queue of tasks waiting for a worker — one sub-queue
// per (queue, user) for fair share. Only the task systems change it, one change at a time
// (SerialExecutor). What the active attempts use is kept per queue and user (`usage`), charged
// when an attempt joins `attempts` and discharged when it leaves, for queue and user limits.
import type { Attempt } from '../records/attempt.js';
import { DEFAULT_QUEUE } from '../records/queue.js';
import type { Task } from '../records/task.js';
import type { TaskSnapshot } from '../scheduler/placement.js';
import { QueuedTasks, type StreamTask } from '../scheduler/queued-tasks.js';
import { UsageLedger } from '../scheduler/usage.js';

export interface QueueEntry extends Omit<TaskSnapshot, 'queue' | 'userId' | 'priority' | 'seq'>, StreamTask {
  /** gang members: placed all or none by the gang step (scheduler/gang-placement.ts), never alone */
  gangId?: string | undefined;
  gangRank?: number | undefined;
  gangSize?: number | undefined;
}

/** The active attempts; each one charges its task's queue and user while it is here. */
class ActiveAttempts extends Map<string, Attempt> {
  constructor(
    private readonly tasks: ReadonlyMap<string, Task>,
    private readonly usage: UsageLedger,
  ) {
    super();
  }

  override set(id: string, attempt: Attempt): this {
    super.set(id, attempt);
    // the task joins the live state first (recovery loads tasks before attempts)
    const task = this.tasks?.get(attempt.taskId);
    this.usage?.charge(id, task?.queue ?? DEFAULT_QUEUE, task?.userId ?? '', attempt.resources);
    return this;
  }

  override delete(id: string): boolean {
    this.usage.discharge(id);
    return super.delete(id);
  }

  override clear(): void {
    for (const id of this.keys()) this.usage.discharge(id);
    super.clear();
  }
}

export class TaskState {
  readonly queue = new QueuedTasks<QueueEntry>();
  /** tasks not yet terminal */
  readonly tasks = new Map<string, Task>();
  /** what active attempts use, per queue and user */
  readonly usage = new UsageLedger();
  /** attempts in assigned, running, cancelling or preempting */
  readonly attempts: Map<string, Attempt> = new ActiveAttempts(this.tasks, this.usage);
  /**
   * Ids of gang members put in the queue; some may have left it since (the gang step drops
   * those), so a pass with no gang queued costs nothing more than before gangs.
   */
  readonly queuedGangMembers = new Set<string>();

  /** Puts a queued task in the queue (back in its place by submission order when it returns). */
  enqueue(task: Task): void {
    if (task.gangId !== undefined) this.queuedGangMembers.add(task.id);
    this.queue.enqueue({
      id: task.id,
      priority: task.priority,
      seq: task.createdAt,
      queue: task.queue,
      userId: task.userId,
      runtime: task.runtime,
      resources: task.resources,
      labels: task.labels,
      notBefore: task.notBefore,
      inputs: task.inputs?.map((input) => ({ sha256: input.sha256, size: input.size })),
      constraints: task.constraints,
      pinnedWorkerId: task.pinnedWorkerId,
      waitingSince: Math.max(task.createdAt, task.notBefore ?? 0),
      ...(task.gangId !== undefined ? { gangId: task.gangId, gangRank: task.gangRank, gangSize: task.gangSize } : {}),
    });
  }

  /** The worker's active attempts, as a list the caller may walk while the map changes. */
  attemptsOn(workerId: string): Attempt[] {
    return [...this.attempts.values()].filter((attempt) => attempt.workerId === workerId);
  }
}
