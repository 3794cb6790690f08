// The master's Prometheus metrics (GET /metrics), on a registry of its own so that several
// masters can run in one process (tests). Gauges that mirror live state (tasks by state, queue
// depth, workers by status, heartbeat lag) are computed when scraped; counters and histograms
// are fed by the task-change and worker-event hooks, the gRPC gateway (log and upload bytes),
// the timed store (store-operation latency) and the WebSocket server.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import type { TaskService } from '../tasks/task-service.js';
import { TERMINAL_TASK_STATUSES, type Task, type TaskStatus } from '../tasks/task-types.js';

/** Latency buckets in seconds, from 1 ms to 2 min (task placement and start-up times). */
const TASK_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Store operations: 50 µs to 5 s. */
const STORE_LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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
  private readonly registerFailures: Counter<'reason'>;
  private readonly workerCallRefusals: Counter<'rpc' | 'reason'>;
  /** when each live task last entered `queued` / `assigned` (epoch ms) */
  private readonly queuedAt = new Map<string, number>();
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
  }

  /** Connects the scrape-time gauges and the task/worker hooks. Call once, at start. */
  bind(deps: { tasks: TaskService; registry: WorkerRegistry }): void {
    const { tasks, registry } = deps;
    const registers = [this.registry];
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
      name: 'wharf_queue_depth',
      help: 'Tasks waiting in the queue for a worker (including retries waiting out their backoff).',
      registers,
      collect() {
        this.set(tasks.counts().queued);
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
  }

  /** Feeds the latency histograms and finished counters from one task change. */
  taskChanged(task: Pick<Task, 'id' | 'status' | 'createdAt' | 'attemptCount'>): void {
    const at = this.now();
    const status: TaskStatus = task.status;
    if (status === 'queued') {
      // a new submission waits since it was created; a re-queued task since now
      if (!this.queuedAt.has(task.id)) this.queuedAt.set(task.id, task.attemptCount === 0 ? task.createdAt : at);
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
