// Dispatch: turns the queue into assignments. A scheduling pass (coalesced: many requests in one
// tick make one pass; run after every event that can free or add room — submit, completion,
// worker join, loss, backoff expiry — never on a polling ticker) asks the pure scheduler
// (scheduler/placement.ts) for a plan, stores every placement of the plan in one group commit
// (each still conditional on its task being queued), then applies what was stored: the attempt
// joins the live state, its resources are reserved on the worker and the assignment goes down
// the worker's channel. Tasks the plan could not place keep a reason people can act on.
// The plan reads the (queue, user) sub-queues, the queues and user limits, what placed tasks use
// now, and the reservations of the previous plan, which this system keeps (in memory: after a
// restart a task that has waited long enough gets its reservation again at the first pass).
import { randomUUID } from 'node:crypto';
import { isStorageFull } from '../../errors.js';
import { workerLabel, type Attempt } from '../../records/attempt.js';
import type { AssignedInput, RegistryAuth } from '../../records/master-down.js';
import type { Task, TaskInput } from '../../records/task.js';
import { planPlacements, type Placement, type Reservation } from '../../scheduler/placement.js';
import { applyPatch, type StoreChange } from '../../store/store.js';
import { combinePrepared, commitPrepared, type PreparedChange } from '../prepared-change.js';
import type { TaskSystemResources } from '../system-resources.js';
import { planGangStep } from './gang-dispatch.js';
import type { PreemptionSystem } from './preemption-system.js';
import type { TimerSystem } from './timer-system.js';

/** A scheduling pass the master's full storage refused is tried again after this long. */
const STORAGE_FULL_RETRY_MS = 1000;

/** Placements per pass at most: a pass stays short, and a full one asks for the next at once. */
const MAX_PLACEMENTS_PER_PASS = 5000;

export class DispatchSystem {
  private cursor = 0;
  private reservations = new Map<string, Reservation>();
  private passQueued = false;
  private stopped = false;

  constructor(
    private readonly resources: TaskSystemResources,
    private readonly timers: TimerSystem,
    private readonly preemption: PreemptionSystem,
  ) {}

  /** A scheduling pass is queued and has not run yet. */
  get pending(): boolean {
    return this.passQueued;
  }

