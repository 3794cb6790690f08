// Reports: what workers say about their attempts — `started`, progress before the start (image
// pulls) and the final result. Starts and results are applied in one step per turn of the serial
// executor: every report that arrived while earlier changes ran is stored in one group commit,
// each still conditional on its own (Store.commitMany), so a burst of reports costs one
// transaction. Starts go first, and a start whose result came in the same round is folded into
// the result's commit. A result is applied once, to the task's current attempt only; a duplicate,
// or a result for an attempt given away meanwhile, is acknowledged without effect. A result's
// claims are checked, not believed: its files against what the master received and hashed
// (files/verify-reported-files.ts), its log chunk count against what the master applied
// (logs/log-chunk-check.ts). A round that cannot be stored (the master's storage is full)
// changes nothing: each report is refused (the gateway answers a ReportNack and the worker sends
// it again), its staged files stay staged, and while the disk is full the task's reason says
// the result (or its start) waits on the worker.
import { isStorageFull, STORAGE_FULL_MESSAGE } from '../../errors.js';
import { verifyReportedFiles, type VerifiedFiles } from '../../files/verify-reported-files.js';
import { checkLogChunks } from '../../logs/log-chunk-check.js';
import { ACTIVE_ATTEMPT_STATUSES, workerLabel, type Attempt, type AttemptReport, type EffectiveSettings } from '../../records/attempt.js';
import type { OutputFileRecord } from '../../records/output-file.js';
import type { Task } from '../../records/task.js';
import { applyPatch, type AttemptPatch, type StoreChange, type TaskPatch } from '../../store/store.js';
import { decideOutcome, endingOf, taskRetryDelayMs, type Ending, type OutcomeDecision } from '../outcome-policy.js';
import { commitPrepared, type PreparedChange } from '../prepared-change.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { DispatchSystem } from './dispatch-system.js';
import type { TimeoutSystem } from './timeout-system.js';

/** A report from a worker, waiting to be applied with the others that arrived meanwhile. */
interface PendingReport<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

interface StartReport {
  workerId: string;
  attemptId: string;
  at: number;
  /** what the worker's runtime applied to the task, when it says */
  effective?: EffectiveSettings | undefined;
}

interface ResultReport {
  workerId: string;
  report: AttemptReport;
}

/** What a running task says while its worker holds a result the master could not store. */
export const RESULT_WAITS = `${STORAGE_FULL_MESSAGE}; result waits on the worker`;
/** What an assigned task says while its worker holds a `started` the master could not store. */
export const START_WAITS = `${STORAGE_FULL_MESSAGE}; its start waits on the worker`;

/** 'applied': the result was recorded; 'ignored': a duplicate or a stale attempt (acked without effect). */
export type ResultAnswer = 'applied' | 'ignored';

