// Placement: a pure function from a snapshot (tasks waiting, in queue order, and the workers
// with their capacity and *reserved* resources) to a plan. It never touches the store, gRPC or
// timers; the task service applies the plan.
//
// Default strategy, resource-aware round-robin: a cursor walks the ready workers in a stable
// order; each task goes to the first worker from the cursor on that offers its runtime, has
// its labels and has room for its cpu, memory, gpu and disk by reservation; the cursor then
// moves past that worker, so consecutive tasks spread across the cluster. A task that cannot
// be placed now stays queued with a reason people can act on; lower-priority tasks that fit
// may still go ahead of it (backfill).
//
// Cache affinity (DAG tasks with inputs): among the workers that fit, the one whose artifact
// cache already holds the most of the task's input bytes wins; with no such worker the
// round-robin choice stands. Only workers with room now are considered, so a busy preferred
// worker is never waited for and no task starves for the sake of a cache hit.
//
// Queues, users and fair share. The waiting tasks come as streams, one per (queue, user), each
// in priority-then-submission order (scheduler/queued-tasks.ts). The pass repeatedly takes the
// head of the stream with the highest head priority and, among equals, the smallest weighted
// dominant share (DRF: the user's largest fraction of the cluster's cpu, memory or gpus in use
// in that queue, divided by the user's weight; Kueue/YuniKorn style), then the oldest head.
// A placement updates only its own stream's share, so a pass costs what the old FIFO walk cost
// plus a scan of the streams per task — no re-sorting of the queue.
//
// Before a task is placed its queue's caps (maxConcurrency, maxCpu, maxMemory, maxGpus), its
// user's caps in that queue and its user's caps across queues are checked against what is in
// use (the live usage plus this plan); a task over a cap waits with the cap as its reason
// ("queue gpu-train: 64/64 gpus in use", "user ada: 8/8 running tasks in queue batch").
//
// Where a task may go: a ready worker that offers its runtime, carries its labels and its
// queue's workerSelector, matches its and its queue's label constraints (in, notIn, exists,
// notExists), and is its pinned worker when it is pinned. Among those, the queue's strategy
// picks: round-robin (above), binpack (the most allocated worker first) or spread (the least).
//
// No starvation: a task that cannot be placed for want of room, has waited longer than
// `reserveAfterMs` and is the first such task of its queue and priority in the pass gets a
// reservation on the worker that needs the least freed to fit it (running tasks' end times are
// not known, so "soonest" is estimated by the missing amount). While the reservation holds, no
// other task is placed on that worker (each would delay it), the task's reason says so, and it
// is placed there as soon as the room is free. The plan carries the reservations on to the next
// pass; gang scheduling can add all-or-nothing groups to the plan the same way.
//
// Priority preemption: a task of a queue with `preemptionPolicy: PreemptLowerPriority` that fits
// nowhere for want of room (not for a cap, a label or a runtime) may evict running tasks of
// strictly lower priority, in any queue (priority is one scale across queues, as Kubernetes'
// PriorityClass) and are not `preemptible: false` — see `chooseVictims`: on each worker the task may run on, candidates are taken lowest priority
// first, then youngest first, until the task fits; needless ones are dropped again; the worker
// with the fewest victims wins (then the lowest highest victim priority, then worker order). The
// plan returns the eviction (victim attempt ids, preemptor, worker) and a reservation of that
// worker for the preemptor, so the capacity the victims free is not taken by a smaller task. A
// task that holds a reservation evicts nothing more; a running task never counts as a victim of
// a task it evicted itself (no preemption loops).
import { formatBytes } from '@wharf/proto';
import type { LabelConstraint, PlacementStrategy, PreemptionPolicy, UsageCaps, UserLimitRecord } from '../records/queue.js';
import type { Resources, Runtime } from '../records/resources.js';
import { describeConstraint, matchesConstraints } from './constraints.js';
import { addUsage, NO_USAGE, type Usage, type UsageView } from './usage.js';

export interface WorkerSnapshot {
  id: string;
  status: 'ready' | 'draining' | 'lost';
  runtimes: readonly Runtime[];
  labels: Readonly<Record<string, string>>;
  capacity: Resources;
  reserved: Resources;
  /** sha256s the worker reported holding in its artifact cache (its most recently used ones) */
  cachedArtifacts?: ReadonlySet<string> | undefined;
}

