// Ids as people type them: a unique prefix names a task or a worker; an ambiguous prefix is an
// error that lists the candidates. Tasks are looked up through the task service (as the admin,
// so every task is visible); workers through the registry.
import type { User } from '../auth/user-types.js';
import type { WorkerRegistry } from '../cluster/worker-registry.js';
import { WharfError } from '../errors.js';
import type { TaskService } from '../tasks/task-service.js';

const PAGE = 500;
/** Tab offers ids among this many newest tasks; a typed prefix is resolved against all. */
export const COMPLETION_SCAN_LIMIT = 5000;
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
  ) {}

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
