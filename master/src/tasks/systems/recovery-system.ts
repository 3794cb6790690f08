// Recovery: the task side of restarts and of workers coming and going.
//
// - Master restart (`recover`): queued tasks re-enter the queue; running attempts are timed
//   again from their stored start (timeout-system.ts); assigned and running attempts
//   keep their reservations while their workers reconnect (the registry gives them a grace
//   period; a worker that does not come back is lost, and its attempts are held as below, the
//   bound running from the restart); attempts of a worker already lost when the master stopped
//   are held the same way; those of a worker the master no longer knows (removed, its record and
//   bound gone with it) are held for the longest bound the master admits (--max-stop-after) from
//   the restart; output files a stored result lists and that were not yet moved into place are
//   moved now.
// - A worker (re)registers listing what it holds: attempts given to someone else are answered
//   for it to stop; a running attempt it no longer holds is lost (restarted without it). A lost
//   worker back before its bound has passed keeps what it holds, reservations included.
// - A worker's stream opens: it gets again what it has not acknowledged (assignments, cancels,
//   the stops of attempts being preempted).
// - A worker is lost (fencing): its attempts stay its own until it must have stopped them —
//   last contact + stop-after + stop grace + margin (cluster/worker-fencing.ts fencedRequeueAt),
//   a timer on the resources' clock (TimerSystem) — and their tasks say so. Then each attempt is
//   `lost` and its task re-queued, not charged to retries (`loseAttempt`, the one place an
//   attempt is lost). A worker record that declares no bound has its attempts lost at once.
// - A worker is removed by an admin: the same hold, from its last contact (the registry has
//   forgotten it; `workerRemoved` gets how it was). Its certificate is revoked and its stream
//   closed, so no heartbeat of it is acknowledged again: it stops its attempts within its bound,
//   and only then are they given to others — one task never runs twice at once.
import type { RemovedWorker } from '../../cluster/worker-registry.js';
import { FENCING_MARGIN_MS, fencedRequeueAt } from '../../cluster/worker-fencing.js';
import { ACTIVE_ATTEMPT_STATUSES, type Attempt } from '../../records/attempt.js';
import { applyPatch, type StoreChange } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { CancellationSystem } from './cancellation-system.js';
import type { DispatchSystem } from './dispatch-system.js';
import type { PreemptionSystem } from './preemption-system.js';
import type { TimeoutSystem } from './timeout-system.js';
import type { TimerSystem } from './timer-system.js';

/** The TimerSystem key of a lost worker's hold. */
const holdKey = (workerId: string): string => `lost-worker:${workerId}`;

/** Why a worker's attempts are held: the words of the task's reason and of the lost attempt's error. */
type HoldCause = 'lost' | 'removed' | 'unknown';

/** A held task's reason, before "; re-queued at …". */
const HELD_BECAUSE: Record<HoldCause, (workerId: string) => string> = {
  lost: (id) => `worker ${id} lost`,
  removed: (id) => `worker ${id} removed`,
  unknown: (id) => `worker ${id} unknown (removed)`,
};
/** The error of an attempt lost when the hold ends. */
const LOST_BECAUSE: Record<HoldCause, (workerId: string) => string> = {
  lost: (id) => `worker ${id} was lost`,
  removed: (id) => `worker ${id} was removed`,
  unknown: () => 'its worker is unknown',
};

