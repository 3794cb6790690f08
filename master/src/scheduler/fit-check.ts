// "Will it fit?": whether a task submitted now would be placed at once, which workers could
// take it and why not the others (POST /api/tasks/fit). The answer `fits` is the planner's own:
// planPlacements is run on a snapshot holding this task alone (the live usage, the queues' caps,
// the standing reservations and the workers as the next pass sees them), so it says what a pass
// would do with the task at the head of its queue — tasks queued before it may take the room
// first. Each worker's reasons use the same predicates the planner uses (fitsIn, hasLabels,
// matchesConstraints, the queue's caps via capChecks), each listed rather than the first only,
// plus the dispatcher's GPU id check (a worker that reports its ids must have enough free).
import { formatBytes } from '@wharf/proto';
import type { Resources } from '../records/resources.js';
import { describeConstraint, matchesConstraint } from './constraints.js';
import {
  capChecks,
  capReason,
  fitsIn,
  freeResources,
  hasLabels,
  planPlacements,
  ROUND_ROBIN,
  type QueuePolicy,
  type Reservation,
  type SchedulingPolicy,
  type TaskSnapshot,
  type WorkerSnapshot,
} from './placement.js';
import { NO_USAGE, type UsageView } from './usage.js';

export interface FitWorker extends WorkerSnapshot {
  name: string;
  /** connected over gRPC now (a worker without its stream takes no task) */
  connected: boolean;
  /** the worker's GPU ids, and how many of them no attempt holds; undefined: a count only */
  gpuIds?: { total: number; free: number } | undefined;
}

export interface FitInput {
  now: number;
  /** the task as it would be queued (its queue, user, priority, resources, pin) */
  task: TaskSnapshot;
  workers: readonly FitWorker[];
  policy?: SchedulingPolicy | undefined;
  usage?: UsageView | undefined;
  reservations?: ReadonlyMap<string, Reservation> | undefined;
  /** the queue's maxTasks refusal a submission would get now (checked by the submission) */
  queueFull?: string | undefined;
}

export interface FitAnswer {
  fits: boolean;
  /** the worker the next pass would place it on, when it fits */
  workerId: string | null;
  workers: { id: string; name: string; fits: boolean; reasons: string[] }[];
  queue: { name: string; fits: boolean; reasons: string[] };
}

const DIMENSIONS = ['cpu', 'memory', 'gpu', 'disk'] as const;

function amount(dimension: (typeof DIMENSIONS)[number], value: number): string {
  return dimension === 'memory' || dimension === 'disk' ? formatBytes(value) : String(Number(value.toFixed(3)));
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Why `worker` cannot take `task` now: every reason, in words; empty: it can. */
export function workerReasons(task: TaskSnapshot, worker: FitWorker, queue: QueuePolicy, heldFor: string | undefined): string[] {
  const reasons: string[] = [];
  if (!worker.connected) reasons.push('not connected (lost)');
  else if (worker.status !== 'ready') reasons.push(`${worker.status}: takes no new tasks`);
  if (task.pinnedWorkerId !== undefined && task.pinnedWorkerId !== worker.id) reasons.push(`the task is pinned to worker ${task.pinnedWorkerId}`);
  if (!worker.runtimes.includes(task.runtime)) reasons.push(`does not offer runtime ${task.runtime} (offers ${worker.runtimes.join(', ') || 'none'})`);
  for (const [key, value] of Object.entries(task.labels)) {
    if (!hasLabels(worker, { [key]: value })) reasons.push(`lacks label ${key}=${value}${worker.labels[key] !== undefined ? ` (has ${key}=${worker.labels[key]})` : ''}`);
  }
  if (Object.keys(queue.workerSelector).length > 0 && !hasLabels(worker, queue.workerSelector)) {
    reasons.push(`lacks the queue's worker selector ${labelsText(queue.workerSelector)}`);
  }
  for (const constraint of [...queue.constraints, ...(task.constraints ?? [])]) {
    if (!matchesConstraint(worker.labels, constraint)) reasons.push(`does not match the constraint ${describeConstraint(constraint)}`);
  }
  const free = freeResources(worker);
  for (const d of DIMENSIONS) {
    const asked = task.resources[d];
    if (asked <= 0) continue;
    if (!fitsIn({ ...NO_ROOM, [d]: asked }, { ...NO_ROOM, [d]: worker.capacity[d] })) {
      reasons.push(`${d}: asks ${amount(d, asked)}, the worker has ${amount(d, worker.capacity[d])} in all`);
    } else if (!fitsIn({ ...NO_ROOM, [d]: asked }, { ...NO_ROOM, [d]: free[d] })) {
      reasons.push(`${d}: asks ${amount(d, asked)}, ${amount(d, Math.max(0, free[d]))} free now (${amount(d, worker.reserved[d])} reserved by running tasks)`);
    }
  }
  if (heldFor !== undefined && heldFor !== task.id) reasons.push(`reserved for waiting task ${heldFor}: no other task starts there until it fits`);
  if (task.resources.gpu > 0 && worker.gpuIds && worker.gpuIds.free < task.resources.gpu && worker.gpuIds.total >= task.resources.gpu) {
    reasons.push(`${worker.gpuIds.free} of its GPU ids free (${worker.gpuIds.total} in all), ${task.resources.gpu} wanted`);
  }
  return reasons;
}

const NO_ROOM: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };

