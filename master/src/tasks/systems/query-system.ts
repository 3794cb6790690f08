// Reads: tasks as users may see them (their own, or any for an admin; others answer 404), the
// queue in dispatch order, counts for metrics, and the attempt checks the gRPC gateway makes
// before it takes a worker's logs, files or artifact requests. Reads change nothing.
import { notFound } from '../../errors.js';
import type { Attempt } from '../../records/attempt.js';
import type { OutputFileRecord } from '../../records/output-file.js';
import type { Task, TaskDetails } from '../../records/task.js';
import type { User } from '../../records/user.js';
import { dominantShare } from '../../scheduler/placement.js';
import type { Resources } from '../../records/resources.js';
import type { TaskCounts, TaskFilter, TaskPage, TaskQuery } from '../../store/store.js';
import { WharfError } from '../../errors.js';
import type { TaskSystemResources } from '../system-resources.js';

/** One user's part of a queue: tasks waiting and placed, what those use, and their dominant share of the cluster. */
export interface UserShare {
  userId: string;
  /** their email (how reasons name them) */
  user: string;
  queued: number;
  running: number;
  cpu: number;
  memory: number;
  gpu: number;
  /** the largest fraction of the ready cluster's cpu, memory or gpus their placed tasks in this queue use (0-1) */
  share: number;
  weight: number;
}

export interface QueueStatus {
  queued: number;
  /** placed tasks (assigned, running, cancelling, preempting) */
  running: number;
  cpu: number;
  memory: number;
  gpu: number;
  users: UserShare[];
}

/**
 * What a task list asks for: the store's filter with the owner as `user` (an id or an email,
 * admins only) and the worker as `worker` (an id or a name) instead of ids.
 */
export type TaskFilterRequest = Omit<TaskFilter, 'userId' | 'workerIds'> & { user?: string | undefined; worker?: string | undefined };
export type TaskListRequest = TaskFilterRequest & Pick<TaskQuery, 'limit' | 'cursor' | 'sort'>;

export class QuerySystem {
  constructor(private readonly resources: TaskSystemResources) {}

  async get(user: User, taskId: string): Promise<TaskDetails> {
    const { store, state } = this.resources;
    const task = await this.visibleTask(user, taskId);
    const [attempts, files, events] = await Promise.all([store.listAttempts(task.id), store.listFiles({ taskId: task.id }), store.listEvents(task.id)]);
    return this.withWorkerName({ ...task, attempts: attempts.map((a) => this.attemptWithWorkerName(a)), files, events, queuePosition: state.queue.positionOf(task.id) });
  }

  /**
   * A page of the tasks the user may see that match the request (every filter ANDed), with
   * `total`: how many match in all (every page, not only this one).
   */
  async list(user: User, request: TaskListRequest): Promise<TaskPage & { total: number }> {
    const { limit, cursor, sort, ...filterRequest } = request;
    const filter = await this.taskFilter(user, filterRequest);
    const [page, counts] = await Promise.all([this.resources.store.listTasks({ ...filter, limit, cursor, sort }), this.resources.store.countTasks(filter)]);
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    // live tasks: the in-memory copy carries the current waiting reason
    return { ...page, total, tasks: page.tasks.map((t) => this.withWorkerName({ ...(this.resources.state.tasks.get(t.id) ?? t) })) };
  }

  /** How many of the tasks the user may see match the filter, per status. */
  async countTasks(user: User, request: TaskFilterRequest): Promise<TaskCounts> {
    return this.resources.store.countTasks(await this.taskFilter(user, request));
  }

  /**
   * The store's filter for a request: a user sees their own tasks (naming another user is
   * refused, 403), an admin everyone's or one user's (by id or email); a worker by id or name.
   */
  private async taskFilter(user: User, request: TaskFilterRequest): Promise<TaskFilter> {
    const { user: owner, worker, ...rest } = request;
    const filter: TaskFilter = { ...rest };
    if (user.role !== 'admin') {
      if (owner !== undefined && owner !== user.id && owner !== user.email) throw new WharfError('forbidden', 'user: only admins list other users\' tasks');
      filter.userId = user.id;
    } else if (owner !== undefined) {
      if (owner.includes('@')) {
        const found = await this.resources.store.findUserByEmail(owner);
        if (!found) throw new WharfError('validation_failed', `user: no user has the email ${owner}`);
        filter.userId = found.id;
      } else filter.userId = owner;
    }
    if (worker !== undefined) {
      // every worker of that name or id; none known: an id (a removed worker's tasks keep it)
      const ids = this.resources.registry
        .list()
        .filter((w) => w.record.id === worker || w.record.name === worker)
        .map((w) => w.record.id);
      filter.workerIds = ids.length > 0 ? ids : [worker];
    }
    return filter;
  }

  /** The task and its attempts with their worker's name: as stored at placement, else the registry's (older records). */
  private withWorkerName<T extends Task>(task: T): T {
    if (task.workerId !== undefined && task.workerName === undefined) {
      const name = this.resources.registry.get(task.workerId)?.record.name;
      if (name !== undefined) task.workerName = name;
    }
    return task;
  }

  private attemptWithWorkerName(attempt: Attempt): Attempt {
    if (attempt.workerName !== undefined) return attempt;
    const name = this.resources.registry.get(attempt.workerId)?.record.name;
    return name === undefined ? attempt : { ...attempt, workerName: name };
  }