export class ReportSystem {
  /** worker reports waiting for the next drain step (see `queueDrain`) */
  private readonly pendingStarts: PendingReport<StartReport, void>[] = [];
  private readonly pendingResults: PendingReport<ResultReport, ResultAnswer>[] = [];
  private drainQueued = false;

  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
    private readonly timeouts: TimeoutSystem,
  ) {}

  /** Reports are waiting for their drain step. */
  get pending(): boolean {
    return this.drainQueued;
  }

  /** The worker reports the attempt's container runs. Applied with the reports that arrive meanwhile. */
  attemptStarted(workerId: string, attemptId: string, at: number, effective?: EffectiveSettings): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingStarts.push({ item: { workerId, attemptId, at, effective }, resolve, reject });
      this.queueDrain();
    });
  }

  /** Progress before the task runs (pulling the image...), kept as task events. */
  attemptProgress(workerId: string, attemptId: string, kind: string, message: string, at: number): Promise<void> {
    const { serial, state, store } = this.resources;
    return serial.run(async () => {
      const attempt = state.attempts.get(attemptId);
      if (!attempt || attempt.workerId !== workerId) return;
      await store.commit([{ kind: 'appendEvent', event: { taskId: attempt.taskId, at, kind, message, attemptId } }]);
    });
  }

  /**
   * The master refused the attempt's output upload for room (the free-space floor): an
   * `upload_refused` event, and the live task's reason says it while the worker retries.
   */
  async uploadRefused(workerId: string, attemptId: string, message: string, at: number): Promise<void> {
    await this.attemptProgress(workerId, attemptId, 'upload_refused', message, at);
    const { state, changes } = this.resources;
    const attempt = state.attempts.get(attemptId);
    const task = attempt?.workerId === workerId ? state.tasks.get(attempt.taskId) : undefined;
    if (!task || task.currentAttemptId !== attemptId || task.reason === message) return;
    task.reason = message;
    changes.emit(task);
  }

  /**
   * The worker's final report. Applied once, to the current attempt only; the caller acks the
   * worker whatever this answers. Applied with the reports that arrive meanwhile.
   */
  attemptFinished(workerId: string, report: AttemptReport): Promise<ResultAnswer> {
    return new Promise((resolve, reject) => {
      this.pendingResults.push({ item: { workerId, report }, resolve, reject });
      this.queueDrain();
    });
  }

  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    // setImmediate: after the current round of I/O callbacks, so the reports read from every
    // worker stream in this round share one commit (group commit; no timer, no added wait)
    setImmediate(() => {
      this.resources.serial
        .run(async () => {
          this.drainQueued = false;
          const results = this.pendingResults.splice(0);
          // a start whose result came in the same round is folded into the result's commit
          const finishing = new Set(results.map((p) => p.item.report.attemptId));
          const folded = new Map<string, StartReport>();
          const starts = this.pendingStarts.splice(0).filter((p) => {
            if (!finishing.has(p.item.attemptId)) return true;
            if (!folded.has(p.item.attemptId)) folded.set(p.item.attemptId, p.item);
            p.resolve();
            return false;
          });
          await settle(
            starts,
            () => this.applyStarts(starts.map((p) => p.item)),
            (error) => this.waitOnWorker(starts.map((p) => p.item.attemptId), error, START_WAITS),
          );
          await settle(
            results,
            () => this.applyResults(results.map((p) => p.item), folded),
            (error) => this.waitOnWorker(results.map((p) => p.item.report.attemptId), error, RESULT_WAITS),
          );
        })
        .catch((error: unknown) => this.resources.logger.error({ err: error }, 'applying worker reports failed'));
    });
  }

  /**
   * Reports that could not be stored (the caller answers each worker with a ReportNack, and the
   * worker sends them again): when the master's storage is full, their tasks say so until they
   * are — shown, not stored, like a lost worker's hold.
   */
  private waitOnWorker(attemptIds: readonly string[], error: unknown, reason: string): void {
    if (!isStorageFull(error)) return;
    const { state, changes } = this.resources;
    for (const attemptId of new Set(attemptIds)) {
      const attempt = state.attempts.get(attemptId);
      const task = attempt ? state.tasks.get(attempt.taskId) : undefined;
      if (!task || task.currentAttemptId !== attemptId || task.reason === reason) continue;
      task.reason = reason;
      changes.emit(task);
    }
  }

  private async applyStarts(items: StartReport[]): Promise<void[]> {
    const seen = new Set<string>();
    const prepared: PreparedChange[] = [];
    for (const { workerId, attemptId, at, effective } of items) {
      if (seen.has(attemptId)) continue;
      seen.add(attemptId);
      const change = this.prepareStart(workerId, attemptId, at, effective);
      if (change) prepared.push(change);
    }
    await commitPrepared(this.resources.store, prepared);
    return items.map(() => undefined);
  }

  private prepareStart(workerId: string, attemptId: string, at: number, effective: EffectiveSettings | undefined): PreparedChange | undefined {
    const { state, changes } = this.resources;
    const attempt = state.attempts.get(attemptId);
    if (!attempt || attempt.workerId !== workerId || attempt.status !== 'assigned') return undefined;
    const task = state.tasks.get(attempt.taskId);
    const current = task !== undefined && task.currentAttemptId === attemptId;
    const attemptPatch = { status: 'running' as const, startedAt: at, ...(effective ? { effective } : {}) };
    // a reason shown while the start waited (the master's storage was full) is over
    const taskPatch = { status: 'running' as const, startedAt: task?.startedAt ?? at, reason: undefined };
    const stored: StoreChange[] = [{ kind: 'updateAttempt', attemptId, expectStatus: ['assigned'], patch: attemptPatch }];
    if (current) {
      stored.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attemptId, expectStatus: ['assigned'], patch: taskPatch },
        { kind: 'appendEvent', event: { taskId: task.id, at, kind: 'running', message: `started on ${workerLabel(workerId, attempt.workerName)}`, attemptId } },
      );
    }
    return {
      changes: stored,
      applied: () => {
        applyPatch(attempt, attemptPatch);
        // from now on the master times it too (the worker does first)
        this.timeouts.arm(attempt);
        if (current) {
          applyPatch(task, taskPatch);
          changes.emit(task);
        }
      },
    };
  }

  /** `starts`: starts of these attempts that arrived in the same round, by attempt id. */
  private async applyResults(items: ResultReport[], starts: ReadonlyMap<string, StartReport>): Promise<ResultAnswer[]> {
    const answers: ResultAnswer[] = [];
    const work: Promise<PreparedChange | undefined>[] = [];
    const seen = new Set<string>();
    for (const { workerId, report } of items) {
      const attempt = this.resources.state.attempts.get(report.attemptId);
      if (!attempt || attempt.workerId !== workerId || seen.has(report.attemptId)) {
        // a duplicate, or an attempt given away while its worker was lost
        answers.push('ignored');
        if (!seen.has(report.attemptId)) work.push(this.discardStale(report.attemptId));
        continue;
      }
      seen.add(report.attemptId);
      answers.push('applied');
      work.push(this.prepareResult(attempt, report, starts.get(report.attemptId)));
    }
    const prepared = (await Promise.all(work)).filter((change): change is PreparedChange => change !== undefined);
    await commitPrepared(this.resources.store, prepared);
    if (prepared.length > 0) this.dispatch.scheduleSoon();
    return answers;
  }

  private async discardStale(attemptId: string): Promise<undefined> {
    const stored = await this.resources.store.getAttempt(attemptId);
    if (!stored || !ACTIVE_ATTEMPT_STATUSES.includes(stored.status)) await this.resources.files.discard(attemptId);
    return undefined;
  }

  /**
   * `start`: the attempt's start report arrived in the same round; it is recorded here (attempt
   * and task start time, the effective settings, the `running` event, a `running` notice to listeners) instead
   * of in a commit of its own.
   */
  private async prepareResult(attempt: Attempt, report: AttemptReport, start?: StartReport): Promise<PreparedChange | undefined> {
    const startedAt = start?.at;
    const { state, store, files, logs, clock, logger, options, random } = this.resources;
    const now = clock.now();
    const task = state.tasks.get(attempt.taskId);
    const taskRecord = task ?? (await store.getTask(attempt.taskId));
    if (!taskRecord) return undefined;
    // the task's files are what the master received and hashed, never the worker's claim; a
    // result that lists other files fails (verify-reported-files.ts). The records now, with the
    // master's digests; the files once the result is stored (afterCommit below)
    const verdict = verifyReportedFiles(await files.received(attempt.id), report.files);
    const fileRecords = await files.stagedRecords(attempt.id, taskRecord, verdict.files);
    // a worker that obeyed the master's timeout cancel reports `cancelled`: it timed out; one
    // that obeyed a preemption's stop: preempted (not charged, the error names the preemptor)
    const reported: Ending =
      report.outcome !== 'cancelled'
        ? report
        : attempt.status === 'preempting'
          ? { outcome: 'preempted', exitCode: report.exitCode, error: attempt.error }
          : this.timeouts.cancelledForTimeout(attempt.id)
            ? { ...report, outcome: 'timed_out' as const }
            : report;
    // a result that does not hold up ends `unverified`: a failure, charged
    const ending = endingOf(reported, await this.checkResult(taskRecord, report, verdict, fileRecords));
    const defaults = { baseMs: options.retryBackoffMs, maxMs: options.retryBackoffMaxMs };
    const decision = decideOutcome(taskRecord, attempt, ending, (retry) => taskRetryDelayMs(taskRecord, retry, defaults, random));

    const finishedAt = report.finishedAt ?? now;
    const startsNow = startedAt !== undefined && attempt.status === 'assigned';
    // the worker's log chunk count against what the master applied: a gap does not change the
    // outcome, it is made visible (logChunksMissing, and a line in the log once applied)
    const logCheck = checkLogChunks(report.logChunks ?? 0, logs.chunksReceived(attempt.taskId, attempt.id));
    const attemptPatch = {
      status: decision.attemptStatus,
      exitCode: report.exitCode,
      startedAt: attempt.startedAt ?? (startsNow ? startedAt : undefined) ?? report.startedAt,
      finishedAt,
      // an attempt the master stopped says why (a deadline) rather than what the stop looked like
      error: (attempt.status === 'cancelling' || attempt.status === 'preempting' ? attempt.error : undefined) || ending.error || undefined,
      inputReports: report.inputs && report.inputs.length > 0 ? report.inputs : undefined,
      logChunksMissing: logCheck.missing,
      ...(startsNow && start?.effective ? { effective: start.effective } : {}),
    };
    const stored: StoreChange[] = [
      { kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ACTIVE_ATTEMPT_STATUSES, patch: attemptPatch },
      { kind: 'replaceTaskFiles', taskId: taskRecord.id, files: fileRecords },
    ];
    // only a live task changes (one that ended is settled already)
    const next = task ? taskPatchOf(decision, report.exitCode, now, finishedAt) : undefined;
    const runningNotice = next !== undefined && startsNow && task!.status === 'assigned';
    if (task && next) {
      if (runningNotice) {
        next.startedAt = task.startedAt ?? startedAt;
        stored.push({ kind: 'appendEvent', event: { taskId: task.id, at: startedAt!, kind: 'running', message: `started on ${attempt.workerId}`, attemptId: attempt.id } });
      }
      stored.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attempt.id, patch: next },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: String(next.status), message: next.reason ?? `exit code ${report.exitCode}`, attemptId: attempt.id } },
      );
      if (next.deadLetteredAt !== undefined) stored.push(deadLetterEvent(task.id, now, attempt.id));
    }
    const where = { attemptId: attempt.id, taskId: attempt.taskId };
    return {
      changes: stored,
      afterCommit: async () => {
        try {
          await files.promote(attempt.id, taskRecord, fileRecords);
        } catch (error: unknown) {
          // the result stands (it is stored); downloads answer 404 until the folder is moved
          logger.error({ err: error, ...where }, "the result is stored but its output files could not be moved into place; they stay in the attempt's staging folder");
        }
      },
      applied: () => {
        if (logCheck.note) {
          try {
            logs.appendSystem(attempt.taskId, attempt.id, logCheck.note);
          } catch (error: unknown) {
            // the result is stored (logChunksMissing says it); the line is a note
            logger.warn({ err: error, ...where }, 'could not add the missing-log-chunks line to the log');
          }
        }
        this.attemptEnded(attempt, attemptPatch, task, next, runningNotice ? next!.startedAt : undefined);
      },
      refused: async () => {
        logger.warn(where, 'result not applied: state changed');
        // its files belong to a result that was not recorded
        await files.discard(attempt.id).catch((error: unknown) => logger.warn({ err: error, ...where }, 'could not discard the staged files of a refused result'));
      },
    };
  }

  /**
   * The master ends an attempt itself with `ending` — today `timeout_enforced`: it ran past its
   * timeout and its worker did not stop it within the cancel grace — decided by the outcome
   * policy like a worker's result (charged, retried while retries remain). Runs in the caller's
   * turn of the serial executor. A result that comes later is acknowledged without effect, and
   * the attempt's staged uploads are dropped.
   */
  async endAttempt(attempt: Attempt, ending: Ending): Promise<void> {
    const { state, store, clock, options, random, files, logger } = this.resources;
    const task = state.tasks.get(attempt.taskId);
    const taskRecord = task ?? (await store.getTask(attempt.taskId));
    if (!taskRecord) return;
    const now = clock.now();
    const defaults = { baseMs: options.retryBackoffMs, maxMs: options.retryBackoffMaxMs };
    const decision = decideOutcome(taskRecord, attempt, ending, (retry) => taskRetryDelayMs(taskRecord, retry, defaults, random));
    const attemptPatch = { status: decision.attemptStatus, finishedAt: now, error: ending.error };
    const stored: StoreChange[] = [{ kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ACTIVE_ATTEMPT_STATUSES, patch: attemptPatch }];
    const next = task ? taskPatchOf(decision, undefined, now, now) : undefined;
    if (task && next) {
      stored.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attempt.id, patch: next },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: String(next.status), message: next.reason ?? ending.error ?? ending.outcome, attemptId: attempt.id } },
      );
      if (next.deadLetteredAt !== undefined) stored.push(deadLetterEvent(task.id, now, attempt.id));
    }
    let ended = false;
    await commitPrepared(store, [
      {
        changes: stored,
        applied: () => {
          ended = true;
          this.attemptEnded(attempt, attemptPatch, task, next, undefined);
        },
        refused: () => logger.warn({ attemptId: attempt.id, taskId: attempt.taskId }, 'the master could not end the attempt: state changed'),
      },
    ]);
    if (!ended) return;
    await files.discard(attempt.id).catch((error: unknown) => logger.warn({ err: error, attemptId: attempt.id }, 'could not discard the staged files of an ended attempt'));
    this.dispatch.scheduleSoon();
  }

  /**
   * The in-memory side of an attempt that ended (stored already): it leaves the live state, its
   * reservation and timers go, listeners hear of it, and its task takes the decision's patch.
   * `startedAt`: the attempt's start was folded into its result (a `running` notice first).
   */
  private attemptEnded(attempt: Attempt, attemptPatch: AttemptPatch, task: Task | undefined, next: TaskPatch | undefined, startedAt: number | undefined): void {
    const { state, registry, logs, changes } = this.resources;
    applyPatch(attempt, attemptPatch);
    state.attempts.delete(attempt.id);
    this.timeouts.forget(attempt.id);
    registry.release(attempt.workerId, attempt.resources);
    logs.closeAttempt(attempt.id);
    changes.emitAttemptFinished(attempt);
    if (task && next) {
      if (startedAt !== undefined) changes.emit({ ...task, status: 'running', startedAt });
      applyPatch(task, next);
      if (next.status === 'queued') state.enqueue(task);
      else state.tasks.delete(task.id);
      changes.emit(task);
    }
  }

  /**
   * Why a result does not hold up, or undefined; the first check that fails names the reason.
   * Checks of what a result claims go here. Its files must be what the master received,
   * whatever the outcome (`verdict`); a success must also have written its declared outputs.
   */
  private async checkResult(task: Task, report: AttemptReport, verdict: VerifiedFiles, files: readonly OutputFileRecord[]): Promise<string | undefined> {
    if ('failure' in verdict) return verdict.failure;
    if (report.outcome !== 'succeeded') return undefined;
    const { directOutputs } = this.resources.hooks;
    return (
      declaredOutputsMissing(task, files) ??
      // outputs the worker says it put into the object store must be there (the DAG service's check)
      (report.directUploads && directOutputs && (task.outputs?.length ?? 0) > 0 ? await directOutputs.confirm(task, files, report.directUploads) : undefined)
    );
  }
}

