import type { Attempt, AttemptStatus } from '../records/attempt.js';
import type { DagPatch, DagRun, DagStatus } from '../records/dag.js';
import type { Gang, GangPatch, GangStatus } from '../records/gang.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { Task, TaskEvent, TaskStatus } from '../records/task.js';
import type { User, UserPatch, UserWithPassword } from '../records/user.js';
import type { WorkerRecord } from '../records/worker.js';
import type { WorkerHistoryEvent } from '../records/worker-history.js';
// The Store contract: every piece of master state, behind domain-level operations. SqliteStore
// (embedded, default) implements it; one conformance suite (store-conformance.ts) runs against
// every implementation.
//
// Multi-record changes go through `commit`: a list of conditional changes applied atomically.
// When any condition fails (a task is no longer in the expected status, an attempt was already
// finished) nothing is applied and commit answers false, so a duplicate report or a retried
// request can never apply a change twice.
import type { ApiTokenRecord } from '../records/api-token.js';
import type { JoinTokenRecord, RevokedCertificate } from '../records/credentials.js';
import type { RegistryCredentialRecord } from '../records/registry-credential.js';
import type { InviteRecord } from '../records/invite.js';
import type { RevokedSession } from '../records/session.js';
import type { AuditEntry, AuditPage, AuditQuery } from '../records/audit.js';
import type { QueueRecord, UserLimitRecord } from '../records/queue.js';
import { WharfError } from '../errors.js';

export interface TaskPage {
  tasks: Task[];
  /** opaque; pass back as `cursor` for the next page; absent on the last page */
  nextCursor?: string | undefined;
}

/**
 * Which tasks to list or count; every filter given must hold (AND). The worker is the one of
 * the task's latest attempt (`Task.workerId`).
 */
export interface TaskFilter {
  /** only this user's tasks; absent = everyone's */
  userId?: string | undefined;
  status?: TaskStatus | undefined;
  /** any of these statuses (with `status` too, both must hold) */
  statuses?: readonly TaskStatus[] | undefined;
  /** latest attempt on any of these workers */
  workerIds?: readonly string[] | undefined;
  queue?: string | undefined;
  dagId?: string | undefined;
  /** exactly this image */
  image?: string | undefined;
  /** the name contains this, case-insensitively (ASCII letters) */
  name?: string | undefined;
  /** createdAt >= since (epoch ms) */
  since?: number | undefined;
  /** createdAt < until (epoch ms) */
  until?: number | undefined;
}

/**
 * Orders of a task list: by createdAt, finishedAt or duration (finishedAt − startedAt), with
 * `-` for descending; ties by id in the same direction. A task not finished sorts as finishedAt
 * 0 and duration 0 (last in descending order). Default `-createdAt` (newest first).
 */
export type TaskSort = 'createdAt' | '-createdAt' | 'finishedAt' | '-finishedAt' | 'duration' | '-duration';
export const TASK_SORTS: readonly TaskSort[] = ['-createdAt', 'createdAt', '-finishedAt', 'finishedAt', '-duration', 'duration'];

export interface TaskQuery extends TaskFilter {
  limit: number;
  cursor?: string | undefined;
  /** absent: -createdAt */
  sort?: TaskSort | undefined;
}

/** The number of tasks a filter matches, per status (every status present, 0 when none). */
export type TaskCounts = Record<TaskStatus, number>;

/** Fields to change; a field given as `undefined` is removed. */
export type TaskPatch = Partial<Omit<Task, 'id' | 'userId' | 'createdAt'>>;
export type AttemptPatch = Partial<Omit<Attempt, 'id' | 'taskId' | 'number' | 'createdAt'>>;