/** The answer to "would this task be placed now, where, and why not elsewhere". */
export function checkFit(input: FitInput): FitAnswer {
  const { task } = input;
  const queueName = task.queue ?? 'default';
  const queue = input.policy?.queue(queueName) ?? ROUND_ROBIN;
  const userId = task.userId ?? '';
  const queueReasons: string[] = [];
  if (input.queueFull) queueReasons.push(input.queueFull);
  const checks = capChecks(queueName, userId, queue, input.policy, input.usage, { queue: () => ({ ...NO_USAGE }), inQueue: { ...NO_USAGE }, user: () => ({ ...NO_USAGE }) });
  for (const check of checks) {
    const reason = capReason(check, task.resources);
    if (reason !== undefined) queueReasons.push(reason);
  }
  const heldBy = new Map<string, string>();
  for (const [taskId, reservation] of input.reservations ?? []) if (!heldBy.has(reservation.workerId)) heldBy.set(reservation.workerId, taskId);
  const workers = input.workers.map((worker) => {
    const reasons = workerReasons(task, worker, queue, heldBy.get(worker.id));
    return { id: worker.id, name: worker.name, fits: reasons.length === 0, reasons };
  });
  // the planner's own verdict on this task alone, at the head of its queue
  const plan = planPlacements({
    now: input.now,
    streams: [{ queue: queueName, userId, tasks: [{ ...task, notBefore: undefined, waitingSince: undefined }] }],
    policy: input.policy,
    usage: input.usage,
    reservations: input.reservations,
    // a worker without enough free GPU ids is refused by the dispatcher after the plan
    // (dispatch-system.ts), so the planner is not offered it
    workers: input.workers.filter((w) => w.connected && !(task.resources.gpu > 0 && w.gpuIds && w.gpuIds.free < task.resources.gpu)),
    cursor: 0,
  });
  const placed = plan.placements[0]?.workerId;
  const fits = queueReasons.length === 0 && placed !== undefined;
  if (!fits && queueReasons.length === 0 && workers.every((w) => w.fits) && workers.length > 0) {
    // the planner kept it waiting for a reason no worker shows (kept honest: say the planner's)
    const why = plan.waiting.get(task.id);
    if (why) queueReasons.push(why);
  }
  return { fits, workerId: fits ? placed! : null, workers, queue: { name: queueName, fits: queueReasons.length === 0, reasons: queueReasons } };
}
