// Dead letters: tasks that failed through their retry policy (no retry left, or an ending their
// retryOn does not name; outcome-policy.ts decides, the report system marks the task with
// `deadLetteredAt` in the commit that fails it). DAG tasks are not dead letters (their run fails
// with them and is re-run as a run), nor are cancelled tasks or tasks that missed a deadline (a
// person or a clock ended them; a re-queue could not honour what they asked).
//
// A person lists them (their own; an admin everyone's) with their last error and attempts, and
// either re-queues one — the same task id, back to `queued` with new attempts after the old ones;
// retriesUsed back to 0, exitCode, workerId, startedAt and finishedAt cleared (attemptCount goes
// on, so attempt numbers stay unique), a deadline already passed dropped — or dismisses it: it
// stays `failed`, out of the list. Both alone or in bulk (ids, or a filter), each task its own
// conditional commit, so one that changed meanwhile is reported and the others go ahead.
import { notFound, WharfError } from '../../errors.js';
import type { Attempt } from '../../records/attempt.js';
import type { Task } from '../../records/task.js';
import type { User } from '../../records/user.js';
import { applyPatch, type TaskPage, type TaskPatch } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { DispatchSystem } from './dispatch-system.js';

/** A dead letter as people see it: the task, its attempts (oldest first), and its last error. */
export interface DeadLetter {
  task: Task;
  attempts: Attempt[];
  /** the last attempt's error, else the task's reason */
  lastError: string | undefined;
}

export interface DeadLetterFilter {
  image?: string | undefined;
  name?: string | undefined;
}

/** Which dead letters a bulk action takes: these ids, or every one (the caller may see) matching the filter. */
export type DeadLetterSelection = { taskIds: string[] } | { filter: DeadLetterFilter };

export interface BulkAnswer {
  /** the tasks the action was applied to */
  done: string[];
  /** the tasks it was not, and why (not found, not a dead letter, changed meanwhile) */
  skipped: { taskId: string; code: string; message: string }[];
  /** a filter matched more than MAX_BULK: call again for the rest */
  more: boolean;
}

/** Tasks one bulk call takes at most. */
export const MAX_BULK = 1000;

export class DeadLetterSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
  ) {}

  async list(user: User, query: DeadLetterFilter & { limit: number; cursor?: string | undefined }): Promise<{ deadLetters: DeadLetter[]; nextCursor?: string | undefined }> {
    const { store } = this.resources;
    const page = await store.listDeadLetters({ ...query, userId: ownerFilter(user) });
    const deadLetters = await Promise.all(
      page.tasks.map(async (task) => {
        const attempts = await store.listAttempts(task.id);
        return { task, attempts, lastError: attempts.at(-1)?.error ?? task.reason };
      }),
    );
    return { deadLetters, nextCursor: page.nextCursor };
  }

  count(): Promise<number> {
    return this.resources.store.countDeadLetters();
  }

  /** Back to the queue as the same task, retries reset. 404 when the user may not see it, 409 when it is not a dead letter. */
  requeue(user: User, taskId: string): Promise<Task> {
    return this.resources.serial.run(() => this.requeueOne(user, taskId));
  }

  /** Out of the dead letters; the task stays failed. */
  dismiss(user: User, taskId: string): Promise<Task> {
    return this.resources.serial.run(() => this.dismissOne(user, taskId));
  }

  requeueMany(user: User, selection: DeadLetterSelection): Promise<BulkAnswer> {
    return this.bulk(user, selection, (taskId) => this.requeueOne(user, taskId));
  }

  dismissMany(user: User, selection: DeadLetterSelection): Promise<BulkAnswer> {
    return this.bulk(user, selection, (taskId) => this.dismissOne(user, taskId));
  }

  private async bulk(user: User, selection: DeadLetterSelection, act: (taskId: string) => Promise<Task>): Promise<BulkAnswer> {
    let taskIds: string[];
    let more = false;
    if ('taskIds' in selection) {
      taskIds = [...new Set(selection.taskIds)];
    } else {
      const page: TaskPage = await this.resources.store.listDeadLetters({ ...selection.filter, userId: ownerFilter(user), limit: MAX_BULK });
      taskIds = page.tasks.map((task) => task.id);
      more = page.nextCursor !== undefined;
    }
    const answer: BulkAnswer = { done: [], skipped: [], more };
    // one turn of the serial executor per task: a large bulk action does not hold up reports
    for (const taskId of taskIds) {
      try {
        await this.resources.serial.run(() => act(taskId));
        answer.done.push(taskId);
      } catch (error: unknown) {
        if (!(error instanceof WharfError)) throw error;
        answer.skipped.push({ taskId, code: error.code, message: error.message });
      }
    }
    return answer;
  }

  /** The stored dead letter the user may act on. */
  private async deadLetter(user: User, taskId: string): Promise<Task> {
    const task = await this.resources.store.getTask(taskId);
    if (!task || (user.role !== 'admin' && task.userId !== user.id)) throw notFound(`task ${taskId}`);
    if (task.status !== 'failed' || task.deadLetteredAt === undefined) {
      throw new WharfError('conflict', `task ${taskId} is not a dead letter (it is ${task.status}${task.status === 'failed' ? ', dismissed or not failed by its retry policy' : ''})`);
    }
    return task;
  }

  private async requeueOne(user: User, taskId: string): Promise<Task> {
    const { store, state, clock, changes } = this.resources;
    const task = await this.deadLetter(user, taskId);
    const now = clock.now();
    const dropped = (['startDeadline', 'deadline'] as const).filter((field) => task[field] !== undefined && task[field] <= now);
    const patch: TaskPatch = {
      status: 'queued',
      retriesUsed: 0,
      deadLetteredAt: undefined,
      exitCode: undefined,
      workerId: undefined,
      workerName: undefined,
      currentAttemptId: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      notBefore: undefined,
      reason: `re-queued from the dead letters by ${user.email}`,
      ...Object.fromEntries(dropped.map((field) => [field, undefined])),
    };
    const message = `${patch.reason}; retries reset${dropped.length > 0 ? `; ${dropped.join(' and ')} already passed, dropped` : ''}`;
    const stored = await store.commit([
      { kind: 'updateTask', taskId, expectStatus: ['failed'], patch },
      { kind: 'appendEvent', event: { taskId, at: now, kind: 'requeued', message } },
    ]);
    if (!stored) throw new WharfError('conflict', `task ${taskId} changed; try again`);
    applyPatch(task, patch);
    state.tasks.set(task.id, task);
    state.enqueue(task);
    changes.emit(task);
    this.dispatch.scheduleSoon();
    return { ...task };
  }

  private async dismissOne(user: User, taskId: string): Promise<Task> {
    const { store, clock } = this.resources;
    const task = await this.deadLetter(user, taskId);
    const patch: TaskPatch = { deadLetteredAt: undefined };
    const stored = await store.commit([
      { kind: 'updateTask', taskId, expectStatus: ['failed'], patch },
      { kind: 'appendEvent', event: { taskId, at: clock.now(), kind: 'dead_letter_dismissed', message: `dismissed from the dead letters by ${user.email}` } },
    ]);
    if (!stored) throw new WharfError('conflict', `task ${taskId} changed; try again`);
    applyPatch(task, patch);
    // not told to the change feed: the task's status did not change (listeners count endings)
    return { ...task };
  }
}

/** Users see their own dead letters; admins everyone's. */
function ownerFilter(user: User): string | undefined {
  return user.role === 'admin' ? undefined : user.id;
}
