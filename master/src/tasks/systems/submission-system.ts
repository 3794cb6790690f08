// Submission: who may submit what, and storing new tasks. A batch is one store commit (all its
// tasks are queued, or none), with the caller's extra changes in the same commit (the DAG
// engine records "queued, taskId=X" there, so a restart can never dispatch a DAG task twice).
// Stored tasks join the live state and the queue, and a scheduling pass is asked for.
import { randomUUID } from 'node:crypto';
import { WharfError } from '../../errors.js';
import type { DagTaskFields, NewTask, Task } from '../../records/task.js';
import type { User } from '../../records/user.js';
import type { StoreChange } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { DispatchSystem } from './dispatch-system.js';

export interface SubmitOptions {
  /**
   * More store changes committed in the same commit as the tasks. When one of their conditions
   * fails nothing is stored and submitMany rejects with `conflict`.
   */
  extraChanges?: (tasks: readonly Task[]) => StoreChange[];
}

export class SubmissionSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
  ) {}

  /** Throws `forbidden` when the user may not submit one of these tasks (exec needs an admin). */
  checkSubmission(user: User, inputs: readonly Pick<NewTask, 'runtime'>[]): void {
    if (user.role !== 'admin' && !this.resources.options.allowUserExec && inputs.some((input) => input.runtime === 'exec')) {
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
    const { serial, clock, store, state, changes } = this.resources;
    return serial.run(async () => {
      const now = clock.now();
      const tasks: Task[] = inputs.map((input) => ({
        id: randomUUID(),
        userId: user.id,
        ...input,
        status: 'queued',
        retriesUsed: 0,
        createdAt: now,
        attemptCount: 0,
      }));
      const stored = tasks.flatMap((task): StoreChange[] => [
        { kind: 'insertTask', task },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'submitted', message: `submitted by ${user.email}` } },
      ]);
      if (options.extraChanges) stored.push(...options.extraChanges(tasks));
      if (!(await store.commit(stored))) throw new WharfError('conflict', 'the submission changed state that changed meanwhile; try again');
      for (const task of tasks) {
        state.tasks.set(task.id, task);
        state.enqueue(task);
        changes.emit(task);
      }
      this.dispatch.scheduleSoon();
      return tasks.map((task) => ({ ...task }));
    });
  }
}
