// The queues and the admins' user limits, in memory, as the scheduler and the submission
// system read them (synchronously, every pass). The queue service (queue-service.ts) stores
// every change before it makes it here; `load` fills it from the store at start and creates the
// `default` queue when the store has none.
import { WharfError } from '../errors.js';
import { DEFAULT_QUEUE, defaultQueueRecord, type QueueRecord, type UserLimitRecord } from '../records/queue.js';
import type { User } from '../records/user.js';
import type { SchedulingPolicy } from '../scheduler/placement.js';
import { userQueueKey } from '../scheduler/usage.js';
import type { Store } from '../store/store.js';

export class QueueCatalog implements SchedulingPolicy {
  private readonly queues = new Map<string, QueueRecord>();
  private readonly limitsInQueue = new Map<string, UserLimitRecord>();
  private readonly limitsGlobal = new Map<string, UserLimitRecord>();
  private readonly labels = new Map<string, string>();

  /** A catalog with only the default queue (until `load`). */
  constructor() {
    this.queues.set(DEFAULT_QUEUE, defaultQueueRecord(0));
  }

  /** From the store: its queues (the default one created when missing), user limits and user names. */
  async load(store: Store, now: number): Promise<void> {
    let queues = await store.listQueues();
    if (!queues.some((q) => q.name === DEFAULT_QUEUE)) {
      try {
        await store.insertQueue(defaultQueueRecord(now));
      } catch (error: unknown) {
        // another master created it meanwhile: read it back below
        if (!(error instanceof WharfError && error.code === 'conflict')) throw error;
      }
      queues = await store.listQueues();
    }
    this.queues.clear();
    for (const queue of queues) this.queues.set(queue.name, queue);
    this.limitsInQueue.clear();
    this.limitsGlobal.clear();
    for (const limit of await store.listUserLimits()) this.setUserLimit(limit);
    for (const user of await store.listUsers()) this.rememberUser(user);
  }

  get(name: string): QueueRecord | undefined {
    return this.queues.get(name);
  }

  /** by name */
  list(): QueueRecord[] {
    return [...this.queues.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  set(queue: QueueRecord): void {
    this.queues.set(queue.name, queue);
  }

  delete(name: string): void {
    this.queues.delete(name);
    for (const [key, limit] of this.limitsInQueue) if (limit.queue === name) this.limitsInQueue.delete(key);
  }

  setUserLimit(limit: UserLimitRecord): void {
    if (limit.queue === undefined) this.limitsGlobal.set(limit.userId, limit);
    else this.limitsInQueue.set(userQueueKey(limit.queue, limit.userId), limit);
  }

  deleteUserLimit(userId: string, queue: string | undefined): void {
    if (queue === undefined) this.limitsGlobal.delete(userId);
    else this.limitsInQueue.delete(userQueueKey(queue, userId));
  }

  /** by user, then queue (the all-queues entry first) */
  userLimits(): UserLimitRecord[] {
    return [...this.limitsGlobal.values(), ...this.limitsInQueue.values()].sort(
      (a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : (a.queue ?? '') < (b.queue ?? '') ? -1 : 1),
    );
  }

  /** How reasons name a user (their email). */
  rememberUser(user: Pick<User, 'id' | 'email'>): void {
    this.labels.set(user.id, user.email);
  }

  // SchedulingPolicy
  queue(name: string): QueueRecord | undefined {
    return this.queues.get(name);
  }

  userInQueue(queue: string, userId: string): UserLimitRecord | undefined {
    return this.limitsInQueue.get(userQueueKey(queue, userId));
  }

  user(userId: string): UserLimitRecord | undefined {
    return this.limitsGlobal.get(userId);
  }

  userLabel(userId: string): string {
    return this.labels.get(userId) ?? userId;
  }
}
