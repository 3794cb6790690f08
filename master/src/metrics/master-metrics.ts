// The master's Prometheus metrics (GET /metrics), on a registry of its own so that several
// masters can run in one process (tests). Gauges that mirror live state (tasks by state, queue
// depth, workers by status, heartbeat lag) are computed when scraped; counters and histograms
// are fed by the task-change and worker-event hooks, the gRPC gateway (log and upload bytes),
// the timed store (store-operation latency) and the WebSocket server. The alert rules and the
// Grafana board in deploy/monitoring/ are written against these names (test/monitoring.test.ts
// checks that every name they use is exported here).
import { GC_KINDS, type GcReport } from '../gc/garbage-collector.js';
import { statfs } from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { IDENTITY_REFUSALS } from '../cluster/worker-identity.js';
import type { LiveWorker, WorkerRegistry } from '../cluster/worker-registry.js';
import type { Attempt, AttemptStatus } from '../records/attempt.js';
import { TERMINAL_TASK_STATUSES, type Task, type TaskStatus } from '../records/task.js';
import type { GangService } from '../gangs/gang-service.js';
import type { TaskService } from '../tasks/task-service.js';

/** Latency buckets in seconds, from 1 ms to 2 min (task placement and start-up times). */
const TASK_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Store operations: 50 µs to 5 s. */
const STORE_LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** The WebSocket channels (live/live-client.ts LiveChannel): their series exist from the start. */
const WEBSOCKET_CHANNELS = ['telemetry', 'events', 'logs'];
/** The final statuses of an attempt, each a value of wharf_task_attempts_finished_total{outcome}. */
const FINISHED_ATTEMPT_OUTCOMES: readonly AttemptStatus[] = ['succeeded', 'failed', 'timed_out', 'error', 'cancelled', 'stopped', 'preempted', 'lost'];

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the scrape-time gauges read and the hooks listen to. */
export interface MetricsSources {
  tasks: Pick<TaskService, 'counts' | 'onTaskChange' | 'onAttemptFinished' | 'countDeadLetters'> & Partial<Pick<TaskService, 'queueStatus'>>;
  /** the names of the queues (per-queue gauges); absent = none */
  queueNames?: (() => string[]) | undefined;
  registry: Pick<WorkerRegistry, 'counts' | 'list' | 'onWorkerEvent'>;
  /** the master's data dir (its filesystem's free space is exported) */
  dataDir: string;
  /** gangs (wharf_gangs, wharf_gang_wait_seconds); absent = not exported */
  gangs?: Pick<GangService, 'countByStatus' | 'onChange'> | undefined;
  /** the free-space floor below which uploads are refused (WHARF_MIN_FREE_DISK), in bytes now; absent = none */
  minFreeBytes?: (() => Promise<number>) | undefined;
  /** several masters (leadership/leadership.ts): whether this one leads, its leadership changes, the lease epoch it knows */
  leadership?: { isLeader(): boolean; readonly changes: number; readonly knownEpoch: number | undefined } | undefined;
}