export type StoreChange =
  | { kind: 'insertTask'; task: Task }
  | { kind: 'insertAttempt'; attempt: Attempt }
  | {
      kind: 'updateTask';
      taskId: string;
      /** applied only when the task's status is one of these */
      expectStatus?: readonly TaskStatus[];
      /** applied only when the task's current attempt is this one */
      expectAttemptId?: string;
      patch: TaskPatch;
    }
  | { kind: 'updateAttempt'; attemptId: string; expectStatus?: readonly AttemptStatus[]; patch: AttemptPatch }
  | { kind: 'appendEvent'; event: TaskEvent }
  | { kind: 'replaceTaskFiles'; taskId: string; files: OutputFileRecord[] }
  | { kind: 'insertDag'; dag: DagRun }
  | {
      kind: 'updateDag';
      dagId: string;
      /** applied only when the run's status is one of these */
      expectStatus?: readonly DagStatus[];
      /** applied only when the run's version is this one (optimistic concurrency) */
      expectVersion?: number;
      patch: DagPatch;
    }
  | { kind: 'insertGang'; gang: Gang }
  | {
      kind: 'updateGang';
      gangId: string;
      /** applied only when the gang's status is one of these */
      expectStatus?: readonly GangStatus[];
      /** applied only when the gang's version is this one (optimistic concurrency) */
      expectVersion?: number;
      patch: GangPatch;
    }
  /**
   * The fence of several masters (leadership/): the commit applies only while the lease `name`
   * still has this epoch. When it does not, nothing is applied and `commit`/`commitMany` THROW
   * WharfError('not_leader') instead of answering false: a master whose epoch is gone has lost
   * its leadership and must step down, which a failed task condition does not mean.
   */
  | { kind: 'expectLeaseEpoch'; name: string; epoch: number };

export interface GangQuery {
  /** only this user's gangs; absent = everyone's */
  userId?: string | undefined;
  status?: GangStatus | undefined;
  limit: number;
}

export interface DagQuery {
  /** only this user's runs; absent = everyone's */
  userId?: string | undefined;
  /** only runs of this DAG name */
  name?: string | undefined;
  limit: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'mongo';

