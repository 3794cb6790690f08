// The cluster's workers as the master sees them live: their record (stored), the open Connect
// channel, the resources reserved by attempts placed on them, their last usage sample and
// heartbeat. A worker silent past the heartbeat TTL is marked lost (checkLiveness, driven by a
// timer in main.ts) and the listeners are told. A lost worker keeps its reservations: its
// attempts stay its own until its fencing bound has passed (the task service's recovery system
// holds them), and a worker that returns before then keeps them.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import { ZERO_RESOURCES, type Resources, type Runtime } from '../records/resources.js';
import type { WorkerCertificateRef, WorkerFencing, WorkerRecord, WorkerStatus, WorkerUsage } from '../records/worker.js';
import type { MasterDown } from '../records/master-down.js';
import { addResources, type WorkerSnapshot } from '../scheduler/placement.js';
import type { Store } from '../store/store.js';
import type { WorkerHistoryKind } from '../records/worker-history.js';
import { resolveFencing, type DeclaredFencing } from './worker-fencing.js';

/** How the master talks down to one worker: domain messages, which the gRPC layer translates. */
export interface WorkerChannel {
  send(message: MasterDown): void;
  close(): void;
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
  /**
   * When the master last heard from the worker (Register, stream open, heartbeat); after a
   * master restart, the restart (the worker may have been heard from until the master stopped).
   * The fencing bound runs from here.
   */
  lastContactAt: number;
}

export interface RegistrationInput {
  workerId: string;
  name: string;
  hostname: string;
  capacity: Resources;
  runtimes: Runtime[];
  labels: Record<string, string>;
  /** the worker's GPU device ids (RegisterRequest.gpu_ids); empty: a count only */
  gpuIds?: string[] | undefined;
  /** where other workers reach its gang members (RegisterRequest.advertise_address, else the caller's address) */
  address?: string | undefined;
  version: string;
  /** what the worker declared (RegisterRequest.fencing); undefined = none, refused */
  fencing: DeclaredFencing | undefined;
  /** enrolment: the certificate the master just issued (a re-registration keeps the stored one) */
  certificate?: WorkerCertificateRef | undefined;
}

export interface WorkerRegistryListener {
  workerLost(workerId: string): void;
  /** an admin removed the worker: it is no longer in the registry; `worker` is how it was then */
  workerRemoved(worker: RemovedWorker): void;
  workerReady(workerId: string): void;
}

