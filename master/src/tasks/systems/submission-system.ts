// Submission: who may submit what, and storing new tasks. A batch is one store commit (all its
// tasks are queued, or none), with the caller's extra changes in the same commit (the DAG
// engine records "queued, taskId=X" there, so a restart can never dispatch a DAG task twice).
// Stored tasks join the live state and the queue, and a scheduling pass is asked for.
//
// Who may submit what (checkSubmission), the same for REST, the REPL and DAG files:
//   - resources: the configured defaults fill what was not asked; a non-admin stays within the
//     configured minimum and maximum (task-limits.ts), so every such task has a CPU quota and a
//     memory limit — 400 naming the field and the bound;
//   - admins only (403 naming the field): runtime exec (unless WHARF_ALLOW_USER_EXEC), network
//     host, capAdd, a user that is a name or uid 0 (a name may map to root inside an image),
//     pinning to a worker (workerId);
//   - the queue: it must exist (400 naming `queue`); a task without a priority gets the queue's
//     default priority; a queue holds at most maxTasks unfinished tasks (409 past it).
import { randomUUID } from 'node:crypto';
import { WharfError } from '../../errors.js';
import { DEFAULT_QUEUE } from '../../records/queue.js';
import { DEFAULT_TASK_LIMITS, type Resources } from '../../records/resources.js';
import type { DagTaskFields, GangTaskFields, NewTask, RetryPolicyInput, Task } from '../../records/task.js';
import type { User } from '../../records/user.js';
import type { StoreChange } from '../../store/store.js';
import { DEFAULT_BACKOFF_MULTIPLIER, type BackoffDefaults } from '../outcome-policy.js';
import type { TaskSystemResources } from '../system-resources.js';
import { resolveResources } from '../task-limits.js';
import type { DispatchSystem } from './dispatch-system.js';
import { checkFit, type FitAnswer, type FitWorker } from '../../scheduler/fit-check.js';

export interface SubmitOptions {
  /**
   * More store changes committed in the same commit as the tasks. When one of their conditions
   * fails nothing is stored and submitMany rejects with `conflict`.
   */
  extraChanges?: (tasks: readonly Task[]) => StoreChange[];
  /** tasks of a DAG run already accepted: the storage quota was checked when the run was submitted */
  withinAcceptedRun?: boolean;
}

/** Where a refusal points: "" for one submission, "tasks[2]." in a batch (a DAG names its task). */
export type SubmissionPlace = (index: number, count: number) => string;
const batchPlace: SubmissionPlace = (index, count) => (count > 1 ? `tasks[${index}].` : '');

/** A uid:gid without a name and without uid 0. */
const NON_ROOT_UID = /^(?!0+(:|$))[0-9]{1,10}(:[0-9]{1,10})?$/;

