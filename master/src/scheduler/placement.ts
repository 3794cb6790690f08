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
import { formatBytes } from '@wharf/proto';
import type { Resources, Runtime } from '../records/resources.js';

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
}

export interface SchedulingSnapshot {
  now: number;
  /** in queue order */
  tasks: Iterable<TaskSnapshot>;
  workers: readonly WorkerSnapshot[];
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
export function explainWaiting(task: TaskSnapshot, workers: readonly WorkerSnapshot[]): string {
  const ready = workers.filter((w) => w.status === 'ready');
  if (ready.length === 0) return 'no ready worker';
  const withRuntime = ready.filter((w) => w.runtimes.includes(task.runtime));
  if (withRuntime.length === 0) return `no ready worker offers runtime ${task.runtime}`;
  const withLabels = withRuntime.filter((w) => hasLabels(w, task.labels));
  if (withLabels.length === 0) {
    const wanted = Object.entries(task.labels).map(([k, v]) => `${k}=${v}`).join(',');
    return `no ready worker with runtime ${task.runtime} has labels ${wanted}`;
  }
  for (const d of DIMENSIONS) {
    if (task.resources[d] > 0 && !withLabels.some((w) => task.resources[d] <= w.capacity[d] + EPSILON)) {
      return `no ready worker has ${d} >= ${formatAmount(d, task.resources[d])}`;
    }
  }
  if (!withLabels.some((w) => fitsIn(task.resources, w.capacity))) {
    return 'no ready worker has all the requested resources at once';
  }
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

export function planPlacements(snapshot: SchedulingSnapshot): Plan {
  const ready = snapshot.workers.filter((w) => w.status === 'ready');
  // working copies of reservations, so one plan never overfills a worker
  const reserved = ready.map((w) => ({ ...w.reserved }));
  const free = ready.map((w, i) => freeResources({ capacity: w.capacity, reserved: reserved[i]! }));
  // an upper bound of what any ready worker has free, per dimension: it only shrinks during
  // a pass, so a task larger than it cannot fit anywhere and is skipped without a scan
  const maxFree: Resources = { cpu: -Infinity, memory: -Infinity, gpu: -Infinity, disk: -Infinity };
  for (const f of free) for (const d of DIMENSIONS) maxFree[d] = Math.max(maxFree[d], f[d]);

  const placements: Placement[] = [];
  const waiting = new Map<string, string>();
  const limit = snapshot.maxPlacements ?? Infinity;
  let cursor = ready.length === 0 ? 0 : snapshot.cursor % ready.length;
  let wakeAt: number | undefined;

  for (const task of snapshot.tasks) {
    if (placements.length >= limit) break;
    if (task.notBefore !== undefined && task.notBefore > snapshot.now) {
      wakeAt = wakeAt === undefined ? task.notBefore : Math.min(wakeAt, task.notBefore);
      waiting.set(task.id, `retry backoff until ${new Date(task.notBefore).toISOString()}`);
      continue;
    }
    if (ready.length === 0 || !fitsIn(task.resources, maxFree)) {
      waiting.set(task.id, explainWaiting(task, snapshot.workers));
      continue;
    }
    let chosen = -1;
    let chosenCachedBytes = 0;
    const needsLabels = !isEmpty(task.labels);
    const affinity = task.inputs !== undefined && task.inputs.length > 0;
    for (let step = 0; step < ready.length; step += 1) {
      const index = (cursor + step) % ready.length;
      const worker = ready[index]!;
      if (!fitsIn(task.resources, free[index]!)) continue;
      if (!worker.runtimes.includes(task.runtime)) continue;
      if (needsLabels && !hasLabels(worker, task.labels)) continue;
      if (!affinity) {
        chosen = index;
        break;
      }
      // keep scanning: a later fitting worker may hold more of the inputs
      const cached = cachedInputBytes(task.inputs!, worker.cachedArtifacts);
      if (chosen < 0 || cached > chosenCachedBytes) {
        chosen = index;
        chosenCachedBytes = cached;
      }
    }
    if (chosen < 0) {
      waiting.set(task.id, explainWaiting(task, snapshot.workers));
      // a full scan failed: tighten the bound so the next tasks of this size skip the scan
      for (const d of DIMENSIONS) maxFree[d] = Math.max(...free.map((f) => f[d]));
      continue;
    }
    reserved[chosen] = addResources(reserved[chosen]!, task.resources);
    free[chosen] = addResources(free[chosen]!, task.resources, -1);
    placements.push({ taskId: task.id, workerId: ready[chosen]!.id });
    cursor = (chosen + 1) % ready.length;
  }
  return { placements, waiting, cursor, wakeAt };
}