/** A removed worker as the registry last knew it: its record (its fencing bound) and last contact. */
export type RemovedWorker = Pick<LiveWorker, 'record' | 'lastContactAt'>;

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
  /** workers whose stream closed and has not opened again (for the `reconnected` history entry) */
  private readonly detached = new Set<string>();
  private historySeq = 0;
  private listener: WorkerRegistryListener | undefined;
  private readonly observers = new Set<WorkerEventListener>();
  private sortedIds: string[] | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: {
      heartbeatTtlMs: number;
      reconnectGraceMs: number;
      /** for the fencing checks at Register (cluster/worker-fencing.ts) */
      heartbeatIntervalMs: number;
      maxStopAfterMs: number;
      now?: () => number;
    },
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
      this.workers.set(record.id, {
        record: { ...record, lastHeartbeatAt: lastSeen },
        reserved: { ...ZERO_RESOURCES },
        reportedAttempts: [],
        lastContactAt: now,
      });
    }
    this.sortedIds = undefined;
  }

  /**
   * The bound a worker declared, as this master applies it; throws `validation_failed` when it
   * is missing or out of bounds. (The gateway asks before a join uses up a token.)
   */
  checkFencing(declared: DeclaredFencing | undefined): WorkerFencing {
    return resolveFencing(declared, this.options);
  }

  /**
   * The longest bound (stop-after + grace) this master admits: how long the attempts of a worker
   * it no longer knows (removed before a restart) are held, since its own bound is gone with it.
   */
  longestFencingBoundMs(): number {
    return this.options.maxStopAfterMs;
  }

  /** Throws `validation_failed` when the worker's fencing is missing or out of bounds. */
  async register(input: RegistrationInput): Promise<LiveWorker> {
    const fencing = this.checkFencing(input.fencing);
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
      ...(input.gpuIds && input.gpuIds.length > 0 ? { gpuIds: input.gpuIds } : {}),
      ...(input.address ? { address: input.address } : {}),
      version: input.version,
      registeredAt: existing?.record.registeredAt ?? now,
      lastHeartbeatAt: now,
      fencing,
      certificate: input.certificate ?? existing?.record.certificate,
      pendingCertificate: input.certificate ? undefined : existing?.record.pendingCertificate,
    };
    await this.store.saveWorker(record);
    const live: LiveWorker = {
      record,
      // a lost worker keeps the reservations of the attempts not yet given away
      reserved: existing ? existing.reserved : { ...ZERO_RESOURCES },
      usage: existing?.usage,
      channel: existing?.channel,
      reportedAttempts: existing?.reportedAttempts ?? [],
      lastContactAt: now,
    };
    this.workers.set(record.id, live);
    this.sortedIds = undefined;
    this.logger.info({ workerId: record.id, name: record.name, rejoined: Boolean(existing) }, 'worker registered');
    // a live worker registering again (its stream reopening) is not news; a lost one coming back is
    if (!existing) await this.remember(record.id, 'joined');
    else if (existing.record.status === 'lost') await this.remember(record.id, 'rejoined');
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
    worker.lastContactAt = worker.record.lastHeartbeatAt;
    this.listener?.workerReady(workerId);
    if (this.detached.delete(workerId)) void this.remember(workerId, 'reconnected');
    this.notify(worker.record.status === 'draining' ? 'draining' : 'ready', workerId);
    return true;
  }

  detach(workerId: string, channel: WorkerChannel): void {
    const worker = this.workers.get(workerId);
    if (worker?.channel === channel) {
      worker.channel = undefined;
      this.detached.add(workerId);
      void this.remember(workerId, 'disconnected');
      this.notify('disconnected', workerId);
    }
  }

  heartbeat(workerId: string, usage: WorkerUsage | undefined, runningAttempts: string[], cachedArtifacts?: readonly string[]): boolean {
    const worker = this.workers.get(workerId);
    if (!worker || worker.record.status === 'lost') return false;
    worker.record.lastHeartbeatAt = this.now();
    worker.lastContactAt = worker.record.lastHeartbeatAt;
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
    // reservations stay: the attempts are the worker's until they are re-queued (the task
    // service holds them until the worker's fencing bound has passed)
    worker.channel?.close();
    worker.channel = undefined;
    this.sortedIds = undefined;
    await this.store.saveWorker(worker.record);
    this.logger.warn({ workerId, why }, 'worker lost');
    await this.remember(workerId, 'lost', why);
    this.listener?.workerLost(workerId);
    this.notify('lost', workerId);
  }

  /**
   * Forgets a worker an admin removed: closes its stream (no heartbeat of it counts from now on,
   * so its last contact is final), deletes its record, and tells the listener, whose attempts
   * then take the lost-worker path: held until the worker must have stopped them (its fencing
   * bound from that last contact), then re-queued. Answers the record it had.
   */
  async remove(workerId: string): Promise<WorkerRecord | undefined> {
    const worker = this.workers.get(workerId);
    if (!worker) return undefined;
    this.workers.delete(workerId);
    this.sortedIds = undefined;
    worker.channel?.close();
    worker.channel = undefined;
    this.detached.delete(workerId);
    const removed: RemovedWorker = { record: worker.record, lastContactAt: worker.lastContactAt };
    await this.store.deleteWorker(workerId);
    this.logger.info({ workerId, name: worker.record.name }, 'worker removed');
    await this.remember(workerId, 'removed');
    this.listener?.workerRemoved(removed);
    this.notify('removed', workerId);
    return worker.record;
  }

  /**
   * Appends to the worker's history (GET /api/workers/:id/history). Never throws: a history
   * entry that cannot be written is logged, and what happened to the worker still happens.
   */
  private async remember(workerId: string, kind: WorkerHistoryKind, detail?: string): Promise<void> {
    try {
      const at = this.now();
      // ids that sort in the order things happened within one millisecond (the list is by at, then id)
      this.historySeq = (this.historySeq + 1) % 1_000_000;
      const id = `${String(at).padStart(15, '0')}-${String(this.historySeq).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
      await this.store.appendWorkerEvent({ id, workerId, at, kind, ...(detail !== undefined ? { detail } : {}) });
    } catch (error: unknown) {
      this.logger.warn({ err: error, workerId, kind }, 'could not record a worker history event');
    }
  }

  async setDraining(workerId: string, draining: boolean): Promise<LiveWorker | undefined> {
    const worker = this.workers.get(workerId);
    if (!worker) return undefined;
    if (worker.record.status !== 'lost') {
      const before = worker.record.status;
      worker.record.status = draining ? 'draining' : 'ready';
      await this.store.saveWorker(worker.record);
      if (before !== worker.record.status) await this.remember(workerId, draining ? 'drained' : 'activated');
      worker.channel?.send({ kind: 'drain', draining });
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
