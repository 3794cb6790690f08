// The task service: the one door to the task lifecycle. REST, the REPL, the DAG engine and gRPC
// call it; it only builds the systems on one resources bag and delegates. The rules live in the
// systems (systems/*.ts), which share that bag (system-resources.ts) and call each other by name:
//
//   submission  who may submit what; stores tasks (a batch all or nothing) and queues them
//   dispatch    a scheduling pass: the pure scheduler's plan, stored in one group commit, then
//               reservations and assignments down the workers' channels
//   reports     started / progress / result from workers, group-committed; a result is applied
//               once, to the current attempt only
//   cancellation  a person cancels: the task ends at once, the worker is told to stop
//   preemption  the planner's evictions applied: a lower-priority attempt is stopped (preempting,
//               then preempted) and its task re-queued, not charged; the room is held for the
//               higher-priority task
//   recovery    master restart; workers registering, connecting, lost and removed (their
//               attempts held until the worker must have stopped them — fencing — then lost
//               and re-queued, not charged)
//   timers      the wake-up when a retry's backoff ends; a lost or removed worker's fencing bound;
//               deadlines; timeouts
//   timeouts    the master's backstop for timeoutSeconds: a cancel when an attempt ran past it,
//               then, with no result within the cancel grace, the attempt ends timed out
//   queries     reads
//   deadlines   a task not started by its startDeadline, or not ended by its deadline, fails
//               (deadline_exceeded); its attempt is stopped with grace
//   dead letters  tasks failed through their retry policy: listed, re-queued as the same task
//               (retries reset) or dismissed, alone or in bulk
//
// The loop: a submission is stored and queued; a scheduling pass places it; the worker acks,
// reports `started`, streams logs, uploads outputs and sends its result; the result makes the
// task succeed, fail, or wait for a retry. Every change runs on one serial executor, so no two
// interleave, and every multi-record change is one conditional store commit. The records are in
// records/. The lifecycle, as the systems implement it (lifecycle tests: task-lifecycle.test.ts):
//
//   Task (task.status)
//
//   queued ──assign──▶ assigned ──started──▶ running ──result──┐  (a result may come while
//    ▲  ▲                 │                     │              │   assigned: a start in the same
//    │  │                 │                     │              ▼   round is folded into it)
//    │  │                 │                     │      decideOutcome (outcome-policy.ts)
//    │  │                 │                     │        ├─ succeed ───────────────────▶ succeeded
//    │  │                 │                     │        ├─ fail (no retry left) ──────▶ failed
//    │  └─── backoff ◀────┼─────────────────────┼────────┼─ retry: charged, waits until notBefore
//    ├──── at once ◀──────┼─────────────────────┼────────┴─ requeue: its worker stopped it unasked,
//    │                    │                     │            or stopped it when cut off (fencing)
//    └──── at once ◀──────┴─────────────────────┴── attempt lost: its worker was lost (or removed)
//                                                   and its fencing bound passed (held until then: the task
//                                                   stays assigned/running, its reason says until
//                                                   when), or it came back without it; not charged
//   queued · assigned · running ──cancel──▶ cancelled (at once)
//   assigned · running ──its attempt preempted──▶ queued (at once, not charged; stays running
//                                                  while the attempt is preempting)
//   queued · assigned ──startDeadline passed──▶ failed (deadline_exceeded, at once; not a dead letter)
//   queued · assigned · running ──deadline passed──▶ failed (deadline_exceeded, at once; the attempt stopped)
//
//   Attempt (attempt.status)
//
//   assigned ──started──▶ running ──result──▶ succeeded · failed · timed_out · error · cancelled
//      │                       │               · stopped (its worker was cut off; not charged)
//      │                       └─ past its timeout: cancel; no result within the grace ──▶ timed_out
//      │                          (ended by the master, charged; a late result is acked without effect)
//      │  (a result may come while assigned)   (a result that does not hold up: failed, charged —
//      │                                         a declared output missing, files not as received)
//      ├──cancel (assigned or running)──▶ cancelling ──result──▶ cancelled (succeeded if it had,
//      │                                                          failed if it did not hold up)
//      ├──evicted by a higher-priority task (assigned or running)──▶ preempting ──result cancelled──▶
//      │    preempted (task re-queued at once, not charged; another result stands as reported;
//      │    a person's cancel meanwhile: cancelling) — preemption-system.ts
//      └──its worker lost or removed (assigned, running, cancelling or preempting), once its bound passed──▶ lost;
//         a worker back before then keeps it; a running attempt its worker came back without is
//         lost too, an assigned one it never accepted is sent again
import type { RemovedWorker, WorkerRegistry } from '../cluster/worker-registry.js';
import type { FileStore } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../logs/log-store.js';
import type { Attempt, AttemptReport, EffectiveSettings } from '../records/attempt.js';
import { QueueCatalog } from '../queues/queue-catalog.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { DagTaskFields, GangTaskFields, NewTask, Task, TaskDetails, TaskStatus } from '../records/task.js';
import type { User } from '../records/user.js';
import { SerialExecutor } from '../serial-executor.js';
import type { FitAnswer } from '../scheduler/fit-check.js';
import type { Store, TaskCounts, TaskPage } from '../store/store.js';
import { systemClock, type Clock, type ClockTimer } from './clock.js';
import type { DirectOutputUploads, RegistryAuthSource, TaskSystemOptions, TaskSystemResources } from './system-resources.js';
import { CancellationSystem } from './systems/cancellation-system.js';
import { DeadlineSystem } from './systems/deadline-system.js';
import { DeadLetterSystem, type BulkAnswer, type DeadLetter, type DeadLetterFilter, type DeadLetterSelection } from './systems/dead-letter-system.js';
import { DispatchSystem } from './systems/dispatch-system.js';
import { GangMemberSystem, type GangMemberState } from './systems/gang-member-system.js';
import { PreemptionSystem } from './systems/preemption-system.js';
import { QuerySystem, type QueueStatus, type TaskFilterRequest, type TaskListRequest, type UserShare } from './systems/query-system.js';
import { RecoverySystem } from './systems/recovery-system.js';
import { ReportSystem, type ResultAnswer } from './systems/report-system.js';
import { SubmissionSystem, type SubmissionPlace, type SubmitOptions } from './systems/submission-system.js';
import { TimeoutSystem } from './systems/timeout-system.js';
import { TimerSystem } from './systems/timer-system.js';
import { TaskChangeFeed, type AttemptFinishedListener, type TaskChangeListener } from './task-change-feed.js';
import { TaskState } from './task-state.js';

