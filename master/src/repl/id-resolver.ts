// Ids as people type them: a unique prefix names a task or a worker; an ambiguous prefix is an
// error that lists the candidates. Tasks are looked up through the task service (as the admin,
// so every task is visible); workers through the registry; DAG runs through the DAG service.
import type { JoinTokens } from '../cluster/join-tokens.js';
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import type { GangService } from '../gangs/gang-service.js';
import type { DagService } from '../dags/dag-service.js';
import { WharfError } from '../errors.js';
import type { User } from '../records/user.js';
import type { TaskService } from '../tasks/task-service.js';
import type { QueueService } from '../queues/queue-service.js';

const PAGE = 500;
/** Tab offers ids among this many newest tasks; a typed prefix is resolved against all. */
export const COMPLETION_SCAN_LIMIT = 5000;
/** A DAG run id prefix is resolved among this many newest runs (a whole id always works). */
export const DAG_SCAN_LIMIT = 10_000;
/** Tab offers DAG run ids and names among this many newest runs. */
export const DAG_COMPLETION_LIMIT = 500;
const SHOWN_CANDIDATES = 6;

const ID_CHARS = /^[0-9a-f-]+$/;

function ambiguous(kind: string, prefix: string, candidates: readonly string[], more: boolean): WharfError {
  const listed = candidates.slice(0, SHOWN_CANDIDATES).join(', ');
  const extra = more || candidates.length > SHOWN_CANDIDATES ? ', …' : '';
  return new WharfError('validation_failed', `"${prefix}" names more than one ${kind}: ${listed}${extra}; type more of the id`);
}

export class IdResolver {
  constructor(
    private readonly tasks: TaskService,
    private readonly registry: WorkerRegistry,
    private readonly admin: User,
    private readonly dags: DagService,
    private readonly joinTokens?: JoinTokens,
    private readonly queues?: Pick<QueueService, 'list'>,
    private readonly gangs?: Pick<GangService, 'list'>,
  ) {}

  /** The full id of the one gang whose id starts with `prefix` (among the newest DAG_SCAN_LIMIT). */
  async gangId(prefix: string): Promise<string> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted)) throw new WharfError('validation_failed', `"${prefix}" is not a gang id (ids are hex, like 3f2a9c1e)`);
    if (wanted.length === 36) return wanted;
    const found = ((await this.gangs?.list(this.admin, { limit: DAG_SCAN_LIMIT })) ?? []).map((g) => g.id).filter((id) => id.startsWith(wanted));
    if (found.length === 0) throw new WharfError('not_found', `no gang id starts with "${prefix}"`);
    if (found.length > 1) throw ambiguous('gang', prefix, found, false);
    return found[0]!;
  }

  /** Gang ids starting with `prefix` among the newest gangs, for Tab. */
  async gangCandidates(prefix: string): Promise<string[]> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted) && wanted !== '') return [];
    return ((await this.gangs?.list(this.admin, { limit: DAG_COMPLETION_LIMIT })) ?? []).map((g) => g.id).filter((id) => id.startsWith(wanted));
  }

  /** Queue names starting with `prefix`, for Tab. */
  queueCandidates(prefix: string): string[] {
    return (this.queues?.list() ?? []).map((q) => q.queue.name).filter((name) => name.startsWith(prefix));
  }

  /** Join token ids starting with `prefix` (revoked ones left out), for Tab. */
  async joinTokenCandidates(prefix: string): Promise<string[]> {
    const tokens = (await this.joinTokens?.list()) ?? [];
    return tokens.filter((t) => t.revokedAt === undefined && t.id.startsWith(prefix)).map((t) => t.id);
  }

  /** The full id of the one DAG run whose id starts with `prefix` (among the newest DAG_SCAN_LIMIT). */
  async dagId(prefix: string): Promise<string> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted)) throw new WharfError('validation_failed', `"${prefix}" is not a DAG run id (ids are hex, like 3f2a9c1e)`);
    if (wanted.length === 36) return wanted;
    const runs = await this.dags.list(this.admin, { limit: DAG_SCAN_LIMIT });
    const found = runs.map((r) => r.id).filter((id) => id.startsWith(wanted));
    if (found.length === 0) throw new WharfError('not_found', `no DAG run id starts with "${prefix}"`);
    if (found.length > 1) throw ambiguous('DAG run', prefix, found, false);
    return found[0]!;
  }

  /** DAG run ids starting with `prefix` among the newest runs, for Tab. */
  async dagCandidates(prefix: string): Promise<string[]> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted) && wanted !== '') return [];
    const runs = await this.dags.list(this.admin, { limit: DAG_COMPLETION_LIMIT });
    return runs.map((r) => r.id).filter((id) => id.startsWith(wanted));
  }

  /** DAG names starting with `prefix` among the newest runs, for Tab. */
  async dagNameCandidates(prefix: string): Promise<string[]> {
    const runs = await this.dags.list(this.admin, { limit: DAG_COMPLETION_LIMIT });
    return [...new Set(runs.map((r) => r.name))].filter((name) => name.startsWith(prefix)).sort();
  }

  /** The full id of the one task whose id starts with `prefix`. */
  async taskId(prefix: string): Promise<string> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted)) throw new WharfError('validation_failed', `"${prefix}" is not a task id (ids are hex, like 3f2a9c1e)`);
    if (wanted.length === 36) return wanted;
    const found = await this.scanTasks(wanted, Number.POSITIVE_INFINITY, SHOWN_CANDIDATES + 1);
    if (found.length === 0) throw new WharfError('not_found', `no task id starts with "${prefix}"`);
    if (found.length > 1) throw ambiguous('task', prefix, found, found.length > SHOWN_CANDIDATES);
    return found[0]!;
  }

  /** Task ids starting with `prefix` among the newest tasks, for Tab. */
  taskCandidates(prefix: string): Promise<string[]> {
    const wanted = prefix.toLowerCase();
    if (!ID_CHARS.test(wanted) && wanted !== '') return Promise.resolve([]);
    return this.scanTasks(wanted, COMPLETION_SCAN_LIMIT, 200);
  }

  /** The full id of the one worker whose id starts with `prefix` (or whose name is `prefix`). */
  workerId(prefix: string): string {
    const wanted = prefix.toLowerCase();
    const workers = this.registry.list();
    const byId = workers.filter((w) => w.record.id.startsWith(wanted)).map((w) => w.record.id);
    if (byId.length === 1) return byId[0]!;
    if (byId.length > 1) throw ambiguous('worker', prefix, byId, false);
    const byName = workers.filter((w) => w.record.name === prefix).map((w) => w.record.id);
    if (byName.length === 1) return byName[0]!;
    if (byName.length > 1) throw ambiguous('worker', prefix, byName, false);
    throw new WharfError('not_found', `no worker id starts with "${prefix}" and no worker is named so`);
  }

  workerCandidates(prefix: string): string[] {
    const wanted = prefix.toLowerCase();
    return this.registry
      .list()
      .map((w) => w.record.id)
      .filter((id) => id.startsWith(wanted));
  }

  /** Pages through tasks, newest first, collecting ids with the prefix. */
  private async scanTasks(prefix: string, scanLimit: number, maxMatches: number): Promise<string[]> {
    const found: string[] = [];
    let cursor: string | undefined;
    let scanned = 0;
    do {
      const page = await this.tasks.list(this.admin, { limit: PAGE, cursor });
      for (const task of page.tasks) if (task.id.startsWith(prefix)) found.push(task.id);
      scanned += page.tasks.length;
      cursor = page.nextCursor;
    } while (cursor && scanned < scanLimit && found.length < maxMatches);
    return found;
  }
}
