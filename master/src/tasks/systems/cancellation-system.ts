// Cancellation by a person (REST DELETE, the REPL, a DAG run's cancel) — and, through `endNow`,
// by a deadline (deadline-system.ts): the task is `cancelled` (or `failed`)
// at once, in one commit with its attempt going `cancelling`; the worker is told to stop (SIGTERM,
// the grace, SIGKILL) and the attempt ends, and its reservation is released, when the worker's
// result arrives (report-system.ts). A worker that reconnects is told again.
import { WharfError } from '../../errors.js';
import type { Attempt } from '../../records/attempt.js';
import { TERMINAL_TASK_STATUSES, type Task, type TaskStatus } from '../../records/task.js';
import type { User } from '../../records/user.js';
import { applyPatch, type StoreChange, type TaskPatch } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { QuerySystem } from './query-system.js';

export class CancellationSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly queries: QuerySystem,
  ) {}

  cancel(user: User, taskId: string): Promise<Task> {
    const { serial, state, clock } = this.resources;
    return serial.run(async () => {
      const task = await this.queries.visibleTask(user, taskId);
      const live = state.tasks.get(taskId);
      if (TERMINAL_TASK_STATUSES.has(task.status) || !live) {
        throw new WharfError('conflict', `task ${taskId} is already ${task.status}`);
      }
      const now = clock.now();
      const reason = `cancelled by ${user.email}`;
      if (!(await this.endNow(live, { status: 'cancelled', reason, finishedAt: now, notBefore: undefined }, 'cancelled'))) {
        throw new WharfError('conflict', `task ${taskId} changed; try again`);
      }
      return { ...live };
    });
  }

  /**
   * Ends a live task at once with `patch` (a terminal status and its reason), in one commit with
   * its attempt going `cancelling` and an event of `eventKind`; the worker is told to stop it
   * (SIGTERM, the grace, SIGKILL), and the attempt ends when its result arrives. `attemptError`:
   * kept as the attempt's error when it ends (why it was stopped). Answers false when the stored
   * task changed meanwhile (nothing done). Runs on the serial executor (the caller's turn).
   */
  async endNow(live: Task, patch: TaskPatch & { status: TaskStatus; reason: string }, eventKind: string, attemptError?: string): Promise<boolean> {
    const { state, clock, store, changes } = this.resources;
    const now = clock.now();
    const stored: StoreChange[] = [
      { kind: 'updateTask', taskId: live.id, expectStatus: [live.status], patch },
      { kind: 'appendEvent', event: { taskId: live.id, at: now, kind: eventKind, message: patch.reason } },
    ];
    const attempt = live.currentAttemptId ? state.attempts.get(live.currentAttemptId) : undefined;
    const attemptPatch = { status: 'cancelling' as const, ...(attemptError ? { error: attemptError } : {}) };
    if (attempt) {
      // one being preempted too: the person's cancel wins (it ends cancelled, the task stays so)
      stored.push({ kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ['assigned', 'running', 'preempting'], patch: attemptPatch });
    }
    if (!(await store.commit(stored))) return false;
    state.queue.remove(live.id);
    state.tasks.delete(live.id);
    applyPatch(live, patch);
    if (attempt) {
      applyPatch(attempt, attemptPatch);
      this.sendCancel(attempt, patch.reason);
    }
    changes.emit(live);
    return true;
  }

  /** The worker's stream is open again: it is told again to stop what is being cancelled. */
  resendCancels(workerId: string): void {
    for (const attempt of this.resources.state.attemptsOn(workerId)) {
      if (attempt.status === 'cancelling') this.sendCancel(attempt, 'cancelled');
    }
  }

  private sendCancel(attempt: Attempt, reason: string): void {
    const { registry, options } = this.resources;
    registry.send(attempt.workerId, { kind: 'cancel', attemptId: attempt.id, reason, graceSeconds: Math.ceil(options.cancelGraceMs / 1000) });
  }
}
