// A harness for fast lifecycle tests, in the spirit of Nomad's scheduler/testing.go NewHarness:
// the task systems, through the TaskService facade the transports call, run against a real
// SqliteStore, FileStore and LogStore in a temp dir and a real WorkerRegistry whose workers are
// attached through FakeWorkerChannel (a recording fake of the gRPC Connect stream), on a
// ManualClock. A worker is driven the way the gateway drives the systems (register, connect,
// started, result); nothing runs, so a lifecycle rule gets a test in milliseconds. Workers declare
// the fencing bound real ones do (HARNESS_FENCING: stop-after = the TTL, 2 s grace). `fillDisk`
// fakes a full disk under the systems (their writes fail with storage_full). The Docker
// end-to-end suites prove the wiring; this proves the rules.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeclaredFencing } from '../../cluster/worker-fencing.js';
import { WorkerRegistry, type WorkerChannel } from '../../cluster/worker-registry.js';
import { FileStore } from '../../files/file-store.js';
import { storageFull } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { LogStore } from '../../logs/log-store.js';
import type { AttemptReport, ReportedOutcome } from '../../records/attempt.js';
import type { Assignment, MasterDown } from '../../records/master-down.js';
import type { Resources, Runtime } from '../../records/resources.js';
import type { NewTask, Task } from '../../records/task.js';
import type { User } from '../../records/user.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import type { Clock, ClockTimer } from '../clock.js';
import { TaskService, type TaskServiceOptions } from '../task-service.js';

/** A clock that moves only when the test says so; its timers fire as `advance` passes their time. */
export class ManualClock implements Clock {
  private nowMs: number;
  private readonly timers: { at: number; fire: () => void; cancelled: boolean }[] = [];

  constructor(startMs = Date.UTC(2030, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(fire: () => void, ms: number): ClockTimer {
    const timer = { at: this.nowMs + ms, fire, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time forward by `ms`, firing each timer that falls due, in time order. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.nowMs = Math.max(this.nowMs, due.at);
      due.fire();
    }
    this.nowMs = until;
  }

  /** Timers armed and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

/**
 * A recording fake of one worker's Connect stream: what the master sent, in order, each message
 * copied when sent (as the wire would serialise it then).
 */
export class FakeWorkerChannel implements WorkerChannel {
  readonly sent: MasterDown[] = [];
  closed = false;

  send(message: MasterDown): void {
    this.sent.push(structuredClone(message));
  }

  close(): void {
    this.closed = true;
  }

  assignments(): Assignment[] {
    return this.sent.flatMap((m) => (m.kind === 'assign' ? [m.assignment] : []));
  }

  cancels(): Extract<MasterDown, { kind: 'cancel' }>[] {
    return this.sent.flatMap((m) => (m.kind === 'cancel' ? [m] : []));
  }
}

export const HARNESS_ADMIN: User = { id: 'user-admin', email: 'admin@example.com', name: 'Admin', role: 'admin', createdAt: 0 };
export const HARNESS_USER: User = { id: 'user-ada', email: 'ada@example.com', name: 'Ada', role: 'user', createdAt: 0 };
/** What harness workers declare at Register unless told otherwise: stop after the master's TTL, 2 s grace. */
export const HARNESS_FENCING: DeclaredFencing = { stopAfterMs: 0, stopGraceMs: 2000 };

export interface HarnessOptions {
  /** default: retries back off 1 s, at most 10 s, with no jitter; cancel grace 2 s */
  tasks?: Partial<TaskServiceOptions>;
  /** default: 15 s; also the reconnect grace after a restart */
  heartbeatTtlMs?: number;
  /** default: a third of the TTL (the shortest stop-after a worker may declare is two of these) */
  heartbeatIntervalMs?: number;
  /** an existing data dir (a restarted master); default: a new temp dir */
  dataDir?: string;
  clock?: ManualClock;
  logger?: Logger;
}

export interface HarnessWorker {
  id: string;
  channel: FakeWorkerChannel;
}

export class TaskHarness {
  readonly store: SqliteStore;
  readonly registry: WorkerRegistry;
  readonly files: FileStore;
  readonly logs: LogStore;
  readonly tasks: TaskService;
  readonly workers = new Map<string, HarnessWorker>();
  /** see fillDisk */
  private diskFull = false;

  private constructor(
    readonly dataDir: string,
    readonly clock: ManualClock,
    private readonly options: HarnessOptions,
    private readonly ownsDataDir: boolean,
  ) {
    const logger = options.logger ?? silentLogger();
    const heartbeatTtlMs = options.heartbeatTtlMs ?? 15_000;
    this.store = new SqliteStore(join(dataDir, 'wharf.db'));
    // what the systems write through: the real store, or a full disk while `fillDisk` says so
    const store = fakeFullDisk(this.store, () => this.diskFull);
    this.registry = new WorkerRegistry(store, logger, {
      heartbeatTtlMs,
      reconnectGraceMs: heartbeatTtlMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.floor(heartbeatTtlMs / 3),
      maxStopAfterMs: 10 * 60_000,
      now: () => clock.now(),
    });
    this.files = new FileStore(dataDir, 64 * 1024 * 1024);
    this.logs = new LogStore(dataDir, 1024 * 1024);
    this.tasks = new TaskService(store, this.registry, this.logs, this.files, logger, {
      retryBackoffMs: 1000,
      retryBackoffMaxMs: 10_000,
      cancelGraceMs: 2000,
      allowUserExec: false,
      random: () => 1,
      ...options.tasks,
      clock,
    });
    // as main.ts wires them
    this.registry.setListener({
      workerLost: (workerId) => void this.tasks.workerLost(workerId),
      workerRemoved: (worker) => void this.tasks.workerRemoved(worker),
      workerReady: () => this.tasks.scheduleSoon(),
    });
  }

  /** A master on a fresh temp dir (or `options.dataDir`), its state recovered from the store. */
  static async start(options: HarnessOptions = {}): Promise<TaskHarness> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'wharf-harness-'));
    const harness = new TaskHarness(dataDir, options.clock ?? new ManualClock(), options, options.dataDir === undefined);
    await harness.files.init();
    await harness.registry.load();
    await harness.tasks.recover();
    await harness.settle();
    return harness;
  }