export class RecoverySystem {
  /** lost (or removed) workers whose attempts are held until they must have stopped them: why */
  private readonly held = new Map<string, HoldCause>();

  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
    private readonly cancellation: CancellationSystem,
    private readonly timers: TimerSystem,
    private readonly timeouts: TimeoutSystem,
    private readonly preemption: PreemptionSystem,
  ) {}

  /** After a master restart, from the store (before workers connect). */
  async recover(): Promise<void> {
    const { store, state, registry, logger } = this.resources;
    const attempts = await store.listActiveAttempts();
    // tasks first: an active attempt charges its task's queue and user (task-state.ts)
    for (const task of await store.listUnfinishedTasks()) {
      state.tasks.set(task.id, task);
      if (task.status === 'queued') state.enqueue(task);
    }
    for (const attempt of attempts) {
      state.attempts.set(attempt.id, attempt);
      registry.reserve(attempt.workerId, attempt.resources);
    }
    // running attempts are timed again from their stored start (one already past it is
    // cancelled as soon as its worker's stream opens)
    for (const attempt of attempts) if (attempt.status === 'running') this.timeouts.arm(attempt);
    const now = this.resources.clock.now();
    for (const workerId of new Set(attempts.map((attempt) => attempt.workerId))) {
      const worker = registry.get(workerId);
      // a worker the master no longer knows (removed while its attempts were held): nobody will
      // claim them, but it may still run them; its own bound went with its record, so the
      // longest one this master admits, from now
      if (!worker) await this.holdAttempts(workerId, now + registry.longestFencingBoundMs() + FENCING_MARGIN_MS, 'unknown');
      // a worker already lost when the master stopped, its attempts not yet re-queued: held for
      // its bound from now (the registry takes the restart as its last contact)
      else if (worker.record.status === 'lost') await this.fenceLostWorker(workerId);
    }
    await this.finishPromotions();
    logger.info({ queued: state.queue.size, activeAttempts: state.attempts.size }, 'task state recovered');
    this.dispatch.scheduleSoon();
  }

  /**
   * A worker (re)registered and listed the attempts it still holds. Answers the attempts it
   * must stop: ones the master gave to someone else or no longer wants.
   */
  workerRegistered(workerId: string, reported: readonly string[]): Promise<string[]> {
    const { serial, state, logger } = this.resources;
    return serial.run(async () => {
      const returnedInTime = this.release(workerId);
      if (returnedInTime) logger.info({ workerId }, 'a lost worker returned before its attempts were re-queued; it keeps those it holds');
      const held = new Set(reported);
      const stop = reported.filter((id) => state.attempts.get(id)?.workerId !== workerId);
      for (const attempt of state.attemptsOn(workerId)) {
        if (held.has(attempt.id)) {
          if (returnedInTime) this.clearHoldReason(attempt);
          continue;
        }
        // The worker does not hold an attempt we think it runs. One never accepted is simply
        // sent again when the stream opens; one that was running is gone with the old process.
        if (attempt.status !== 'assigned') await this.loseAttempt(attempt, 'the worker restarted without it');
      }
      if (stop.length > 0) logger.info({ workerId, stop }, 'telling a returning worker to stop attempts given away');
      return stop;
    });
  }

  /** The worker's Connect stream is open: (re)send what it has not acknowledged. */
  workerConnected(workerId: string): void {
    this.dispatch.resendAssignments(workerId);
    this.cancellation.resendCancels(workerId);
    this.preemption.resendStops(workerId);
    this.timeouts.workerConnected(workerId);
    this.dispatch.scheduleSoon();
  }

  /** The registry marked the worker lost: its attempts are held until it must have stopped them. */
  workerLost(workerId: string): Promise<void> {
    return this.resources.serial.run(async () => {
      await this.fenceLostWorker(workerId);
      this.dispatch.scheduleSoon();
    });
  }

  /** An admin removed the worker: its attempts are held until it must have stopped them. */
  workerRemoved(worker: RemovedWorker): Promise<void> {
    return this.resources.serial.run(async () => {
      await this.holdAttempts(worker.record.id, fencedRequeueAt(worker, this.resources.clock.now()), 'removed');
      this.dispatch.scheduleSoon();
    });
  }

  /**
   * Holds the lost worker's attempts until its fencing bound has passed (a timer), or loses them
   * now when it declares none. Runs on the serial executor (or in `recover`, before it starts).
   */
  private async fenceLostWorker(workerId: string): Promise<void> {
    const now = this.resources.clock.now();
    const worker = this.resources.registry.get(workerId);
    await this.holdAttempts(workerId, worker ? fencedRequeueAt(worker, now) : now, 'lost');
  }

  /** Holds the worker's attempts until `requeueAt` (a timer; at once when that has come), saying so on their tasks. */
  private async holdAttempts(workerId: string, requeueAt: number, cause: HoldCause): Promise<void> {
    const { state, clock, changes, logger } = this.resources;
    const attempts = state.attemptsOn(workerId);
    if (attempts.length === 0) return;
    const now = clock.now();
    if (requeueAt <= now) {
      this.release(workerId);
      for (const attempt of attempts) await this.loseAttempt(attempt, LOST_BECAUSE[cause](workerId));
      return;
    }
    this.held.set(workerId, cause);
    this.timers.set(holdKey(workerId), requeueAt, () => this.boundPassed(workerId));
    const at = new Date(requeueAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const attempt of attempts) {
      const task = state.tasks.get(attempt.taskId);
      if (task?.currentAttemptId !== attempt.id) continue;
      // shown, not stored: the task's status and attempt are unchanged
      task.reason = `${HELD_BECAUSE[cause](workerId)}; re-queued at ${at} once it must have stopped`;
      changes.emit(task);
    }
    logger.info(
      { workerId, cause, requeueAt: new Date(requeueAt).toISOString(), attempts: attempts.length },
      `holding the ${cause} worker's attempts for ${Math.ceil((requeueAt - now) / 1000)}s, until it must have stopped them`,
    );
  }

  /** The hold's timer fired: re-queue what the worker still holds, unless it came back meanwhile. */
  private boundPassed(workerId: string): void {
    const { serial, registry, state, logger } = this.resources;
    serial
      .run(async () => {
        const cause = this.held.get(workerId);
        // registered again (its workerRegistered keeps what it holds and ends the hold) or released;
        // a removed (or unknown) worker is not in the registry and cannot come back
        const worker = registry.get(workerId);
        if (cause === undefined || (worker !== undefined && worker.record.status !== 'lost')) return;
        this.release(workerId);
        for (const attempt of state.attemptsOn(workerId)) await this.loseAttempt(attempt, LOST_BECAUSE[cause](workerId));
        this.dispatch.scheduleSoon();
      })
      .catch((error: unknown) => logger.error({ err: error, workerId }, 'requeue of a lost worker failed'));
  }

  /** Ends the worker's hold, if it had one (its timer too); answers whether it had. */
  private release(workerId: string): boolean {
    if (!this.held.delete(workerId)) return false;
    this.timers.clear(holdKey(workerId));
    return true;
  }

  /** The worker came back holding the attempt: its task no longer waits for the bound. */
  private clearHoldReason(attempt: Attempt): void {
    const task = this.resources.state.tasks.get(attempt.taskId);
    if (task?.currentAttemptId !== attempt.id) return;
    task.reason = undefined;
    this.resources.changes.emit(task);
  }

  /**
   * Staged output files of attempts that are no longer active: a result stored before the master
   * stopped (or whose move failed) gets its files moved into place now; anything else staged
   * belongs to no stored result and is dropped.
   */
  private async finishPromotions(): Promise<void> {
    const { files, state, store, logger } = this.resources;
    for (const attemptId of files.stagedAttempts()) {
      if (state.attempts.has(attemptId)) continue; // still running: its result will come
      const attempt = await store.getAttempt(attemptId);
      const task = attempt ? await store.getTask(attempt.taskId) : undefined;
      const records = task ? (await store.listFiles({ taskId: task.id })).filter((file) => file.attemptId === attemptId) : [];
      try {
        if (task && records.length > 0) {
          await files.promote(attemptId, task, records);
          logger.info({ attemptId, taskId: task.id, files: records.length }, 'moved the output files of a stored result into place');
        } else {
          await files.discard(attemptId);
        }
      } catch (error: unknown) {
        logger.error({ err: error, attemptId }, "the output files of a stored result still cannot be moved into place; they stay in the attempt's staging folder");
      }
    }
  }

  /** An attempt whose worker is gone (or must have stopped it): lost, and its task re-queued at once, not charged. */
  private async loseAttempt(attempt: Attempt, why: string): Promise<void> {
    const { clock, state, store, registry, logs, files, changes, logger } = this.resources;
    const now = clock.now();
    const task = state.tasks.get(attempt.taskId);
    const attemptPatch = { status: 'lost' as const, finishedAt: now, error: why };
    const stored: StoreChange[] = [{ kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ACTIVE_ATTEMPT_STATUSES, patch: attemptPatch }];
    const requeue = task !== undefined && task.currentAttemptId === attempt.id;
    const taskPatch = { status: 'queued' as const, workerId: undefined, currentAttemptId: undefined, reason: `attempt ${attempt.number} lost: ${why}` };
    if (requeue) {
      stored.push(
        { kind: 'updateTask', taskId: task.id, expectAttemptId: attempt.id, patch: taskPatch },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'lost', message: why, attemptId: attempt.id } },
      );
    }
    await store.commit(stored);
    state.attempts.delete(attempt.id);
    this.timeouts.forget(attempt.id);
    registry.release(attempt.workerId, attempt.resources);
    logs.closeAttempt(attempt.id);
    changes.emitAttemptFinished({ ...attempt, ...attemptPatch });
    await files.discard(attempt.id);
    if (requeue) {
      applyPatch(task, taskPatch);
      state.enqueue(task);
      changes.emit(task);
    }
    logger.warn({ attemptId: attempt.id, taskId: attempt.taskId, workerId: attempt.workerId, why }, 'attempt lost');
  }
}