  // users
  /** Throws WharfError('conflict') when the email is taken. */
  insertUser(user: UserWithPassword): Promise<void>;
  findUserByEmail(email: string): Promise<UserWithPassword | undefined>;
  getUser(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;

  // ---- user administration, invites and ended sessions (auth/) -------------------------
  // Not part of `commit`: each operation touches one record (or prunes one kind).
  /** Applies the patch (undefined removes a field); answers the user after it, undefined when unknown. */
  updateUser(id: string, patch: UserPatch): Promise<User | undefined>;
  /** Forgets the user (their tasks, files and audit entries stay); answers false when unknown. */
  deleteUser(id: string): Promise<boolean>;
  /** Throws WharfError('conflict') when the id or the code's hash is taken. */
  insertInvite(invite: InviteRecord): Promise<void>;
  getInvite(id: string): Promise<InviteRecord | undefined>;
  findInviteByHash(codeHash: string): Promise<InviteRecord | undefined>;
  /** oldest first (createdAt, then id) */
  listInvites(): Promise<InviteRecord[]>;
  /**
   * Marks the invite used by `userId`, atomically, only when it is usable at `now`: not used,
   * not revoked, not expired. Answers whether it was, so one code registers one account.
   */
  useInvite(id: string, now: number, userId: string): Promise<boolean>;
  /** Marks it revoked at `at`; answers false when unknown, used or already revoked. */
  revokeInvite(id: string, at: number): Promise<boolean>;
  /** Records an ended login session; one already recorded is kept as it was. */
  revokeSession(entry: RevokedSession): Promise<void>;
  /** every recorded session, oldest first */
  listRevokedSessions(): Promise<RevokedSession[]>;
  /** Drops the entries whose expiresAt is at or before `now`; answers how many. */
  pruneRevokedSessions(now: number): Promise<number>;
  // ---- end of user administration ------------------------------------------------------

  // workers
  saveWorker(worker: WorkerRecord): Promise<void>;
  getWorker(id: string): Promise<WorkerRecord | undefined>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Forgets a worker (an admin removed it); no-op when unknown. */
  deleteWorker(id: string): Promise<void>;

  // join tokens (cluster/join-tokens.ts)
  /** Throws WharfError('conflict') when the id is taken. */
  insertJoinToken(token: JoinTokenRecord): Promise<void>;
  getJoinToken(id: string): Promise<JoinTokenRecord | undefined>;
  /** oldest first */
  listJoinTokens(): Promise<JoinTokenRecord[]>;
  /**
   * Counts one use of the token, atomically, only when it is usable at `now`: not revoked, not
   * expired, and under its usage limit. Answers whether the use was counted, so two enrolments
   * racing for the last use of a token cannot both get it.
   */
  useJoinToken(id: string, now: number): Promise<boolean>;
  /** Marks the token revoked at `at`; answers false when unknown or already revoked. */
  revokeJoinToken(id: string, at: number): Promise<boolean>;

  // worker certificates that must not be accepted again (cluster/worker-identity.ts)
  /** Adds an entry; one for the same fingerprint is kept as it was. */
  revokeCertificate(entry: RevokedCertificate): Promise<void>;
  /** oldest first */
  listRevokedCertificates(): Promise<RevokedCertificate[]>;

  // ---- audit trail (audit/audit-trail.ts) ----------------------------------------------
  // Append-only; pruned by age (WHARF_AUDIT_RETENTION). Not part of `commit`.
  appendAudit(entry: AuditEntry): Promise<void>;
  /** newest first (at, then id, descending), filtered; `nextCursor` when more match */
  listAudit(query: AuditQuery): Promise<AuditPage>;
  /** Drops the entries older than `before` (at < before); answers how many. */
  pruneAudit(before: number): Promise<number>;
  // ---- end of audit trail --------------------------------------------------------------

  // ---- worker history (cluster/worker-registry.ts) ---------------------------------------
  // Append-only, a few entries per worker per day; kept after the worker is removed. Not part
  // of `commit`.
  appendWorkerEvent(event: WorkerHistoryEvent): Promise<void>;
  /** the worker's newest `limit` events, newest first (at, then id, descending) */
  listWorkerEvents(workerId: string, limit: number): Promise<WorkerHistoryEvent[]>;
  /** the newest `limit` attempts placed on the worker, newest first (createdAt, then id, descending) */
  listAttemptsOfWorker(workerId: string, limit: number): Promise<Attempt[]>;
  // ---- end of worker history -------------------------------------------------------------

  // tasks and attempts
  getTask(id: string): Promise<Task | undefined>;
  /** filtered and ordered (TaskQuery), a page at a time; a cursor stays valid while tasks are added */
  listTasks(query: TaskQuery): Promise<TaskPage>;
  /** How many tasks match the filter, per status (exact; not capped). */
  countTasks(filter: TaskFilter): Promise<TaskCounts>;
  /** queued, assigned and running tasks, oldest first (for recovery after a restart) */
  listUnfinishedTasks(): Promise<Task[]>;
  getAttempt(id: string): Promise<Attempt | undefined>;
  listAttempts(taskId: string): Promise<Attempt[]>;
  /** attempts in assigned, running, cancelling or preempting */
  listActiveAttempts(): Promise<Attempt[]>;
  listEvents(taskId: string): Promise<TaskEvent[]>;

  // DAG runs (records/dag.ts)
  getDag(id: string): Promise<DagRun | undefined>;
  /** newest first (createdAt, then id, descending) */
  listDags(query: DagQuery): Promise<DagRun[]>;
  /** runs whose status is `running`, oldest first (for recovery after a restart) */
  listUnfinishedDags(): Promise<DagRun[]>;
  /** the id of every run, oldest first (createdAt, then id); the migration reads each with getDag */
  listDagIds(): Promise<string[]>;

  // gangs (records/gang.ts); changed through `commit` (insertGang, updateGang)
  getGang(id: string): Promise<Gang | undefined>;
  /** newest first (createdAt, then id, descending) */
  listGangs(query: GangQuery): Promise<Gang[]>;
  /** gangs pending or running, oldest first (for recovery after a restart) */
  listUnfinishedGangs(): Promise<Gang[]>;

  // files
  listFiles(filter: { userId?: string | undefined; taskId?: string | undefined }): Promise<OutputFileRecord[]>;

  /** Applies all changes atomically, or none when a condition fails (answers false). */
  commit(changes: readonly StoreChange[]): Promise<boolean>;

  /**
   * Optional group commit: each group behaves exactly like one `commit` (all of it or none,
   * answering false when one of its conditions fails), applied in order, so a later group sees
   * the earlier ones; the store may write them in one transaction. Answers one result per
   * group. Callers use `commitGroups`, which falls back to one commit per group.
   */
  commitMany?(groups: readonly (readonly StoreChange[])[]): Promise<boolean[]>;

  // ---- API tokens (auth/api-token-service.ts) -------------------------------------------
  // Personal access tokens; only the secret's sha256 is stored. Not part of `commit`: each
  // operation touches one record.
  /** Throws WharfError('conflict') when the user already has a token with this name (or the hash is taken). */
  insertApiToken(token: ApiTokenRecord): Promise<void>;
  getApiToken(id: string): Promise<ApiTokenRecord | undefined>;
  findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined>;
  /** oldest first (createdAt, then id); one user's, or everyone's when userId is absent */
  listApiTokens(filter: { userId?: string | undefined }): Promise<ApiTokenRecord[]>;
  /** answers false when there was no such token */
  deleteApiToken(id: string): Promise<boolean>;
  /** sets lastUsedAt; nothing happens for a token that no longer exists */
  touchApiToken(id: string, lastUsedAt: number): Promise<void>;
  // ---- end of API tokens ----------------------------------------------------------------

  // ---- registry credentials (registries/registry-credential-service.ts) ------------------
  // One record per (user, registry); the password only encrypted. Not part of `commit`.
  /** Stores the record, replacing the user's record for the same registry (which keeps its id). Answers what is stored. */
  putRegistryCredential(credential: RegistryCredentialRecord): Promise<RegistryCredentialRecord>;
  getRegistryCredential(id: string): Promise<RegistryCredentialRecord | undefined>;
  /** oldest first (createdAt, then id); one user's, or everyone's when userId is absent */
  listRegistryCredentials(filter: { userId?: string | undefined }): Promise<RegistryCredentialRecord[]>;
  /** answers false when there was no such record */
  deleteRegistryCredential(id: string): Promise<boolean>;
  // ---- end of registry credentials -------------------------------------------------------

  // ---- dead letters (tasks/systems/dead-letter-system.ts) ---------------------------------
  // A dead letter is a failed task with `deadLetteredAt` set (records/task.ts); it is changed
  // through `commit` like any task. Newest dead letter first (deadLetteredAt, then id, descending).
  listDeadLetters(query: DeadLetterQuery): Promise<TaskPage>;
  /** How many dead letters there are (for /metrics). */
  countDeadLetters(): Promise<number>;
  // ---- end of dead letters ---------------------------------------------------------------

  // ---- queues and user limits (queues/queue-service.ts) ----------------------------------
  // Named queues and the admins' per-user limits. Not part of `commit`: each operation touches
  // one record. Stored tasks without a queue (from before queues) belong to `default`: each store
  // gives them `queue: "default"` when it opens.
  /** Throws WharfError('conflict') when a queue of that name exists. */
  insertQueue(queue: QueueRecord): Promise<void>;
  getQueue(name: string): Promise<QueueRecord | undefined>;
  /** by name */
  listQueues(): Promise<QueueRecord[]>;
  /** Replaces the stored queue of the same name; answers false when there is none. */
  updateQueue(queue: QueueRecord): Promise<boolean>;
  /** answers false when there was no such queue */
  deleteQueue(name: string): Promise<boolean>;
  /** Stores the limits of (userId, queue) — queue absent: across all queues — replacing what was there. */
  putUserLimit(limit: UserLimitRecord): Promise<void>;
  /** by user, then queue (the all-queues entry first) */
  listUserLimits(): Promise<UserLimitRecord[]>;
  /** answers false when there was no such entry */
  deleteUserLimit(userId: string, queue: string | undefined): Promise<boolean>;
  // ---- end of queues and user limits -----------------------------------------------------

  // ---- retention and garbage collection (gc/garbage-collector.ts) -----------------------
  // Finished records, oldest finished first, for the collector's bounded batches; deletes of
  // finished records only. Dead letters are never listed nor deleted here (they stay until an
  // admin re-queues or dismisses them). A finished record always carries finishedAt (one without
  // it is not listed). Not part of `commit`.
  /**
   * Finished tasks (succeeded, failed, cancelled; not dead letters) by (finishedAt, id)
   * ascending, after `after`. `dagTasks`: false = only tasks outside DAG runs, true = all.
   */
  listFinishedTasks(query: FinishedQuery & { dagTasks: boolean }): Promise<Task[]>;
  /** How many finished tasks outside DAG runs (not dead letters) there are: the count rule's total. */
  countFinishedTasks(): Promise<number>;
  /**
   * Deletes these tasks with their attempts, events and file records, each only when it is
   * finished and not a dead letter (others are left as they are). Answers what was removed.
   */
  deleteFinishedTasks(ids: readonly string[]): Promise<DeletedTasks>;
  /** Finished DAG runs (not running) by (finishedAt, id) ascending, after `after`. */
  listFinishedDags(query: FinishedQuery): Promise<DagRun[]>;
  countFinishedDags(): Promise<number>;
  /** Deletes these runs when finished (not running); answers how many. Their tasks go through deleteFinishedTasks. */
  deleteFinishedDags(ids: readonly string[]): Promise<number>;
  /** Bytes of stored output file records per user (users without files are absent). */
  sumFileBytesByUser(): Promise<UserBytes[]>;
  // ---- end of retention and garbage collection -----------------------------------------

  // ---- leases (leadership/leadership.ts) ------------------------------------------------
  // One record per lease name; the epoch only grows: each new holder (a takeover, or the same
  // address after a restart) gets the previous epoch + 1. Every commit of the leader carries an
  // `expectLeaseEpoch` change (leadership/fenced-store.ts), so a holder that lost the lease
  // cannot write. Times are the callers' clocks (epoch ms): masters must keep their clocks in
  // sync (NTP) for the TTL to mean the same to all of them; fencing does not depend on clocks.
  /**
   * Takes the lease when nobody holds it, its holder's expiresAt is at or before `claim.now`, or
   * it is held under the same `address` and `hostname` (this master restarted): a new epoch (previous + 1,
   * first 1), held by `claim.holder` until now + ttlMs. Answers the lease as it is afterwards,
   * and whether this call took it; when someone else holds it, answers their lease unchanged.
   */
  acquireLease(claim: LeaseClaim): Promise<{ acquired: boolean; lease: LeaseRecord }>;
  /** Extends the lease to now + ttlMs only while `holder` holds it at `epoch`; answers the lease after, or undefined (lost). */
  renewLease(name: string, holder: string, epoch: number, now: number, ttlMs: number): Promise<LeaseRecord | undefined>;
  /** Ends the holder's term at `now` (orderly stop: a standby takes over at once); false when it no longer holds it. */
  releaseLease(name: string, holder: string, epoch: number, now: number): Promise<boolean>;
  readLease(name: string): Promise<LeaseRecord | undefined>;
  // ---- end of leases ---------------------------------------------------------------------

  close(): Promise<void>;
}

// ---- retention and garbage collection -------------------------------------------------
/** Where a listing of finished records resumes: after (finishedAt, id), ascending. */
export interface FinishedCursor {
  finishedAt: number;
  id: string;
}

export interface FinishedQuery {
  /** only records that finished before this (finishedAt < finishedBefore); absent = any */
  finishedBefore?: number | undefined;
  after?: FinishedCursor | undefined;
  limit: number;
}

export interface DeletedTasks {
  tasks: number;
  attempts: number;
  events: number;
  files: number;
}

export interface UserBytes {
  userId: string;
  bytes: number;
}
// ---- end of retention and garbage collection ------------------------------------------

/** A lease in the store: who holds it, in which epoch, until when, and where others reach it. */
export interface LeaseRecord {
  name: string;
  /** the holding master's instance id (a new one on every start) */
  holder: string;
  /** the holder's advertised gRPC address (host:port): workers go there */
  address: string;
  /** the holder's machine (os.hostname()): the same address on the same machine may take its lease back at once */
  hostname: string;
  /** the holder's advertised HTTP base URL (scheme://host:port): standbys forward people's writes there */
  httpUrl: string;
  /** grows by one with every new holder; never reused */
  epoch: number;
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

export interface LeaseClaim {
  name: string;
  holder: string;
  address: string;
  hostname: string;
  httpUrl: string;
  now: number;
  ttlMs: number;
}

/** The lease record a claim makes after `previous` (absent: the first holder). Shared by the stores. */
export function leaseFor(claim: LeaseClaim, previous: LeaseRecord | undefined): LeaseRecord {
  return {
    name: claim.name,
    holder: claim.holder,
    address: claim.address,
    hostname: claim.hostname,
    httpUrl: claim.httpUrl,
    epoch: (previous?.epoch ?? 0) + 1,
    acquiredAt: claim.now,
    renewedAt: claim.now,
    expiresAt: claim.now + claim.ttlMs,
  };
}

/** Whether a claim may take the lease from `current`. Shared by the stores. */
export function leaseIsFree(current: LeaseRecord | undefined, claim: LeaseClaim): boolean {
  // the same address on the same machine: that master restarted (two masters cannot bind one
  // address on one machine; on two machines the same address is a misconfiguration, not a restart)
  return !current || current.expiresAt <= claim.now || (current.address === claim.address && current.hostname === claim.hostname);
}

/** Which dead letters to list: one user's (absent: everyone's), of one image or task name. */
export interface DeadLetterQuery {
  userId?: string | undefined;
  image?: string | undefined;
  name?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A dead-letter page's cursor: (deadLetteredAt, id) of its last task, in the task cursor's form. */
export function encodeDeadLetterCursor(task: Pick<Task, 'deadLetteredAt' | 'id'>): string {
  return encodeTaskCursor({ createdAt: task.deadLetteredAt ?? 0, id: task.id });
}

/**
 * Applies a patch in place with the Store's rule: a field given as `undefined` is removed.
 * Used by the stores on their copies and by the task service on its in-memory records, so
 * memory and storage can never disagree about what a patch means.
 */
export function applyPatch<T extends object>(target: T, patch: object): T {
  const record = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete record[key];
    else record[key] = value;
  }
  return target;
}

/** Group commit through `commitMany` when the store has it, else one `commit` per group. */
export async function commitGroups(store: Store, groups: readonly (readonly StoreChange[])[]): Promise<boolean[]> {
  if (groups.length === 0) return [];
  if (store.commitMany) return store.commitMany(groups);
  const results: boolean[] = [];
  for (const group of groups) results.push(await store.commit(group));
  return results;
}

/** Cursor over (createdAt desc, id desc), shared by the implementations. */
export function encodeTaskCursor(task: Pick<Task, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([task.createdAt, task.id])).toString('base64url');
}

/** Cursor over (at desc, id desc) of audit entries, shared by the implementations. */
export function encodeAuditCursor(entry: Pick<AuditEntry, 'at' | 'id'>): string {
  return encodeTaskCursor({ createdAt: entry.at, id: entry.id });
}

export function decodeAuditCursor(cursor: string): { at: number; id: string } | undefined {
  const decoded = decodeTaskCursor(cursor);
  return decoded && { at: decoded.createdAt, id: decoded.id };
}

/** The value a task sorts by under `sort` (see TaskSort); the implementations order by the same. */
export function taskSortKey(task: Pick<Task, 'createdAt' | 'startedAt' | 'finishedAt'>, sort: TaskSort): number {
  const field = sort.replace('-', '');
  if (field === 'createdAt') return task.createdAt;
  if (field === 'finishedAt') return task.finishedAt ?? 0;
  return task.finishedAt !== undefined && task.startedAt !== undefined ? task.finishedAt - task.startedAt : 0;
}

/**
 * A task list's cursor under `sort`: (key, id) of the page's last task. The default order's
 * cursor is the plain task cursor; another order's names its order, so a cursor is refused
 * under a different one.
 */
export function encodeTaskListCursor(task: Pick<Task, 'createdAt' | 'startedAt' | 'finishedAt' | 'id'>, sort: TaskSort): string {
  if (sort === '-createdAt') return encodeTaskCursor(task);
  return Buffer.from(JSON.stringify([taskSortKey(task, sort), task.id, sort])).toString('base64url');
}

/** Reads a cursor made by encodeTaskListCursor for `sort`; throws validation_failed naming `cursor` otherwise. */
export function decodeTaskListCursor(cursor: string, sort: TaskSort): { key: number; id: string } {
  const decoded = decodeTaskCursor(cursor);
  let issuedFor: unknown = '-createdAt';
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length > 2) issuedFor = value[2];
  } catch {
    // decodeTaskCursor already answered undefined
  }
  if (!decoded) throw new WharfError('validation_failed', 'cursor: not a cursor this server issued');
  if (issuedFor !== sort) throw new WharfError('validation_failed', `cursor: issued for sort ${String(issuedFor)}, not ${sort}`);
  return { key: decoded.createdAt, id: decoded.id };
}

/** Every status at 0, to count into. */
export function zeroTaskCounts(): TaskCounts {
  return { queued: 0, assigned: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

export function decodeTaskCursor(cursor: string): { createdAt: number; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through: not a cursor we made
  }
  return undefined;
}