export interface TaskSnapshot {
  id: string;
  runtime: Runtime;
  resources: Resources;
  /** labels a worker must carry with the same values */
  labels: Readonly<Record<string, string>>;
  /** epoch ms before which the task must not be placed (retry backoff) */
  notBefore?: number | undefined;
  /** DAG inputs: artifacts the task reads (for cache affinity) */
  inputs?: readonly { sha256: string; size: number }[] | undefined;
  /** default: `default` */
  queue?: string | undefined;
  /** the task's owner (fair share and user limits); default '' */
  userId?: string | undefined;
  /** default 50 */
  priority?: number | undefined;
  /** submission order; lower is older (default 0) */
  seq?: number | undefined;
  /** conditions on the worker's labels besides `labels` */
  constraints?: readonly LabelConstraint[] | undefined;
  /** the only worker the task may go to */
  pinnedWorkerId?: string | undefined;
  /** epoch ms since which the task has waited (for reservations); default: never reserved */
  waitingSince?: number | undefined;
}

/** One (queue, user) sub-queue, in priority-then-submission order. */
export interface TaskStream {
  queue: string;
  userId: string;
  tasks: Iterable<TaskSnapshot>;
}

/** How a queue's tasks are placed and capped (from records/queue.ts). */
export interface QueuePolicy extends Omit<UsageCaps, 'maxRunning'> {
  maxConcurrency?: number | undefined;
  strategy: PlacementStrategy;
  workerSelector: Readonly<Record<string, string>>;
  constraints: readonly LabelConstraint[];
  /** absent: `Never` */
  preemptionPolicy?: PreemptionPolicy | undefined;
}

/** A placed task's attempt as preemption sees it (assigned or running; not one already ending). */
export interface RunningSnapshot {
  attemptId: string;
  taskId: string;
  workerId: string;
  /** default 50 */
  priority?: number | undefined;
  resources: Resources;
  /** epoch ms it was placed (youngest are evicted first among equal priorities) */
  startedAt: number;
  /** false: never evicted; default true */
  preemptible?: boolean | undefined;
  /** tasks this one evicted to run (they may never evict it back) */
  evicted?: ReadonlySet<string> | undefined;
}

/** Running attempts to end so a higher-priority task can run on their worker. */
export interface Eviction {
  preemptorTaskId: string;
  workerId: string;
  victimAttemptIds: string[];
  victimTaskIds: string[];
}

/** The queues and the admins' user limits, as the scheduler reads them (queues/queue-catalog.ts). */
export interface SchedulingPolicy {
  /** undefined: a queue the scheduler does not know (placed round-robin, uncapped) */
  queue(name: string): QueuePolicy | undefined;
  /** the user's limits and weight in that queue */
  userInQueue(queue: string, userId: string): Readonly<UserLimitRecord> | undefined;
  /** the user's limits across queues (and default weight) */
  user(userId: string): Readonly<UserLimitRecord> | undefined;
  /** how reasons name the user ("ada@example.com") */
  userLabel(userId: string): string;
}

/** A worker held for one waiting task (no other task is placed on it meanwhile). */
export interface Reservation {
  workerId: string;
  /** epoch ms it was made */
  since: number;
  /** the queue and priority the task heads (one reservation per queue and priority) */
  queue: string;
  priority: number;
}

export interface SchedulingSnapshot {
  now: number;
  /** in queue order, as one stream (queue `default`); ignored when `streams` is given */
  tasks?: Iterable<TaskSnapshot> | undefined;
  /** the (queue, user) sub-queues */
  streams?: readonly TaskStream[] | undefined;
  /** queues, user limits, weights; absent: every queue round-robin and uncapped, every weight 1 */
  policy?: SchedulingPolicy | undefined;
  /** what placed tasks use now; absent: nothing */
  usage?: UsageView | undefined;
  /** reservations made by earlier plans, by task id */
  reservations?: ReadonlyMap<string, Reservation> | undefined;
  /** a task that waited longer than this for room gets a reservation; absent: never */
  reserveAfterMs?: number | undefined;
  workers: readonly WorkerSnapshot[];
  /** the placed tasks (preemption's candidates); absent: nothing is evicted */
  running?: readonly RunningSnapshot[] | undefined;
  /** round-robin position carried from the previous plan */
  cursor: number;
  /** stop after this many placements (keeps one pass short) */
  maxPlacements?: number;
}

export interface Placement {
  taskId: string;
  workerId: string;
}

export interface Plan {
  placements: Placement[];
  /** why each task that was looked at and not placed still waits */
  waiting: Map<string, string>;
  cursor: number;
  /** earliest notBefore among tasks held back by backoff: when to plan again */
  wakeAt?: number | undefined;
  /** the reservations to carry to the next plan, by task id (placed tasks' dropped) */
  reservations: Map<string, Reservation>;
  /** running attempts to end for higher-priority tasks (each preemptor also holds a reservation) */
  evictions: Eviction[];
}

