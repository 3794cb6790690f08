// Deadlines: a task may say when it must have started (`startDeadline`) and when it must have
// ended (`deadline`), both epoch ms. One timer per deadline on the TimerSystem
// (`deadline:<kind>:<taskId>`), armed by every change of a live task (submitted, re-queued from
// the dead letters) and for every live task when the master recovers after a restart (a
// deadline that passed while the master was down fires at once). When it fires:
//
//   startDeadline  the task has not started (queued, waiting for a retry, or assigned and not yet
//                  running — pulling its image): it fails at once; an assigned attempt is stopped
//   deadline       the task has not ended: it fails at once and its running attempt is stopped
//                  (cancel with grace: SIGTERM, the grace, SIGKILL); the attempt ends `cancelled`
//                  with the deadline as its error when the worker confirms
//
// Either way the task is `failed` with `deadlineExceeded` naming the deadline and the reason
// `deadline_exceeded: …`; it is not a dead letter (a re-queue could not honour the time it
// asked for). Retries do not outlive the deadline: a retry waiting at the deadline ends too.
// Timers of tasks that start (the start deadline) or end are cleared as they do.
import type { DeadlineKind, Task } from '../../records/task.js';
import { TERMINAL_TASK_STATUSES } from '../../records/task.js';
import type { TaskSystemResources } from '../system-resources.js';
import type { CancellationSystem } from './cancellation-system.js';
import type { TimerSystem } from './timer-system.js';

const KINDS: readonly DeadlineKind[] = ['startDeadline', 'deadline'];
const timerKey = (kind: DeadlineKind, taskId: string): string => `deadline:${kind}:${taskId}`;

export class DeadlineSystem {
  constructor(
    private readonly resources: TaskSystemResources,
    private readonly cancellation: CancellationSystem,
    private readonly timers: TimerSystem,
  ) {
    // every change of a live task (submitted, placed, started, re-queued from the dead letters)
    // arms what it still needs; a task that started no longer needs its start deadline, one that
    // ended needs neither
    resources.changes.subscribe((task) => {
      if (task.startDeadline !== undefined || task.deadline !== undefined) this.arm(task);
    });
  }

  /** Arms the deadlines a task still needs and clears those it does not (idempotent). */
  arm(task: Task): void {
    const ended = TERMINAL_TASK_STATUSES.has(task.status);
    for (const kind of KINDS) {
      const at = task[kind];
      const key = timerKey(kind, task.id);
      if (at === undefined || ended || (kind === 'startDeadline' && task.startedAt !== undefined)) this.timers.clear(key);
      else this.timers.atEarliest(key, at, () => this.fire(task.id, kind));
    }
  }

  /** After a master restart: the deadlines of every live task (one that passed meanwhile fires at once). */
  armAll(): void {
    for (const task of this.resources.state.tasks.values()) {
      if (task.startDeadline !== undefined || task.deadline !== undefined) this.arm(task);
    }
  }

  private fire(taskId: string, kind: DeadlineKind): void {
    const { serial, logger } = this.resources;
    serial.run(() => this.exceed(taskId, kind)).catch((error: unknown) => logger.error({ err: error, taskId, kind }, 'ending a task at its deadline failed'));
  }

  private async exceed(taskId: string, kind: DeadlineKind): Promise<void> {
    const { state, clock, logger } = this.resources;
    const live = state.tasks.get(taskId);
    const at = live?.[kind];
    if (!live || at === undefined) return;
    if (kind === 'startDeadline' && (live.status === 'running' || live.startedAt !== undefined)) return;
    const now = clock.now();
    const when = new Date(at).toISOString();
    const reason =
      kind === 'startDeadline'
        ? `deadline_exceeded: not started by its startDeadline ${when} (${live.status === 'assigned' ? `still starting on ${live.workerId}` : 'still queued'})`
        : `deadline_exceeded: not finished by its deadline ${when} (${live.status === 'running' ? `stopped on ${live.workerId}` : live.status === 'assigned' ? `still starting on ${live.workerId}` : 'still queued'})`;
    const ended = await this.cancellation.endNow(live, { status: 'failed', reason, finishedAt: now, notBefore: undefined, deadlineExceeded: kind }, 'deadline_exceeded', reason);
    if (!ended) logger.warn({ taskId, kind }, 'the task changed as its deadline passed; not ended');
  }
}