export type { AttemptFinishedListener, Clock, ClockTimer, GangMemberState, QueueStatus, TaskChangeListener, TaskFilterRequest, TaskListRequest, UserShare };
// what transports need of the systems behind the facade
export type { BulkAnswer, DeadLetter, DeadLetterFilter, DeadLetterSelection };
export { MAX_BULK as MAX_DEAD_LETTER_BULK } from './systems/dead-letter-system.js';
export { describeRetryOn } from './outcome-policy.js';

export interface TaskServiceOptions extends TaskSystemOptions {
  /** default: the system clock */
  clock?: Clock | undefined;
  /** default: Math.random (the jitter of retry backoffs) */
  random?: (() => number) | undefined;
  /** the queues and user limits; default: only the `default` queue, no limits */
  queues?: QueueCatalog | undefined;
  /** the leadership gate (TaskSystemResources.leading); default: always leads (one master) */
  leading?: (() => boolean) | undefined;
}

/** How many turns `idle()` waits at most for work that keeps queueing more work. */
const IDLE_MAX_ROUNDS = 100;

export class TaskService {
  /** The bag every system shares. */
  private readonly resources: TaskSystemResources;
  private storageQuota: ((user: User) => Promise<void>) | undefined;
  private readonly timers: TimerSystem;
  private readonly dispatch: DispatchSystem;
  private readonly preemption: PreemptionSystem;
  private readonly submission: SubmissionSystem;
  private readonly queries: QuerySystem;
  private readonly cancellation: CancellationSystem;
  private readonly reports: ReportSystem;
  private readonly timeouts: TimeoutSystem;
  private readonly recovery: RecoverySystem;
  private readonly deadLetters: DeadLetterSystem;
  private readonly deadlines: DeadlineSystem;
  private readonly gangMembers: GangMemberSystem;