  /** The master stops and starts again on the same data dir and clock; its workers must reconnect. */
  async restart(): Promise<TaskHarness> {
    await this.stopMaster();
    const next = new TaskHarness(this.dataDir, this.clock, this.options, this.ownsDataDir);
    await next.files.init();
    await next.registry.load();
    await next.tasks.recover();
    await next.settle();
    return next;
  }

  /** Stops the master and removes the temp dir. */
  async close(): Promise<void> {
    await this.stopMaster();
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async stopMaster(): Promise<void> {
    this.tasks.stop();
    await this.tasks.idle();
    this.logs.close();
    await this.store.close();
  }

  /** Waits until every change, scheduling pass and report in flight has been applied. */
  async settle(): Promise<void> {
    await this.tasks.idle();
  }

  /**
   * A worker registers (listing the attempts it holds, as a returning worker does) and opens its
   * stream, in the order the gateway does it; answers its channel after the scheduling that follows.
   */
  async connectWorker(
    id: string,
    options: { capacity?: Partial<Resources>; runtimes?: Runtime[]; labels?: Record<string, string>; holding?: string[]; fencing?: DeclaredFencing; gpuIds?: string[] } = {},
  ): Promise<{ channel: FakeWorkerChannel; stopAttempts: string[] }> {
    await this.registry.register({
      workerId: id,
      name: id,
      hostname: `${id}.local`,
      capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 100 * 1024 ** 3, ...options.capacity },
      runtimes: options.runtimes ?? ['docker'],
      labels: options.labels ?? {},
      ...(options.gpuIds ? { gpuIds: options.gpuIds } : {}),
      version: 'harness',
      fencing: options.fencing ?? HARNESS_FENCING,
    });
    const stopAttempts = await this.tasks.workerRegistered(id, options.holding ?? []);
    const channel = new FakeWorkerChannel();
    if (!this.registry.attach(id, channel)) throw new Error(`worker ${id} could not attach`);
    this.tasks.workerConnected(id);
    this.workers.set(id, { id, channel });
    await this.settle();
    return { channel, stopAttempts };
  }

