// The gang service: gangs of member tasks placed all-or-nothing (records/gang.ts draws the
// lifecycle). A submission stores the gang and its members in one commit; the scheduling pass
// places the members together or not at all (scheduler/gang-placement.ts through
// tasks/systems/gang-dispatch.ts). Whenever a member changes (TaskService.onTaskChange) or one of
// its attempts ends (onAttemptFinished), the gang is evaluated on this service's serial executor:
// the pure decideGang (gang-decision.ts) says what follows and this applies it — the gang
// running, succeeded, failed or cancelled with every member that still lives ended through the
// cancellation path (the worker stops it with the grace), or restarted: the others stopped, then,
// once none holds an attempt, every member re-queued in one commit as a new attempt. A pending
// gang's timeout is a timer on the clock, armed again for every unfinished gang after a restart
// (recover), so a deadline that passed while the master was down fires at once.
//
// Ports: each gang gets `size` consecutive ports from the gang port range, none shared with an
// unfinished gang; member r listens on port + r (WHARF_GANG_PEERS, MASTER_PORT = port).
import { randomUUID } from 'node:crypto';
import { notFound, WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import { TERMINAL_GANG_STATUSES, type Gang, type GangPatch, type GangStatus } from '../records/gang.js';
import type { Task } from '../records/task.js';
import type { User } from '../records/user.js';
import { SerialExecutor } from '../serial-executor.js';
import type { Store } from '../store/store.js';
import type { Clock, ClockTimer, TaskService } from '../tasks/task-service.js';
import { decideGang, type MemberView } from './gang-decision.js';
import type { NewGang } from './gang-input.js';

/** The ports gangs take from, unless the master is told otherwise: PyTorch's usual 29500 on. */
export const DEFAULT_GANG_PORTS = { first: 29500, last: 30499 };

export interface GangServiceOptions {
  clock: Clock;
  logger: Logger;
  /** the ports gang members listen on (inclusive); default DEFAULT_GANG_PORTS */
  ports?: { first: number; last: number } | undefined;
}

/** A member as GET /api/gangs/:id shows it. */
export interface GangMemberView {
  rank: number;
  taskId: string;
  name: string;
  status: Task['status'];
  workerId?: string | undefined;
  reason?: string | undefined;
  attemptCount: number;
}

export interface GangDetails extends Gang {
  members: GangMemberView[];
}

/** Fires when a gang changes status (metrics, the event stream). */
export type GangListener = (gang: Gang) => void;

export class GangService {
  private readonly serial = new SerialExecutor();
  private readonly queued = new Set<string>();
  private readonly timers = new Map<string, ClockTimer>();
  /** member task id → gang id, for the unfinished gangs */
  private readonly gangOf = new Map<string, string>();
  /** the unfinished gangs' port ranges */
  private readonly ports = new Map<string, { port: number; size: number }>();
  private readonly listeners = new Set<GangListener>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly tasks: TaskService,
    private readonly options: GangServiceOptions,
  ) {
    tasks.onTaskChange((task) => {
      if (task.gangId !== undefined) this.evaluateSoon(task.gangId);
    });
    tasks.onAttemptFinished((attempt) => {
      const gangId = this.gangOf.get(attempt.taskId);
      if (gangId !== undefined) this.evaluateSoon(gangId);
    });
  }

  onChange(listener: GangListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** After a master restart: every unfinished gang is known again, its timeout armed, and evaluated. */
  async recover(): Promise<void> {
    for (const gang of await this.store.listUnfinishedGangs()) {
      this.remember(gang);
      this.armTimeout(gang);
      this.evaluateSoon(gang.id);
    }
  }

  submit(user: User, input: NewGang): Promise<GangDetails> {
    // refused before anything is stored, naming the member
    this.tasks.checkSubmission(user, input.members, (index) => `members[${index}].`);
    return this.serial.run(async () => {
      const now = this.options.clock.now();
      const size = input.members.length;
      const port = this.pickPort(size);
      const gangId = randomUUID();
      const gang: Gang = {
        id: gangId,
        name: input.name,
        userId: user.id,
        size,
        status: 'pending',
        policy: input.policy,
        timeoutSeconds: input.timeoutSeconds,
        maxRestarts: input.policy === 'restartGang' ? input.maxRestarts : 0,
        restartsUsed: 0,
        memberIds: [],
        port,
        createdAt: now,
        waitingSince: now,
        version: 1,
      };
      // registered before the members are stored: their first change notices find the gang
      this.ports.set(gangId, { port, size });
      try {
        await this.tasks.submitMany(
          user,
          input.members.map((member, rank) => ({ ...member, maxRetries: 0, gangId, gangRank: rank, gangSize: size, gangPort: port })),
          {
            extraChanges: (tasks) => {
              gang.memberIds = tasks.map((task) => task.id);
              return [{ kind: 'insertGang', gang }];
            },
          },
        );
      } catch (error: unknown) {
        this.ports.delete(gangId);
        throw error;
      }
      this.remember(gang);
      this.armTimeout(gang);
      this.options.logger.info({ gangId, name: gang.name, size, port }, 'gang submitted');
      this.emit(gang);
      return this.details(gang);
    });
  }

  async get(user: User, gangId: string): Promise<GangDetails> {
    return this.details(await this.visibleGang(user, gangId));
  }

  async list(user: User, query: { status?: GangStatus | undefined; limit: number }): Promise<Gang[]> {
    return this.store.listGangs({ ...query, userId: user.role === 'admin' ? undefined : user.id });
  }

  /** Cancels the gang: every member that still lives is cancelled (running ones stopped with the grace). */
  cancel(user: User, gangId: string): Promise<GangDetails> {
    return this.serial.run(async () => {
      const gang = await this.visibleGang(user, gangId);
      if (TERMINAL_GANG_STATUSES.has(gang.status)) throw new WharfError('conflict', `gang ${gangId} is already ${gang.status}`);
      const reason = `gang cancelled by ${user.email}`;
      const ended = await this.finish(gang, 'cancelled', reason);
      if (!ended) throw new WharfError('conflict', `gang ${gangId} changed; try again`);
      await this.tasks.endGangMembers(gang.memberIds, 'cancelled', reason);
      return this.details((await this.store.getGang(gangId))!);
    });
  }

  /** Gangs by status, for /metrics. */
  async countByStatus(): Promise<Map<GangStatus, number>> {
    const counts = new Map<GangStatus, number>();
    for (const gang of await this.store.listUnfinishedGangs()) counts.set(gang.status, (counts.get(gang.status) ?? 0) + 1);
    return counts;
  }

  /** Waits for the evaluations in flight (tests, shutdown). */
  idle(): Promise<void> {
    return this.serial.idle();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  // ---------------------------------------------------------------- the engine

  private evaluateSoon(gangId: string): void {
    if (this.stopped || this.queued.has(gangId)) return;
    this.queued.add(gangId);
    this.serial
      .run(async () => {
        this.queued.delete(gangId);
        if (!this.stopped) await this.step(gangId);
      })
      .catch((error: unknown) => this.options.logger.error({ err: error, gangId }, 'gang evaluation failed'));
  }

  private async step(gangId: string): Promise<void> {
    const gang = await this.store.getGang(gangId);
    if (!gang || TERMINAL_GANG_STATUSES.has(gang.status)) return;
    const members: MemberView[] = [];
    for (const [rank, taskId] of gang.memberIds.entries()) {
      const member = await this.tasks.gangMember(taskId);
      if (member) members.push({ rank, task: member.task, holdsAttempt: member.holdsAttempt });
    }
    const now = this.options.clock.now();
    const decision = decideGang(gang, members, now);
    const log = this.options.logger;
    switch (decision.kind) {
      case 'none': {
        // the waiting reason of the gang is its members' (the scheduling pass sets theirs)
        const reason = members.find((m) => m.task.status === 'queued')?.task.reason;
        if (gang.status === 'pending' && reason !== undefined && reason !== gang.reason && gang.stopping === undefined) {
          await this.update(gang, { reason });
        }
        return;
      }
      case 'placed':
        if (await this.update(gang, { status: 'running', placedAt: now, reason: undefined })) {
          this.clearTimeout(gangId);
          log.info({ gangId, waitedMs: now - gang.waitingSince }, 'gang placed');
        }
        return;
      case 'succeed':
        if (await this.finish(gang, 'succeeded', undefined)) log.info({ gangId }, 'gang succeeded');
        return;
      case 'timeOut':
        if (await this.finish(gang, 'failed', decision.reason)) {
          log.info({ gangId, reason: decision.reason }, 'gang timed out');
          await this.tasks.endGangMembers(gang.memberIds, 'failed', decision.reason);
        }
        return;
      case 'fail':
        if (await this.finish(gang, decision.status, decision.reason)) {
          log.info({ gangId, reason: decision.reason }, 'gang ended');
          await this.tasks.endGangMembers(gang.memberIds, decision.status, decision.reason);
        }
        return;
      case 'restart': {
        const patch: GangPatch = {
          status: 'pending',
          stopping: 'restart',
          reason: decision.reason,
          restartsUsed: gang.restartsUsed + (decision.charged ? 1 : 0),
          waitingSince: now,
          placedAt: undefined,
        };
        if (!(await this.update(gang, patch))) return;
        log.info({ gangId, reason: decision.reason }, 'gang restarting');
        await this.tasks.endGangMembers(gang.memberIds, 'cancelled', decision.reason);
        // members that held no attempt are settled already: the restart may go on at once
        this.evaluateSoon(gangId);
        return;
      }
      case 'requeue': {
        const requeued = await this.tasks.requeueGangMembers(gang.memberIds, `${gang.reason ?? 'gang restarting'}; re-queued with the whole gang`);
        if (!requeued) return;
        const current = (await this.store.getGang(gangId))!;
        // the timeout counts again from the restart
        if (await this.update(current, { stopping: undefined, waitingSince: now })) this.armTimeout({ ...current, waitingSince: now });
        return;
      }
    }
  }

  /** Stores the patch when the gang is still as read; answers whether it was. */
  private async update(gang: Gang, patch: GangPatch): Promise<boolean> {
    const stored = await this.store.commit([{ kind: 'updateGang', gangId: gang.id, expectVersion: gang.version, patch: { ...patch, version: gang.version + 1 } }]);
    if (!stored) {
      this.evaluateSoon(gang.id);
      return false;
    }
    if (patch.status !== undefined && patch.status !== gang.status) this.emit({ ...gang, ...patch, version: gang.version + 1 } as Gang);
    return true;
  }

  private async finish(gang: Gang, status: GangStatus, reason: string | undefined): Promise<boolean> {
    const finished = await this.update(gang, { status, reason, stopping: undefined, finishedAt: this.options.clock.now() });
    if (finished) {
      this.clearTimeout(gang.id);
      this.ports.delete(gang.id);
      for (const taskId of gang.memberIds) this.gangOf.delete(taskId);
    }
    return finished;
  }

  private remember(gang: Gang): void {
    this.ports.set(gang.id, { port: gang.port, size: gang.size });
    for (const taskId of gang.memberIds) this.gangOf.set(taskId, gang.id);
  }

  private armTimeout(gang: Gang): void {
    this.clearTimeout(gang.id);
    if (gang.status !== 'pending' || gang.timeoutSeconds <= 0) return;
    const { clock } = this.options;
    const at = gang.waitingSince + gang.timeoutSeconds * 1000;
    this.timers.set(
      gang.id,
      clock.setTimer(() => {
        this.timers.delete(gang.id);
        this.evaluateSoon(gang.id);
      }, Math.max(0, at - clock.now())),
    );
  }

  private clearTimeout(gangId: string): void {
    this.timers.get(gangId)?.cancel();
    this.timers.delete(gangId);
  }

  /** The lowest first port whose `size` ports no unfinished gang holds. */
  private pickPort(size: number): number {
    const { first, last } = this.options.ports ?? DEFAULT_GANG_PORTS;
    const taken = [...this.ports.values()].sort((a, b) => a.port - b.port);
    let candidate = first;
    for (const range of taken) {
      if (candidate + size <= range.port) break;
      candidate = Math.max(candidate, range.port + range.size);
    }
    if (candidate + size - 1 > last) {
      throw new WharfError('conflict', `no ${size} free gang ports left in ${first}-${last}: unfinished gangs hold them; wait for some to finish`);
    }
    return candidate;
  }

  private emit(gang: Gang): void {
    for (const listener of this.listeners) {
      try {
        listener(gang);
      } catch (error: unknown) {
        this.options.logger.error({ err: error, gangId: gang.id }, 'a gang listener failed');
      }
    }
  }

  private async visibleGang(user: User, gangId: string): Promise<Gang> {
    const gang = await this.store.getGang(gangId);
    if (!gang || (user.role !== 'admin' && gang.userId !== user.id)) throw notFound(`gang ${gangId}`);
    return gang;
  }

  private async details(gang: Gang): Promise<GangDetails> {
    const members: GangMemberView[] = [];
    for (const [rank, taskId] of gang.memberIds.entries()) {
      const task = (await this.tasks.gangMember(taskId))?.task;
      if (!task) continue;
      members.push({ rank, taskId, name: task.name, status: task.status, workerId: task.workerId, reason: task.reason, attemptCount: task.attemptCount });
    }
    // a pending gang waits for what its first queued member waits for (the scheduling pass's reason)
    const waiting = gang.status === 'pending' && gang.stopping === undefined ? members.find((m) => m.status === 'queued')?.reason : undefined;
    return { ...gang, ...(waiting !== undefined ? { reason: waiting } : {}), members };
  }
}