  constructor(store: Store, registry: WorkerRegistry, logs: LogStore, files: FileStore, logger: Logger, options: TaskServiceOptions) {
    const { clock, random, queues, leading, ...systemOptions } = options;
    this.resources = {
      store,
      registry,
      state: new TaskState(),
      serial: new SerialExecutor(),
      clock: clock ?? systemClock,
      random: random ?? Math.random,
      logger,
      changes: new TaskChangeFeed(logger),
      files,
      logs,
      options: systemOptions,
      hooks: {},
      queues: queues ?? new QueueCatalog(),
      leading: leading ?? (() => true),
    };
    this.timers = new TimerSystem(this.resources);
    this.preemption = new PreemptionSystem(this.resources);
    this.dispatch = new DispatchSystem(this.resources, this.timers, this.preemption);
    this.submission = new SubmissionSystem(this.resources, this.dispatch);
    this.queries = new QuerySystem(this.resources);
    this.cancellation = new CancellationSystem(this.resources, this.queries);
    // the timeouts end an attempt through the reports, which arm the timeouts when one starts
    this.timeouts = new TimeoutSystem(this.resources, this.timers, (attempt, ending) => this.reports.endAttempt(attempt, ending));
    this.reports = new ReportSystem(this.resources, this.dispatch, this.timeouts);
    this.recovery = new RecoverySystem(this.resources, this.dispatch, this.cancellation, this.timers, this.timeouts, this.preemption);
    this.deadLetters = new DeadLetterSystem(this.resources, this.dispatch);
    this.deadlines = new DeadlineSystem(this.resources, this.cancellation, this.timers);
    this.gangMembers = new GangMemberSystem(this.resources, this.cancellation, this.dispatch);
  }

  onTaskChange(listener: TaskChangeListener): () => void {
    return this.resources.changes.subscribe(listener);
  }

  /** Observes every attempt that ends: its result applied, or lost (for metrics); answers an unsubscribe. */
  onAttemptFinished(listener: AttemptFinishedListener): () => void {
    return this.resources.changes.subscribeAttemptFinished(listener);
  }

  /** Where assignments get their owner's registry credentials from (see RegistryAuthSource). */
  useRegistryCredentials(source: RegistryAuthSource): void {
    this.resources.hooks.registryAuth = source;
  }

  /** The DAG service's hook for outputs uploaded straight to the object store (see DirectOutputUploads). */
  useDirectOutputUploads(hooks: DirectOutputUploads): void {
    this.resources.hooks.directOutputs = hooks;
  }

  // ---------------------------------------------------------------- people (REST, REPL, DAGs)

  async submit(user: User, input: NewTask): Promise<Task> {
    await this.checkStorageQuota(user);
    const [task] = await this.submission.submitMany(user, [input]);
    return task!;
  }

  /** The storage quota's check (gc/storage-quota.ts): throws storage_quota_exceeded when the user is over it. */
  useStorageQuota(check: (user: User) => Promise<void>): void {
    this.storageQuota = check;
  }

  /** Throws storage_quota_exceeded when the user keeps more bytes than their storage quota allows. */
  async checkStorageQuota(user: User): Promise<void> {
    await this.storageQuota?.(user);
  }

  /**
   * Throws `forbidden` when the user may not submit one of these tasks (an admin-only setting:
   * exec, network host, capAdd, a user name or root), `validation_failed` when its resources are
   * outside the configured limits. `place` names a refused task in the message.
   */
  checkSubmission(user: User, inputs: readonly NewTask[], place?: SubmissionPlace): void {
    this.submission.checkSubmission(user, inputs, place);
  }

  /** Would this submission be placed now, where, and why not on the other workers (nothing stored). */
  checkFit(user: User, input: NewTask): FitAnswer {
    return this.submission.checkFit(user, input);
  }