  /** A task the user may see: their own, or any for an admin. Others answer 404. */
  async visibleTask(user: User, taskId: string): Promise<Task> {
    const task = this.resources.state.tasks.get(taskId) ?? (await this.resources.store.getTask(taskId));
    if (!task || (user.role !== 'admin' && task.userId !== user.id)) throw notFound(`task ${taskId}`);
    return { ...task };
  }

  listFiles(user: User, taskId?: string): Promise<OutputFileRecord[]> {
    return this.resources.store.listFiles({ userId: user.role === 'admin' ? undefined : user.id, taskId });
  }

  /** The task is not yet terminal. */
  isActive(taskId: string): boolean {
    return this.resources.state.tasks.has(taskId);
  }

  /** The GPU device ids the worker's active attempts hold, sorted. */
  gpuIdsInUse(workerId: string): string[] {
    return this.resources.state
      .attemptsOn(workerId)
      .flatMap((attempt) => attempt.gpuIds ?? [])
      .sort();
  }

  /** Attempts placed on each worker and not yet finished, counted in one pass. */
  attemptsByWorker(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const attempt of this.resources.state.attempts.values()) counts.set(attempt.workerId, (counts.get(attempt.workerId) ?? 0) + 1);
    return counts;
  }

  counts(): { queued: number; assigned: number; running: number } {
    const counts = { queued: 0, assigned: 0, running: 0 };
    for (const task of this.resources.state.tasks.values()) {
      if (task.status === 'queued' || task.status === 'assigned' || task.status === 'running') counts[task.status] += 1;
    }
    return counts;
  }

  /**
   * The queued tasks in dispatch order (priority, then submission order), each with why it
   * still waits, up to `limit`; `total` counts every queued task. For the REPL.
   */
  queueSnapshot(limit = Number.POSITIVE_INFINITY): { total: number; tasks: { position: number; task: Task }[] } {
    const { state } = this.resources;
    const tasks: { position: number; task: Task }[] = [];
    let position = 0;
    for (const entry of state.queue.ordered()) {
      if (tasks.length >= limit) break;
      position += 1;
      const task = state.tasks.get(entry.id);
      if (task) tasks.push({ position, task: { ...task } });
    }
    return { total: state.queue.size, tasks };
  }

  /** What one queue holds and uses now, with each user's usage and fair share (GET /api/queues, metrics). */
  queueStatus(queue: string): QueueStatus {
    const { state, queues, registry } = this.resources;
    const total: Resources = { cpu: 0, memory: 0, gpu: 0, disk: 0 };
    for (const worker of registry.schedulingSnapshot()) {
      if (worker.status !== 'ready') continue;
      total.cpu += worker.capacity.cpu;
      total.memory += worker.capacity.memory;
      total.gpu += worker.capacity.gpu;
    }
    const used = state.usage.queue(queue);
    const users = new Map<string, UserShare>();
    const userOf = (userId: string): UserShare => {
      let entry = users.get(userId);
      if (!entry) {
        const weight = queues.userInQueue(queue, userId)?.weight ?? queues.user(userId)?.weight ?? 1;
        entry = { userId, user: queues.userLabel(userId), queued: 0, running: 0, cpu: 0, memory: 0, gpu: 0, share: 0, weight };
        users.set(userId, entry);
      }
      return entry;
    };
    for (const stream of state.queue.streams()) if (stream.queue === queue) userOf(stream.userId).queued = stream.tasks.size;
    for (const { queue: name, userId, usage } of state.usage.usersInQueues()) {
      if (name !== queue) continue;
      const entry = userOf(userId);
      entry.running = usage.count;
      entry.cpu = usage.cpu;
      entry.memory = usage.memory;
      entry.gpu = usage.gpu;
      entry.share = dominantShare(usage, total);
    }
    return {
      queued: state.queue.countIn(queue),
      running: used?.count ?? 0,
      cpu: used?.cpu ?? 0,
      memory: used?.memory ?? 0,
      gpu: used?.gpu ?? 0,
      users: [...users.values()].sort((a, b) => (a.user < b.user ? -1 : 1)),
    };
  }

  /** The attempt belongs to this worker and may still send logs or outputs. */
  attemptOf(workerId: string, attemptId: string): { attempt: Attempt; task: Task } | undefined {
    const { state } = this.resources;
    const attempt = state.attempts.get(attemptId);
    if (!attempt || attempt.workerId !== workerId) return undefined;
    const task = state.tasks.get(attempt.taskId);
    return task ? { attempt, task } : undefined;
  }

  /** The worker holds an active attempt whose task takes this artifact as an input (FetchArtifact). */
  attemptNeedsArtifact(workerId: string, attemptId: string, sha256: string): boolean {
    const found = this.attemptOf(workerId, attemptId);
    return found?.task.inputs?.some((input) => input.sha256 === sha256) ?? false;
  }

  /** Task of an attempt, active or not (for logs that arrive around the end of an attempt). */
  async taskOfAttempt(workerId: string, attemptId: string): Promise<{ attempt: Attempt; taskId: string } | undefined> {
    const attempt = this.resources.state.attempts.get(attemptId) ?? (await this.resources.store.getAttempt(attemptId));
    if (!attempt || attempt.workerId !== workerId) return undefined;
    return { attempt, taskId: attempt.taskId };
  }
}
