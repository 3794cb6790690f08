// Queues and per-user limits: where a task waits, what its queue may use at once, how the
// queue's capacity is shared between users (weighted DRF) and how its tasks are placed.
// (Records: the ground floor; they import only each other.)

/** How the scheduler picks among the workers a task fits on (scheduler/placement.ts). */
export type PlacementStrategy = 'round-robin' | 'binpack' | 'spread';
export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = ['round-robin', 'binpack', 'spread'];

/**
 * Whether a task of the queue that fits nowhere may evict lower-priority running tasks: the
 * planner (scheduler/placement.ts) chooses the evictions, the preemption system
 * (tasks/systems/preemption-system.ts) applies them.
 */
export type PreemptionPolicy = 'Never' | 'PreemptLowerPriority';
export const PREEMPTION_POLICIES: readonly PreemptionPolicy[] = ['Never', 'PreemptLowerPriority'];

export type ConstraintOp = 'in' | 'notIn' | 'exists' | 'notExists';
export const CONSTRAINT_OPS: readonly ConstraintOp[] = ['in', 'notIn', 'exists', 'notExists'];

/** A condition on a worker's labels (Kubernetes' node affinity match expressions). */
export interface LabelConstraint {
  key: string;
  op: ConstraintOp;
  /** in / notIn: the values; absent for exists / notExists */
  values?: string[] | undefined;
}

/** Caps of resources in use at once (by placed tasks: assigned, running, cancelling); absent = no cap. */
export interface UsageCaps {
  /** placed tasks */
  maxRunning?: number | undefined;
  /** cores */
  maxCpu?: number | undefined;
  /** bytes */
  maxMemory?: number | undefined;
  maxGpus?: number | undefined;
}

export interface QueueRecord {
  /** [a-z0-9-], 1-63 characters; `default` always exists */
  name: string;
  description?: string | undefined;
  /** placed tasks (assigned, running, cancelling, preempting) at once */
  maxConcurrency?: number | undefined;
  /** unfinished tasks (queued or placed) the queue holds; a submission past it is refused */
  maxTasks?: number | undefined;
  /** cores in use at once by the queue's placed tasks */
  maxCpu?: number | undefined;
  /** bytes in use at once */
  maxMemory?: number | undefined;
  maxGpus?: number | undefined;
  /** the priority of a task submitted to the queue without one */
  defaultPriority: number;
  preemptionPolicy: PreemptionPolicy;
  strategy: PlacementStrategy;
  /** labels a worker must carry (equal values) to run the queue's tasks */
  workerSelector: Record<string, string>;
  /** more conditions on the worker's labels, for every task of the queue */
  constraints: LabelConstraint[];
  createdAt: number;
  updatedAt: number;
}

export const DEFAULT_QUEUE = 'default';

export function defaultQueueRecord(now: number): QueueRecord {
  return {
    name: DEFAULT_QUEUE,
    description: 'every task that names no queue',
    defaultPriority: 50,
    preemptionPolicy: 'Never',
    strategy: 'round-robin',
    workerSelector: {},
    constraints: [],
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * An admin's limits for one user: in one queue (`queue` set) or across all queues (`queue`
 * absent). `weight` is the user's fair-share weight (default 1): in a queue under contention
 * users get capacity in proportion to their weights (weighted dominant resource fairness).
 */
export interface UserLimitRecord extends UsageCaps {
  userId: string;
  /** absent: the user's limits across all queues */
  queue?: string | undefined;
  weight?: number | undefined;
  updatedAt: number;
}