export class SubmissionSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly dispatch: DispatchSystem,
  ) {}

  /**
   * Throws `forbidden` when the user may not submit one of these tasks (an admin-only setting),
   * `validation_failed` when its resources are outside the limits; answers the resources each
   * task gets.
   */
  checkSubmission(user: User, inputs: readonly NewTask[], place: SubmissionPlace = batchPlace): Resources[] {
    const limits = this.resources.options.limits ?? DEFAULT_TASK_LIMITS;
    const now = this.resources.clock.now();
    const { queues } = this.resources;
    return inputs.map((input, index) => {
      const at = place(index, inputs.length);
      try {
        if (user.role !== 'admin') this.checkPrivileges(input);
        for (const field of ['startDeadline', 'deadline'] as const) {
          const when = input[field];
          if (when !== undefined && when <= now) throw new WharfError('validation_failed', `${field}: ${new Date(when).toISOString()} has already passed`);
        }
        const queue = input.queue ?? DEFAULT_QUEUE;
        if (!queues.get(queue)) throw new WharfError('validation_failed', `queue: there is no queue "${queue}" (GET /api/queues lists them)`);
        return resolveResources(input.resources, user.role, limits);
      } catch (error: unknown) {
        if (error instanceof WharfError) throw new WharfError(error.code, `${at}${error.message}`);
        throw error;
      }
    });
  }

  /** The settings only admins may ask for; each refusal names its field. */
  private checkPrivileges(input: NewTask): void {
    const refuse = (message: string): never => {
      throw new WharfError('forbidden', message);
    };
    if (input.runtime === 'exec' && !this.resources.options.allowUserExec) {
      refuse('runtime: exec tasks run on the worker host; only admins may submit them here');
    }
    if (input.network === 'host') refuse("network: host shares the worker's own network stack; only admins may ask for it");
    if (input.capAdd && input.capAdd.length > 0) refuse(`capAdd: adding capabilities (${input.capAdd.join(', ')}) is for admins only`);
    if (input.user !== undefined && !NON_ROOT_UID.test(input.user)) {
      refuse(`user: "${input.user}": give a numeric uid other than 0 (uid or uid:gid); user names and root are for admins only`);
    }
    if (input.workerId !== undefined) refuse('workerId: pinning a task to a worker is for admins only');
  }

  /**
   * "Will it fit?" (POST /api/tasks/fit): checked as a submission is (the same refusals), then
   * whether the next scheduling pass would place it, where, and why not on each other worker
   * (scheduler/fit-check.ts). Nothing is stored.
   */
  checkFit(user: User, input: NewTask): FitAnswer {
    const [resources] = this.checkSubmission(user, [input]);
    const { registry, state, queues, clock } = this.resources;
    const queue = input.queue ?? DEFAULT_QUEUE;
    const workers: FitWorker[] = registry.schedulingSnapshot().map((worker) => {
      const live = registry.get(worker.id);
      const ids = live?.record.gpuIds ?? [];
      const held = new Set(state.attemptsOn(worker.id).flatMap((attempt) => attempt.gpuIds ?? []));
      return {
        ...worker,
        name: live?.record.name ?? worker.id,
        connected: true,
        gpuIds: ids.length > 0 ? { total: ids.length, free: ids.filter((id) => !held.has(id)).length } : undefined,
      };
    });
    let queueFull: string | undefined;
    try {
      this.checkQueueRoom([input]);
    } catch (error: unknown) {
      if (!(error instanceof WharfError)) throw error;
      queueFull = error.message;
    }
    return checkFit({
      now: clock.now(),
      task: {
        id: 'this-request',
        runtime: input.runtime,
        resources: resources!,
        labels: input.labels,
        constraints: input.constraints,
        queue,
        userId: user.id,
        priority: input.priority ?? queues.get(queue)?.defaultPriority ?? 50,
        pinnedWorkerId: input.workerId,
      },
      workers,
      policy: queues,
      usage: state.usage,
      reservations: this.dispatch.standingReservations(),
      queueFull,
    });
  }

  /** A queue holds at most maxTasks unfinished tasks: refuses (conflict) a batch that would go past it. */
  private checkQueueRoom(inputs: readonly NewTask[]): void {
    const { queues, state } = this.resources;
    const asked = new Map<string, number>();
    for (const input of inputs) {
      const queue = input.queue ?? DEFAULT_QUEUE;
      asked.set(queue, (asked.get(queue) ?? 0) + 1);
    }
    for (const [name, count] of asked) {
      const max = queues.get(name)?.maxTasks;
      if (max === undefined) continue;
      const held = state.queue.countIn(name) + (state.usage.queue(name)?.count ?? 0);
      if (held + count > max) {
        throw new WharfError('conflict', `queue ${name}: holds ${held}/${max} unfinished tasks (maxTasks); ${count} more would go past it — wait for some to finish`);
      }
    }
  }

  /** Submits several tasks in one store commit: all are queued, or none. */
  submitMany(user: User, inputs: readonly (NewTask & DagTaskFields & GangTaskFields)[], options: SubmitOptions = {}): Promise<Task[]> {
    let resolved: Resources[];
    try {
      resolved = this.checkSubmission(user, inputs);
      inputs.forEach((input, index) => {
        if (input.network === 'run' && input.dagId === undefined) {
          throw new WharfError('validation_failed', `${batchPlace(index, inputs.length)}network: "run" is the network of a DAG run; only tasks of a DAG file may ask for it`);
        }
      });
    } catch (error: unknown) {
      return Promise.reject(error);
    }
    const { serial, clock, store, state, changes } = this.resources;
    return serial.run(async () => {
      this.checkQueueRoom(inputs);
      const now = clock.now();
      const defaults = { baseMs: this.resources.options.retryBackoffMs, maxMs: this.resources.options.retryBackoffMaxMs };
      const tasks: Task[] = inputs.map(({ workerId, queue: named, ...input }, index) => {
        const queue = named ?? DEFAULT_QUEUE;
        return {
          id: randomUUID(),
          userId: user.id,
          ...input,
          queue,
          priority: input.priority ?? this.resources.queues.get(queue)?.defaultPriority ?? 50,
          ...(workerId !== undefined ? { pinnedWorkerId: workerId } : {}),
          retryPolicy: resolveRetryPolicy(input.retryPolicy, defaults),
          resources: resolved[index]!,
          status: 'queued',
          retriesUsed: 0,
          createdAt: now,
          attemptCount: 0,
        };
      });
      const stored = tasks.flatMap((task): StoreChange[] => [
        { kind: 'insertTask', task },
        { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'submitted', message: `submitted by ${user.email}` } },
      ]);
      if (options.extraChanges) stored.push(...options.extraChanges(tasks));
      if (!(await store.commit(stored))) throw new WharfError('conflict', 'the submission changed state that changed meanwhile; try again');
      this.resources.queues.rememberUser(user);
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

/**
 * A submission's retry policy with the master's defaults filled in (maxRetries stays the task's
 * own field). An absent maxBackoffSeconds is the default cap, or the first wait when that is longer.
 */
function resolveRetryPolicy(input: RetryPolicyInput | undefined, defaults: BackoffDefaults): NonNullable<Task['retryPolicy']> {
  const backoffSeconds = input?.backoffSeconds ?? defaults.baseMs / 1000;
  return {
    backoffSeconds,
    backoffMultiplier: input?.backoffMultiplier ?? DEFAULT_BACKOFF_MULTIPLIER,
    maxBackoffSeconds: input?.maxBackoffSeconds ?? Math.max(defaults.maxMs / 1000, backoffSeconds),
    ...(input?.retryOn ? { retryOn: input.retryOn } : {}),
  };
}
