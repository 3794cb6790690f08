// Worker telemetry as the dashboard sees it: for each worker, the live worker and the count of
// its attempts plus the tasks it runs with their reservations (`WorkerTelemetry`; the transports
// render it with http/views.ts's workerTelemetryView), a history ring per worker for
// charts, and a stream of updates (one per heartbeat per worker and one per status change,
// a worker becoming lost included) for the WebSocket server. It listens to the worker
// registry's events and to task changes; it owns no state that the registry or the task
// service already own, except the index of which tasks run where (kept from task changes).
import type { LiveWorker, WorkerEventKind, WorkerRegistry } from '../cluster/worker-registry.js';
import type { Resources } from '../records/resources.js';
import type { Task } from '../records/task.js';
import type { TaskService } from '../tasks/task-service.js';
import { WorkerHistory, type TelemetrySample } from './worker-history.js';

export interface RunningTaskView {
  taskId: string;
  /** the task's owner: the transports show a task only to its owner and admins */
  userId: string;
  attemptId: string;
  name: string;
  resources: Resources;
}

/** One worker's telemetry: the live worker, its unfinished attempts, the tasks placed on it, when. */
export interface WorkerTelemetry {
  worker: LiveWorker;
  /** attempts placed on the worker and not yet finished (as GET /api/workers counts them) */
  runningTasks: number;
  running: RunningTaskView[];
  /** epoch ms */
  at: number;
}

export interface TelemetryUpdate {
  /** a worker event, or `running`: the tasks placed on the worker changed */
  kind: WorkerEventKind | 'running';
  workerId: string;
}

export interface WorkerHistoryView {
  workerId: string;
  intervalMs: number;
  samples: (Omit<TelemetrySample, 'at'> & { at: string })[];
}

export interface TelemetryServiceOptions {
  /** the heartbeat interval the master gives workers: the history's resolution */
  heartbeatIntervalMs: number;
  /** how far back the history reaches (at least 15 minutes is promised) */
  historyMs: number;
  now?: () => number;
}

/** Changes to the tasks on a worker are pushed at most this often (coalesced per worker). */
const RUNNING_PUSH_DELAY_MS = 100;

/** How long a per-worker count of unfinished attempts may be reused (task changes invalidate it sooner). */
const COUNTS_MAX_AGE_MS = 1000;
/** ...but it is never recounted more often than this, however busy the task service is. */
const COUNTS_MIN_AGE_MS = 100;

