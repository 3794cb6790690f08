// Copies every record from one Store into another: the embedded SQLite file into MongoDB, or
// into another SQLite file (moving a master between machines). It works through the Store
// contract only, so it copies exactly what a master would read, and it is safe to run again:
// records are matched by id (users by id and email, files by task, events by their place in a
// task's history) and a record already equal in the target is left alone.
//
// Record kinds: users (with password hashes), workers, tasks, attempts, task events,
// output-file metadata, DAG runs, join tokens and API tokens (their hashes; secrets are never
// stored), revoked worker certificates, registry credentials (their passwords still sealed: the
// target master needs this data dir's credentials-key to read them), invites (their hashes),
// ended login sessions, the audit trail, queues and per-user limits; these are every table
// SqliteStore keeps but one: the worker history (worker_events, GET /api/workers/:id/history)
// is not copied — the target starts it afresh. The cluster CA and its key stay in <data>/tls: move them with the data dir,
// or every worker must join again. Log bytes,
// output-file bytes and DAG artifacts on disk stay in the master's data dir (<data>/logs,
// <data>/files, <data>/artifacts) and are not touched here; artifacts in S3 stay in the bucket.
//
// Run it with the master stopped: a master writing the source while it is copied would leave
// the target a mixture of two moments.
import { isDeepStrictEqual } from 'node:util';
import { WharfError } from '../errors.js';
import type { Attempt } from '../records/attempt.js';
import type { DagPatch, DagRun } from '../records/dag.js';
import type { Gang, GangPatch } from '../records/gang.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { Task } from '../records/task.js';
import type { UserPatch, UserWithPassword } from '../records/user.js';
import type { AttemptPatch, Store, StoreChange, TaskPatch } from './store.js';

export type RecordKind =
  | 'users'
  | 'workers'
  | 'tasks'
  | 'attempts'
  | 'events'
  | 'files'
  | 'dags'
  | 'gangs'
  | 'joinTokens'
  | 'revokedCertificates'
  | 'apiTokens'
  | 'registryCredentials'
  | 'invites'
  | 'revokedSessions'
  | 'audit'
  | 'queues'
  | 'userLimits';
export const RECORD_KINDS: readonly RecordKind[] = [
  'users',
  'workers',
  'tasks',
  'attempts',
  'events',
  'files',
  'dags',
  'gangs',
  'joinTokens',
  'revokedCertificates',
  'apiTokens',
  'registryCredentials',
  'invites',
  'revokedSessions',
  'audit',
  'queues',
  'userLimits',
];

export interface KindCounts {
  /** records read from the source */
  read: number;
  /** written to the target as new records */
  inserted: number;
  /** present in the target with other contents, overwritten */
  updated: number;
  /** already present and equal */
  unchanged: number;
  /** could not be copied (listed in `problems`) */
  skipped: number;
}

export interface MigrationReport {
  counts: Record<RecordKind, KindCounts>;
  problems: string[];
}

const PAGE = 200;

function emptyCounts(): Record<RecordKind, KindCounts> {
  const counts = {} as Record<RecordKind, KindCounts>;
  for (const kind of RECORD_KINDS) counts[kind] = { read: 0, inserted: 0, updated: 0, unchanged: 0, skipped: 0 };
  return counts;
}

/** JSON form, as both stores keep records: `undefined` fields do not exist. */
function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/** A patch turning `current` into `wanted`: every wanted field, and undefined for the rest. */
function patchFrom<T extends object>(current: T, wanted: T, fixed: readonly string[]): Partial<T> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) if (!fixed.includes(key)) patch[key] = value;
  for (const key of Object.keys(current)) if (!fixed.includes(key) && !(key in wanted)) patch[key] = undefined;
  return patch as Partial<T>;
}