  /** Asks for a scheduling pass; every request made in one tick is served by one pass. */
  scheduleSoon(): void {
    if (this.passQueued || this.stopped) return;
    this.passQueued = true;
    setImmediate(() => {
      this.passQueued = false;
      this.resources.serial.run(() => this.schedulePass()).catch((error: unknown) => {
        // nothing of the pass was stored; a full disk (said once by the storage alarm) is tried
        // again shortly, so no queued task waits for an unrelated event once there is room
        if (!isStorageFull(error)) {
          this.resources.logger.error({ err: error }, 'scheduling pass failed');
          return;
        }
        this.resources.logger.debug({ err: error }, 'scheduling pass not stored: the master storage is full; trying again');
        this.timers.atEarliest('dispatch', this.resources.clock.now() + STORAGE_FULL_RETRY_MS, () => this.scheduleSoon());
      });
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /** The reservations the last pass left standing, by task id (read-only: the fit check). */
  standingReservations(): ReadonlyMap<string, Reservation> {
    return this.reservations;
  }

  /** The worker's stream is open again: it gets every assignment it has not acknowledged. */
  resendAssignments(workerId: string): void {
    for (const attempt of this.resources.state.attemptsOn(workerId)) {
      if (attempt.status === 'assigned') this.sendAssignment(attempt);
    }
  }

  private async schedulePass(): Promise<void> {
    const { state, registry, clock, store, queues, options, changes } = this.resources;
    // the leadership gate: a standby (or a master stepping down) places nothing
    if (this.stopped || !this.resources.leading() || state.queue.size === 0) {
      this.reservations.clear();
      return;
    }
    // priority preemption: the room victims free is held for their preemptor (preemption-system.ts)
    for (const [taskId, reservation] of this.preemption.heldReservations(this.reservations)) this.reservations.set(taskId, reservation);
    // gangs first, all or nothing (gang-dispatch.ts); the plain planner gets the rest and the room left.
    // Workers held for a preemptor are held from gangs too; gang members are not in the plain
    // planner's streams, so a gang member never preempts (and is never a victim: preemption-system.ts)
    const heldWorkers = new Set([...this.reservations.values()].map((reservation) => reservation.workerId));
    const gangStep = planGangStep(state, registry.schedulingSnapshot(), queues, state.usage, heldWorkers);
    const plan = planPlacements({
      now: clock.now(),
      streams: gangStep.streams,
      policy: queues,
      usage: state.usage,
      reservations: this.reservations,
      running: this.preemption.candidates(),
      reserveAfterMs: options.reserveAfterMs,
      workers: gangStep.plan.workers,
      cursor: this.cursor,
      maxPlacements: MAX_PLACEMENTS_PER_PASS,
    });
    for (const [taskId, reason] of gangStep.plan.waiting) plan.waiting.set(taskId, reason);
    this.cursor = plan.cursor;
    // a reservation ends with its task's wait (the planner drops it when it places the task)
    for (const taskId of plan.reservations.keys()) {
      if (!state.queue.has(taskId)) plan.reservations.delete(taskId);
    }
    const made = [...plan.reservations].filter(([taskId]) => !this.reservations.has(taskId));
    this.reservations = plan.reservations;
    for (const [taskId, reason] of plan.waiting) {
      const task = state.tasks.get(taskId);
      // a task waiting for a retry (notBefore set until it is placed) keeps the retry's reason
      if (task && task.reason !== reason && task.notBefore === undefined) task.reason = reason;
    }
    // every placement of the pass in one group commit, each still conditional on its task
    const prepared: PreparedChange[] = [];
    // GPU ids handed out in this pass, by worker (their attempts join the live state only once stored)
    const handedOut = new Map<string, Set<string>>();
    prepared.push(...this.prepareGangs(gangStep.plan.placements, handedOut));
    for (const placement of plan.placements) {
      const task = state.tasks.get(placement.taskId);
      if (!task) {
        state.queue.remove(placement.taskId);
        continue;
      }
      const gpuIds = this.allocateGpuIds(task, placement.workerId, handedOut);
      if (gpuIds === false) continue;
      prepared.push(this.prepareAssign(task, placement.workerId, gpuIds));
    }
    await commitPrepared(store, prepared);
    // the plan's evictions: victims told to stop, after this pass's placements are stored
    if (plan.evictions.length > 0) await this.preemption.apply(plan.evictions);
    // a new reservation is a task event (the task's history and the event stream say so)
    if (made.length > 0) {
      const now = clock.now();
      const events = made.flatMap(([taskId, reservation]): StoreChange[] =>
        state.tasks.has(taskId) ? [{ kind: 'appendEvent', event: { taskId, at: now, kind: 'reserved', message: `reserved worker ${reservation.workerId}: no other task starts there until this one fits` } }] : [],
      );
      if (events.length > 0 && (await store.commit(events))) {
        for (const [taskId] of made) {
          const task = state.tasks.get(taskId);
          if (task) changes.emit(task);
        }
      }
    }
    if (plan.placements.length >= MAX_PLACEMENTS_PER_PASS) this.scheduleSoon();
    if (plan.wakeAt !== undefined) this.timers.atEarliest('dispatch', plan.wakeAt, () => this.scheduleSoon());
  }

  /**
   * The GPU device ids the task gets on the worker: the first `resources.gpu` of the worker's ids
   * that no active attempt there holds and this pass has not handed out. undefined: no ids to
   * assign (no GPU asked for, or a worker that offers a count only). false: the worker has too
   * few free ids (it re-registered with fewer while attempts hold some): the task stays queued
   * and says so, and a later pass (when an attempt there ends) tries again.
   */
  private allocateGpuIds(task: Task, workerId: string, handedOut: Map<string, Set<string>>): string[] | undefined | false {
    const wanted = task.resources.gpu;
    if (wanted <= 0) return undefined;
    const ids = this.resources.registry.get(workerId)?.record.gpuIds;
    if (!ids || ids.length === 0) return undefined;
    const taken = handedOut.get(workerId) ?? new Set<string>();
    for (const attempt of this.resources.state.attemptsOn(workerId)) for (const id of attempt.gpuIds ?? []) taken.add(id);
    const free = ids.filter((id) => !taken.has(id));
    if (free.length < wanted) {
      task.reason = `worker ${workerId}: ${free.length} of its GPU ids free (${ids.length} in all), ${wanted} wanted`;
      return false;
    }
    const chosen = free.slice(0, wanted);
    for (const id of chosen) taken.add(id);
    handedOut.set(workerId, taken);
    return chosen;
  }

  /**
   * A gang's placements as one prepared change (stored all together or not at all), each member's
   * attempt carrying every member's address. A member the worker's GPU ids cannot serve keeps the
   * whole gang queued.
   */
  private prepareGangs(placements: readonly Placement[], handedOut: Map<string, Set<string>>): PreparedChange[] {
    const { state, registry } = this.resources;
    const byGang = new Map<string, { task: Task; workerId: string }[]>();
    for (const placement of placements) {
      const task = state.tasks.get(placement.taskId);
      if (!task?.gangId) continue;
      byGang.set(task.gangId, [...(byGang.get(task.gangId) ?? []), { task, workerId: placement.workerId }]);
    }
    const prepared: PreparedChange[] = [];
    for (const members of byGang.values()) {
      if (members.length !== members[0]!.task.gangSize) continue;
      const peers = members.map(({ task, workerId }) => gangPeer(registry.get(workerId)?.record.address ?? registry.get(workerId)?.record.hostname ?? workerId, (task.gangPort ?? 0) + (task.gangRank ?? 0)));
      const parts: PreparedChange[] = [];
      for (const { task, workerId } of members) {
        const gpuIds = this.allocateGpuIds(task, workerId, handedOut);
        if (gpuIds === false) break;
        parts.push(this.prepareAssign(task, workerId, gpuIds, peers));
      }
      if (parts.length === members.length) prepared.push(combinePrepared(parts));
    }
    return prepared;
  }

  private prepareAssign(task: Task, workerId: string, gpuIds: string[] | undefined, gangPeers?: string[]): PreparedChange {
    const { state, registry, changes, clock } = this.resources;
    const now = clock.now();
    const workerName = registry.get(workerId)?.record.name;
    const attempt: Attempt = {
      id: randomUUID(),
      taskId: task.id,
      number: task.attemptCount + 1,
      workerId,
      ...(workerName !== undefined ? { workerName } : {}),
      status: 'assigned',
      resources: task.resources,
      ...(gpuIds ? { gpuIds } : {}),
      ...(gangPeers ? { gangPeers } : {}),
      createdAt: now,
    };
    const patch = {
      status: 'assigned' as const,
      workerId,
      workerName,
      currentAttemptId: attempt.id,
      attemptCount: attempt.number,
      notBefore: undefined,
      reason: undefined,
    };
    return {
      changes: [
        { kind: 'insertAttempt', attempt },
        { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch },
        {
          kind: 'appendEvent',
          event: { taskId: task.id, at: now, kind: 'assigned', message: `attempt ${attempt.number} on ${workerLabel(workerId, workerName)}${gpuIds ? ` (GPU ${gpuIds.join(', ')})` : ''}`, attemptId: attempt.id },
        },
      ],
      applied: () => {
        state.queue.remove(task.id);
        applyPatch(task, patch);
        state.attempts.set(attempt.id, attempt);
        registry.reserve(workerId, attempt.resources);
        this.sendAssignment(attempt);
        changes.emit(task);
      },
      // the stored task is no longer queued (another master, or a change we did not see)
      refused: () => {
        state.queue.remove(task.id);
      },
    };
  }

  private sendAssignment(attempt: Attempt): void {
    const task = this.resources.state.tasks.get(attempt.taskId);
    if (!task) return;
    // the owner's registry credentials, only when the image's registry has some (else undefined at once)
    const registryAuth = this.resources.hooks.registryAuth?.credentialsFor(task);
    if ((task.inputs && task.inputs.length > 0) || registryAuth !== undefined) {
      void this.sendPrepared(attempt, task, registryAuth);
      return;
    }
    this.send(attempt, task, undefined, undefined);
  }

  /** An assignment that waits for its inputs' URLs or its credentials before it goes. */
  private async sendPrepared(attempt: Attempt, task: Task, registryAuth: Promise<RegistryAuth | undefined> | undefined): Promise<void> {
    const { logger, state } = this.resources;
    const [inputs, auth] = await Promise.all([
      task.inputs && task.inputs.length > 0 ? this.resolveInputs(task, task.inputs) : undefined,
      registryAuth?.catch((error: unknown) => {
        // the pull then fails and says why (unauthorized); the secret is never in the log
        logger.error({ err: error, taskId: task.id, attemptId: attempt.id }, 'cannot read the task owner\'s registry credentials; assigning without them');
        return undefined;
      }),
    ]);
    // still the attempt to send (not cancelled or lost while URLs and credentials were made)
    if (state.attempts.get(attempt.id)?.status !== 'assigned') return;
    this.send(attempt, task, inputs, auth);
  }

  /** DAG inputs: with an object store each gets a presigned URL; otherwise the worker fetches from the master. */
  private resolveInputs(task: Task, inputs: readonly TaskInput[]): Promise<AssignedInput[]> {
    const { options, logger } = this.resources;
    return Promise.all(
      inputs.map(async (input): Promise<AssignedInput> => {
        let url: string | undefined;
        try {
          url = await options.inputUrl?.(input.sha256);
        } catch (error: unknown) {
          logger.warn({ err: error, taskId: task.id, sha256: input.sha256 }, 'no presigned URL for an input; the worker fetches it from the master');
        }
        return { name: input.name, sha256: input.sha256, size: input.size, url };
      }),
    );
  }

  private send(attempt: Attempt, task: Task, inputs: AssignedInput[] | undefined, registryAuth: RegistryAuth | undefined): void {
    const { hooks, registry } = this.resources;
    const directOutputs = hooks.directOutputs && task.outputs && task.outputs.length > 0 ? task.outputs : undefined;
    registry.send(attempt.workerId, { kind: 'assign', assignment: { task, attempt, inputs, directOutputs, ...(registryAuth ? { registryAuth } : {}) } });
  }
}

/** `host:port`, an IPv6 host in brackets. */
function gangPeer(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
