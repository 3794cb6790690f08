// Priority preemption, applied (issue 13 point 2). The pure planner (scheduler/placement.ts)
// chooses the evictions: a task of a `PreemptLowerPriority` queue that fits nowhere for want of
// room evicts, on one worker, the fewest running tasks of strictly lower priority, and holds a
// reservation of that worker. This system gives the planner its candidates and applies what it
// chose, in the dispatch system's turn of the serial executor:
//
//   assigned · running ──evicted──▶ preempting ──result `cancelled`──▶ preempted; the task is
//     (one commit: attempt preempting,      │    re-queued at once, not charged, at its priority
//      victim's and preemptor's events)     ├──result succeeded / failed / …──▶ as reported
//                                           ├──a person's cancel──▶ cancelling ──▶ cancelled
//                                           └──its worker lost or removed──▶ lost (fencing)
//
// The worker is told to stop the victim (SIGTERM, the cancel grace, SIGKILL) with the same
// `cancel` message a person's cancel sends, told again when its stream reopens (`resendStops`).
// A `preempting` attempt is active: it keeps its resources on the worker and in its queue's and
// user's usage, the store's active-attempt query lists it, and a restarted master recovers it.
// The freed room is held for the preemptor: the plan's reservation, and — after a restart, or if
// the plan dropped it — a reservation rebuilt from the stopping attempts (`heldReservations`),
// so a smaller task cannot take it. A preempting attempt is not a candidate again. No loops: a
// victim is strictly lower priority than its preemptor and keeps its priority when re-queued, so
// it can never evict the preemptor back; the planner is also told which tasks each running task
// evicted (`evicted`), and never makes one of them its victim.
// Gangs (gang-dispatch.ts) stay out of it both ways: a gang member is never a candidate (its
// gang runs all or nothing), and gang members are placed by the gang step, never by the
// planner's eviction path; a worker held for a preemptor is held from the gang step too.
import type { Attempt, Preemptor } from '../../records/attempt.js';
import type { Eviction, Reservation, RunningSnapshot } from '../../scheduler/placement.js';
import { applyPatch, type StoreChange } from '../../store/store.js';
import type { TaskSystemResources } from '../system-resources.js';

/** The stop's reason, the victim's event and its attempt's error. */
export function preemptedByMessage(preemptor: Preemptor): string {
  return `preempted by task ${preemptor.taskId} (priority ${preemptor.priority}, queue ${preemptor.queue})`;
}

export class PreemptionSystem {
  /** victim task ids by the task that evicted them (kept while the preemptor lives) */
  private readonly evicted = new Map<string, Set<string>>();
  /** attempts told to stop for a preemptor (pruned as they end); after a restart, found at the first pass */
  private readonly stopping = new Set<string>();
  private scanned = false;

  constructor(private readonly resources: TaskSystemResources) {}

  /**
   * The placed attempts the planner may evict (assigned or running, their task live; not one
   * already stopping); undefined while no queued task is in a `PreemptLowerPriority` queue (no
   * pass pays for the list then).
   */
  candidates(): RunningSnapshot[] | undefined {
    const { state, queues } = this.resources;
    if (!state.queue.streams().some((stream) => queues.queue(stream.queue)?.preemptionPolicy === 'PreemptLowerPriority')) return undefined;
    for (const taskId of this.evicted.keys()) if (!state.tasks.has(taskId)) this.evicted.delete(taskId);
    const running: RunningSnapshot[] = [];
    for (const attempt of state.attempts.values()) {
      if (attempt.status !== 'assigned' && attempt.status !== 'running') continue;
      const task = state.tasks.get(attempt.taskId);
      if (!task || task.currentAttemptId !== attempt.id) continue;
      // a gang member is never a victim: stopping one would break its gang's all-or-nothing run
      // (gangs do not preempt either: their members are placed by the gang step, not the planner)
      if (task.gangId !== undefined) continue;
      running.push({
        attemptId: attempt.id,
        taskId: task.id,
        workerId: attempt.workerId,
        priority: task.priority,
        resources: attempt.resources,
        startedAt: attempt.startedAt ?? attempt.createdAt,
        preemptible: task.preemptible,
        evicted: this.evicted.get(task.id),
      });
    }
    return running;
  }