export class MasterMetrics {
  readonly registry = new Registry();
  private readonly tasksFinished: Counter<'state'>;
  private readonly submitToAssign: Histogram;
  private readonly assignToRunning: Histogram;
  private readonly logBytes: Counter<'stream'>;
  private readonly uploadBytes: Counter;
  private readonly storeLatency: Histogram<'operation' | 'result'>;
  private readonly wsConnections: Gauge<'channel'>;
  private readonly wsMessages: Counter<'channel'>;
  private readonly wsLagged: Counter<'channel'>;
  private readonly attemptsFinished: Counter<'outcome'>;
  private readonly workersLost: Counter;
  private readonly registerFailures: Counter<'reason'>;
  private readonly workerCallRefusals: Counter<'rpc' | 'reason'>;
  private readonly deadlinesExceeded: Counter<'deadline'>;
  private readonly preemptions: Counter<'queue'>;
  private readonly gcRuns: Counter<'dry_run'>;
  private readonly gcRemoved: Counter<'kind'>;
  private readonly gcBytesFreed: Counter;
  /** when each live task last entered `queued` / `assigned` (epoch ms) */
  private readonly queuedAt = new Map<string, number>();
  /** queued tasks: from when they may be placed (entering the queue, or the end of a retry's backoff) */
  private readonly readyAt = new Map<string, number>();
  private readonly assignedAt = new Map<string, number>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(private readonly now: () => number = Date.now) {
    const registers = [this.registry];
    // Node process metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds, heap...)
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `..._total`, which Prometheus reserves for counters
    // (promtool check metrics flags them); their per-type twins (nodejs_active_handles{type}
    // and so on) stay, and sum to the same figure.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }

    this.tasksFinished = new Counter({
      name: 'wharf_tasks_finished_total',
      help: 'Tasks that reached a terminal state since the master started, by state.',
      labelNames: ['state'],
      registers,
    });
    this.submitToAssign = new Histogram({
      name: 'wharf_task_submit_to_assign_seconds',
      help: 'Time from a task entering the queue (its submission, or its re-queue after a retry or a lost worker) to its assignment to a worker.',
      buckets: TASK_LATENCY_BUCKETS,
      registers,
    });
    this.assignToRunning = new Histogram({
      name: 'wharf_task_assign_to_running_seconds',
      help: 'Time from a task being assigned to a worker to the worker reporting it running (image pull and container start).',
      buckets: TASK_LATENCY_BUCKETS,
      registers,
    });
    this.logBytes = new Counter({
      name: 'wharf_log_bytes_received_total',
      help: 'Bytes of task log output received from workers, by stream.',
      labelNames: ['stream'],
      registers,
    });
    this.uploadBytes = new Counter({
      name: 'wharf_upload_bytes_received_total',
      help: 'Bytes of task output files received from workers.',
      registers,
    });
    this.storeLatency = new Histogram({
      name: 'wharf_store_operation_seconds',
      help: 'Latency of store operations, by operation and result (ok or error).',
      labelNames: ['operation', 'result'],
      buckets: STORE_LATENCY_BUCKETS,
      registers,
    });
    this.wsConnections = new Gauge({
      name: 'wharf_websocket_connections',
      help: 'Open WebSocket connections, by channel (telemetry, events, logs).',
      labelNames: ['channel'],
      registers,
    });
    this.wsMessages = new Counter({
      name: 'wharf_websocket_messages_sent_total',
      help: 'WebSocket messages sent to clients, by channel.',
      labelNames: ['channel'],
      registers,
    });
    this.wsLagged = new Counter({
      name: 'wharf_websocket_lagged_total',
      help: 'WebSocket clients cut off because their unsent buffer passed the bound, by channel.',
      labelNames: ['channel'],
      registers,
    });
    // for the alert rules and the Grafana board (deploy/monitoring/)
    this.attemptsFinished = new Counter({
      name: 'wharf_task_attempts_finished_total',
      help: 'Attempts that ended since the master started, by outcome: succeeded, failed (non-zero exit, a declared output missing, or output files that are not what the master received), timed_out, error (the worker could not run it: image pull, bad command...), cancelled, stopped (its worker lost contact with the master and stopped it; re-queued, not charged), preempted (stopped for a higher-priority task; re-queued, not charged), lost (its worker went silent or restarted without it).',
      labelNames: ['outcome'],
      registers,
    });
    this.workersLost = new Counter({
      name: 'wharf_workers_lost_total',
      help: 'Times a worker was marked lost (silent past the heartbeat TTL, or not back within the reconnect grace after a master restart) since the master started.',
      registers,
    });
    this.registerFailures = new Counter({
      name: 'wharf_worker_register_failures_total',
      help: 'Register calls the master refused, by reason (invalid_token, expired_token, revoked_token, used_up_token, impersonation, rate_limited, invalid_request, no_certificate, unknown_worker, revoked_certificate, superseded_certificate).',
      labelNames: ['reason'],
      registers,
    });
    this.workerCallRefusals = new Counter({
      name: 'wharf_worker_call_refusals_total',
      help: 'Worker calls other than Register refused for their credentials (no, revoked, superseded or unknown certificate), by RPC and reason.',
      labelNames: ['rpc', 'reason'],
      registers,
    });
    this.deadlinesExceeded = new Counter({
      name: 'wharf_task_deadlines_exceeded_total',
      help: 'Tasks failed with deadline_exceeded since the master started, by the deadline they missed (startDeadline, deadline).',
      labelNames: ['deadline'],
      registers,
    });
    for (const deadline of ['startDeadline', 'deadline']) this.deadlinesExceeded.inc({ deadline }, 0);
    this.preemptions = new Counter({
      name: 'wharf_preemptions_total',
      help: 'Attempts ended by priority preemption (status preempted) since the master started, by the queue of the higher-priority task they were stopped for.',
      labelNames: ['queue'],
      registers,
    });
    // retention (gc/garbage-collector.ts): runs, and what real runs removed
    this.gcRuns = new Counter({
      name: 'wharf_gc_runs_total',
      help: 'Garbage-collection runs since the master started (dry_run="true": reports only).',
      labelNames: ['dry_run'],
      registers,
    });
    this.gcRemoved = new Counter({
      name: 'wharf_gc_removed_total',
      help: 'Records and files garbage collection removed since the master started, by kind (tasks, events, logs, files, dagRuns, artifacts, telemetry).',
      labelNames: ['kind'],
      registers,
    });
    this.gcBytesFreed = new Counter({
      name: 'wharf_gc_bytes_freed_total',
      help: 'Bytes of logs, output files and artifacts garbage collection removed since the master started.',
      registers,
    });
    for (const dryRun of ['true', 'false']) this.gcRuns.inc({ dry_run: dryRun }, 0);
    for (const kind of GC_KINDS) this.gcRemoved.inc({ kind }, 0);
  }