export async function migrateStore(
  source: Store,
  target: Store,
  onProgress: (line: string) => void = () => {},
): Promise<MigrationReport> {
  const counts = emptyCounts();
  const problems: string[] = [];
  const skip = (kind: RecordKind, why: string) => {
    counts[kind].skipped += 1;
    problems.push(`${kind}: ${why}`);
  };
  const commit = async (kind: RecordKind, what: string, changes: StoreChange[]) => {
    if (changes.length === 0) return;
    if (!(await target.commit(changes))) throw new Error(`${kind}: the target refused ${what}; is a master running on it?`);
  };

  // users: listUsers leaves out password hashes, findUserByEmail has them
  for (const listed of await source.listUsers()) {
    counts.users.read += 1;
    const user: UserWithPassword | undefined = await source.findUserByEmail(listed.email);
    if (!user) {
      skip('users', `${listed.email} vanished from the source while copying`);
      continue;
    }
    const existing = await target.findUserByEmail(user.email);
    if (!existing) {
      try {
        await target.insertUser(user);
        counts.users.inserted += 1;
      } catch (error: unknown) {
        if (!(error instanceof WharfError && error.code === 'conflict')) throw error;
        skip('users', `${user.email}: the target refused it (${error.message}; its id ${user.id} may be taken); left out`);
      }
    } else if (existing.id !== user.id) {
      skip('users', `${user.email} exists in the target under another id (${existing.id}); left as it is`);
    } else if (same(existing, user)) {
      counts.users.unchanged += 1;
    } else if (existing.passwordHash === user.passwordHash && existing.createdAt === user.createdAt) {
      // what an admin changes (role, disabled, the token version) and the name are brought over
      const patch: UserPatch = { role: user.role, name: user.name, disabled: user.disabled, tokenVersion: user.tokenVersion };
      await target.updateUser(user.id, patch);
      counts.users.updated += 1;
    } else {
      // The contract has no password update: a changed password stays as the target has it.
      // Said out loud rather than passed over.
      skip('users', `${user.email} differs between source and target (a new password since the last copy?); left as it is`);
    }
  }
  onProgress(`users: ${counts.users.read} read`);

  for (const worker of await source.listWorkers()) {
    counts.workers.read += 1;
    const existing = await target.getWorker(worker.id);
    if (existing && same(existing, worker)) {
      counts.workers.unchanged += 1;
      continue;
    }
    await target.saveWorker(worker);
    counts.workers[existing ? 'updated' : 'inserted'] += 1;
  }
  onProgress(`workers: ${counts.workers.read} read`);

  // tasks page by page (newest first), each page with its attempts and events in one commit
  let cursor: string | undefined;
  do {
    const page = await source.listTasks({ limit: PAGE, cursor });
    const inserts: StoreChange[] = [];
    for (const task of page.tasks) {
      counts.tasks.read += 1;
      const existing = await target.getTask(task.id);
      if (!existing) {
        inserts.push({ kind: 'insertTask', task });
        counts.tasks.inserted += 1;
      } else if (existing.userId !== task.userId || existing.createdAt !== task.createdAt) {
        skip('tasks', `task ${task.id} exists in the target as another task (other user or creation time); left as it is`);
        continue;
      } else if (same(existing, task)) {
        counts.tasks.unchanged += 1;
      } else {
        const patch = patchFrom<Task>(existing, task, ['id', 'userId', 'createdAt']) as TaskPatch;
        await commit('tasks', `the update of task ${task.id}`, [{ kind: 'updateTask', taskId: task.id, patch }]);
        counts.tasks.updated += 1;
      }
      inserts.push(...(await attemptChanges(task.id)));
      inserts.push(...(await eventChanges(task.id)));
    }
    await commit('tasks', `a page of ${page.tasks.length} tasks`, inserts);
    cursor = page.nextCursor;
    onProgress(`tasks: ${counts.tasks.read} read`);
  } while (cursor !== undefined);

  async function attemptChanges(taskId: string): Promise<StoreChange[]> {
    const changes: StoreChange[] = [];
    for (const attempt of await source.listAttempts(taskId)) {
      counts.attempts.read += 1;
      const existing = await target.getAttempt(attempt.id);
      if (!existing) {
        changes.push({ kind: 'insertAttempt', attempt });
        counts.attempts.inserted += 1;
      } else if (existing.taskId !== attempt.taskId || existing.number !== attempt.number) {
        skip('attempts', `attempt ${attempt.id} exists in the target for another task or number; left as it is`);
      } else if (same(existing, attempt)) {
        counts.attempts.unchanged += 1;
      } else {
        const patch = patchFrom<Attempt>(existing, attempt, ['id', 'taskId', 'number', 'createdAt']) as AttemptPatch;
        changes.push({ kind: 'updateAttempt', attemptId: attempt.id, patch });
        counts.attempts.updated += 1;
      }
    }
    return changes;
  }

  // Events have no id: the target's history of a task must be the start of the source's;
  // what is missing at its end is appended, so a second run appends nothing.
  async function eventChanges(taskId: string): Promise<StoreChange[]> {
    const wanted = await source.listEvents(taskId);
    counts.events.read += wanted.length;
    const present = await target.listEvents(taskId);
    const prefix = present.length <= wanted.length && present.every((event, i) => same(event, wanted[i]));
    if (!prefix) {
      counts.events.skipped += wanted.length;
      problems.push(`events: task ${taskId} has a different history in the target (${present.length} events); left as it is`);
      return [];
    }
    counts.events.unchanged += present.length;
    counts.events.inserted += wanted.length - present.length;
    return wanted.slice(present.length).map((event) => ({ kind: 'appendEvent' as const, event }));
  }

  // output-file metadata, per task (file bytes stay in the data dir)
  const byTask = new Map<string, OutputFileRecord[]>();
  for (const file of await source.listFiles({})) {
    counts.files.read += 1;
    const list = byTask.get(file.taskId) ?? [];
    list.push(file);
    byTask.set(file.taskId, list);
  }
  for (const [taskId, files] of byTask) {
    const present = await target.listFiles({ taskId });
    if (same(present, files)) {
      counts.files.unchanged += files.length;
      continue;
    }
    await commit('files', `the files of task ${taskId}`, [{ kind: 'replaceTaskFiles', taskId, files }]);
    // a file counts as updated when the target had that path for the task before
    for (const file of files) counts.files[present.some((p) => p.path === file.path) ? 'updated' : 'inserted'] += 1;
  }
  onProgress(`files: ${counts.files.read} read`);

  // DAG runs, one record each (their tasks were copied above as ordinary tasks), oldest first,
  // PAGE runs per commit
  const dagIds = await source.listDagIds();
  for (let start = 0; start < dagIds.length; start += PAGE) {
    const changes: StoreChange[] = [];
    for (const id of dagIds.slice(start, start + PAGE)) {
      counts.dags.read += 1;
      const dag = await source.getDag(id);
      if (!dag) {
        skip('dags', `DAG run ${id} vanished from the source while copying`);
        continue;
      }
      const existing = await target.getDag(id);
      if (!existing) {
        changes.push({ kind: 'insertDag', dag });
        counts.dags.inserted += 1;
      } else if (existing.userId !== dag.userId || existing.createdAt !== dag.createdAt || existing.name !== dag.name) {
        skip('dags', `DAG run ${id} exists in the target as another run (other user, name or creation time); left as it is`);
      } else if (same(existing, dag)) {
        counts.dags.unchanged += 1;
      } else {
        const patch = patchFrom<DagRun>(existing, dag, ['id', 'userId', 'createdAt', 'name']) as DagPatch;
        changes.push({ kind: 'updateDag', dagId: id, patch });
        counts.dags.updated += 1;
      }
    }
    await commit('dags', `a page of ${changes.length} DAG runs`, changes);
  }
  onProgress(`dags: ${counts.dags.read} read`);

  // gangs, one record each (their members were copied above as ordinary tasks), oldest first,
  // PAGE gangs per commit
  const gangs = (await source.listGangs({ limit: Number.MAX_SAFE_INTEGER })).reverse();
  for (let start = 0; start < gangs.length; start += PAGE) {
    const changes: StoreChange[] = [];
    for (const gang of gangs.slice(start, start + PAGE)) {
      counts.gangs.read += 1;
      const existing = await target.getGang(gang.id);
      if (!existing) {
        changes.push({ kind: 'insertGang', gang });
        counts.gangs.inserted += 1;
      } else if (existing.userId !== gang.userId || existing.createdAt !== gang.createdAt || !same(existing.memberIds, gang.memberIds)) {
        skip('gangs', `gang ${gang.id} exists in the target as another gang (other user, members or creation time); left as it is`);
      } else if (same(existing, gang)) {
        counts.gangs.unchanged += 1;
      } else {
        const patch = patchFrom<Gang>(existing, gang, ['id', 'userId', 'createdAt', 'memberIds', 'size', 'port']) as GangPatch;
        changes.push({ kind: 'updateGang', gangId: gang.id, patch });
        counts.gangs.updated += 1;
      }
    }
    await commit('gangs', `a page of ${changes.length} gangs`, changes);
  }
  onProgress(`gangs: ${counts.gangs.read} read`);

  // join tokens: new ones inserted; a revocation in the source is brought over; other changes
  // (uses counted since the last copy) cannot be written through the contract and are listed
  for (const token of await source.listJoinTokens()) {
    counts.joinTokens.read += 1;
    const existing = await target.getJoinToken(token.id);
    if (!existing) {
      await target.insertJoinToken(token);
      counts.joinTokens.inserted += 1;
    } else if (same(existing, token)) {
      counts.joinTokens.unchanged += 1;
    } else if (existing.secretHash !== token.secretHash) {
      skip('joinTokens', `join token ${token.id} exists in the target as another token; left as it is`);
    } else if (existing.revokedAt === undefined && token.revokedAt !== undefined && same({ ...existing, revokedAt: token.revokedAt }, token)) {
      await target.revokeJoinToken(token.id, token.revokedAt);
      counts.joinTokens.updated += 1;
    } else {
      skip('joinTokens', `join token ${token.id} differs between source and target (used since the last copy?); left as it is`);
    }
  }
  onProgress(`joinTokens: ${counts.joinTokens.read} read`);

  const revokedInTarget = new Set((await target.listRevokedCertificates()).map((entry) => entry.fingerprint256));
  for (const entry of await source.listRevokedCertificates()) {
    counts.revokedCertificates.read += 1;
    if (revokedInTarget.has(entry.fingerprint256)) {
      counts.revokedCertificates.unchanged += 1;
      continue;
    }
    await target.revokeCertificate(entry);
    counts.revokedCertificates.inserted += 1;
  }
  onProgress(`revokedCertificates: ${counts.revokedCertificates.read} read`);
  // API tokens (their secrets' hashes): the contract has no update beyond the last use, so a
  // token that differs otherwise is reported and left as the target has it
  for (const token of await source.listApiTokens({})) {
    counts.apiTokens.read += 1;
    const existing = await target.getApiToken(token.id);
    if (!existing) {
      try {
        await target.insertApiToken(token);
        counts.apiTokens.inserted += 1;
      } catch (error: unknown) {
        if (!(error instanceof WharfError && error.code === 'conflict')) throw error;
        skip('apiTokens', `token ${token.id} ("${token.name}"): the target refused it (${error.message}); left out`);
      }
    } else if (same(existing, token)) {
      counts.apiTokens.unchanged += 1;
    } else if (same({ ...existing, lastUsedAt: token.lastUsedAt }, token) && token.lastUsedAt !== undefined) {
      await target.touchApiToken(token.id, token.lastUsedAt);
      counts.apiTokens.updated += 1;
    } else {
      skip('apiTokens', `token ${token.id} ("${token.name}") differs between source and target; left as it is`);
    }
  }
  onProgress(`apiTokens: ${counts.apiTokens.read} read`);

  // registry credentials (sealed): matched by id; the target keeps one per user and registry, so
  // one it holds under another id for the same user and registry is reported and left alone
  for (const credential of await source.listRegistryCredentials({})) {
    const c = counts.registryCredentials;
    c.read += 1;
    const existing = await target.getRegistryCredential(credential.id);
    if (existing && same(existing, credential)) {
      c.unchanged += 1;
      continue;
    }
    const clash = (await target.listRegistryCredentials({ userId: credential.userId })).find((t) => t.registry === credential.registry && t.id !== credential.id);
    if (clash) {
      skip('registryCredentials', `credential ${credential.id} (${credential.registry}): the target keeps credential ${clash.id} for that user and registry; left as it is`);
      continue;
    }
    await target.putRegistryCredential(credential);
    if (existing) c.updated += 1;
    else c.inserted += 1;
  }
  onProgress(`registryCredentials: ${counts.registryCredentials.read} read`);
  // invites (their codes' hashes): new ones inserted; a use or a revocation in the source is
  // brought over; other differences are reported and left as the target has them
  for (const invite of await source.listInvites()) {
    counts.invites.read += 1;
    const existing = await target.getInvite(invite.id);
    if (!existing) {
      await target.insertInvite(invite);
      counts.invites.inserted += 1;
    } else if (same(existing, invite)) {
      counts.invites.unchanged += 1;
    } else if (existing.codeHash === invite.codeHash && invite.usedAt !== undefined && invite.usedBy !== undefined && same({ ...existing, usedAt: invite.usedAt, usedBy: invite.usedBy }, invite)) {
      await target.useInvite(invite.id, invite.usedAt, invite.usedBy);
      counts.invites.updated += 1;
    } else if (existing.codeHash === invite.codeHash && invite.revokedAt !== undefined && same({ ...existing, revokedAt: invite.revokedAt }, invite)) {
      await target.revokeInvite(invite.id, invite.revokedAt);
      counts.invites.updated += 1;
    } else {
      skip('invites', `invite ${invite.id} (${invite.email}) differs between source and target; left as it is`);
    }
  }
  onProgress(`invites: ${counts.invites.read} read`);

  const endedInTarget = new Set((await target.listRevokedSessions()).map((entry) => entry.sessionId));
  for (const entry of await source.listRevokedSessions()) {
    counts.revokedSessions.read += 1;
    if (endedInTarget.has(entry.sessionId)) {
      counts.revokedSessions.unchanged += 1;
      continue;
    }
    await target.revokeSession(entry);
    counts.revokedSessions.inserted += 1;
  }
  onProgress(`revokedSessions: ${counts.revokedSessions.read} read`);

  // the audit trail, newest first, PAGE entries at a time; an entry is matched by id among the
  // target's entries of the same time span
  let auditCursor: string | undefined;
  do {
    const page = await source.listAudit({ limit: PAGE, cursor: auditCursor });
    const oldest = page.entries[page.entries.length - 1];
    const newest = page.entries[0];
    if (oldest && newest) {
      const present = new Set<string>();
      let targetCursor: string | undefined;
      do {
        const span = await target.listAudit({ since: oldest.at, until: newest.at + 1, limit: 1000, cursor: targetCursor });
        for (const entry of span.entries) present.add(entry.id);
        targetCursor = span.nextCursor;
      } while (targetCursor);
      for (const entry of page.entries) {
        counts.audit.read += 1;
        if (present.has(entry.id)) {
          counts.audit.unchanged += 1;
          continue;
        }
        await target.appendAudit(entry);
        counts.audit.inserted += 1;
      }
    }
    auditCursor = page.nextCursor;
  } while (auditCursor);
  onProgress(`audit: ${counts.audit.read} read`);

  // queues (by name; the source's settings win, `default` included) and user limits (by user and queue)
  for (const queue of await source.listQueues()) {
    const c = counts.queues;
    c.read += 1;
    const existing = await target.getQueue(queue.name);
    if (!existing) {
      await target.insertQueue(queue);
      c.inserted += 1;
    } else if (same(existing, queue)) {
      c.unchanged += 1;
    } else {
      await target.updateQueue(queue);
      c.updated += 1;
    }
  }
  onProgress(`queues: ${counts.queues.read} read`);
  const targetLimits = new Map((await target.listUserLimits()).map((limit) => [JSON.stringify([limit.userId, limit.queue ?? '']), limit]));
  for (const limit of await source.listUserLimits()) {
    const c = counts.userLimits;
    c.read += 1;
    const existing = targetLimits.get(JSON.stringify([limit.userId, limit.queue ?? '']));
    if (existing && same(existing, limit)) {
      c.unchanged += 1;
      continue;
    }
    await target.putUserLimit(limit);
    if (existing) c.updated += 1;
    else c.inserted += 1;
  }
  onProgress(`userLimits: ${counts.userLimits.read} read`);

  return { counts, problems };
}

/** One line per record kind, for people. */
export function formatReport(report: MigrationReport): string {
  const lines = RECORD_KINDS.map((kind) => {
    const c = report.counts[kind];
    return `  ${kind.padEnd(19)} ${String(c.read).padStart(7)} read: ${c.inserted} new, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped`;
  });
  if (report.problems.length > 0) lines.push('', 'Not copied:', ...report.problems.map((p) => `  - ${p}`));
  return lines.join('\n');
}
