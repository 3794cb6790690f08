// Gang members as the gang service (gangs/gang-service.ts) moves them: it reads each member's
// live state, ends the members that still live when the gang fails, is cancelled or restarts
// (through the cancellation path: the worker stops the attempt with the grace), and re-queues
// every member of a restarting gang once none holds an attempt any more — the same task ids,
// new attempts after the old ones, in one commit (the whole gang comes back, or none of it).
import type { Task, TaskStatus } from '../../records/task.js';
import { applyPatch, type StoreChange, type TaskPatch } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { CancellationSystem } from './cancellation-system.js';
import type { DispatchSystem } from './dispatch-system.js';

/** A member as the gang service reads it: the live copy (with its waiting reason) or the stored one. */
export interface GangMemberState {
  task: Task;
  /** it holds an attempt that has not ended (assigned, running or being stopped) */
  holdsAttempt: boolean;
}

export class GangMemberSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly cancellation: CancellationSystem,
    private readonly dispatch: DispatchSystem,
  ) {}

  async read(taskId: string): Promise<GangMemberState | undefined> {
    const { state, store } = this.resources;
    const live = state.tasks.get(taskId);
    const task = live ? { ...live } : await store.getTask(taskId);
    if (!task) return undefined;
    let holdsAttempt = false;
    for (const attempt of state.attempts.values()) {
      if (attempt.taskId === taskId) {
        holdsAttempt = true;
        break;
      }
    }
    return { task, holdsAttempt };
  }

  /** Ends each member that still lives with this status and reason (a running one is stopped with the grace). */
  end(taskIds: readonly string[], status: Extract<TaskStatus, 'failed' | 'cancelled'>, reason: string): Promise<void> {
    const { serial, state, clock, logger } = this.resources;
    return serial.run(async () => {
      for (const taskId of taskIds) {
        const live = state.tasks.get(taskId);
        if (!live) continue;
        const ended = await this.cancellation.endNow(live, { status, reason, finishedAt: clock.now(), notBefore: undefined }, 'gang', reason);
        if (!ended) logger.warn({ taskId, gangId: live.gangId }, 'a gang member changed as the gang ended it; not ended');
      }
    });
  }

  /**
   * Every member back to `queued` in one commit, when none is live or holds an attempt; answers
   * false (nothing done) otherwise. Members already queued stay as they are.
   */
  requeue(taskIds: readonly string[], reason: string): Promise<boolean> {
    const { serial, state, store, clock, changes } = this.resources;
    return serial.run(async () => {
      const now = clock.now();
      const tasks: Task[] = [];
      for (const taskId of taskIds) {
        if (state.tasks.has(taskId) || [...state.attempts.values()].some((a) => a.taskId === taskId)) {
          if (state.tasks.get(taskId)?.status === 'queued') continue;
          return false;
        }
        const task = await store.getTask(taskId);
        if (!task) return false;
        tasks.push(task);
      }
      const patch: TaskPatch = {
        status: 'queued',
        deadLetteredAt: undefined,
        exitCode: undefined,
        workerId: undefined,
        currentAttemptId: undefined,
        startedAt: undefined,
        finishedAt: undefined,
        notBefore: undefined,
        reason,
      };
      const stored: StoreChange[] = tasks.flatMap((task): StoreChange[] => [
        { kind: 'updateTask', taskId: task.id, expectStatus: [task.status], patch },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'requeued', message: reason } },
      ]);
      if (stored.length > 0 && !(await store.commit(stored))) return false;
      for (const task of tasks) {
        applyPatch(task, patch);
        state.tasks.set(task.id, task);
        state.enqueue(task);
        changes.emit(task);
      }
      this.dispatch.scheduleSoon();
      return true;
    });
  }
}
