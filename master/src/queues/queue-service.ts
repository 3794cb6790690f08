// Queues and per-user limits, as admins manage them (REST /api/queues, /api/user-limits, the REPL):
// each change is stored, then made in the catalog the scheduler reads (queue-catalog.ts), then a
// scheduling pass is asked for, since a raised cap or a new weight can place waiting tasks.
//
// Deleting a queue is refused (409) while it holds unfinished tasks — queued or placed — and for
// `default`, which always exists: tasks are never moved behind their owners' backs.
import { WharfError, notFound } from '../errors.js';
import { DEFAULT_QUEUE, type QueueRecord, type UserLimitRecord } from '../records/queue.js';
import type { Store } from '../store/store.js';
import type { QueueStatus, TaskService } from '../tasks/task-service.js';
import type { QueueCatalog } from './queue-catalog.js';
import type { CreateQueueInput, PatchQueueInput, UserLimitInput } from './queue-input.js';

export interface QueueWithStatus {
  queue: QueueRecord;
  status: QueueStatus;
}

type Tasks = Pick<TaskService, 'queueStatus' | 'scheduleSoon'>;

const CAP_FIELDS = ['description', 'maxConcurrency', 'maxTasks', 'maxCpu', 'maxMemory', 'maxGpus'] as const;

export class QueueService {
  constructor(
    private readonly store: Store,
    private readonly catalog: QueueCatalog,
    private readonly tasks: Tasks,
    private readonly now: () => number = Date.now,
  ) {}

  list(): QueueWithStatus[] {
    return this.catalog.list().map((queue) => ({ queue, status: this.tasks.queueStatus(queue.name) }));
  }

  get(name: string): QueueWithStatus {
    const queue = this.catalog.get(name);
    if (!queue) throw notFound(`queue ${name}`);
    return { queue, status: this.tasks.queueStatus(name) };
  }

  async create(input: CreateQueueInput): Promise<QueueWithStatus> {
    const now = this.now();
    const queue: QueueRecord = { ...dropUndefined(input), createdAt: now, updatedAt: now };
    await this.store.insertQueue(queue);
    this.catalog.set(queue);
    this.tasks.scheduleSoon();
    return this.get(queue.name);
  }

  async update(name: string, patch: PatchQueueInput): Promise<QueueWithStatus> {
    const current = this.catalog.get(name);
    if (!current) throw notFound(`queue ${name}`);
    const next: Record<string, unknown> = { ...current };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (value === null) {
        if (!(CAP_FIELDS as readonly string[]).includes(key)) throw new WharfError('validation_failed', `${key}: cannot be removed`);
        delete next[key];
      } else {
        next[key] = value;
      }
    }
    const queue = { ...(next as unknown as QueueRecord), name, updatedAt: this.now() };
    if (!(await this.store.updateQueue(queue))) throw notFound(`queue ${name}`);
    this.catalog.set(queue);
    this.tasks.scheduleSoon();
    return this.get(name);
  }

  async remove(name: string): Promise<QueueRecord> {
    const queue = this.catalog.get(name);
    if (!queue) throw notFound(`queue ${name}`);
    if (name === DEFAULT_QUEUE) throw new WharfError('conflict', 'queue default always exists; it cannot be deleted');
    const status = this.tasks.queueStatus(name);
    if (status.queued > 0 || status.running > 0) {
      throw new WharfError('conflict', `queue ${name} holds ${status.queued} queued and ${status.running} placed tasks; cancel them or wait until they finish`);
    }
    await this.store.deleteQueue(name);
    for (const limit of this.catalog.userLimits()) if (limit.queue === name) await this.store.deleteUserLimit(limit.userId, name);
    this.catalog.delete(name);
    return queue;
  }

  userLimits(): UserLimitRecord[] {
    return this.catalog.userLimits();
  }

  /** A user named by id or email (REST and REPL take either); 404 when unknown. */
  async resolveUser(ref: string): Promise<string> {
    const user = ref.includes('@') ? await this.store.findUserByEmail(ref) : await this.store.getUser(ref);
    if (!user) throw notFound(`user ${ref}`);
    return user.id;
  }

  /** Sets a user's limits in one queue, or across queues when `queue` is undefined (replacing what was set). */
  async putUserLimit(userId: string, queue: string | undefined, input: UserLimitInput): Promise<UserLimitRecord> {
    if (queue !== undefined && !this.catalog.get(queue)) throw notFound(`queue ${queue}`);
    const limit: UserLimitRecord = { ...dropUndefined(input), userId, ...(queue !== undefined ? { queue } : {}), updatedAt: this.now() };
    await this.store.putUserLimit(limit);
    this.catalog.setUserLimit(limit);
    this.tasks.scheduleSoon();
    return limit;
  }

  async deleteUserLimit(userId: string, queue: string | undefined): Promise<void> {
    if (!(await this.store.deleteUserLimit(userId, queue))) throw notFound(queue === undefined ? `limits of user ${userId}` : `limits of user ${userId} in queue ${queue}`);
    this.catalog.deleteUserLimit(userId, queue);
    this.tasks.scheduleSoon();
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