export class TelemetryService {
  private readonly histories = new Map<string, WorkerHistory>();
  /** workerId -> taskId -> the task's current attempt there (assigned or running) */
  private readonly runningByWorker = new Map<string, Map<string, RunningTaskView>>();
  private readonly workerOfTask = new Map<string, string>();
  private readonly listeners = new Set<(update: TelemetryUpdate) => void>();
  private readonly unsubscribers: (() => void)[] = [];
  private counts: { map: Map<string, number>; at: number; stale: boolean } | undefined;
  /** workers whose running tasks changed since the last push */
  private readonly changed = new Set<string>();
  private pushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly tasks: TaskService,
    private readonly options: TelemetryServiceOptions,
  ) {
    this.unsubscribers.push(
      registry.onWorkerEvent((event) => this.workerEvent(event.kind, event.workerId)),
      tasks.onTaskChange((task) => this.taskChanged(task)),
    );
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** After a master restart: the tasks that were assigned or running (from the store). */
  seed(unfinished: readonly Task[]): void {
    for (const task of unfinished) this.taskChanged(task);
  }

  onUpdate(listener: (update: TelemetryUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every known worker, sorted by id. */
  snapshot(): WorkerTelemetry[] {
    const counts = this.attemptCounts();
    return this.registry.list().map((worker) => this.view(worker, counts));
  }

  worker(workerId: string): WorkerTelemetry | undefined {
    const worker = this.registry.get(workerId);
    return worker ? this.view(worker, this.attemptCounts()) : undefined;
  }

  /** The history of a known worker (empty until its first usage sample), or undefined. */
  history(workerId: string, since?: number): WorkerHistoryView | undefined {
    if (!this.registry.get(workerId)) return undefined;
    const samples = this.histories.get(workerId)?.samples({ since, now: this.now() }) ?? [];
    return {
      workerId,
      intervalMs: this.options.heartbeatIntervalMs,
      samples: samples.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
    };
  }

  close(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.listeners.clear();
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
  }

  private view(worker: LiveWorker, counts: Map<string, number>): WorkerTelemetry {
    const id = worker.record.id;
    const running = [...(this.runningByWorker.get(id)?.values() ?? [])].map((r) => ({ ...r, resources: { ...r.resources } }));
    return { worker, runningTasks: counts.get(id) ?? 0, running, at: this.now() };
  }

  /** Unfinished attempts per worker, as GET /api/workers counts them (cached briefly). */
  private attemptCounts(): Map<string, number> {
    const now = this.now();
    const cached = this.counts;
    if (cached) {
      const age = now - cached.at;
      if (age < COUNTS_MIN_AGE_MS || (!cached.stale && age < COUNTS_MAX_AGE_MS)) return cached.map;
    }
    this.counts = { map: this.tasks.attemptsByWorker(), at: now, stale: false };
    return this.counts.map;
  }

  /**
   * The histories of workers that have sent no sample since `before` (lost or gone for good:
   * a live worker samples every heartbeat); with `remove`, forgets them. Answers how many.
   */
  forgetIdleHistories(before: number, options: { remove: boolean }): number {
    let n = 0;
    for (const [workerId, history] of this.histories) {
      if ((history.lastAt ?? -Infinity) >= before) continue;
      n += 1;
      if (options.remove) this.histories.delete(workerId);
    }
    return n;
  }

  private workerEvent(kind: WorkerEventKind | 'running', workerId: string): void {
    if (kind === 'heartbeat') this.recordSample(workerId);
    if (kind === 'removed') this.histories.delete(workerId);
    for (const listener of this.listeners) listener({ kind, workerId });
  }

  /**
   * A task came to or left a worker. A heartbeat would show it soon on a live worker, but a
   * lost one sends none, so the change is pushed (coalesced) for every worker.
   */
  private runningChanged(workerId: string): void {
    if (this.listeners.size === 0) return;
    this.changed.add(workerId);
    this.pushTimer ??= setTimeout(() => {
      this.pushTimer = undefined;
      const ids = [...this.changed];
      this.changed.clear();
      for (const id of ids) this.workerEvent('running', id);
    }, RUNNING_PUSH_DELAY_MS);
    this.pushTimer.unref();
  }

  private recordSample(workerId: string): void {
    const worker = this.registry.get(workerId);
    if (!worker?.usage) return; // no usage sample from the worker yet
    let history = this.histories.get(workerId);
    if (!history) {
      history = new WorkerHistory(this.options.heartbeatIntervalMs, this.options.historyMs);
      this.histories.set(workerId, history);
    }
    history.record({
      at: worker.record.lastHeartbeatAt,
      cpuPercent: worker.usage.cpuPercent,
      memoryPercent: worker.usage.memoryPercent,
      diskPercent: worker.usage.diskPercent,
      gpuPercent: worker.usage.gpuPercent,
      runningTasks: this.attemptCounts().get(workerId) ?? 0,
      reserved: { ...worker.reserved },
    });
  }

  private taskChanged(task: Task): void {
    if (this.counts) this.counts.stale = true;
    const previous = this.workerOfTask.get(task.id);
    const placed = (task.status === 'assigned' || task.status === 'running') && task.workerId && task.currentAttemptId;
    if (previous !== undefined && (!placed || previous !== task.workerId)) {
      const map = this.runningByWorker.get(previous);
      map?.delete(task.id);
      if (map?.size === 0) this.runningByWorker.delete(previous);
      this.workerOfTask.delete(task.id);
      this.runningChanged(previous);
    }
    if (!placed) return;
    const workerId = task.workerId!;
    let map = this.runningByWorker.get(workerId);
    if (!map) {
      map = new Map();
      this.runningByWorker.set(workerId, map);
    }
    const known = map.get(task.id);
    map.set(task.id, { taskId: task.id, userId: task.userId, attemptId: task.currentAttemptId!, name: task.name, resources: task.resources });
    this.workerOfTask.set(task.id, workerId);
    if (known?.attemptId !== task.currentAttemptId) this.runningChanged(workerId);
  }
}