const DIMENSIONS = ['cpu', 'memory', 'gpu', 'disk'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const EPSILON = 1e-9;

export function freeResources(worker: Pick<WorkerSnapshot, 'capacity' | 'reserved'>): Resources {
  return {
    cpu: worker.capacity.cpu - worker.reserved.cpu,
    memory: worker.capacity.memory - worker.reserved.memory,
    gpu: worker.capacity.gpu - worker.reserved.gpu,
    disk: worker.capacity.disk - worker.reserved.disk,
  };
}

export function fitsIn(request: Resources, free: Resources): boolean {
  return DIMENSIONS.every((d) => request[d] <= free[d] + EPSILON);
}

export function hasLabels(worker: Pick<WorkerSnapshot, 'labels'>, wanted: Readonly<Record<string, string>>): boolean {
  for (const key in wanted) if (worker.labels[key] !== wanted[key]) return false;
  return true;
}

export function addResources(a: Resources, b: Resources, sign = 1): Resources {
  return { cpu: a.cpu + sign * b.cpu, memory: a.memory + sign * b.memory, gpu: a.gpu + sign * b.gpu, disk: a.disk + sign * b.disk };
}

function formatAmount(dimension: Dimension, value: number): string {
  return dimension === 'memory' || dimension === 'disk' ? formatBytes(value) : String(Number(value.toFixed(3)));
}

function isEmpty(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return false;
  return true;
}

/** Why a task that did not fit waits, in words a person can act on. */
export function explainWaiting(task: TaskSnapshot, workers: readonly WorkerSnapshot[], queue?: QueuePolicy): string {
  if (task.pinnedWorkerId !== undefined) {
    const pinned = workers.find((w) => w.id === task.pinnedWorkerId);
    if (!pinned) return `pinned to worker ${task.pinnedWorkerId}, which is not connected`;
    if (pinned.status !== 'ready') return `pinned to worker ${pinned.id}, which is ${pinned.status}`;
    workers = [pinned];
  }
  const ready = workers.filter((w) => w.status === 'ready');
  if (ready.length === 0) return 'no ready worker';
  const withRuntime = ready.filter((w) => w.runtimes.includes(task.runtime));
  if (withRuntime.length === 0) return `no ready worker offers runtime ${task.runtime}`;
  const selector = queue && !isEmpty(queue.workerSelector) ? queue.workerSelector : undefined;
  if (selector && !withRuntime.some((w) => hasLabels(w, selector))) {
    const wanted = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
    return `no ready worker with runtime ${task.runtime} has the queue's worker selector ${wanted}`;
  }
  const withLabels = withRuntime.filter((w) => hasLabels(w, task.labels) && (!selector || hasLabels(w, selector)));
  if (withLabels.length === 0) {
    const wanted = Object.entries(task.labels).map(([k, v]) => `${k}=${v}`).join(',');
    return `no ready worker with runtime ${task.runtime} has labels ${wanted}`;
  }
  const constraints = [...(queue?.constraints ?? []), ...(task.constraints ?? [])];
  if (constraints.length > 0) {
    let matching = withLabels;
    for (const constraint of constraints) {
      const next = matching.filter((w) => matchesConstraints(w.labels, [constraint]));
      if (next.length === 0) return `no ready worker with runtime ${task.runtime} matches the constraint ${describeConstraint(constraint)}`;
      matching = next;
    }
    return explainRoom(task, matching);
  }
  return explainRoom(task, withLabels);
}

function explainRoom(task: TaskSnapshot, withLabels: readonly WorkerSnapshot[]): string {
  for (const d of DIMENSIONS) {
    if (task.resources[d] > 0 && !withLabels.some((w) => task.resources[d] <= w.capacity[d] + EPSILON)) {
      return `no ready worker has ${d} >= ${formatAmount(d, task.resources[d])}`;
    }
  }
  if (!withLabels.some((w) => fitsIn(task.resources, w.capacity))) {
    return 'no ready worker has all the requested resources at once';
  }
  if (task.pinnedWorkerId !== undefined) return `waiting for free resources on its pinned worker ${task.pinnedWorkerId}`;
  return 'waiting for free resources on a matching worker';
}

/** Bytes of `inputs` present in a worker's reported cache (each artifact counted once). */
export function cachedInputBytes(inputs: readonly { sha256: string; size: number }[], cached: ReadonlySet<string> | undefined): number {
  if (!cached || cached.size === 0) return 0;
  const seen = new Set<string>();
  let bytes = 0;
  for (const input of inputs) {
    if (seen.has(input.sha256) || !cached.has(input.sha256)) continue;
    seen.add(input.sha256);
    bytes += input.size;
  }
  return bytes;
}

const DEFAULT_QUEUE_NAME = 'default';
const DEFAULT_PRIORITY = 50;
/** how a queue the policy does not know is placed: round-robin, uncapped */
export const ROUND_ROBIN: QueuePolicy = { strategy: 'round-robin', workerSelector: {}, constraints: [] };

/** One stream during a pass: its iterator, its head and its user's weighted dominant share. */
interface StreamCursor {
  queue: string;
  userId: string;
  iterator: Iterator<TaskSnapshot>;
  head: TaskSnapshot;
  headPriority: number;
  headSeq: number;
  weight: number;
  share: number;
  policy: QueuePolicy;
  /** the caps that apply, each with the live usage and this plan's additions; empty = none */
  caps: CapCheck[];
  /** this plan's additions for the user in the queue (fair share) */
  plannedInQueue: Usage;
  liveInQueue: Readonly<Usage>;
}

type Caps = { maxRunning?: number | undefined; maxCpu?: number | undefined; maxMemory?: number | undefined; maxGpus?: number | undefined };

/** One cap to check before placing a task of a stream: whose, against what, and how the reason names it. */
export interface CapCheck {
  caps: Caps;
  live: Readonly<Usage>;
  planned: Usage;
  /** "queue batch: " + figure, or "user ada: " + figure + " in queue batch" */
  prefix: string;
  suffix: string;
}

/**
 * The caps a task of `queue` and `userId` must stay within: the queue's, then the user's in the
 * queue, then the user's across queues, each with the live usage and what a plan adds
 * (`planned`; the queue's and the user's across queues are shared by streams, so made on demand).
 */
export function capChecks(
  queue: string,
  userId: string,
  queuePolicy: QueuePolicy,
  policy: SchedulingPolicy | undefined,
  usage: UsageView | undefined,
  planned: { queue: () => Usage; inQueue: Usage; user: () => Usage },
): CapCheck[] {
  const inQueue = policy?.userInQueue(queue, userId);
  const global = policy?.user(userId);
  const caps: CapCheck[] = [];
  const queueCaps: Caps = { maxRunning: queuePolicy.maxConcurrency, maxCpu: queuePolicy.maxCpu, maxMemory: queuePolicy.maxMemory, maxGpus: queuePolicy.maxGpus };
  if (hasCaps(queueCaps)) {
    caps.push({ caps: queueCaps, live: usage?.queue(queue) ?? NO_USAGE, planned: planned.queue(), prefix: `queue ${queue}: `, suffix: '' });
  }
  if (inQueue && hasCaps(inQueue)) {
    caps.push({ caps: inQueue, live: usage?.userInQueue(queue, userId) ?? NO_USAGE, planned: planned.inQueue, prefix: `user ${policy!.userLabel(userId)}: `, suffix: ` in queue ${queue}` });
  }
  if (global && hasCaps(global)) {
    caps.push({ caps: global, live: usage?.user(userId) ?? NO_USAGE, planned: planned.user(), prefix: `user ${policy!.userLabel(userId)}: `, suffix: ' in all queues' });
  }
  return caps;
}

/** Why a task asking `ask` would go past the check's cap ("queue batch: 4/4 running tasks"), or undefined. */
export function capReason(check: CapCheck, ask: Resources): string | undefined {
  const over = overCap(check.live, check.planned, ask, check.caps);
  return over === undefined ? undefined : `${check.prefix}${over.inUse}${check.suffix}${over.asks}`;
}

function hasCaps(caps: Caps): boolean {
  return caps.maxRunning !== undefined || caps.maxCpu !== undefined || caps.maxMemory !== undefined || caps.maxGpus !== undefined;
}

function formatCpu(value: number): string {
  return String(Number(value.toFixed(3)));
}

/** "64/64 gpus in use" when the task would go past a cap (and what it asks, when that is why), else undefined. */
function overCap(live: Readonly<Usage>, planned: Readonly<Usage>, ask: Resources, caps: Caps): { inUse: string; asks: string } | undefined {
  const asks = (room: boolean, formatted: string): string => (room ? `; the task asks for ${formatted}` : '');
  if (caps.maxRunning !== undefined) {
    const count = live.count + planned.count;
    if (count + 1 > caps.maxRunning) return { inUse: `${count}/${caps.maxRunning} running tasks`, asks: '' };
  }
  if (caps.maxCpu !== undefined) {
    const cpu = live.cpu + planned.cpu;
    if (cpu + ask.cpu > caps.maxCpu + EPSILON) return { inUse: `${formatCpu(cpu)}/${formatCpu(caps.maxCpu)} cpu in use`, asks: asks(cpu + EPSILON < caps.maxCpu, formatCpu(ask.cpu)) };
  }
  if (caps.maxMemory !== undefined) {
    const memory = live.memory + planned.memory;
    if (memory + ask.memory > caps.maxMemory) {
      return { inUse: `${formatBytes(memory)}/${formatBytes(caps.maxMemory)} memory in use`, asks: asks(memory < caps.maxMemory, formatBytes(ask.memory)) };
    }
  }
  if (caps.maxGpus !== undefined) {
    const gpu = live.gpu + planned.gpu;
    if (gpu + ask.gpu > caps.maxGpus) return { inUse: `${gpu}/${caps.maxGpus} gpus in use`, asks: asks(gpu < caps.maxGpus, String(ask.gpu)) };
  }
  return undefined;
}

/** The dominant share of `usage` in a cluster of `total`: its largest fraction of cpu, memory or gpus. */
export function dominantShare(usage: Readonly<Usage>, total: Resources): number {
  let share = 0;
  if (total.cpu > 0) share = Math.max(share, usage.cpu / total.cpu);
  if (total.memory > 0) share = Math.max(share, usage.memory / total.memory);
  if (total.gpu > 0) share = Math.max(share, usage.gpu / total.gpu);
  return share;
}

/** A worker's most allocated fraction of cpu, memory or gpus (binpack: highest first; spread: lowest). */
function allocation(capacity: Resources, reserved: Resources): number {
  let fraction = 0;
  if (capacity.cpu > 0) fraction = Math.max(fraction, reserved.cpu / capacity.cpu);
  if (capacity.memory > 0) fraction = Math.max(fraction, reserved.memory / capacity.memory);
  if (capacity.gpu > 0) fraction = Math.max(fraction, reserved.gpu / capacity.gpu);
  return fraction;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

export function planPlacements(snapshot: SchedulingSnapshot): Plan {
  const ready = snapshot.workers.filter((w) => w.status === 'ready');
  const indexOf = new Map(ready.map((w, i) => [w.id, i]));
  // working copies of reservations, so one plan never overfills a worker
  const reserved = ready.map((w) => ({ ...w.reserved }));
  const free = ready.map((w, i) => freeResources({ capacity: w.capacity, reserved: reserved[i]! }));
  // an upper bound of what any ready worker has free, per dimension: it only shrinks during
  // a pass, so a task larger than it cannot fit anywhere and is skipped without a scan
  // (workers held by a reservation are left out: only their own task may use them, and it
  // skips this check)
  const maxFree: Resources = { cpu: -Infinity, memory: -Infinity, gpu: -Infinity, disk: -Infinity };
  const tightenMaxFree = (): void => {
    for (const d of DIMENSIONS) maxFree[d] = -Infinity;
    free.forEach((f, index) => {
      if (heldBy.has(index)) return;
      for (const d of DIMENSIONS) maxFree[d] = Math.max(maxFree[d], f[d]);
    });
  };
  // the cluster's size, against which dominant shares are measured
  const total: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };
  for (const w of ready) for (const d of DIMENSIONS) total[d] += w.capacity[d];

  const policy = snapshot.policy;
  const usage = snapshot.usage;
  const placements: Placement[] = [];
  const waiting = new Map<string, string>();
  const limit = snapshot.maxPlacements ?? Infinity;
  let cursor = ready.length === 0 ? 0 : snapshot.cursor % ready.length;
  let wakeAt: number | undefined;

  // what this plan adds to the live usage, per queue, per (queue, user) and per user
  const plannedByQueue = new Map<string, Usage>();
  const plannedByUser = new Map<string, Usage>();
  const plannedOf = (map: Map<string, Usage>, key: string): Usage => {
    let planned = map.get(key);
    if (!planned) {
      planned = { ...NO_USAGE };
      map.set(key, planned);
    }
    return planned;
  };

  // reservations: those still standing are kept; a reserved worker takes no other task
  const reservations = new Map<string, Reservation>();
  const heldBy = new Map<number, string>();
  for (const [taskId, reservation] of snapshot.reservations ?? []) {
    const index = indexOf.get(reservation.workerId);
    if (index === undefined || heldBy.has(index)) continue;
    reservations.set(taskId, reservation);
    heldBy.set(index, taskId);
  }
  tightenMaxFree();
  /** (queue, priority) pairs whose head already holds or was refused a reservation this pass */
  const reservedHeads = new Set<string>();
  for (const reservation of reservations.values()) reservedHeads.add(`${reservation.queue}\u0000${reservation.priority}`);

  const streams: StreamCursor[] = [];
  const addStream = (queue: string, userId: string, tasks: Iterable<TaskSnapshot>): void => {
    const iterator = tasks[Symbol.iterator]();
    const first = iterator.next();
    if (first.done) return;
    const queuePolicy = policy?.queue(queue) ?? ROUND_ROBIN;
    const inQueue = policy?.userInQueue(queue, userId);
    const global = policy?.user(userId);
    const weight = inQueue?.weight ?? global?.weight ?? 1;
    const plannedInQueue: Usage = { ...NO_USAGE };
    const liveInQueue = usage?.userInQueue(queue, userId) ?? NO_USAGE;
    const caps = capChecks(queue, userId, queuePolicy, policy, usage, {
      queue: () => plannedOf(plannedByQueue, queue),
      inQueue: plannedInQueue,
      user: () => plannedOf(plannedByUser, userId),
    });
    const cursorOf: StreamCursor = {
      queue,
      userId,
      iterator,
      head: first.value,
      headPriority: first.value.priority ?? DEFAULT_PRIORITY,
      headSeq: first.value.seq ?? 0,
      weight: weight > 0 ? weight : 1,
      share: 0,
      policy: queuePolicy,
      caps,
      plannedInQueue,
      liveInQueue,
    };
    cursorOf.share = dominantShare(liveInQueue, total) / cursorOf.weight;
    streams.push(cursorOf);
  };
  if (snapshot.streams) for (const stream of snapshot.streams) addStream(stream.queue, stream.userId, stream.tasks);
  else if (snapshot.tasks) addStream(DEFAULT_QUEUE_NAME, '', snapshot.tasks);
  /** with one stream there is nothing to choose (the common case: keep it cheap) */
  const pickStream = (): StreamCursor | undefined => {
    let best: StreamCursor | undefined;
    for (const s of streams) {
      if (
        !best ||
        s.headPriority > best.headPriority ||
        (s.headPriority === best.headPriority && (s.share < best.share - EPSILON || (Math.abs(s.share - best.share) <= EPSILON && s.headSeq < best.headSeq)))
      ) {
        best = s;
      }
    }
    return best;
  };
  const advance = (stream: StreamCursor): void => {
    const next = stream.iterator.next();
    if (next.done) {
      streams.splice(streams.indexOf(stream), 1);
      return;
    }
    stream.head = next.value;
    stream.headPriority = next.value.priority ?? DEFAULT_PRIORITY;
    stream.headSeq = next.value.seq ?? 0;
  };

  // the task chooseWorker is placing, and what it asks of a worker (set per task; one
  // `eligible` for the whole pass rather than a closure per task)
  let current: TaskSnapshot | undefined;
  let currentSelector: Readonly<Record<string, string>> | undefined;
  let currentNeedsLabels = false;
  let currentConstraints: readonly LabelConstraint[] | undefined;
  const eligible = (index: number): boolean => {
    const task = current!;
    const worker = ready[index]!;
    if (!fitsIn(task.resources, free[index]!)) return false;
    if (heldBy.size > 0) {
      const holder = heldBy.get(index);
      if (holder !== undefined && holder !== task.id) return false;
    }
    if (!worker.runtimes.includes(task.runtime)) return false;
    if (currentNeedsLabels && !hasLabels(worker, task.labels)) return false;
    if (currentSelector && !hasLabels(worker, currentSelector)) return false;
    if (currentConstraints && !matchesConstraints(worker.labels, currentConstraints)) return false;
    return true;
  };

  /** The worker the task goes to by its queue's strategy, or -1. */
  const chooseWorker = (task: TaskSnapshot, queue: QueuePolicy): number => {
    current = task;
    currentSelector = isEmpty(queue.workerSelector) ? undefined : queue.workerSelector;
    currentNeedsLabels = !isEmpty(task.labels);
    currentConstraints = queue.constraints.length > 0 || (task.constraints?.length ?? 0) > 0 ? [...queue.constraints, ...(task.constraints ?? [])] : undefined;
    const reservation = reservations.size > 0 ? reservations.get(task.id) : undefined;
    if (task.pinnedWorkerId !== undefined) {
      const index = indexOf.get(task.pinnedWorkerId);
      return index !== undefined && eligible(index) ? index : -1;
    }
    if (reservation) {
      const index = indexOf.get(reservation.workerId);
      if (index !== undefined && eligible(index)) return index;
    }
    if (queue.strategy !== 'round-robin') {
      let chosen = -1;
      let chosenScore = 0;
      for (let index = 0; index < ready.length; index += 1) {
        if (!eligible(index)) continue;
        const score = allocation(ready[index]!.capacity, reserved[index]!);
        const better = queue.strategy === 'binpack' ? score > chosenScore + EPSILON : score < chosenScore - EPSILON;
        if (chosen < 0 || better) {
          chosen = index;
          chosenScore = score;
        }
      }
      return chosen;
    }
    let chosen = -1;
    let chosenCachedBytes = 0;
    const affinity = task.inputs !== undefined && task.inputs.length > 0;
    for (let step = 0; step < ready.length; step += 1) {
      const index = (cursor + step) % ready.length;
      if (!eligible(index)) continue;
      if (!affinity) return index;
      // keep scanning: a later fitting worker may hold more of the inputs
      const cached = cachedInputBytes(task.inputs!, ready[index]!.cachedArtifacts);
      if (chosen < 0 || cached > chosenCachedBytes) {
        chosen = index;
        chosenCachedBytes = cached;
      }
    }
    return chosen;
  };

  /** The worker that needs the least freed to fit the task (by reserved resources), or -1. */
  const reservationWorker = (task: TaskSnapshot, queue: QueuePolicy): number => {
    let chosen = -1;
    let chosenMissing = Infinity;
    const constraints = [...queue.constraints, ...(task.constraints ?? [])];
    for (let index = 0; index < ready.length; index += 1) {
      const worker = ready[index]!;
      if (heldBy.has(index) || !fitsIn(task.resources, worker.capacity)) continue;
      if (task.pinnedWorkerId !== undefined && worker.id !== task.pinnedWorkerId) continue;
      if (!worker.runtimes.includes(task.runtime) || !hasLabels(worker, task.labels) || !hasLabels(worker, queue.workerSelector)) continue;
      if (!matchesConstraints(worker.labels, constraints)) continue;
      let missing = 0;
      for (const d of DIMENSIONS) {
        if (worker.capacity[d] > 0) missing += Math.max(0, task.resources[d] - free[index]![d]) / worker.capacity[d];
      }
      if (missing < chosenMissing) {
        chosen = index;
        chosenMissing = missing;
      }
    }
    return chosen;
  };

  // preemption: running attempts by worker, those already chosen as victims in this pass
  const evictions: Eviction[] = [];
  const runningByWorker = new Map<number, RunningSnapshot[]>();
  for (const attempt of snapshot.running ?? []) {
    const index = indexOf.get(attempt.workerId);
    if (index === undefined) continue;
    let list = runningByWorker.get(index);
    if (!list) runningByWorker.set(index, (list = []));
    list.push(attempt);
  }
  const victimsTaken = new Set<string>();
  const chooseEvictionWorker = (task: TaskSnapshot, queue: QueuePolicy): { index: number; victims: RunningSnapshot[] } | undefined => {
    const priority = task.priority ?? DEFAULT_PRIORITY;
    const constraints = [...queue.constraints, ...(task.constraints ?? [])];
    let best: { index: number; victims: RunningSnapshot[]; top: number } | undefined;
    for (const [index, attempts] of runningByWorker) {
      const worker = ready[index]!;
      if (heldBy.has(index) || !fitsIn(task.resources, worker.capacity)) continue;
      if (task.pinnedWorkerId !== undefined && worker.id !== task.pinnedWorkerId) continue;
      if (!worker.runtimes.includes(task.runtime) || !hasLabels(worker, task.labels) || !hasLabels(worker, queue.workerSelector)) continue;
      if (!matchesConstraints(worker.labels, constraints)) continue;
      const victims = chooseVictims(task, priority, free[index]!, attempts, victimsTaken);
      if (!victims) continue;
      const top = Math.max(...victims.map((v) => v.priority ?? DEFAULT_PRIORITY));
      if (!best || victims.length < best.victims.length || (victims.length === best.victims.length && top < best.top)) best = { index, victims, top };
    }
    return best;
  };

  while (placements.length < limit) {
    const stream = pickStream();
    if (!stream) break;
    const task = stream.head;
    advance(stream);
    if (task.notBefore !== undefined && task.notBefore > snapshot.now) {
      wakeAt = wakeAt === undefined ? task.notBefore : Math.min(wakeAt, task.notBefore);
      waiting.set(task.id, `retry backoff until ${new Date(task.notBefore).toISOString()}`);
      continue;
    }
    const queueName = stream.queue;
    const queue = stream.policy;
    let capped = false;
    for (const check of stream.caps) {
      const reason = capReason(check, task.resources);
      if (reason === undefined) continue;
      waiting.set(task.id, reason);
      capped = true;
      break;
    }
    if (capped) continue;

    const holdsReservation = reservations.size > 0 && reservations.has(task.id);
    const chosen = ready.length === 0 || (!holdsReservation && !fitsIn(task.resources, maxFree)) ? -1 : chooseWorker(task, queue);
    if (chosen < 0) {
      let reason = explainWaiting(task, snapshot.workers, queue);
      const roomOnly = reason === 'waiting for free resources on a matching worker' || reason.startsWith('waiting for free resources on its pinned');
      const headKey = `${queueName}\u0000${task.priority ?? DEFAULT_PRIORITY}`;
      let reservation = reservations.get(task.id);
      if (
        !reservation &&
        roomOnly &&
        snapshot.reserveAfterMs !== undefined &&
        task.waitingSince !== undefined &&
        snapshot.now - task.waitingSince >= snapshot.reserveAfterMs &&
        !reservedHeads.has(headKey)
      ) {
        reservedHeads.add(headKey);
        const index = reservationWorker(task, queue);
        if (index >= 0) {
          reservation = { workerId: ready[index]!.id, since: snapshot.now, queue: queueName, priority: task.priority ?? DEFAULT_PRIORITY };
          reservations.set(task.id, reservation);
          heldBy.set(index, task.id);
          tightenMaxFree();
        }
      }
      if (!reservation && roomOnly && queue.preemptionPolicy === 'PreemptLowerPriority' && runningByWorker.size > 0) {
        const chosenEviction = chooseEvictionWorker(task, queue);
        if (chosenEviction) {
          const workerId = ready[chosenEviction.index]!.id;
          for (const victim of chosenEviction.victims) victimsTaken.add(victim.attemptId);
          evictions.push({
            preemptorTaskId: task.id,
            workerId,
            victimAttemptIds: chosenEviction.victims.map((v) => v.attemptId),
            victimTaskIds: chosenEviction.victims.map((v) => v.taskId),
          });
          reservation = { workerId, since: snapshot.now, queue: queueName, priority: task.priority ?? DEFAULT_PRIORITY };
          reservations.set(task.id, reservation);
          heldBy.set(chosenEviction.index, task.id);
          tightenMaxFree();
          waiting.set(task.id, `preempting ${chosenEviction.victims.length} lower-priority task(s) on worker ${workerId}`);
          continue;
        }
      }
      if (reservation) reason = `reserved worker ${reservation.workerId} since ${clockTime(reservation.since)}`;
      waiting.set(task.id, reason);
      // a full scan failed: tighten the bound so the next tasks of this size skip the scan
      if (ready.length > 0) tightenMaxFree();
      continue;
    }
    reserved[chosen] = addResources(reserved[chosen]!, task.resources);
    free[chosen] = addResources(free[chosen]!, task.resources, -1);
    placements.push({ taskId: task.id, workerId: ready[chosen]!.id });
    if (reservations.delete(task.id)) {
      heldBy.delete(chosen);
      tightenMaxFree();
    }
    if (queue.strategy === 'round-robin') cursor = (chosen + 1) % ready.length;
    // the user's usage in the queue counts for fair share; the queue's and the user's across
    // queues only where a cap reads them (shared by the streams of that queue or user)
    addUsage(stream.plannedInQueue, task.resources, 1);
    for (const check of stream.caps) if (check.planned !== stream.plannedInQueue) addUsage(check.planned, task.resources, 1);
    if (streams.length > 1) {
      const inQueue = stream.plannedInQueue;
      const live = stream.liveInQueue;
      stream.share = dominantShare({ count: 0, cpu: live.cpu + inQueue.cpu, memory: live.memory + inQueue.memory, gpu: live.gpu + inQueue.gpu }, total) / stream.weight;
    }
  }
  return { placements, waiting, cursor, wakeAt, reservations, evictions };
}

/**
 * The running attempts on one worker whose ending lets `task` fit there, or undefined: only
 * strictly lower priority, preemptible, not already a victim in this plan, and never a task
 * that evicted `task` before (no loops). Taken lowest priority first, then youngest first, until
 * the task fits; then each is dropped again (highest priority, oldest first) if the task still
 * fits without it, so no victim is needless.
 */
export function chooseVictims(
  task: Pick<TaskSnapshot, 'id' | 'resources'>,
  priority: number,
  free: Resources,
  attempts: readonly RunningSnapshot[],
  taken: ReadonlySet<string> = new Set(),
): RunningSnapshot[] | undefined {
  const candidates = attempts
    .filter((a) => (a.priority ?? DEFAULT_PRIORITY) < priority && a.preemptible !== false && !taken.has(a.attemptId) && !(a.evicted?.has(task.id) ?? false))
    .sort((a, b) => (a.priority ?? DEFAULT_PRIORITY) - (b.priority ?? DEFAULT_PRIORITY) || b.startedAt - a.startedAt);
  let room = free;
  const victims: RunningSnapshot[] = [];
  for (const candidate of candidates) {
    if (fitsIn(task.resources, room)) break;
    victims.push(candidate);
    room = addResources(room, candidate.resources);
  }
  if (!fitsIn(task.resources, room)) return undefined;
  for (let i = victims.length - 1; i >= 0; i -= 1) {
    const without = addResources(room, victims[i]!.resources, -1);
    if (fitsIn(task.resources, without)) {
      room = without;
      victims.splice(i, 1);
    }
  }
  return victims.length > 0 ? victims : undefined;
}