  /**
   * Reservations for queued preemptors whose victims are still stopping and that hold none in
   * `current` (a restarted master, or a plan that dropped it): the worker of their victims.
   */
  heldReservations(current: ReadonlyMap<string, Reservation>): Map<string, Reservation> {
    const { state, clock } = this.resources;
    const held = new Map<string, Reservation>();
    if (!this.scanned) {
      // a restarted master: its stopping attempts came from the store
      this.scanned = true;
      for (const attempt of state.attempts.values()) if (attempt.status === 'preempting') this.stopping.add(attempt.id);
    }
    for (const attemptId of this.stopping) {
      const attempt = state.attempts.get(attemptId);
      if (attempt?.status !== 'preempting') {
        this.stopping.delete(attemptId);
        continue;
      }
      const by = attempt.preemptedBy;
      if (!by || current.has(by.taskId) || held.has(by.taskId) || !state.queue.has(by.taskId)) continue;
      held.set(by.taskId, { workerId: attempt.workerId, since: clock.now(), queue: by.queue, priority: by.priority });
      let victims = this.evicted.get(by.taskId);
      if (!victims) this.evicted.set(by.taskId, (victims = new Set()));
      victims.add(attempt.taskId);
    }
    return held;
  }

  /**
   * Applies the plan's evictions: per eviction one commit (each victim's attempt `preempting`
   * with the preemptor named, an event on each victim and one on the preemptor), then the stop
   * goes to the worker. A victim that changed meanwhile is left out; a refused commit (the store
   * changed under this master) evicts nothing. Runs in the dispatch system's turn.
   */
  async apply(evictions: readonly Eviction[]): Promise<void> {
    const { state, store, clock, changes, logger } = this.resources;
    for (const eviction of evictions) {
      const preemptorTask = state.tasks.get(eviction.preemptorTaskId);
      if (!preemptorTask) continue;
      const preemptor: Preemptor = { taskId: preemptorTask.id, priority: preemptorTask.priority, queue: preemptorTask.queue };
      const message = preemptedByMessage(preemptor);
      const now = clock.now();
      const victims: { attempt: Attempt; patch: { status: 'preempting'; error: string; preemptedBy: Preemptor } }[] = [];
      const stored: StoreChange[] = [];
      for (const attemptId of eviction.victimAttemptIds) {
        const attempt = state.attempts.get(attemptId);
        const task = attempt ? state.tasks.get(attempt.taskId) : undefined;
        if (!attempt || !task || task.currentAttemptId !== attemptId || (attempt.status !== 'assigned' && attempt.status !== 'running')) continue;
        const patch = { status: 'preempting' as const, error: message, preemptedBy: preemptor };
        victims.push({ attempt, patch });
        stored.push(
          { kind: 'updateAttempt', attemptId, expectStatus: [attempt.status], patch },
          { kind: 'updateTask', taskId: task.id, expectAttemptId: attemptId, patch: { reason: `${message}; stopping it` } },
          { kind: 'appendEvent', event: { taskId: task.id, at: now, kind: 'preempting', message, attemptId } },
        );
      }
      if (victims.length === 0) continue;
      const named = victims.map(({ attempt }) => `${attempt.taskId} (priority ${state.tasks.get(attempt.taskId)!.priority})`).join(', ');
      stored.push({
        kind: 'appendEvent',
        event: { taskId: preemptorTask.id, at: now, kind: 'preempting', message: `evicting ${victims.length} lower-priority task(s) on worker ${eviction.workerId}: ${named}` },
      });
      if (!(await store.commit(stored))) {
        logger.warn({ preemptorTaskId: preemptorTask.id, workerId: eviction.workerId }, 'eviction not stored: state changed');
        continue;
      }
      let victimIds = this.evicted.get(preemptorTask.id);
      if (!victimIds) this.evicted.set(preemptorTask.id, (victimIds = new Set()));
      for (const { attempt, patch } of victims) {
        applyPatch(attempt, patch);
        this.stopping.add(attempt.id);
        victimIds.add(attempt.taskId);
        this.sendStop(attempt, message);
        const task = state.tasks.get(attempt.taskId);
        if (!task) continue;
        task.reason = `${message}; stopping it`;
        changes.emit(task);
      }
      changes.emit(preemptorTask);
      logger.info(
        { preemptorTaskId: preemptorTask.id, workerId: eviction.workerId, victims: victims.map((v) => v.attempt.id) },
        'preempting lower-priority attempts for a higher-priority task',
      );
    }
  }

  /** The worker's stream is open again: it is told again to stop what is being preempted. */
  resendStops(workerId: string): void {
    for (const attempt of this.resources.state.attemptsOn(workerId)) {
      if (attempt.status === 'preempting') this.sendStop(attempt, attempt.error ?? 'preempted by a higher-priority task');
    }
  }

  private sendStop(attempt: Attempt, reason: string): void {
    const { registry, options } = this.resources;
    registry.send(attempt.workerId, { kind: 'cancel', attemptId: attempt.id, reason, graceSeconds: Math.ceil(options.cancelGraceMs / 1000) });
  }
}