  channel(workerId: string): FakeWorkerChannel {
    const worker = this.workers.get(workerId);
    if (!worker) throw new Error(`no worker ${workerId} in this harness`);
    return worker.channel;
  }

  async submit(input: Partial<NewTask> = {}, user: User = HARNESS_USER): Promise<Task> {
    const task = await this.tasks.submit(user, {
      name: 'job',
      image: 'wharf/busybox:latest',
      command: ['true'],
      env: {},
      runtime: 'docker',
      resources: { cpu: 1, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
      priority: 50,
      maxRetries: 0,
      timeoutSeconds: 0,
      labels: {},
      ...input,
    });
    await this.settle();
    return task;
  }

  /** The task as the API shows it (its attempts, files and events with it). */
  task(taskId: string, user: User = HARNESS_ADMIN) {
    return this.tasks.get(user, taskId);
  }

  /** The latest assignment of the task sent to the worker. */
  assignmentOf(workerId: string, taskId: string): Assignment {
    const found = this.channel(workerId)
      .assignments()
      .filter((a) => a.task.id === taskId)
      .at(-1);
    if (!found) throw new Error(`worker ${workerId} has no assignment of task ${taskId}`);
    return found;
  }

  async started(workerId: string, attemptId: string): Promise<void> {
    await this.tasks.attemptStarted(workerId, attemptId, this.clock.now());
    await this.settle();
  }

  /** The worker's result for the attempt; answers what the master answered ('applied' or 'ignored'). */
  async finished(
    workerId: string,
    attemptId: string,
    outcome: ReportedOutcome,
    extra: Partial<Omit<AttemptReport, 'attemptId' | 'outcome'>> = {},
  ): Promise<'applied' | 'ignored'> {
    const answer = await this.tasks.attemptFinished(workerId, {
      attemptId,
      outcome,
      exitCode: outcome === 'succeeded' ? 0 : outcome === 'failed' ? 1 : undefined,
      startedAt: this.clock.now(),
      finishedAt: this.clock.now(),
      files: [],
      ...extra,
    });
    await this.settle();
    return answer;
  }

  /** Uploads output files for the attempt the way UploadTaskFiles does (staged, checked); answers them as a result lists them. */
  async upload(attemptId: string, files: Record<string, string>): Promise<AttemptReport['files']> {
    const session = await this.files.beginUpload(attemptId);
    for (const [path, text] of Object.entries(files)) {
      const data = Buffer.from(text);
      const sha256 = createHash('sha256').update(data).digest('hex');
      await session.write({ path, offset: 0, data, eof: true, size: data.length, sha256 });
    }
    return session.files();
  }

  /**
   * A fake full disk: from now on every store write of the systems and the registry fails with
   * `storage_full`, as SqliteStore answers SQLITE_FULL (reads still work), until `freeDisk`.
   */
  fillDisk(): void {
    this.diskFull = true;
  }

  freeDisk(): void {
    this.diskFull = false;
  }

  /** Moves the clock on (firing the timers that fall due) and lets what they started settle. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  /** The worker stays silent past the heartbeat TTL: the registry's liveness check finds it lost. */
  async silenceWorker(workerId: string): Promise<void> {
    this.clock.advance((this.options.heartbeatTtlMs ?? 15_000) + 1);
    // every other worker keeps heartbeating
    for (const id of this.workers.keys()) if (id !== workerId) this.registry.heartbeat(id, undefined, []);
    await this.registry.checkLiveness();
    await this.settle();
  }
}

/**
 * The store with a fake full disk: while `full()` answers true, every method that writes (any
 * but get*, list*, find*, count*) rejects with storage_full, as the real store translates
 * SQLITE_FULL; nothing reaches the real store.
 */
function fakeFullDisk<S extends object>(store: S, full: () => boolean): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      const writes = !/^(get|list|find|count)/.test(property) && property !== 'close';
      return (...args: unknown[]): unknown =>
        writes && full() ? Promise.reject(storageFull('the database cannot grow (SQLITE_FULL; a fake full disk in the test harness)')) : method.apply(target, args);
    },
  });
}