  /** A garbage-collection run ended; a dry run counts as a run and removes nothing. */
  countGcRun(report: Pick<GcReport, 'dryRun' | 'removed' | 'bytesFreed'>): void {
    this.gcRuns.inc({ dry_run: String(report.dryRun) });
    if (report.dryRun) return;
    for (const kind of GC_KINDS) if (report.removed[kind] > 0) this.gcRemoved.inc({ kind }, report.removed[kind]);
    if (report.bytesFreed > 0) this.gcBytesFreed.inc(report.bytesFreed);
  }

  /** Connects the scrape-time gauges and the task/worker hooks. Call once, at start. */
  bind(deps: MetricsSources): void {
    const { tasks, registry } = deps;
    const registers = [this.registry];
    const leadership = deps.leadership;
    new Gauge({
      name: 'wharf_leader',
      help: 'Whether this master leads (1) or is a standby (0); one master alone always leads.',
      registers,
      collect() {
        this.set(!leadership || leadership.isLeader() ? 1 : 0);
      },
    });
    new Counter({
      name: 'wharf_leadership_changes_total',
      help: 'Times this master became the leader or stopped being it.',
      registers,
      collect() {
        this.reset();
        this.inc(leadership?.changes ?? 0);
      },
    });
    new Gauge({
      name: 'wharf_lease_epoch',
      help: "The leadership lease's epoch as this master last saw it (grows by one with each new leader).",
      registers,
      collect() {
        this.set(leadership?.knownEpoch ?? 0);
      },
    });
    new Gauge({
      name: 'wharf_tasks',
      help: 'Live (not yet terminal) tasks, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = tasks.counts();
        this.set({ state: 'queued' }, counts.queued);
        this.set({ state: 'assigned' }, counts.assigned);
        this.set({ state: 'running' }, counts.running);
      },
    });
    new Gauge({
      name: 'wharf_dead_letters',
      help: 'Tasks in the dead letters: failed through their retry policy, neither re-queued nor dismissed (a store count at each scrape).',
      registers,
      async collect() {
        this.set(await tasks.countDeadLetters());
      },
    });
    if (deps.gangs) {
      const gangs = deps.gangs;
      new Gauge({
        name: 'wharf_gangs',
        help: 'Unfinished gangs by status: pending (waiting to be placed all together) or running (a store count at each scrape).',
        labelNames: ['status'],
        registers,
        async collect() {
          const counts = await gangs.countByStatus();
          for (const status of ['pending', 'running'] as const) this.set({ status }, counts.get(status) ?? 0);
        },
      });
      const gangWait = new Histogram({
        name: 'wharf_gang_wait_seconds',
        help: 'Time from a gang entering the queue (its submission, or its restart) until all its members were placed.',
        buckets: TASK_LATENCY_BUCKETS,
        registers,
      });
      this.unsubscribers.push(
        gangs.onChange((gang) => {
          if (gang.status === 'running' && gang.placedAt !== undefined) gangWait.observe(Math.max(0, gang.placedAt - gang.waitingSince) / 1000);
        }),
      );
    }
    new Gauge({
      name: 'wharf_queue_depth',
      help: 'Tasks waiting in the queue for a worker (including retries waiting out their backoff).',
      registers,
      collect() {
        this.set(tasks.counts().queued);
      },
    });
    // per queue and per user in a queue (users by id: /metrics is not authenticated)
    const queueStatuses = () => (deps.queueNames && tasks.queueStatus ? deps.queueNames().map((name) => ({ name, status: tasks.queueStatus!(name) })) : []);
    new Gauge({
      name: 'wharf_queue_tasks',
      help: 'Tasks of a queue: queued (waiting for a worker) or placed (assigned, running, cancelling, preempting).',
      labelNames: ['queue', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { name, status } of queueStatuses()) {
          this.set({ queue: name, state: 'queued' }, status.queued);
          this.set({ queue: name, state: 'placed' }, status.running);
        }
      },
    });
    new Gauge({
      name: 'wharf_queue_user_tasks',
      help: 'Tasks of a user in a queue, queued or placed (user by id).',
      labelNames: ['queue', 'user', 'state'],
      registers,
      collect() {
        this.reset();
        for (const { name, status } of queueStatuses()) {
          for (const user of status.users) {
            this.set({ queue: name, user: user.userId, state: 'queued' }, user.queued);
            this.set({ queue: name, user: user.userId, state: 'placed' }, user.running);
          }
        }
      },
    });
    new Gauge({
      name: 'wharf_queue_user_dominant_share',
      help: "A user's fair-share usage in a queue: the largest fraction of the ready cluster's cpu, memory or gpus their placed tasks use (0-1).",
      labelNames: ['queue', 'user'],
      registers,
      collect() {
        this.reset();
        for (const { name, status } of queueStatuses()) for (const user of status.users) this.set({ queue: name, user: user.userId }, user.share);
      },
    });
    new Gauge({
      name: 'wharf_workers',
      help: 'Known workers, by status.',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = registry.counts();
        this.set({ status: 'ready' }, counts.ready);
        this.set({ status: 'draining' }, counts.draining);
        this.set({ status: 'lost' }, counts.lost);
      },
    });
    new Gauge({
      name: 'wharf_workers_connected',
      help: 'Workers with an open Connect stream.',
      registers,
      collect() {
        this.set(registry.list().filter((w) => w.channel !== undefined).length);
      },
    });
    const now = this.now;
    new Gauge({
      name: 'wharf_worker_heartbeat_lag_seconds',
      help: 'Seconds since the last heartbeat of each worker that is not lost (a worker is lost past the heartbeat TTL).',
      labelNames: ['worker_id'],
      registers,
      collect() {
        this.reset();
        const at = now();
        for (const worker of registry.list()) {
          if (worker.record.status === 'lost') continue;
          this.set({ worker_id: worker.record.id }, Math.max(0, at - worker.record.lastHeartbeatAt) / 1000);
        }
      },
    });
    new Gauge({
      name: 'wharf_worker_heartbeat_lag_max_seconds',
      help: 'The largest time since a last heartbeat among workers that are not lost (0 when there are none).',
      registers,
      collect() {
        const at = now();
        let max = 0;
        for (const worker of registry.list()) {
          if (worker.record.status !== 'lost') max = Math.max(max, (at - worker.record.lastHeartbeatAt) / 1000);
        }
        this.set(max);
      },
    });
    // every terminal state starts at 0, so a rate() over it works from the first scrape
    for (const state of TERMINAL_TASK_STATUSES) this.tasksFinished.inc({ state }, 0);
    this.unsubscribers.push(tasks.onTaskChange((task) => this.taskChanged(task)));
    this.bindOperations(deps);
  }

  /**
   * The metrics the alert rules and the Grafana board in deploy/monitoring/ need beyond the
   * ones above: the oldest wait in the queue, finished attempts by outcome, lost workers, the
   * data dir's free space, and per worker its capacity, reservations and last usage sample.
   */
  private bindOperations(deps: MetricsSources): void {
    const { tasks, registry, dataDir } = deps;
    const registers = [this.registry];
    const now = this.now;
    const readyAt = this.readyAt;
    new Gauge({
      name: 'wharf_queue_oldest_wait_seconds',
      help: 'How long the longest-waiting queued task has been placeable without being placed (a retry counts from the end of its backoff); 0 when none waits.',
      registers,
      collect() {
        const at = now();
        let oldest = at;
        for (const since of readyAt.values()) oldest = Math.min(oldest, since);
        this.set(Math.max(0, at - oldest) / 1000);
      },
    });
    // the data dir holds the SQLite store, task logs, output files and (without S3) artifacts
    new Gauge({
      name: 'wharf_data_dir_available_bytes',
      help: 'Bytes free for the master on the filesystem of its data dir (statfs, at scrape time; NaN when it cannot be read).',
      registers,
      async collect() {
        const stats = await statfsOrUndefined(dataDir);
        this.set(stats ? stats.bavail * stats.bsize : Number.NaN);
      },
    });
    const { minFreeBytes } = deps;
    new Gauge({
      name: 'wharf_data_dir_min_free_bytes',
      help: 'The free-space floor of the data dir (WHARF_MIN_FREE_DISK) in bytes: below it uploads of task outputs are refused; 0 = no floor.',
      registers,
      async collect() {
        this.set(minFreeBytes ? await minFreeBytes() : 0);
      },
    });
    new Gauge({
      name: 'wharf_data_dir_size_bytes',
      help: "Size of the filesystem of the master's data dir (statfs, at scrape time; NaN when it cannot be read).",
      registers,
      async collect() {
        const stats = await statfsOrUndefined(dataDir);
        this.set(stats ? stats.blocks * stats.bsize : Number.NaN);
      },
    });
    // every known worker, lost ones included: its name and status for joins on worker_id
    // (Prometheus' info-metric pattern: `... * on (worker_id) group_left (worker_name) wharf_worker_info`)
    new Gauge({
      name: 'wharf_worker_info',
      help: 'Always 1, one series per known worker, with its name, status (ready, draining, lost) and Wharf version as labels.',
      labelNames: ['worker_id', 'worker_name', 'status', 'version'],
      registers,
      collect() {
        this.reset();
        for (const { record } of registry.list()) {
          this.set({ worker_id: record.id, worker_name: record.name, status: record.status, version: record.version }, 1);
        }
      },
    });
    // per worker that is not lost; a lost worker's reservations were released and its last
    // usage sample is stale, so it has no series (the board's sums are over live workers)
    const perWorker = (name: string, help: string, value: (worker: LiveWorker) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['worker_id', 'worker_name'],
        registers,
        collect() {
          this.reset();
          for (const worker of registry.list()) {
            if (worker.record.status === 'lost') continue;
            this.set({ worker_id: worker.record.id, worker_name: worker.record.name }, value(worker));
          }
        },
      });
    };
    perWorker('wharf_worker_cpu_capacity_cores', 'CPU cores each worker that is not lost offers to tasks.', (w) => w.record.capacity.cpu);
    perWorker('wharf_worker_cpu_reserved_cores', 'CPU cores reserved on each worker by the attempts placed on it.', (w) => w.reserved.cpu);
    perWorker('wharf_worker_memory_capacity_bytes', 'Memory each worker that is not lost offers to tasks.', (w) => w.record.capacity.memory);
    perWorker('wharf_worker_memory_reserved_bytes', 'Memory reserved on each worker by the attempts placed on it.', (w) => w.reserved.memory);
    perWorker('wharf_worker_gpu_capacity', 'GPUs each worker that is not lost offers to tasks.', (w) => w.record.capacity.gpu);
    perWorker('wharf_worker_gpu_reserved', 'GPUs reserved on each worker by the attempts placed on it.', (w) => w.reserved.gpu);
    perWorker('wharf_worker_disk_capacity_bytes', 'Disk each worker that is not lost offers to tasks.', (w) => w.record.capacity.disk);
    perWorker('wharf_worker_disk_reserved_bytes', 'Disk reserved on each worker by the attempts placed on it.', (w) => w.reserved.disk);
    new Gauge({
      name: 'wharf_worker_usage_ratio',
      help: "Each worker's host usage from its last heartbeat sample, 0 to 1, by resource (cpu, memory, disk; gpu when it has one); workers that are lost or have not sampled yet have none.",
      labelNames: ['worker_id', 'worker_name', 'resource'],
      registers,
      collect() {
        this.reset();
        for (const worker of registry.list()) {
          const usage = worker.usage;
          if (worker.record.status === 'lost' || !usage) continue;
          const labels = { worker_id: worker.record.id, worker_name: worker.record.name };
          this.set({ ...labels, resource: 'cpu' }, usage.cpuPercent / 100);
          this.set({ ...labels, resource: 'memory' }, usage.memoryPercent / 100);
          this.set({ ...labels, resource: 'disk' }, usage.diskPercent / 100);
          if (usage.gpuPercent !== undefined) this.set({ ...labels, resource: 'gpu' }, usage.gpuPercent / 100);
        }
      },
    });
    for (const outcome of FINISHED_ATTEMPT_OUTCOMES) this.attemptsFinished.inc({ outcome }, 0);
    // a Register refusal (a guessed token, an impersonation) shows as an increase from its first
    for (const reason of IDENTITY_REFUSALS) this.registerFailures.inc({ reason }, 0);
    // the first client cut off as lagged must show as an increase, not as a new series
    for (const channel of WEBSOCKET_CHANNELS) {
      this.wsConnections.inc({ channel }, 0);
      this.wsMessages.inc({ channel }, 0);
      this.wsLagged.inc({ channel }, 0);
    }
    this.workersLost.inc(0);
    this.unsubscribers.push(
      tasks.onAttemptFinished((attempt) => this.attemptFinished(attempt)),
      registry.onWorkerEvent((event) => {
        if (event.kind === 'lost') this.workersLost.inc();
      }),
    );
  }

  /**
   * After a master restart: the queued tasks found in the store (the task service re-queues
   * them without announcing each), so the oldest wait counts them from the start. A task that
   * never ran waits since its submission; a re-queued one since this start (when it re-entered
   * the queue before the restart is not stored).
   */
  seed(unfinished: readonly Task[]): void {
    for (const task of unfinished) if (task.status === 'queued') this.taskChanged(task);
  }

  attemptFinished(attempt: Pick<Attempt, 'status' | 'preemptedBy'>): void {
    this.attemptsFinished.inc({ outcome: attempt.status });
    if (attempt.status === 'preempted' && attempt.preemptedBy) this.preemptions.inc({ queue: attempt.preemptedBy.queue });
  }

  /** Feeds the latency histograms and finished counters from one task change. */
  taskChanged(task: Pick<Task, 'id' | 'status' | 'createdAt' | 'attemptCount' | 'notBefore' | 'deadlineExceeded'>): void {
    const at = this.now();
    const status: TaskStatus = task.status;
    if (status !== 'queued') this.readyAt.delete(task.id);
    if (status === 'queued') {
      // a new submission waits since it was created; a re-queued task since now
      if (!this.queuedAt.has(task.id)) this.queuedAt.set(task.id, task.attemptCount === 0 ? task.createdAt : at);
      this.readyAt.set(task.id, Math.max(this.queuedAt.get(task.id)!, task.notBefore ?? 0));
      this.assignedAt.delete(task.id);
      return;
    }
    if (status === 'assigned') {
      const since = this.queuedAt.get(task.id) ?? (task.attemptCount <= 1 ? task.createdAt : undefined);
      if (since !== undefined) this.submitToAssign.observe(Math.max(0, at - since) / 1000);
      this.queuedAt.delete(task.id);
      this.assignedAt.set(task.id, at);
      return;
    }
    if (status === 'running') {
      const since = this.assignedAt.get(task.id);
      if (since !== undefined) this.assignToRunning.observe(Math.max(0, at - since) / 1000);
      this.assignedAt.delete(task.id);
      return;
    }
    if (TERMINAL_TASK_STATUSES.has(status)) {
      this.tasksFinished.inc({ state: status });
      if (status === 'failed' && task.deadlineExceeded) this.deadlinesExceeded.inc({ deadline: task.deadlineExceeded });
      this.queuedAt.delete(task.id);
      this.assignedAt.delete(task.id);
    }
  }

  countLogBytes(stream: string, bytes: number): void {
    this.logBytes.inc({ stream }, bytes);
  }

  countUploadBytes(bytes: number): void {
    this.uploadBytes.inc(bytes);
  }

  observeStoreOperation(operation: string, seconds: number, ok: boolean): void {
    this.storeLatency.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
  }

  webSocketOpened(channel: string): void {
    this.wsConnections.inc({ channel });
  }

  webSocketClosed(channel: string): void {
    this.wsConnections.dec({ channel });
  }

  webSocketSent(channel: string): void {
    this.wsMessages.inc({ channel });
  }

  /** A worker call refused for its credentials: Register in the failures counter, the rest apart. */
  countWorkerRefusal(rpc: string, reason: string): void {
    if (rpc === 'Register') this.registerFailures.inc({ reason });
    else this.workerCallRefusals.inc({ rpc, reason });
  }

  webSocketLagged(channel: string): void {
    this.wsLagged.inc({ channel });
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.registry.clear();
  }
}

/** The data dir's filesystem figures, or undefined when it cannot be read (the gauges then show NaN: unknown, not 0). */
async function statfsOrUndefined(path: string): Promise<{ bavail: number; bsize: number; blocks: number } | undefined> {
  try {
    return await statfs(path);
  } catch {
    return undefined;
  }
}
