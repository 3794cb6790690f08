// What placed tasks (assigned, running, cancelling, preempting) use at once, per queue, per user in a queue
// and per user across queues: the figures queue limits, user limits and fair share are checked
// against. The live ledger is charged when an attempt becomes active and discharged when it ends
// (tasks/task-state.ts); the scheduler reads it through UsageView and adds its own plan on top.
import type { Resources } from '../records/resources.js';

export interface Usage {
  /** placed tasks */
  count: number;
  cpu: number;
  memory: number;
  gpu: number;
}

export const NO_USAGE: Readonly<Usage> = Object.freeze({ count: 0, cpu: 0, memory: 0, gpu: 0 });

export function addUsage(target: Usage, resources: Pick<Resources, 'cpu' | 'memory' | 'gpu'>, sign: 1 | -1): void {
  target.count += sign;
  target.cpu += sign * resources.cpu;
  target.memory += sign * resources.memory;
  target.gpu += sign * resources.gpu;
}

/** Read-only usage, as the scheduler sees it. */
export interface UsageView {
  queue(queue: string): Readonly<Usage> | undefined;
  userInQueue(queue: string, userId: string): Readonly<Usage> | undefined;
  user(userId: string): Readonly<Usage> | undefined;
}

/** The key of a (queue, user) pair: queue names cannot hold a NUL. */
export function userQueueKey(queue: string, userId: string): string {
  return `${queue}\u0000${userId}`;
}

interface Charge {
  queue: string;
  userId: string;
  resources: Pick<Resources, 'cpu' | 'memory' | 'gpu'>;
}

/** The live ledger, keyed by the attempt charged, so an attempt is discharged exactly as it was charged. */
export class UsageLedger implements UsageView {
  private readonly byQueue = new Map<string, Usage>();
  private readonly byUserQueue = new Map<string, Usage>();
  private readonly byUser = new Map<string, Usage>();
  private readonly charges = new Map<string, Charge>();

  charge(attemptId: string, queue: string, userId: string, resources: Pick<Resources, 'cpu' | 'memory' | 'gpu'>): void {
    if (this.charges.has(attemptId)) return;
    const charge = { queue, userId, resources: { cpu: resources.cpu, memory: resources.memory, gpu: resources.gpu } };
    this.charges.set(attemptId, charge);
    this.apply(charge, 1);
  }

  discharge(attemptId: string): void {
    const charge = this.charges.get(attemptId);
    if (!charge) return;
    this.charges.delete(attemptId);
    this.apply(charge, -1);
  }

  queue(queue: string): Readonly<Usage> | undefined {
    return this.byQueue.get(queue);
  }

  userInQueue(queue: string, userId: string): Readonly<Usage> | undefined {
    return this.byUserQueue.get(userQueueKey(queue, userId));
  }

  user(userId: string): Readonly<Usage> | undefined {
    return this.byUser.get(userId);
  }

  /** Every (queue, user) with tasks placed now, for metrics. */
  *usersInQueues(): IterableIterator<{ queue: string; userId: string; usage: Readonly<Usage> }> {
    for (const [key, usage] of this.byUserQueue) {
      const split = key.indexOf('\u0000');
      yield { queue: key.slice(0, split), userId: key.slice(split + 1), usage };
    }
  }

  private apply(charge: Charge, sign: 1 | -1): void {
    const bump = (map: Map<string, Usage>, key: string): void => {
      let usage = map.get(key);
      if (!usage) {
        usage = { ...NO_USAGE };
        map.set(key, usage);
      }
      addUsage(usage, charge.resources, sign);
      if (usage.count <= 0) map.delete(key);
    };
    bump(this.byQueue, charge.queue);
    bump(this.byUserQueue, userQueueKey(charge.queue, charge.userId));
    bump(this.byUser, charge.userId);
  }
}
