// The task service owns the task lifecycle; REST, the REPL and gRPC only translate and call it.
//
// The loop: a submission is stored and queued; a scheduling pass (run after every event that
// can free or add room: submit, completion, worker join, loss, backoff expiry; never on a
// polling ticker) asks the pure scheduler for placements and applies each one: an attempt is
// stored, its resources reserved on the worker, and the assignment sent down the worker's
// Connect stream. The worker acks, reports `started`, streams logs, uploads outputs and sends
// its result; the result is applied only to the task's current attempt (a duplicate is acked
// without effect), then the task succeeds, fails, or is re-queued with backoff while retries
// remain. A lost worker's attempts become `lost` and their tasks re-queue, not charged to
// retries, once the worker must have stopped them (cluster/lost-worker-fence.ts decides when and
// calls workerLost). Every change goes through `serial`, so no two events interleave, and every
// multi-record change is one conditional store commit. See task-types.ts for the diagram.
import { randomUUID } from 'node:crypto';
import type { User } from '../auth/user-types.js';
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import { notFound, WharfError } from '../errors.js';
import type { FileStore, StoredFile } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../logs/log-store.js';
import { planPlacements, type TaskSnapshot } from '../scheduler/placement.js';
import { TaskQueue } from '../scheduler/task-queue.js';
import { applyPatch, commitGroups, type Store, type StoreChange, type TaskPage } from '../store/store.js';
import type { NewTask } from './task-input.js';
import {
  ACTIVE_ATTEMPT_STATUSES,
  TERMINAL_TASK_STATUSES,
  type Attempt,
  type AttemptStatus,
  type InputReport,
  type OutputFileRecord,
  type Task,
  type TaskEvent,
  type TaskStatus,
} from './task-types.js';

export interface TaskServiceOptions {
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  cancelGraceMs: number;
  allowUserExec: boolean;
  /**
   * DAG inputs with an object store (S3): a presigned GET URL the worker fetches the artifact
   * from directly. Absent, or answering undefined: the worker fetches it from the master
   * (FetchArtifact).
   */
  inputUrl?: ((sha256: string) => Promise<string | undefined>) | undefined;
  now?: () => number;
  random?: () => number;
}

/** What a worker reports at the end of an attempt (from gRPC AttemptResult). */
export interface AttemptReport {
  attemptId: string;
  /** stopped: the worker lost contact with the master and stopped the attempt itself (fencing) */
  outcome: 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'error' | 'stopped';
  exitCode?: number | undefined;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  error?: string | undefined;
  files: StoredFile[];
  /** DAG tasks: how each input was staged (cache hit or download) */
  inputs?: InputReport[] | undefined;
  /** DAG tasks with direct output uploads: the declared outputs the worker put into the object store */
  directUploads?: { name: string; sha256: string; size: number }[] | undefined;
}

/**
 * DAG outputs that workers PUT straight into an object store (S3 artifact backend), set by the
 * DAG service: assignments of tasks with declared outputs carry their names, and a successful
 * result that reports direct uploads is confirmed before the task succeeds.
 */
export interface DirectOutputUploads {
  /** Why the reported uploads do not hold up (the attempt then fails like a non-zero exit), or undefined. */
  confirm(task: Task, files: readonly OutputFileRecord[], reported: NonNullable<AttemptReport['directUploads']>): Promise<string | undefined>;
}

/** The DAG fields a task may carry besides those of a plain submission (see Task). */
export type DagTaskFields = Partial<Pick<Task, 'dagId' | 'dagTask' | 'inputs' | 'outputs' | 'useCache'>>;

export interface SubmitOptions {
  /**
   * More store changes committed in the same commit as the tasks (the DAG service records
   * "queued, taskId=X" there, so a restart can never dispatch a DAG task twice). When one of
   * their conditions fails nothing is stored and submitMany rejects with `conflict`.
   */
  extraChanges?: (tasks: readonly Task[]) => StoreChange[];
}

export interface TaskDetails extends Task {
  attempts: Attempt[];
  files: OutputFileRecord[];
  events: TaskEvent[];
  queuePosition?: number | undefined;
}

export type TaskChangeListener = (task: Task) => void;

/** A report from a worker, waiting to be applied with the others that arrived meanwhile. */
interface PendingReport<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** One change prepared against the in-memory state: its store changes, then what to do once stored. */
interface PreparedChange {
  changes: StoreChange[];
  applied: () => void;
  refused?: () => void;
}

interface QueueEntry extends TaskSnapshot {
  priority: number;
  seq: number;
}