/** A DAG task succeeded only if it wrote every output it declared (they become artifacts). */
function declaredOutputsMissing(task: Task, files: readonly OutputFileRecord[]): string | undefined {
  const missing = (task.outputs ?? []).filter((name) => !files.some((f) => f.path === name));
  if (missing.length === 0) return undefined;
  return `declared output${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} not written to /output`;
}

/** The event of a task that failed through its retry policy (a worker's result or the master's own ending). */
function deadLetterEvent(taskId: string, at: number, attemptId: string): StoreChange {
  return { kind: 'appendEvent', event: { taskId, at, kind: 'dead_letter', message: 'listed in the dead letters (re-queue or dismiss it there)', attemptId } };
}

/** The task's change for a decision, or undefined when the task is settled already. */
function taskPatchOf(decision: OutcomeDecision, exitCode: number | undefined, now: number, finishedAt: number): TaskPatch | undefined {
  switch (decision.kind) {
    case 'succeed':
      return { status: 'succeeded', exitCode, finishedAt, reason: undefined };
    case 'requeue':
      return { status: 'queued', workerId: undefined, currentAttemptId: undefined, reason: decision.reason };
    case 'retry':
      return {
        status: 'queued',
        retriesUsed: decision.retriesUsed,
        workerId: undefined,
        currentAttemptId: undefined,
        notBefore: now + decision.delayMs,
        exitCode,
        reason: decision.reason,
      };
    case 'fail':
      return {
        status: 'failed',
        retriesUsed: decision.retriesUsed,
        exitCode,
        finishedAt,
        reason: decision.reason,
        ...(decision.deadLetter ? { deadLetteredAt: finishedAt } : {}),
      };
    case 'settle':
      return undefined;
  }
}

/** Runs one kind of report's step and answers each report; `failed` hears of an error first. */
async function settle<T, R>(pending: PendingReport<T, R>[], run: () => Promise<R[]>, failed: (error: unknown) => void): Promise<void> {
  if (pending.length === 0) return;
  try {
    const answers = await run();
    pending.forEach((p, i) => p.resolve(answers[i]!));
  } catch (error: unknown) {
    failed(error);
    for (const p of pending) p.reject(error);
  }
}
