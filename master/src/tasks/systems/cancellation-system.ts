// Cancellation by a person (REST DELETE, the REPL, a DAG run's cancel): the task is `cancelled`
// at once, in one commit with its attempt going `cancelling`; the worker is told to stop (SIGTERM,
// the grace, SIGKILL) and the attempt ends, and its reservation is released, when the worker's
// result arrives (report-system.ts). A worker that reconnects is told again.
import { WharfError } from '../../errors.js';
import type { Attempt } from '../../records/attempt.js';
import { TERMINAL_TASK_STATUSES, type Task } from '../../records/task.js';
import type { User } from '../../records/user.js';
import { applyPatch, type StoreChange } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { QuerySystem } from './query-system.js';

export class CancellationSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly queries: QuerySystem,
  ) {}

  cancel(user: User, taskId: string): Promise<Task> {
    const { serial, state, clock, store, changes } = this.resources;
    return serial.run(async () => {
      const task = await this.queries.visibleTask(user, taskId);
      const live = state.tasks.get(taskId);
      if (TERMINAL_TASK_STATUSES.has(task.status) || !live) {
        throw new WharfError('conflict', `task ${taskId} is already ${task.status}`);
      }
      const now = clock.now();
      const reason = `cancelled by ${user.email}`;
      const patch = { status: 'cancelled' as const, reason, finishedAt: now, notBefore: undefined };
      const stored: StoreChange[] = [
        { kind: 'updateTask', taskId, expectStatus: [live.status], patch },
        { kind: 'appendEvent', event: { taskId, at: now, kind: 'cancelled', message: reason } },
      ];
      const attempt = live.currentAttemptId ? state.attempts.get(live.currentAttemptId) : undefined;
      if (attempt) {
        stored.push({ kind: 'updateAttempt', attemptId: attempt.id, expectStatus: ['assigned', 'running'], patch: { status: 'cancelling' } });
      }
      if (!(await store.commit(stored))) throw new WharfError('conflict', `task ${taskId} changed; try again`);
      state.queue.remove(taskId);
      state.tasks.delete(taskId);
      applyPatch(live, patch);
      if (attempt) {
        applyPatch(attempt, { status: 'cancelling' });
        this.sendCancel(attempt, reason);
      }
      changes.emit(live);
      return { ...live };
    });
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
