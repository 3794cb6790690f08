// Ids as people type them, resolved client-side over the REST API with the same rule as the
// master's REPL (master/src/repl/id-resolver.ts): a unique prefix of an id is enough, an
// ambiguous one is an error that lists the candidates, a worker may also be named by its name.
// The scans are bounded: tasks among your newest MAX_TASK_SCAN, DAG runs among your newest 500
// (the API's page); a whole id always works.
import type { ApiClient } from './api-client.js';
import type { ApiTokenView, DagView, JoinTokenView, TaskView, WorkerView } from './api-types.js';
import { CliError } from './errors.js';

export const MAX_TASK_SCAN = 10_000;
const TASK_PAGE = 500;
const SHOWN_CANDIDATES = 6;
const ID_CHARS = /^[0-9a-f-]+$/;
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function ambiguous(kind: string, prefix: string, candidates: readonly string[], more: boolean): CliError {
  const listed = candidates.slice(0, SHOWN_CANDIDATES).join(', ');
  const extra = more || candidates.length > SHOWN_CANDIDATES ? ', …' : '';
  return new CliError('ambiguous', `"${prefix}" names more than one ${kind}: ${listed}${extra}; type more of the id`);
}

function checkIdText(kind: string, prefix: string): string {
  const wanted = prefix.toLowerCase();
  if (wanted === '' || !ID_CHARS.test(wanted)) throw new CliError('validation_failed', `"${prefix}" is not a ${kind} id (ids are hex, like 3f2a9c1e)`);
  return wanted;
}

/** Task ids starting with `prefix` among the newest `scanLimit` tasks the caller sees. */
export async function taskIdsWithPrefix(client: ApiClient, prefix: string, scanLimit: number, maxMatches: number): Promise<{ ids: string[]; scanned: number; complete: boolean }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let scanned = 0;
  do {
    const page = await client.get<{ tasks: TaskView[]; nextCursor: string | null }>('/api/tasks', {
      limit: Math.min(TASK_PAGE, scanLimit - scanned),
      cursor,
    });
    for (const task of page.tasks) if (task.id.startsWith(prefix)) ids.push(task.id);
    scanned += page.tasks.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && scanned < scanLimit && ids.length < maxMatches);
  return { ids, scanned, complete: cursor === undefined };
}

export async function resolveTaskId(client: ApiClient, prefix: string): Promise<string> {
  const wanted = checkIdText('task', prefix);
  if (FULL_ID.test(wanted)) return wanted;
  const found = await taskIdsWithPrefix(client, wanted, MAX_TASK_SCAN, SHOWN_CANDIDATES + 1);
  if (found.ids.length === 0) {
    const where = found.complete ? '' : ` among your newest ${found.scanned} tasks (give the whole id for an older one)`;
    throw new CliError('not_found', `no task id starts with "${prefix}"${where}`);
  }
  if (found.ids.length > 1) throw ambiguous('task', prefix, found.ids, found.ids.length > SHOWN_CANDIDATES);
  return found.ids[0]!;
}

/** The one worker whose id starts with `prefix`, or whose name is `prefix`. */
export function pickWorker(workers: readonly WorkerView[], prefix: string): WorkerView {
  const wanted = prefix.toLowerCase();
  const byId = workers.filter((w) => w.id.startsWith(wanted));
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1 && wanted !== '') throw ambiguous('worker', prefix, byId.map((w) => w.id), false);
  const byName = workers.filter((w) => w.name === prefix);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw ambiguous('worker', prefix, byName.map((w) => `${w.id.slice(0, 8)} (${w.name})`), false);
  throw new CliError('not_found', `no worker id starts with "${prefix}" and no worker is named so (wharf workers lists them)`);
}

export async function resolveWorker(client: ApiClient, prefix: string): Promise<WorkerView> {
  const { workers } = await client.get<{ workers: WorkerView[] }>('/api/workers');
  return pickWorker(workers, prefix);
}

export async function resolveDagId(client: ApiClient, prefix: string): Promise<string> {
  const wanted = checkIdText('DAG run', prefix);
  if (FULL_ID.test(wanted)) return wanted;
  const { dags } = await client.get<{ dags: DagView[] }>('/api/dags', { limit: 500 });
  const found = dags.map((d) => d.id).filter((id) => id.startsWith(wanted));
  if (found.length === 0) throw new CliError('not_found', `no DAG run id starts with "${prefix}" among your newest ${dags.length} runs`);
  if (found.length > 1) throw ambiguous('DAG run', prefix, found, false);
  return found[0]!;
}

/** One of your API tokens by name, or by a unique id prefix. */
export function pickToken(tokens: readonly ApiTokenView[], nameOrId: string): ApiTokenView {
  const byName = tokens.filter((t) => t.name === nameOrId);
  if (byName.length === 1) return byName[0]!;
  const wanted = nameOrId.toLowerCase();
  const byId = ID_CHARS.test(wanted) ? tokens.filter((t) => t.id.startsWith(wanted)) : [];
  if (byId.length === 1) return byId[0]!;
  if (byId.length > 1) throw ambiguous('API token', nameOrId, byId.map((t) => `${t.id.slice(0, 8)} (${t.name})`), false);
  throw new CliError('not_found', `no API token is named "${nameOrId}" or has an id starting so (wharf token ls lists yours)`);
}

/**
 * One join token by its id (`wharf_k3x9q2`) or a unique prefix of it; the `wharf_` every
 * generated id starts with may be left out.
 */
export function pickJoinToken(tokens: readonly JoinTokenView[], idOrPrefix: string): JoinTokenView {
  const wanted = idOrPrefix.toLowerCase();
  if (!/^[a-z0-9_]+$/.test(wanted)) throw new CliError('validation_failed', `"${idOrPrefix}" is not a join token id (ids look like wharf_k3x9q2)`);
  const exact = tokens.find((t) => t.id === wanted);
  if (exact) return exact;
  const found = tokens.filter((t) => t.id.startsWith(wanted) || t.id.startsWith(`wharf_${wanted}`));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw ambiguous('join token', idOrPrefix, found.map((t) => t.id), false);
  throw new CliError('not_found', `no join token id starts with "${idOrPrefix}" (wharf join-token ls lists them)`);
}