const ATTEMPT_OUTCOMES: Record<AttemptReport['outcome'], AttemptStatus> = {
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed_out',
  cancelled: 'cancelled',
  error: 'error',
  stopped: 'stopped',
};

export class TaskService {
  private readonly queue = new TaskQueue<QueueEntry>();
  /** tasks not yet terminal, the source of truth while they live */
  private readonly active = new Map<string, Task>();
  /** attempts in assigned, running or cancelling */
  private readonly attempts = new Map<string, Attempt>();
  private readonly listeners = new Set<TaskChangeListener>();
  private chain: Promise<unknown> = Promise.resolve();
  /** worker reports waiting for the next drain step (see `drainReports`) */
  private readonly pendingStarts: PendingReport<{ workerId: string; attemptId: string; at: number }, void>[] = [];
  private readonly pendingResults: PendingReport<{ workerId: string; report: AttemptReport }, 'applied' | 'ignored'>[] = [];
  private drainQueued = false;
  private cursor = 0;
  private schedulePending = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private stopped = false;
  private directOutputs: DirectOutputUploads | undefined;
  /** tasks whose reason says their lost worker's attempt is held until it must have stopped */
  private readonly heldForFence = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly registry: WorkerRegistry,
    private readonly logs: LogStore,
    private readonly files: FileStore,
    private readonly logger: Logger,
    private readonly options: TaskServiceOptions,
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  onTaskChange(listener: TaskChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The DAG service's hook for outputs uploaded straight to the object store (see DirectOutputUploads). */
  useDirectOutputUploads(hooks: DirectOutputUploads): void {
    this.directOutputs = hooks;
  }

  /** Runs `fn` after every earlier change has finished: one change at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.chain.then(fn, fn);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private emit(task: Task): void {
    for (const listener of this.listeners) {
      try {
        listener(task);
      } catch (error: unknown) {
        this.logger.error({ err: error, taskId: task.id }, 'task change listener failed');
      }
    }
  }

  /**
   * After a master restart: queued tasks re-enter the queue; assigned and running attempts
   * keep their reservations while their workers reconnect (the registry gives them a grace
   * period; a worker that does not come back is lost and its attempts re-queue once its fencing
   * bound has passed). Attempts of a worker already lost before the restart are left for the
   * fence too (main.ts); those of a worker the master does not know are lost at once.
   */
  async recover(): Promise<void> {
    const attempts = await this.store.listActiveAttempts();
    for (const attempt of attempts) {
      this.attempts.set(attempt.id, attempt);
      this.registry.reserve(attempt.workerId, attempt.resources);
    }
    for (const task of await this.store.listUnfinishedTasks()) {
      this.active.set(task.id, task);
      if (task.status === 'queued') this.enqueue(task);
    }
    for (const attempt of attempts) {
      if (!this.registry.get(attempt.workerId)) await this.loseAttempt(attempt, 'its worker is unknown');
    }
    this.logger.info({ queued: this.queue.size, activeAttempts: this.attempts.size }, 'task state recovered');
    this.scheduleSoon();
  }

  // ---------------------------------------------------------------- user-facing operations

  async submit(user: User, input: NewTask): Promise<Task> {
    const [task] = await this.submitMany(user, [input]);
    return task!;
  }

  /** Throws `forbidden` when the user may not submit one of these tasks (exec needs an admin). */
  checkSubmission(user: User, inputs: readonly Pick<NewTask, 'runtime'>[]): void {
    if (user.role !== 'admin' && !this.options.allowUserExec && inputs.some((input) => input.runtime === 'exec')) {
      throw new WharfError('forbidden', 'runtime: exec tasks run on the worker host; only admins may submit them here');
    }
  }

  /** Submits several tasks in one store commit: all are queued, or none. */
  submitMany(user: User, inputs: readonly (NewTask & DagTaskFields)[], options: SubmitOptions = {}): Promise<Task[]> {
    try {
      this.checkSubmission(user, inputs);
    } catch (error: unknown) {
      return Promise.reject(error);
    }
    return this.serial(async () => {
      const now = this.now();
      const tasks: Task[] = inputs.map((input) => ({
        id: randomUUID(),
        userId: user.id,
        ...input,
        status: 'queued',
        retriesUsed: 0,
        createdAt: now,
        attemptCount: 0,
      }));
      const changes = tasks.flatMap((task): StoreChange[] => [
        { kind: 'insertTask', task },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'submitted', message: `submitted by ${user.email}` } },
      ]);
      if (options.extraChanges) changes.push(...options.extraChanges(tasks));
      if (!(await this.store.commit(changes))) throw new WharfError('conflict', 'the submission changed state that changed meanwhile; try again');
      for (const task of tasks) {
        this.active.set(task.id, task);
        this.enqueue(task);
        this.emit(task);
      }
      this.scheduleSoon();
      return tasks.map((task) => ({ ...task }));
    });
  }

  async get(user: User, taskId: string): Promise<TaskDetails> {
    const task = await this.visibleTask(user, taskId);
    const [attempts, files, events] = await Promise.all([
      this.store.listAttempts(task.id),
      this.store.listFiles({ taskId: task.id }),
      this.store.listEvents(task.id),
    ]);
    return { ...task, attempts, files, events, queuePosition: this.queue.positionOf(task.id) };
  }

  async list(user: User, query: { status?: TaskStatus | undefined; limit: number; cursor?: string | undefined }): Promise<TaskPage> {
    const page = await this.store.listTasks({ ...query, userId: user.role === 'admin' ? undefined : user.id });
    // live tasks: the in-memory copy carries the current waiting reason
    return { ...page, tasks: page.tasks.map((t) => ({ ...(this.active.get(t.id) ?? t) })) };
  }

  /** A task the user may see: their own, or any for an admin. Others answer 404. */
  async visibleTask(user: User, taskId: string): Promise<Task> {
    const task = this.active.get(taskId) ?? (await this.store.getTask(taskId));
    if (!task || (user.role !== 'admin' && task.userId !== user.id)) throw notFound(`task ${taskId}`);
    return { ...task };
  }

  cancel(user: User, taskId: string): Promise<Task> {
    return this.serial(async () => {
      const task = await this.visibleTask(user, taskId);
      if (TERMINAL_TASK_STATUSES.has(task.status)) {
        throw new WharfError('conflict', `task ${taskId} is already ${task.status}`);
      }
      const live = this.active.get(taskId)!;
      const now = this.now();
      const reason = `cancelled by ${user.email}`;
      const patch = { status: 'cancelled' as const, reason, finishedAt: now, notBefore: undefined };
      const changes: StoreChange[] = [
        { kind: 'updateTask', taskId, expectStatus: [live.status], patch },
        { kind: 'appendEvent', event: { taskId, at: now, kind: 'cancelled', message: reason } },
      ];
      const attempt = live.currentAttemptId ? this.attempts.get(live.currentAttemptId) : undefined;
      if (attempt) {
        changes.push({ kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ['assigned', 'running'], patch: { status: 'cancelling' } });
      }
      if (!(await this.store.commit(changes))) throw new WharfError('conflict', `task ${taskId} changed; try again`);
      this.queue.remove(taskId);
      this.active.delete(taskId);
      applyPatch(live, patch);
      if (attempt) {
        applyPatch(attempt, { status: 'cancelling' });
        this.sendCancel(attempt, reason);
      }
      this.emit(live);
      return { ...live };
    });
  }

  listFiles(user: User, taskId?: string): Promise<OutputFileRecord[]> {
    return this.store.listFiles({ userId: user.role === 'admin' ? undefined : user.id, taskId });
  }

  /** The task is not yet terminal. */
  isActive(taskId: string): boolean {
    return this.active.has(taskId);
  }

  /** Attempts placed on each worker and not yet finished, counted in one pass. */
  attemptsByWorker(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const attempt of this.attempts.values()) counts.set(attempt.workerId, (counts.get(attempt.workerId) ?? 0) + 1);
    return counts;
  }

  counts(): { queued: number; assigned: number; running: number } {
    const counts = { queued: 0, assigned: 0, running: 0 };
    for (const task of this.active.values()) {
      if (task.status === 'queued' || task.status === 'assigned' || task.status === 'running') counts[task.status] += 1;
    }
    return counts;
  }

  // ---------------------------------------------------------------- worker-facing operations

  /**
   * A worker (re)registered and listed the attempts it still holds. Answers the attempts it
   * must stop: ones the master gave to someone else or no longer wants.
   */
  workerRegistered(workerId: string, reported: readonly string[]): Promise<string[]> {
    return this.serial(async () => {
      const held = new Set(reported);
      const stop = reported.filter((id) => this.attempts.get(id)?.workerId !== workerId);
      for (const attempt of [...this.attempts.values()]) {
        if (attempt.workerId !== workerId) continue;
        if (held.has(attempt.id)) {
          this.clearFenceReason(attempt);
          continue;
        }
        // The worker does not hold an attempt we think it runs. One never accepted is simply
        // sent again when the stream opens; one that was running is gone with the old process.
        if (attempt.status !== 'assigned') await this.loseAttempt(attempt, 'the worker restarted without it');
      }
      if (stop.length > 0) this.logger.info({ workerId, stop }, 'telling a returning worker to stop attempts given away');
      return stop;
    });
  }

  /** The worker's Connect stream is open: (re)send what it has not acknowledged. */
  workerConnected(workerId: string): void {
    for (const attempt of this.attempts.values()) {
      if (attempt.workerId !== workerId) continue;
      if (attempt.status === 'assigned') this.sendAssign(attempt);
      if (attempt.status === 'cancelling') this.sendCancel(attempt, 'cancelled');
    }
    this.scheduleSoon();
  }

  /**
   * The worker is lost; its attempts stay its own until `requeueAt` (cluster/lost-worker-fence.ts),
   * and their tasks say so.
   */
  workerAwaitingFence(workerId: string, requeueAt: number): Promise<void> {
    return this.serial(async () => {
      const at = new Date(requeueAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
      for (const attempt of this.attempts.values()) {
        const task = this.active.get(attempt.taskId);
        if (attempt.workerId !== workerId || task?.currentAttemptId !== attempt.id) continue;
        task.reason = `worker ${workerId} lost; re-queued at ${at} once it must have stopped`;
        this.heldForFence.add(task.id);
        this.emit(task);
      }
    });
  }

  /** Re-queues every attempt the worker still holds, now (called once its fencing bound has passed). */
  workerLost(workerId: string): Promise<void> {
    return this.serial(async () => {
      for (const attempt of [...this.attempts.values()]) {
        if (attempt.workerId === workerId) await this.loseAttempt(attempt, `worker ${workerId} was lost`);
      }
      this.scheduleSoon();
    });
  }

  /** The worker came back holding the attempt: its task no longer waits for the fence. */
  private clearFenceReason(attempt: Attempt): void {
    const task = this.active.get(attempt.taskId);
    if (!task || !this.heldForFence.delete(task.id) || task.currentAttemptId !== attempt.id) return;
    task.reason = undefined;
    this.emit(task);
  }

  /** The attempt belongs to this worker and may still send logs or outputs. */
  attemptOf(workerId: string, attemptId: string): { attempt: Attempt; task: Task } | undefined {
    const attempt = this.attempts.get(attemptId);
    if (!attempt || attempt.workerId !== workerId) return undefined;
    const task = this.active.get(attempt.taskId);
    return task ? { attempt, task } : undefined;
  }

  /** The worker holds an active attempt whose task takes this artifact as an input (FetchArtifact). */
  attemptNeedsArtifact(workerId: string, attemptId: string, sha256: string): boolean {
    const found = this.attemptOf(workerId, attemptId);
    return found?.task.inputs?.some((input) => input.sha256 === sha256) ?? false;
  }

  /** Task of an attempt, active or not (for logs that arrive around the end of an attempt). */
  async taskOfAttempt(workerId: string, attemptId: string): Promise<{ attempt: Attempt; taskId: string } | undefined> {
    const attempt = this.attempts.get(attemptId) ?? (await this.store.getAttempt(attemptId));
    if (!attempt || attempt.workerId !== workerId) return undefined;
    return { attempt, taskId: attempt.taskId };
  }

  /** The worker reports the attempt's container runs. Applied with the reports that arrive meanwhile. */
  attemptStarted(workerId: string, attemptId: string, at: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingStarts.push({ item: { workerId, attemptId, at }, resolve, reject });
      this.queueDrain();
    });
  }

  private prepareStart(workerId: string, attemptId: string, at: number): PreparedChange | undefined {
    const attempt = this.attempts.get(attemptId);
    if (!attempt || attempt.workerId !== workerId || attempt.status !== 'assigned') return undefined;
    const task = this.active.get(attempt.taskId);
    const current = task !== undefined && task.currentAttemptId === attemptId;
    const attemptPatch = { status: 'running' as const, startedAt: at };
    const taskPatch = { status: 'running' as const, startedAt: task?.startedAt ?? at };
    const changes: StoreChange[] = [{ kind: 'updateAttempt', attemptId, expectStatus: ['assigned'], patch: attemptPatch }];
    if (current) {
      changes.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attemptId, expectStatus: ['assigned'], patch: taskPatch },
        { kind: 'appendEvent', event: { taskId: task.id, at, kind: 'running', message: `started on ${workerId}`, attemptId } },
      );
    }
    return {
      changes,
      applied: () => {
        applyPatch(attempt, attemptPatch);
        if (current) {
          applyPatch(task, taskPatch);
          this.emit(task);
        }
      },
    };
  }

  /** Progress before the task runs (pulling the image...), kept as task events. */
  attemptProgress(workerId: string, attemptId: string, kind: string, message: string, at: number): Promise<void> {
    return this.serial(async () => {
      const attempt = this.attempts.get(attemptId);
      if (!attempt || attempt.workerId !== workerId) return;
      await this.store.commit([{ kind: 'appendEvent', event: { taskId: attempt.taskId, at, kind, message, attemptId } }]);
    });
  }

  /**
   * The worker's final report. Applied once, to the current attempt only; the caller acks the
   * worker whatever this answers. Applied with the reports that arrive meanwhile.
   */
  attemptFinished(workerId: string, report: AttemptReport): Promise<'applied' | 'ignored'> {
    return new Promise((resolve, reject) => {
      this.pendingResults.push({ item: { workerId, report }, resolve, reject });
      this.queueDrain();
    });
  }

  /**
   * Worker reports (started, finished) are applied in one step per turn of the serial chain:
   * every report that arrived while earlier changes ran is stored in one group commit, each
   * report still conditional on its own (see Store.commitMany). Starts go first, so a start and
   * a result of one attempt that arrive together apply in the order they were sent.
   */
  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    // setImmediate: after the current round of I/O callbacks, so the reports read from every
    // worker stream in this round share one commit (group commit; no timer, no added wait)
    setImmediate(() => {
      this.serial(async () => {
        this.drainQueued = false;
        const results = this.pendingResults.splice(0);
        // a start whose result came in the same round is folded into the result's commit
        const finishing = new Set(results.map((p) => p.item.report.attemptId));
        const folded = new Map<string, number>();
        const starts = this.pendingStarts.splice(0).filter((p) => {
          if (!finishing.has(p.item.attemptId)) return true;
          if (!folded.has(p.item.attemptId)) folded.set(p.item.attemptId, p.item.at);
          p.resolve();
          return false;
        });
        await this.settle(starts, () => this.applyStarts(starts.map((p) => p.item)));
        await this.settle(results, () => this.applyResults(results.map((p) => p.item), folded));
      }).catch((error: unknown) => this.logger.error({ err: error }, 'applying worker reports failed'));
    });
  }

  private async settle<T, R>(pending: PendingReport<T, R>[], run: () => Promise<R[]>): Promise<void> {
    if (pending.length === 0) return;
    try {
      const answers = await run();
      pending.forEach((p, i) => p.resolve(answers[i]!));
    } catch (error: unknown) {
      for (const p of pending) p.reject(error);
    }
  }

  private async applyStarts(items: { workerId: string; attemptId: string; at: number }[]): Promise<void[]> {
    const seen = new Set<string>();
    const prepared: PreparedChange[] = [];
    for (const { workerId, attemptId, at } of items) {
      if (seen.has(attemptId)) continue;
      seen.add(attemptId);
      const change = this.prepareStart(workerId, attemptId, at);
      if (change) prepared.push(change);
    }
    await this.commitPrepared(prepared);
    return items.map(() => undefined);
  }

  /** `startedAt`: starts of these attempts that arrived in the same round, by attempt id. */
  private async applyResults(
    items: { workerId: string; report: AttemptReport }[],
    startedAt: ReadonlyMap<string, number>,
  ): Promise<('applied' | 'ignored')[]> {
    const answers: ('applied' | 'ignored')[] = [];
    const work: Promise<PreparedChange | undefined>[] = [];
    const seen = new Set<string>();
    for (const { workerId, report } of items) {
      const attempt = this.attempts.get(report.attemptId);
      if (!attempt || attempt.workerId !== workerId || seen.has(report.attemptId)) {
        // a duplicate, or an attempt given away while its worker was lost
        answers.push('ignored');
        if (!seen.has(report.attemptId)) work.push(this.discardStale(report.attemptId));
        continue;
      }
      seen.add(report.attemptId);
      answers.push('applied');
      work.push(this.prepareResult(attempt, report, startedAt.get(report.attemptId)));
    }
    const prepared = (await Promise.all(work)).filter((change): change is PreparedChange => change !== undefined);
    await this.commitPrepared(prepared);
    if (prepared.length > 0) this.scheduleSoon();
    return answers;
  }

  private async discardStale(attemptId: string): Promise<undefined> {
    const stored = await this.store.getAttempt(attemptId);
    if (!stored || !ACTIVE_ATTEMPT_STATUSES.includes(stored.status)) await this.files.discard(attemptId);
    return undefined;
  }

  /** Stores prepared changes in one group commit and applies, in order, those that were stored. */
  private async commitPrepared(prepared: PreparedChange[]): Promise<void> {
    if (prepared.length === 0) return;
    const results = await commitGroups(this.store, prepared.map((change) => change.changes));
    prepared.forEach((change, i) => (results[i] ? change.applied() : change.refused?.()));
  }

  // ---------------------------------------------------------------- internals

  /**
   * `startedAt`: the attempt's start report arrived in the same round; it is recorded here
   * (attempt and task start time, the `running` event, a `running` notice to listeners) instead
   * of in a commit of its own.
   */
  private async prepareResult(attempt: Attempt, report: AttemptReport, startedAt?: number): Promise<PreparedChange | undefined> {
    const now = this.now();
    const task = this.active.get(attempt.taskId);
    const finishedAt = report.finishedAt ?? now;
    const attemptStatus = attempt.status === 'cancelling' && report.outcome !== 'succeeded' ? 'cancelled' : ATTEMPT_OUTCOMES[report.outcome];
    const startsNow = startedAt !== undefined && attempt.status === 'assigned';
    const attemptPatch = {
      status: attemptStatus,
      exitCode: report.exitCode,
      startedAt: attempt.startedAt ?? (startsNow ? startedAt : undefined) ?? report.startedAt,
      finishedAt,
      error: report.error || undefined,
      inputReports: report.inputs && report.inputs.length > 0 ? report.inputs : undefined,
    };
    const changes: StoreChange[] = [
      { kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ACTIVE_ATTEMPT_STATUSES, patch: attemptPatch },
    ];
    const runningNotice = startsNow && task !== undefined && task.currentAttemptId === attempt.id && task.status === 'assigned';
    const taskRecord = task ?? (await this.store.getTask(attempt.taskId));
    if (!taskRecord) return undefined;
    const files = await this.files.promote(attempt.id, taskRecord, report.files);
    changes.push({ kind: 'replaceTaskFiles', taskId: taskRecord.id, files });
    // a DAG task succeeded only if it wrote every output it declared (they become artifacts)
    const missing = report.outcome === 'succeeded' ? (taskRecord.outputs ?? []).filter((name) => !files.some((f) => f.path === name)) : [];
    const notWrittenWhy = missing.length > 0 ? `declared output${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not written to /output` : undefined;
    // outputs the worker says it put into the object store must be there (DAG service's check)
    const missingWhy =
      notWrittenWhy ??
      (report.outcome === 'succeeded' && report.directUploads && this.directOutputs && (taskRecord.outputs?.length ?? 0) > 0
        ? await this.directOutputs.confirm(taskRecord, files, report.directUploads)
        : undefined);
    if (missingWhy) {
      attemptPatch.status = 'failed';
      attemptPatch.error = missingWhy;
    }

    let next: Partial<Task> | undefined;
    let requeue = false;
    if (task && task.currentAttemptId === attempt.id && attempt.status !== 'cancelling') {
      const exit = report.exitCode;
      if (report.outcome === 'succeeded' && !missingWhy) {
        next = { status: 'succeeded', exitCode: exit, finishedAt, reason: undefined };
      } else if (report.outcome === 'cancelled') {
        // the worker stopped it without being asked (it was shutting down): not the task's fault
        next = { status: 'queued', workerId: undefined, currentAttemptId: undefined, reason: 'its worker stopped it; re-queued' };
        requeue = true;
      } else if (report.outcome === 'stopped') {
        // the worker lost the master and stopped it before the master gave it away (fencing)
        const why = report.error ?? 'its worker lost contact with the master';
        next = { status: 'queued', workerId: undefined, currentAttemptId: undefined, reason: `${why}; re-queued` };
        requeue = true;
      } else {
        const why = missingWhy ??
          (report.outcome === 'timed_out'
            ? `timed out after ${task.timeoutSeconds}s`
            : report.outcome === 'error'
              ? (report.error ?? 'the worker could not run it')
              : `exit code ${exit ?? 'unknown'}`);
        const retriesUsed = task.retriesUsed + 1;
        if (retriesUsed <= task.maxRetries) {
          const delay = this.backoff(retriesUsed);
          next = {
            status: 'queued',
            retriesUsed,
            workerId: undefined,
            currentAttemptId: undefined,
            notBefore: now + delay,
            exitCode: exit,
            reason: `${why}; retry ${retriesUsed} of ${task.maxRetries} in ${Math.ceil(delay / 1000)}s`,
          };
          requeue = true;
        } else {
          next = { status: 'failed', retriesUsed, exitCode: exit, finishedAt, reason: why };
        }
      }
      if (runningNotice) {
        next.startedAt = task.startedAt ?? startedAt;
        changes.push({ kind: 'appendEvent', event: { taskId: task.id, at: startedAt, kind: 'running', message: `started on ${attempt.workerId}`, attemptId: attempt.id } });
      }
      changes.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attempt.id, patch: next },
        {
          kind: 'appendEvent',
          event: { taskId: task.id, at: now, kind: String(next.status), message: next.reason ?? `exit code ${exit}`, attemptId: attempt.id },
        },
      );
    }
    return {
      changes,
      applied: () => {
        applyPatch(attempt, attemptPatch);
        this.attempts.delete(attempt.id);
        this.heldForFence.delete(attempt.taskId);
        this.registry.release(attempt.workerId, attempt.resources);
        this.logs.closeAttempt(attempt.id);
        if (task && next) {
          if (runningNotice) this.emit({ ...task, status: 'running', startedAt: next.startedAt });
          applyPatch(task, next);
          if (requeue) this.enqueue(task);
          else this.active.delete(task.id);
          this.emit(task);
        }
      },
      refused: () => this.logger.warn({ attemptId: attempt.id, taskId: attempt.taskId }, 'result not applied: state changed'),
    };
  }

  /** Exponential backoff with jitter: base·2^(n-1), capped, then 50–100 % of that. */
  private backoff(retry: number): number {
    const ceiling = Math.min(this.options.retryBackoffMaxMs, this.options.retryBackoffMs * 2 ** (retry - 1));
    return Math.round(ceiling * (0.5 + 0.5 * (this.options.random ?? Math.random)()));
  }

  /** An attempt whose worker is gone (or must have stopped it): lost, and its task re-queued at once, not charged. */
  private async loseAttempt(attempt: Attempt, why: string): Promise<void> {
    const now = this.now();
    const task = this.active.get(attempt.taskId);
    const changes: StoreChange[] = [
      { kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ACTIVE_ATTEMPT_STATUSES, patch: { status: 'lost', finishedAt: now, error: why } },
    ];
    const requeue = task !== undefined && task.currentAttemptId === attempt.id;
    const taskPatch = { status: 'queued' as const, workerId: undefined, currentAttemptId: undefined, reason: `attempt ${attempt.number} lost: ${why}` };
    if (requeue) {
      changes.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attempt.id, patch: taskPatch },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'lost', message: why, attemptId: attempt.id } },
      );
    }
    await this.store.commit(changes);
    this.attempts.delete(attempt.id);
    this.heldForFence.delete(attempt.taskId);
    this.registry.release(attempt.workerId, attempt.resources);
    this.logs.closeAttempt(attempt.id);
    await this.files.discard(attempt.id);
    if (requeue) {
      applyPatch(task, taskPatch);
      this.enqueue(task);
      this.emit(task);
    }
    this.logger.warn({ attemptId: attempt.id, taskId: attempt.taskId, workerId: attempt.workerId, why }, 'attempt lost');
  }

  private enqueue(task: Task): void {
    this.queue.enqueue({
      id: task.id,
      priority: task.priority,
      seq: task.createdAt,
      runtime: task.runtime,
      resources: task.resources,
      labels: task.labels,
      notBefore: task.notBefore,
      inputs: task.inputs?.map((input) => ({ sha256: input.sha256, size: input.size })),
    });
  }

  /** Coalesces scheduling requests: many events in one tick cause one pass. */
  scheduleSoon(): void {
    if (this.schedulePending || this.stopped) return;
    this.schedulePending = true;
    setImmediate(() => {
      this.schedulePending = false;
      this.serial(() => this.schedulePass()).catch((error: unknown) => {
        this.logger.error({ err: error }, 'scheduling pass failed');
      });
    });
  }

  private async schedulePass(): Promise<void> {
    if (this.stopped || this.queue.size === 0) return;
    const plan = planPlacements({
      now: this.now(),
      tasks: this.queue.ordered(),
      workers: this.registry.schedulingSnapshot(),
      cursor: this.cursor,
      maxPlacements: 5000,
    });
    this.cursor = plan.cursor;
    for (const [taskId, reason] of plan.waiting) {
      const task = this.active.get(taskId);
      if (task && task.reason !== reason && !task.reason?.includes('; retry ')) task.reason = reason;
    }
    // every placement of the pass in one group commit, each still conditional on its task
    const prepared: PreparedChange[] = [];
    for (const placement of plan.placements) {
      const task = this.active.get(placement.taskId);
      if (task) prepared.push(this.prepareAssign(task, placement.workerId));
      else this.queue.remove(placement.taskId);
    }
    await this.commitPrepared(prepared);
    if (plan.placements.length >= 5000) this.scheduleSoon();
    this.armWake(plan.wakeAt);
  }

  private armWake(at: number | undefined): void {
    if (at === undefined || (this.wakeAt !== undefined && this.wakeAt <= at && this.wakeTimer)) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = undefined;
      this.scheduleSoon();
    }, Math.max(0, at - this.now()) + 5);
    this.wakeTimer.unref();
  }

  private prepareAssign(task: Task, workerId: string): PreparedChange {
    const now = this.now();
    const attempt: Attempt = {
      id: randomUUID(),
      taskId: task.id,
      number: task.attemptCount + 1,
      workerId,
      status: 'assigned',
      resources: task.resources,
      createdAt: now,
    };
    const patch = {
      status: 'assigned' as const,
      workerId,
      currentAttemptId: attempt.id,
      attemptCount: attempt.number,
      notBefore: undefined,
      reason: undefined,
    };
    return {
      changes: [
        { kind: 'insertAttempt', attempt },
        { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'assigned', message: `attempt ${attempt.number} on ${workerId}`, attemptId: attempt.id } },
      ],
      applied: () => {
        this.queue.remove(task.id);
        applyPatch(task, patch);
        this.attempts.set(attempt.id, attempt);
        this.registry.reserve(workerId, attempt.resources);
        this.sendAssign(attempt);
        this.emit(task);
      },
      // the stored task is no longer queued (another master, or a change we did not see)
      refused: () => this.queue.remove(task.id),
    };
  }

  private sendAssign(attempt: Attempt): void {
    const task = this.active.get(attempt.taskId);
    if (!task) return;
    if (task.inputs && task.inputs.length > 0) {
      void this.sendAssignWithInputs(attempt, task, task.inputs);
      return;
    }
    this.sendAssignMessage(attempt, task, undefined);
  }

  /** DAG inputs: with an object store each gets a presigned URL; otherwise the worker fetches from the master. */
  private async sendAssignWithInputs(attempt: Attempt, task: Task, inputs: readonly { name: string; sha256: string; size: number }[]): Promise<void> {
    const resolved = await Promise.all(
      inputs.map(async (input) => {
        let url: string | undefined;
        try {
          url = await this.options.inputUrl?.(input.sha256);
        } catch (error: unknown) {
          this.logger.warn({ err: error, taskId: task.id, sha256: input.sha256 }, 'no presigned URL for an input; the worker fetches it from the master');
        }
        return { name: input.name, sha256: input.sha256, size: input.size, url: url ?? '' };
      }),
    );
    // still the attempt to send (not cancelled or lost while URLs were made)
    if (this.attempts.get(attempt.id)?.status !== 'assigned') return;
    this.sendAssignMessage(attempt, task, resolved);
  }

  private sendAssignMessage(attempt: Attempt, task: Task, inputs: { name: string; sha256: string; size: number; url: string }[] | undefined): void {
    this.registry.send(attempt.workerId, {
      assign: {
        taskId: task.id,
        attemptId: attempt.id,
        attemptNumber: attempt.number,
        name: task.name,
        image: task.image,
        command: task.command,
        env: task.env,
        runtime: task.runtime,
        resources: task.resources,
        timeoutSeconds: task.timeoutSeconds,
        userId: task.userId,
        ...(inputs ? { inputs, useCache: task.useCache !== false } : {}),
        ...(this.directOutputs && task.outputs && task.outputs.length > 0 ? { directOutputs: { names: task.outputs } } : {}),
      },
    });
  }

  private sendCancel(attempt: Attempt, reason: string): void {
    this.registry.send(attempt.workerId, {
      cancel: { attemptId: attempt.id, reason, graceSeconds: Math.ceil(this.options.cancelGraceMs / 1000) },
    });
  }

  /** Waits for every change in flight; for an orderly shutdown and for tests. */
  async idle(): Promise<void> {
    await this.serial(async () => undefined);
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }

  /**
   * Read-only: the queued tasks in dispatch order (priority, then submission order), each
   * with why it still waits, up to `limit`; `total` counts every queued task. For the REPL.
   */
  queueSnapshot(limit = Number.POSITIVE_INFINITY): { total: number; tasks: { position: number; task: Task }[] } {
    const tasks: { position: number; task: Task }[] = [];
    let position = 0;
    for (const entry of this.queue.ordered()) {
      if (tasks.length >= limit) break;
      position += 1;
      const task = this.active.get(entry.id);
      if (task) tasks.push({ position, task: { ...task } });
    }
    return { total: this.queue.size, tasks };
  }
}