  /** Submits several tasks in one store commit: all are queued, or none. */
  async submitMany(user: User, inputs: readonly (NewTask & DagTaskFields & GangTaskFields)[], options: SubmitOptions = {}): Promise<Task[]> {
    if (!options.withinAcceptedRun) await this.checkStorageQuota(user);
    return this.submission.submitMany(user, inputs, options);
  }

  cancel(user: User, taskId: string): Promise<Task> {
    return this.cancellation.cancel(user, taskId);
  }

  get(user: User, taskId: string): Promise<TaskDetails> {
    return this.queries.get(user, taskId);
  }

  list(user: User, query: TaskListRequest): Promise<TaskPage & { total: number }> {
    return this.queries.list(user, query);
  }

  countTasks(user: User, filter: TaskFilterRequest): Promise<TaskCounts> {
    return this.queries.countTasks(user, filter);
  }

  /** A task the user may see: their own, or any for an admin. Others answer 404. */
  visibleTask(user: User, taskId: string): Promise<Task> {
    return this.queries.visibleTask(user, taskId);
  }

  listFiles(user: User, taskId?: string): Promise<OutputFileRecord[]> {
    return this.queries.listFiles(user, taskId);
  }

  /** The task is not yet terminal. */
  isActive(taskId: string): boolean {
    return this.queries.isActive(taskId);
  }

  /** The GPU device ids the worker's active attempts hold. */
  gpuIdsInUse(workerId: string): string[] {
    return this.queries.gpuIdsInUse(workerId);
  }

  /** Attempts placed on each worker and not yet finished, counted in one pass. */
  attemptsByWorker(): Map<string, number> {
    return this.queries.attemptsByWorker();
  }

  counts(): { queued: number; assigned: number; running: number } {
    return this.queries.counts();
  }

  /** What one queue holds and uses now, with each user's usage and fair share. */
  queueStatus(queue: string): QueueStatus {
    return this.queries.queueStatus(queue);
  }

  /** Read-only: the queued tasks in dispatch order with why each waits, up to `limit`. For the REPL. */
  queueSnapshot(limit = Number.POSITIVE_INFINITY): { total: number; tasks: { position: number; task: Task }[] } {
    return this.queries.queueSnapshot(limit);
  }

  // ---------------------------------------------------------------- dead letters

  /** The user's dead letters (an admin's: everyone's), newest first, with their attempts and last error. */
  listDeadLetters(user: User, query: DeadLetterFilter & { limit: number; cursor?: string | undefined }): Promise<{ deadLetters: DeadLetter[]; nextCursor?: string | undefined }> {
    return this.deadLetters.list(user, query);
  }

  countDeadLetters(): Promise<number> {
    return this.deadLetters.count();
  }

  /** Back to the queue as the same task, with new attempts and its retries reset. */
  requeueDeadLetter(user: User, taskId: string): Promise<Task> {
    return this.deadLetters.requeue(user, taskId);
  }

  /** Out of the dead letters; the task stays failed. */
  dismissDeadLetter(user: User, taskId: string): Promise<Task> {
    return this.deadLetters.dismiss(user, taskId);
  }

  requeueDeadLetters(user: User, selection: DeadLetterSelection): Promise<BulkAnswer> {
    return this.deadLetters.requeueMany(user, selection);
  }

  dismissDeadLetters(user: User, selection: DeadLetterSelection): Promise<BulkAnswer> {
    return this.deadLetters.dismissMany(user, selection);
  }

  // ---------------------------------------------------------------- gang members (gangs/gang-service.ts)

  /** A member's live copy (with its waiting reason) or stored record, and whether it holds an attempt. */
  gangMember(taskId: string): Promise<GangMemberState | undefined> {
    return this.gangMembers.read(taskId);
  }

  /** Ends the members that still live (running ones stopped with the grace). */
  endGangMembers(taskIds: readonly string[], status: 'failed' | 'cancelled', reason: string): Promise<void> {
    return this.gangMembers.end(taskIds, status, reason);
  }

