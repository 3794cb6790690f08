// The cluster's workers as the master sees them live: their record (stored), the open Connect
// channel, the resources reserved by attempts placed on them, their last usage sample and
// heartbeat. A worker silent past the heartbeat TTL is marked lost (checkLiveness, driven by a
// timer in main.ts) and the listeners are told, so its attempts can be re-queued at once.
import type { Logger } from '../logger.js';
import { addResources, type WorkerSnapshot } from '../scheduler/placement.js';
import type { Store } from '../store/store.js';
import { ZERO_RESOURCES, type Resources, type Runtime } from '../tasks/task-types.js';
import type { WorkerCertificateRef, WorkerRecord, WorkerStatus, WorkerUsage } from './worker-types.js';

/** How the master talks down to one worker; the gRPC layer provides it. */
export interface WorkerChannel {
  send(message: MasterDown): void;
  close(): void;
}

export type MasterDown =
  | { assign: AssignPayload }
  | { cancel: { attemptId: string; reason: string; graceSeconds: number } }
  | { resultAck: { attemptId: string } }
  | { drain: { draining: boolean } };

export interface AssignPayload {
  taskId: string;
  attemptId: string;
  attemptNumber: number;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  runtime: string;
  resources: Resources;
  timeoutSeconds: number;
  userId: string;
  /** DAG tasks: artifacts to stage at /input/<name>; url empty = fetch from the master (FetchArtifact) */
  inputs?: { name: string; sha256: string; size: number; url: string }[];
  useCache?: boolean;
}

export interface LiveWorker {
  record: WorkerRecord;
  reserved: Resources;
  usage?: WorkerUsage | undefined;
  channel?: WorkerChannel | undefined;
  /** attempts the worker said it runs in its last heartbeat */
  reportedAttempts: string[];
  /** sha256s the worker's artifact cache holds (its last heartbeat; capped), for placement affinity */
  cachedArtifacts?: ReadonlySet<string> | undefined;
}

export interface RegistrationInput {
  workerId: string;
  name: string;
  hostname: string;
  capacity: Resources;
  runtimes: Runtime[];
  labels: Record<string, string>;
  version: string;
  /** enrolment: the certificate the master just issued (a re-registration keeps the stored one) */
  certificate?: WorkerCertificateRef | undefined;
}

export interface WorkerRegistryListener {
  workerLost(workerId: string): void;
  workerReady(workerId: string): void;
}

/**
 * What happened to a worker, for observers (telemetry, WebSockets, metrics): `joined` on
 * (re)registration, `ready`/`draining` when its stream opens or an admin drains/activates it,
 * `lost`, `disconnected` when its stream closes, `heartbeat` on every heartbeat, `removed`
 * when an admin removed it (it is no longer in the registry then).
 */
export type WorkerEventKind = 'joined' | 'ready' | 'draining' | 'lost' | 'disconnected' | 'heartbeat' | 'removed';
export interface WorkerEvent {
  kind: WorkerEventKind;
  workerId: string;
}
export type WorkerEventListener = (event: WorkerEvent) => void;

