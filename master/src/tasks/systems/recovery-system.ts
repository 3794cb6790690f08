// Recovery: the task side of restarts and of workers coming and going.
//
// - Master restart (`recover`): queued tasks re-enter the queue; assigned and running attempts
//   keep their reservations while their workers reconnect (the registry gives them a grace
//   period; a worker that does not come back is lost, and its attempts re-queue then); output
//   files a stored result lists and that were not yet moved into place are moved now.
// - A worker (re)registers listing what it holds: attempts given to someone else are answered
//   for it to stop; a running attempt it no longer holds is lost (restarted without it).
// - A worker's stream opens: it gets again what it has not acknowledged (assignments, cancels).
// - A worker is lost: each of its attempts is `lost` and its task re-queued at once, not charged
//   to retries (`loseAttempt`, the one place an attempt is lost).
import { ACTIVE_ATTEMPT_STATUSES, type Attempt } from '../../records/attempt.js';
import { applyPatch, type StoreChange } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { CancellationSystem } from './cancellation-system.js';
import type { DispatchSystem } from './dispatch-system.js';

export class RecoverySystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
    private readonly cancellation: CancellationSystem,
  ) {}

  /** After a master restart, from the store (before workers connect). */
  async recover(): Promise<void> {
    const { store, state, registry, logger } = this.resources;
    const attempts = await store.listActiveAttempts();
    for (const attempt of attempts) {
      state.attempts.set(attempt.id, attempt);
      registry.reserve(attempt.workerId, attempt.resources);
    }
    for (const task of await store.listUnfinishedTasks()) {
      state.tasks.set(task.id, task);
      if (task.status === 'queued') state.enqueue(task);
    }
    // a lost worker's attempts that were not yet re-queued when the master stopped
    for (const attempt of attempts) {
      const worker = registry.get(attempt.workerId);
      if (!worker || worker.record.status === 'lost') await this.loseAttempt(attempt, 'its worker was lost');
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
      const held = new Set(reported);
      const stop = reported.filter((id) => state.attempts.get(id)?.workerId !== workerId);
      for (const attempt of state.attemptsOn(workerId)) {
        if (held.has(attempt.id)) continue;
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
    this.dispatch.scheduleSoon();
  }

  workerLost(workerId: string): Promise<void> {
    return this.resources.serial.run(async () => {
      for (const attempt of this.resources.state.attemptsOn(workerId)) await this.loseAttempt(attempt, `worker ${workerId} was lost`);
      this.dispatch.scheduleSoon();
    });
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

  /** An attempt whose worker is gone: lost, and its task re-queued at once, not charged. */
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