  /** Every member back to queued in one commit once none lives or holds an attempt; false: not yet. */
  requeueGangMembers(taskIds: readonly string[], reason: string): Promise<boolean> {
    return this.gangMembers.requeue(taskIds, reason);
  }

  // ---------------------------------------------------------------- workers (gRPC, the registry)

  /** After a master restart: the live state from the store. */
  async recover(): Promise<void> {
    await this.recovery.recover();
    this.deadlines.armAll();
  }

  /** A worker (re)registered with the attempts it holds; answers those it must stop. */
  workerRegistered(workerId: string, reported: readonly string[]): Promise<string[]> {
    return this.recovery.workerRegistered(workerId, reported);
  }

  /** The worker's Connect stream is open: (re)send what it has not acknowledged. */
  workerConnected(workerId: string): void {
    this.recovery.workerConnected(workerId);
  }

  /**
   * The registry marked the worker lost: its attempts stay its own until it must have stopped
   * them (its fencing bound), then they are lost and their tasks re-queued, not charged.
   */
  workerLost(workerId: string): Promise<void> {
    return this.recovery.workerLost(workerId);
  }

  /**
   * An admin removed the worker (its certificate is revoked): like a lost worker, its attempts
   * are held until it must have stopped them — it may run them until it notices it is cut off —
   * then lost and their tasks re-queued, not charged.
   */
  workerRemoved(worker: RemovedWorker): Promise<void> {
    return this.recovery.workerRemoved(worker);
  }

  /** Asks for a scheduling pass (a worker became ready). */
  scheduleSoon(): void {
    this.dispatch.scheduleSoon();
  }

  /** The attempt belongs to this worker and may still send logs or outputs. */
  attemptOf(workerId: string, attemptId: string): { attempt: Attempt; task: Task } | undefined {
    return this.queries.attemptOf(workerId, attemptId);
  }

  /** The worker holds an active attempt whose task takes this artifact as an input (FetchArtifact). */
  attemptNeedsArtifact(workerId: string, attemptId: string, sha256: string): boolean {
    return this.queries.attemptNeedsArtifact(workerId, attemptId, sha256);
  }

  /** Task of an attempt, active or not (for logs that arrive around the end of an attempt). */
  taskOfAttempt(workerId: string, attemptId: string): Promise<{ attempt: Attempt; taskId: string } | undefined> {
    return this.queries.taskOfAttempt(workerId, attemptId);
  }

  /** The worker reports the attempt's container runs. */
  /** `effective`: what the worker's runtime applied to the task, kept on the attempt. */
  attemptStarted(workerId: string, attemptId: string, at: number, effective?: EffectiveSettings): Promise<void> {
    return this.reports.attemptStarted(workerId, attemptId, at, effective);
  }

  /** Progress before the task runs (pulling the image...), kept as task events. */
  /** The master refused the attempt's upload for room: an event, and the task's reason says it (report-system.ts). */
  uploadRefused(workerId: string, attemptId: string, message: string, at: number): Promise<void> {
    return this.reports.uploadRefused(workerId, attemptId, message, at);
  }

  attemptProgress(workerId: string, attemptId: string, kind: string, message: string, at: number): Promise<void> {
    return this.reports.attemptProgress(workerId, attemptId, kind, message, at);
  }

  /** The worker's final report; the caller acks the worker whatever this answers. */
  attemptFinished(workerId: string, report: AttemptReport): Promise<ResultAnswer> {
    return this.reports.attemptFinished(workerId, report);
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Waits for the work in flight: changes on the serial executor, and a scheduling pass or a
   * round of worker reports queued for the next turn (and what they queue in turn, for up to
   * IDLE_MAX_ROUNDS turns). For an orderly shutdown and for tests.
   */
  async idle(): Promise<void> {
    for (let round = 0; round < IDLE_MAX_ROUNDS; round += 1) {
      await this.resources.serial.idle();
      if (!this.dispatch.pending && !this.reports.pending) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The clock the task systems run on (the gang service's timeouts use it too). */
  get clock(): Clock {
    return this.resources.clock;
  }

  stop(): void {
    this.dispatch.stop();
    this.timers.stop();
  }
}