export class WorkerRegistry {
  private readonly workers = new Map<string, LiveWorker>();
  private listener: WorkerRegistryListener | undefined;
  private readonly observers = new Set<WorkerEventListener>();
  private sortedIds: string[] | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: { heartbeatTtlMs: number; reconnectGraceMs: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  setListener(listener: WorkerRegistryListener): void {
    this.listener = listener;
  }

  /** Observes every worker event (after the state changed); answers an unsubscribe. */
  onWorkerEvent(listener: WorkerEventListener): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private notify(kind: WorkerEventKind, workerId: string): void {
    if (this.observers.size === 0) return;
    for (const observer of this.observers) {
      try {
        observer({ kind, workerId });
      } catch (error: unknown) {
        this.logger.error({ err: error, workerId, kind }, 'worker event observer failed');
      }
    }
  }

  /**
   * After a master restart: every known worker is back in the registry, disconnected. One that
   * does not reconnect within the grace period is marked lost like any silent worker.
   */
  async load(): Promise<void> {
    const now = this.now();
    for (const record of await this.store.listWorkers()) {
      const lastSeen = record.status === 'lost' ? record.lastHeartbeatAt : now + this.options.reconnectGraceMs - this.options.heartbeatTtlMs;
      this.workers.set(record.id, { record: { ...record, lastHeartbeatAt: lastSeen }, reserved: { ...ZERO_RESOURCES }, reportedAttempts: [] });
    }
    this.sortedIds = undefined;
  }

  async register(input: RegistrationInput): Promise<LiveWorker> {
    const now = this.now();
    const existing = this.workers.get(input.workerId);
    const status: WorkerStatus = existing?.record.status === 'draining' ? 'draining' : 'ready';
    const record: WorkerRecord = {
      id: input.workerId,
      name: input.name,
      hostname: input.hostname,
      status,
      runtimes: input.runtimes,
      labels: input.labels,
      capacity: input.capacity,
      version: input.version,
      registeredAt: existing?.record.registeredAt ?? now,
      lastHeartbeatAt: now,
      certificate: input.certificate ?? existing?.record.certificate,
      pendingCertificate: input.certificate ? undefined : existing?.record.pendingCertificate,
    };
    await this.store.saveWorker(record);
    const wasLost = existing?.record.status === 'lost';
    const live: LiveWorker = {
      record,
      // a lost worker's reservations were released when it was lost
      reserved: existing && !wasLost ? existing.reserved : { ...ZERO_RESOURCES },
      usage: existing?.usage,
      channel: existing?.channel,
      reportedAttempts: existing?.reportedAttempts ?? [],
    };
    this.workers.set(record.id, live);
    this.sortedIds = undefined;
    this.logger.info({ workerId: record.id, name: record.name, rejoined: Boolean(existing) }, 'worker registered');
    this.notify('joined', record.id);
    return live;
  }

  /** A renewed certificate was issued: accepted beside the current one until the worker uses it. */
  async setPendingCertificate(workerId: string, certificate: WorkerCertificateRef): Promise<void> {
    const worker = this.workers.get(workerId);
    if (!worker) return;
    worker.record.pendingCertificate = certificate;
    await this.store.saveWorker(worker.record);
  }

  /** The worker presented its renewed certificate: from now on only that one is accepted. */
  async promotePendingCertificate(workerId: string): Promise<void> {
    const worker = this.workers.get(workerId);
    const pending = worker?.record.pendingCertificate;
    if (!worker || !pending) return;
    worker.record.certificate = pending;
    worker.record.pendingCertificate = undefined;
    await this.store.saveWorker(worker.record);
    this.logger.info({ workerId, serial: pending.serial }, 'worker switched to its renewed certificate');
  }

  attach(workerId: string, channel: WorkerChannel): boolean {
    const worker = this.workers.get(workerId);
    if (!worker || worker.record.status === 'lost') return false;
    if (worker.channel && worker.channel !== channel) worker.channel.close();
    worker.channel = channel;
    worker.record.lastHeartbeatAt = this.now();
    this.listener?.workerReady(workerId);
    this.notify(worker.record.status === 'draining' ? 'draining' : 'ready', workerId);
    return true;
  }

  detach(workerId: string, channel: WorkerChannel): void {
    const worker = this.workers.get(workerId);
    if (worker?.channel === channel) {
      worker.channel = undefined;
      this.notify('disconnected', workerId);
    }
  }

  heartbeat(workerId: string, usage: WorkerUsage | undefined, runningAttempts: string[], cachedArtifacts?: readonly string[]): boolean {
    const worker = this.workers.get(workerId);
    if (!worker || worker.record.status === 'lost') return false;
    worker.record.lastHeartbeatAt = this.now();
    if (usage) worker.usage = usage;
    worker.reportedAttempts = runningAttempts;
    if (cachedArtifacts !== undefined) worker.cachedArtifacts = new Set(cachedArtifacts);
    this.notify('heartbeat', workerId);
    return true;
  }

  /** Marks silent workers lost. Answers the ids newly lost. */
  async checkLiveness(): Promise<string[]> {
    const now = this.now();
    const lost: string[] = [];
    for (const worker of this.workers.values()) {
      if (worker.record.status === 'lost') continue;
      if (now - worker.record.lastHeartbeatAt > this.options.heartbeatTtlMs) lost.push(worker.record.id);
    }
    for (const id of lost) await this.markWorkerLost(id, 'no heartbeat within the TTL');
    return lost;
  }

  async markWorkerLost(workerId: string, why: string): Promise<void> {
    const worker = this.workers.get(workerId);
    if (!worker || worker.record.status === 'lost') return;
    worker.record.status = 'lost';
    worker.reserved = { ...ZERO_RESOURCES };
    worker.channel?.close();
    worker.channel = undefined;
    this.sortedIds = undefined;
    await this.store.saveWorker(worker.record);
    this.logger.warn({ workerId, why }, 'worker lost');
    this.listener?.workerLost(workerId);
    this.notify('lost', workerId);
  }

  /**
   * Forgets a worker an admin removed: closes its stream, deletes its record, and tells the
   * listener it is lost, so its attempts take the lost-worker path. Answers the record it had.
   */
  async remove(workerId: string): Promise<WorkerRecord | undefined> {
    const worker = this.workers.get(workerId);
    if (!worker) return undefined;
    this.workers.delete(workerId);
    this.sortedIds = undefined;
    worker.channel?.close();
    worker.channel = undefined;
    await this.store.deleteWorker(workerId);
    this.logger.info({ workerId, name: worker.record.name }, 'worker removed');
    this.listener?.workerLost(workerId);
    this.notify('removed', workerId);
    return worker.record;
  }

  async setDraining(workerId: string, draining: boolean): Promise<LiveWorker | undefined> {
    const worker = this.workers.get(workerId);
    if (!worker) return undefined;
    if (worker.record.status !== 'lost') {
      worker.record.status = draining ? 'draining' : 'ready';
      await this.store.saveWorker(worker.record);
      worker.channel?.send({ drain: { draining } });
      if (!draining) this.listener?.workerReady(workerId);
      this.notify(draining ? 'draining' : 'ready', workerId);
    }
    return worker;
  }

  reserve(workerId: string, resources: Resources): void {
    const worker = this.workers.get(workerId);
    if (worker) worker.reserved = addResources(worker.reserved, resources);
  }

  release(workerId: string, resources: Resources): void {
    const worker = this.workers.get(workerId);
    if (!worker) return;
    const next = addResources(worker.reserved, resources, -1);
    // never below zero through rounding or a double release
    worker.reserved = {
      cpu: Math.max(0, Number(next.cpu.toFixed(6))),
      memory: Math.max(0, next.memory),
      gpu: Math.max(0, next.gpu),
      disk: Math.max(0, next.disk),
    };
  }

  send(workerId: string, message: MasterDown): boolean {
    const channel = this.workers.get(workerId)?.channel;
    if (!channel) return false;
    channel.send(message);
    return true;
  }

  get(workerId: string): LiveWorker | undefined {
    return this.workers.get(workerId);
  }

  list(): LiveWorker[] {
    return this.ids().map((id) => this.workers.get(id)!);
  }

  /** Connected workers, in a stable order, for the scheduler. */
  schedulingSnapshot(): WorkerSnapshot[] {
    const snapshot: WorkerSnapshot[] = [];
    for (const id of this.ids()) {
      const worker = this.workers.get(id)!;
      if (!worker.channel) continue;
      snapshot.push({
        id,
        status: worker.record.status,
        runtimes: worker.record.runtimes,
        labels: worker.record.labels,
        capacity: worker.record.capacity,
        reserved: worker.reserved,
        cachedArtifacts: worker.cachedArtifacts,
      });
    }
    return snapshot;
  }

  counts(): { total: number; ready: number; draining: number; lost: number } {
    const counts = { total: 0, ready: 0, draining: 0, lost: 0 };
    for (const worker of this.workers.values()) {
      counts.total += 1;
      counts[worker.record.status] += 1;
    }
    return counts;
  }

  closeAll(): void {
    for (const worker of this.workers.values()) {
      worker.channel?.close();
      worker.channel = undefined;
    }
  }

  private ids(): string[] {
    this.sortedIds ??= [...this.workers.keys()].sort();
    return this.sortedIds;
  }
}
