// SqliteStore: the embedded default Store (better-sqlite3, WAL). Records are kept as JSON
// documents with their queried fields in indexed columns beside them. A full disk (SQLITE_FULL)
// surfaces from every method as WharfError `storage_full` (storage-errors.ts).
import Database from 'better-sqlite3';
import type { ApiTokenRecord } from '../records/api-token.js';
import type { RegistryCredentialRecord } from '../records/registry-credential.js';
import { DEFAULT_QUEUE, type QueueRecord, type UserLimitRecord } from '../records/queue.js';
import { WharfError } from '../errors.js';
import type { Attempt } from '../records/attempt.js';
import type { JoinTokenRecord, RevokedCertificate } from '../records/credentials.js';
import type { DagRun } from '../records/dag.js';
import type { Gang } from '../records/gang.js';
import type { OutputFileRecord } from '../records/output-file.js';
import type { Task, TaskEvent, TaskStatus } from '../records/task.js';
import type { User, UserPatch, UserWithPassword } from '../records/user.js';
import type { WorkerRecord } from '../records/worker.js';
import { sqliteStorageError, translateStoreErrors } from './storage-errors.js';
import type { InviteRecord } from '../records/invite.js';
import type { RevokedSession } from '../records/session.js';
import type { AuditEntry, AuditPage, AuditQuery } from '../records/audit.js';
import type { WorkerHistoryEvent } from '../records/worker-history.js';
import {
  applyPatch,
  decodeAuditCursor,
  decodeTaskCursor,
  decodeTaskListCursor,
  encodeAuditCursor,
  encodeDeadLetterCursor,
  encodeTaskListCursor,
  zeroTaskCounts,
  leaseFor,
  leaseIsFree,
  type DagQuery,
  type GangQuery,
  type DeadLetterQuery,
  type DeletedTasks,
  type FinishedQuery,
  type UserBytes,
  type LeaseClaim,
  type LeaseRecord,
  type Store,
  type StoreChange,
  type TaskCounts,
  type TaskFilter,
  type TaskPage,
  type TaskQuery,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_user ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS attempts (
  id TEXT PRIMARY KEY, task_id TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_by_task ON attempts (task_id, number);
CREATE INDEX IF NOT EXISTS attempts_by_status ON attempts (status);
CREATE TABLE IF NOT EXISTS files (
  task_id TEXT NOT NULL, path TEXT NOT NULL, user_id TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (task_id, path));
CREATE INDEX IF NOT EXISTS files_by_user ON files (user_id);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_task ON events (task_id, seq);
CREATE TABLE IF NOT EXISTS dags (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  created_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dags_by_created ON dags (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS dags_by_name ON dags (name, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS dags_by_status ON dags (status, created_at, id);
CREATE TABLE IF NOT EXISTS gangs (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gangs_by_created ON gangs (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS gangs_by_status ON gangs (status, created_at, id);
CREATE TABLE IF NOT EXISTS join_tokens (
  id TEXT PRIMARY KEY, expires_at INTEGER, usage_limit INTEGER, uses INTEGER NOT NULL,
  last_used_at INTEGER, revoked_at INTEGER, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_certificates (fingerprint TEXT PRIMARY KEY, data TEXT NOT NULL);
`;

// the task list's filters and orders (TaskFilter, TaskSort): expression indexes on the JSON
// fields, then the status (so counting per status reads the index alone), then the list's
// default order (a page of one status is read in index order; several are sorted, LIMIT-bound).
// The queries below use these very expressions (SQLite matches an index by its expression).
// Measured with 100,000 tasks: a worker's per-status count 0.7 ms with them, 65 ms without.
const TASK_FIELD = {
  workerId: "json_extract(data, '$.workerId')",
  queue: "json_extract(data, '$.queue')",
  dagId: "json_extract(data, '$.dagId')",
  image: "json_extract(data, '$.image')",
  name: "json_extract(data, '$.name')",
} as const;
const TASK_SORT_KEY: Record<'createdAt' | 'finishedAt' | 'duration', string> = {
  createdAt: 'created_at',
  finishedAt: "COALESCE(json_extract(data, '$.finishedAt'), 0)",
  duration: "COALESCE(json_extract(data, '$.finishedAt') - json_extract(data, '$.startedAt'), 0)",
};
const TASK_FILTER_SCHEMA = `
CREATE INDEX IF NOT EXISTS tasks_by_worker ON tasks (${TASK_FIELD.workerId}, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_queue ON tasks (${TASK_FIELD.queue}, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_dag ON tasks (${TASK_FIELD.dagId}, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_image ON tasks (${TASK_FIELD.image}, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_user_status ON tasks (user_id, status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS tasks_by_name ON tasks (${TASK_FIELD.name}, id);
CREATE INDEX IF NOT EXISTS tasks_by_finished ON tasks (${TASK_SORT_KEY.finishedAt} DESC, id DESC);
`;

/** The WHERE terms of a task filter, with their parameters. */
function taskWhere(filter: TaskFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  const oneOf = (column: string, values: readonly string[] | undefined) => {
    if (values === undefined) return;
    where.push(values.length === 0 ? '0' : `${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  equal('user_id', filter.userId);
  equal('status', filter.status);
  oneOf('status', filter.statuses);
  oneOf(TASK_FIELD.workerId, filter.workerIds);
  equal(TASK_FIELD.queue, filter.queue);
  equal(TASK_FIELD.dagId, filter.dagId);
  equal(TASK_FIELD.image, filter.image);
  if (filter.name !== undefined) {
    // a substring, with LIKE's own wildcards taken literally; no index orders a substring, so
    // the names are scanned in the narrow tasks_by_name index rather than in the JSON documents
    // (100,000 tasks: 20 ms rather than 700 ms)
    where.push(`id IN (SELECT id FROM tasks INDEXED BY tasks_by_name WHERE ${TASK_FIELD.name} LIKE ? ESCAPE '\\')`);
    params.push(`%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (filter.since !== undefined) {
    where.push('created_at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push('created_at < ?');
    params.push(filter.until);
  }
  return { where, params };
}

// dead letters: failed tasks with deadLetteredAt, newest first (a partial index: only they are in it)
const DEAD_LETTER_SCHEMA = `
CREATE INDEX IF NOT EXISTS tasks_dead_letters ON tasks (json_extract(data, '$.deadLetteredAt') DESC, id DESC)
  WHERE status = 'failed' AND json_extract(data, '$.deadLetteredAt') IS NOT NULL;
`;

// API tokens: their own table, found by the secret's hash; (user, name) is unique
const API_TOKEN_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE (user_id, name));
`;
// User administration: invites (found by the code's hash) and ended login sessions
const USER_ADMIN_SCHEMA = `
CREATE TABLE IF NOT EXISTS invites (
  id TEXT PRIMARY KEY, code_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_sessions (
  session_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, data TEXT NOT NULL);
`;

// The audit trail: append-only, read newest first, filtered by user and action, pruned by age
const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id TEXT PRIMARY KEY, at INTEGER NOT NULL, user_id TEXT, action TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_at ON audit (at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, at DESC, id DESC);
`;

/** A join token row: the counters in columns (updated in place), the rest as JSON. */
interface JoinTokenRow {
  id: string;
  expires_at: number | null;
  usage_limit: number | null;
  uses: number;
  last_used_at: number | null;
  revoked_at: number | null;
  data: string;
}

function joinTokenOf(row: JoinTokenRow | undefined): JoinTokenRecord | undefined {
  if (!row) return undefined;
  const fixed = JSON.parse(row.data) as Pick<JoinTokenRecord, 'secretHash' | 'description' | 'createdBy' | 'createdAt' | 'startToken'>;
  const token: JoinTokenRecord = { id: row.id, ...fixed, uses: row.uses };
  if (row.expires_at !== null) token.expiresAt = row.expires_at;
  if (row.usage_limit !== null) token.usageLimit = row.usage_limit;
  if (row.last_used_at !== null) token.lastUsedAt = row.last_used_at;
  if (row.revoked_at !== null) token.revokedAt = row.revoked_at;
  return token;
}

// registry credentials: one per (user, registry); the password column is never plain text
const REGISTRY_CREDENTIAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS registry_credentials (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, registry TEXT NOT NULL, created_at INTEGER NOT NULL,
  data TEXT NOT NULL, UNIQUE (user_id, registry));
`;

// queues and per-user limits (queue '' = the user's limits across all queues); applied_steps
// records one-time data steps, such as giving the tasks stored before queues existed their queue
const QUEUE_SCHEMA = `
CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_limits (
  user_id TEXT NOT NULL, queue TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (user_id, queue));
-- worker history: append-only, read newest first per worker
CREATE TABLE IF NOT EXISTS worker_events (id TEXT PRIMARY KEY, worker_id TEXT NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS worker_events_by_worker ON worker_events (worker_id, at DESC, id DESC);
CREATE INDEX IF NOT EXISTS attempts_by_worker ON attempts (json_extract(data, '$.workerId'), json_extract(data, '$.createdAt') DESC, id DESC);
CREATE TABLE IF NOT EXISTS applied_steps (name TEXT PRIMARY KEY, at INTEGER NOT NULL);
`;

// retention and garbage collection: finished records by when they finished (partial indexes)
const GC_SCHEMA = `
CREATE INDEX IF NOT EXISTS tasks_finished ON tasks (json_extract(data, '$.finishedAt'), id)
  WHERE status IN ('succeeded', 'failed', 'cancelled') AND json_extract(data, '$.deadLetteredAt') IS NULL AND json_extract(data, '$.finishedAt') IS NOT NULL;
CREATE INDEX IF NOT EXISTS dags_finished ON dags (json_extract(data, '$.finishedAt'), id)
  WHERE status <> 'running' AND json_extract(data, '$.finishedAt') IS NOT NULL;
`;

// several masters (leadership/): one row per lease, its record as JSON
const LEASE_SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lease_commits (
  name TEXT NOT NULL, epoch INTEGER NOT NULL, commits INTEGER NOT NULL, last_at INTEGER NOT NULL, PRIMARY KEY (name, epoch));
`;

type Row = { data: string };

function parse<T>(row: Row | undefined): T | undefined {
  return row === undefined ? undefined : (JSON.parse(row.data) as T);
}

function publicUser(user: UserWithPassword): User {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

class ConditionFailed extends Error {}

/** a finished task that is not a dead letter (what the collector may delete) */
const FINISHED_TASK =
  "status IN ('succeeded', 'failed', 'cancelled') AND json_extract(data, '$.deadLetteredAt') IS NULL AND json_extract(data, '$.finishedAt') IS NOT NULL";

/** An `expectLeaseEpoch` that does not hold: the whole commit (every group of a commitMany) is refused with not_leader. */
class FencedOut extends Error {}

function fencedOut(error: FencedOut): WharfError {
  return new WharfError('not_leader', error.message);
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly apiTokenStatements;
  private readonly credentialStatements;
  private readonly userAdminStatements;
  private readonly auditStatements;
  private readonly queueStatements;
  /** One transaction per commit; nested inside `commitMany`'s transaction it is a savepoint. */
  private readonly applyGroup: Database.Transaction<(changes: readonly StoreChange[]) => void>;
  private readonly applyGroups: Database.Transaction<(groups: readonly (readonly StoreChange[])[]) => boolean[]>;

  constructor(path: string) {
    this.db = new Database(path);
    // several masters may open one file on one host (leadership/): wait for another process's
    // write lock instead of failing, and take the write lock when a transaction begins (BEGIN
    // IMMEDIATE, `.immediate` below), so a read-then-write never fails half-way with SQLITE_BUSY
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.db.exec(API_TOKEN_SCHEMA);
    this.db.exec(DEAD_LETTER_SCHEMA);
    this.db.exec(TASK_FILTER_SCHEMA);
    this.db.exec(REGISTRY_CREDENTIAL_SCHEMA);
    this.db.exec(USER_ADMIN_SCHEMA);
    this.db.exec(AUDIT_SCHEMA);
    this.db.exec(QUEUE_SCHEMA);
    this.db.exec(GC_SCHEMA);
    this.db.exec(LEASE_SCHEMA);
    this.db.transaction(() => {
      // once: tasks stored before queues existed belong to the default queue
      if (this.db.prepare("INSERT OR IGNORE INTO applied_steps (name, at) VALUES ('tasks-default-queue', ?)").run(Date.now()).changes > 0) {
        this.db.prepare("UPDATE tasks SET data = json_set(data, '$.queue', ?) WHERE json_extract(data, '$.queue') IS NULL").run(DEFAULT_QUEUE);
      }
    }).immediate();
    const db = this.db;
    this.statements = {
      insertUser: db.prepare('INSERT INTO users (id, email, data) VALUES (?, ?, ?)'),
      userByEmail: db.prepare<[string], Row>('SELECT data FROM users WHERE email = ?'),
      userById: db.prepare<[string], Row>('SELECT data FROM users WHERE id = ?'),
      allUsers: db.prepare<[], Row>('SELECT data FROM users ORDER BY rowid'),
      countUsers: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users'),
      saveWorker: db.prepare('INSERT INTO workers (id, data) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data'),
      workerById: db.prepare<[string], Row>('SELECT data FROM workers WHERE id = ?'),
      allWorkers: db.prepare<[], Row>('SELECT data FROM workers ORDER BY rowid'),
      deleteWorker: db.prepare('DELETE FROM workers WHERE id = ?'),
      insertJoinToken: db.prepare(
        'INSERT INTO join_tokens (id, expires_at, usage_limit, uses, last_used_at, revoked_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      joinTokenById: db.prepare<[string], JoinTokenRow>('SELECT * FROM join_tokens WHERE id = ?'),
      allJoinTokens: db.prepare<[], JoinTokenRow>('SELECT * FROM join_tokens ORDER BY rowid'),
      useJoinToken: db.prepare(
        `UPDATE join_tokens SET uses = uses + 1, last_used_at = ?
         WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (usage_limit IS NULL OR uses < usage_limit)`,
      ),
      revokeJoinToken: db.prepare('UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      revokeCertificate: db.prepare('INSERT INTO revoked_certificates (fingerprint, data) VALUES (?, ?) ON CONFLICT(fingerprint) DO NOTHING'),
      allRevokedCertificates: db.prepare<[], Row>('SELECT data FROM revoked_certificates ORDER BY rowid'),
      insertTask: db.prepare('INSERT INTO tasks (id, user_id, status, created_at, data) VALUES (?, ?, ?, ?, ?)'),
      taskById: db.prepare<[string], Row>('SELECT data FROM tasks WHERE id = ?'),
      updateTask: db.prepare('UPDATE tasks SET status = ?, data = ? WHERE id = ?'),
      unfinishedTasks: db.prepare<[], Row>(
        "SELECT data FROM tasks WHERE status IN ('queued','assigned','running') ORDER BY created_at, id",
      ),
      insertAttempt: db.prepare('INSERT INTO attempts (id, task_id, number, status, data) VALUES (?, ?, ?, ?, ?)'),
      attemptById: db.prepare<[string], Row>('SELECT data FROM attempts WHERE id = ?'),
      attemptsByTask: db.prepare<[string], Row>('SELECT data FROM attempts WHERE task_id = ? ORDER BY number'),
      activeAttempts: db.prepare<[], Row>(
        "SELECT data FROM attempts WHERE status IN ('assigned','running','cancelling','preempting') ORDER BY rowid",
      ),
      updateAttempt: db.prepare('UPDATE attempts SET status = ?, data = ? WHERE id = ?'),
      deleteFiles: db.prepare('DELETE FROM files WHERE task_id = ?'),
      insertFile: db.prepare('INSERT INTO files (task_id, path, user_id, data) VALUES (?, ?, ?, ?)'),
      insertEvent: db.prepare('INSERT INTO events (task_id, data) VALUES (?, ?)'),
      eventsByTask: db.prepare<[string], Row>('SELECT data FROM events WHERE task_id = ? ORDER BY seq'),
      insertDag: db.prepare('INSERT INTO dags (id, user_id, name, status, created_at, data) VALUES (?, ?, ?, ?, ?, ?)'),
      dagById: db.prepare<[string], Row>('SELECT data FROM dags WHERE id = ?'),
      updateDag: db.prepare('UPDATE dags SET status = ?, data = ? WHERE id = ?'),
      unfinishedDags: db.prepare<[], Row>("SELECT data FROM dags WHERE status = 'running' ORDER BY created_at, id"),
      dagIds: db.prepare<[], { id: string }>('SELECT id FROM dags ORDER BY created_at, id'),
      insertGang: db.prepare('INSERT INTO gangs (id, user_id, status, created_at, data) VALUES (?, ?, ?, ?, ?)'),
      gangById: db.prepare<[string], Row>('SELECT data FROM gangs WHERE id = ?'),
      updateGang: db.prepare('UPDATE gangs SET status = ?, data = ? WHERE id = ?'),
      unfinishedGangs: db.prepare<[], Row>("SELECT data FROM gangs WHERE status IN ('pending','running') ORDER BY created_at, id"),
    };
    this.credentialStatements = {
      // (user, registry) already stored: the new username and secret replace the old, the id stays
      put: db.prepare(
        'INSERT INTO registry_credentials (id, user_id, registry, created_at, data) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (user_id, registry) DO UPDATE SET created_at = excluded.created_at, data = json_set(excluded.data, \'$.id\', registry_credentials.id)',
      ),
      byUserRegistry: db.prepare<[string, string], Row>('SELECT data FROM registry_credentials WHERE user_id = ? AND registry = ?'),
      byId: db.prepare<[string], Row>('SELECT data FROM registry_credentials WHERE id = ?'),
      all: db.prepare<[], Row>('SELECT data FROM registry_credentials ORDER BY created_at, id'),
      byUser: db.prepare<[string], Row>('SELECT data FROM registry_credentials WHERE user_id = ? ORDER BY created_at, id'),
      delete: db.prepare('DELETE FROM registry_credentials WHERE id = ?'),
    };
    this.queueStatements = {
      insert: db.prepare('INSERT INTO queues (name, data) VALUES (?, ?)'),
      byName: db.prepare<[string], Row>('SELECT data FROM queues WHERE name = ?'),
      all: db.prepare<[], Row>('SELECT data FROM queues ORDER BY name'),
      update: db.prepare('UPDATE queues SET data = ? WHERE name = ?'),
      delete: db.prepare('DELETE FROM queues WHERE name = ?'),
      putLimit: db.prepare('INSERT INTO user_limits (user_id, queue, data) VALUES (?, ?, ?) ON CONFLICT (user_id, queue) DO UPDATE SET data = excluded.data'),
      allLimits: db.prepare<[], Row>('SELECT data FROM user_limits ORDER BY user_id, queue'),
      deleteLimit: db.prepare('DELETE FROM user_limits WHERE user_id = ? AND queue = ?'),
    };
    this.apiTokenStatements = {
      insert: db.prepare('INSERT INTO api_tokens (id, user_id, name, secret_hash, created_at, data) VALUES (?, ?, ?, ?, ?, ?)'),
      byId: db.prepare<[string], Row>('SELECT data FROM api_tokens WHERE id = ?'),
      byHash: db.prepare<[string], Row>('SELECT data FROM api_tokens WHERE secret_hash = ?'),
      all: db.prepare<[], Row>('SELECT data FROM api_tokens ORDER BY created_at, id'),
      byUser: db.prepare<[string], Row>('SELECT data FROM api_tokens WHERE user_id = ? ORDER BY created_at, id'),
      delete: db.prepare('DELETE FROM api_tokens WHERE id = ?'),
      update: db.prepare('UPDATE api_tokens SET data = ? WHERE id = ?'),
    };
    this.userAdminStatements = {
      updateUser: db.prepare('UPDATE users SET data = ? WHERE id = ?'),
      deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
      insertInvite: db.prepare('INSERT INTO invites (id, code_hash, created_at, data) VALUES (?, ?, ?, ?)'),
      inviteById: db.prepare<[string], Row>('SELECT data FROM invites WHERE id = ?'),
      inviteByHash: db.prepare<[string], Row>('SELECT data FROM invites WHERE code_hash = ?'),
      allInvites: db.prepare<[], Row>('SELECT data FROM invites ORDER BY created_at, id'),
      updateInvite: db.prepare('UPDATE invites SET data = ? WHERE id = ?'),
      revokeSession: db.prepare('INSERT INTO revoked_sessions (session_id, expires_at, data) VALUES (?, ?, ?) ON CONFLICT(session_id) DO NOTHING'),
      allRevokedSessions: db.prepare<[], Row>('SELECT data FROM revoked_sessions ORDER BY rowid'),
      pruneRevokedSessions: db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?'),
    };
    this.auditStatements = {
      insert: db.prepare('INSERT INTO audit (id, at, user_id, action, data) VALUES (?, ?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM audit WHERE at < ?'),
    };
    this.applyGroup = this.db.transaction((changes: readonly StoreChange[]) => {
      for (const change of changes) this.applyChange(change);
    });
    this.applyGroups = this.db.transaction((groups: readonly (readonly StoreChange[])[]) =>
      groups.map((group) => {
        try {
          this.applyGroup(group);
          return true;
        } catch (error: unknown) {
          if (error instanceof ConditionFailed) return false;
          throw error;
        }
      }),
    );
    // every method's SQLITE_FULL becomes storage_full ("master storage full: …")
    return translateStoreErrors(this, sqliteStorageError);
  }

  async insertUser(user: UserWithPassword): Promise<void> {
    try {
      this.statements.insertUser.run(user.id, user.email, JSON.stringify(user));
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new WharfError('conflict', `a user with email ${user.email} already exists`);
      }
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<UserWithPassword | undefined> {
    return parse<UserWithPassword>(this.statements.userByEmail.get(email));
  }

  async getUser(id: string): Promise<User | undefined> {
    const user = parse<UserWithPassword>(this.statements.userById.get(id));
    return user && publicUser(user);
  }

  async listUsers(): Promise<User[]> {
    return this.statements.allUsers.all().map((row) => publicUser(JSON.parse(row.data) as UserWithPassword));
  }

  async countUsers(): Promise<number> {
    return this.statements.countUsers.get()?.n ?? 0;
  }

  // ---- user administration, invites and ended sessions ---------------------------------

  async updateUser(id: string, patch: UserPatch): Promise<User | undefined> {
    const update = this.db.transaction(() => {
      const user = parse<UserWithPassword>(this.statements.userById.get(id));
      if (!user) return undefined;
      const next = applyPatch({ ...user }, patch);
      this.userAdminStatements.updateUser.run(JSON.stringify(next), id);
      return publicUser(next);
    });
    return update.immediate();
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.userAdminStatements.deleteUser.run(id).changes > 0;
  }

  async insertInvite(invite: InviteRecord): Promise<void> {
    try {
      this.userAdminStatements.insertInvite.run(invite.id, invite.codeHash, invite.createdAt, JSON.stringify(invite));
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new WharfError('conflict', `an invite with id ${invite.id} (or that code) already exists`);
      }
      throw error;
    }
  }

  async getInvite(id: string): Promise<InviteRecord | undefined> {
    return parse<InviteRecord>(this.userAdminStatements.inviteById.get(id));
  }

  async findInviteByHash(codeHash: string): Promise<InviteRecord | undefined> {
    return parse<InviteRecord>(this.userAdminStatements.inviteByHash.get(codeHash));
  }

  async listInvites(): Promise<InviteRecord[]> {
    return this.userAdminStatements.allInvites.all().map((row) => JSON.parse(row.data) as InviteRecord);
  }

  async useInvite(id: string, now: number, userId: string): Promise<boolean> {
    const use = this.db.transaction(() => {
      const invite = parse<InviteRecord>(this.userAdminStatements.inviteById.get(id));
      if (!invite || invite.usedAt !== undefined || invite.revokedAt !== undefined || invite.expiresAt <= now) return false;
      this.userAdminStatements.updateInvite.run(JSON.stringify({ ...invite, usedAt: now, usedBy: userId }), id);
      return true;
    });
    return use.immediate();
  }

  async revokeInvite(id: string, at: number): Promise<boolean> {
    const revoke = this.db.transaction(() => {
      const invite = parse<InviteRecord>(this.userAdminStatements.inviteById.get(id));
      if (!invite || invite.usedAt !== undefined || invite.revokedAt !== undefined) return false;
      this.userAdminStatements.updateInvite.run(JSON.stringify({ ...invite, revokedAt: at }), id);
      return true;
    });
    return revoke.immediate();
  }

  async revokeSession(entry: RevokedSession): Promise<void> {
    this.userAdminStatements.revokeSession.run(entry.sessionId, entry.expiresAt, JSON.stringify(entry));
  }

  async listRevokedSessions(): Promise<RevokedSession[]> {
    return this.userAdminStatements.allRevokedSessions.all().map((row) => JSON.parse(row.data) as RevokedSession);
  }

  async pruneRevokedSessions(now: number): Promise<number> {
    return this.userAdminStatements.pruneRevokedSessions.run(now).changes;
  }

  // ---- end of user administration -------------------------------------------------------

  async saveWorker(worker: WorkerRecord): Promise<void> {
    this.statements.saveWorker.run(worker.id, JSON.stringify(worker));
  }

  async getWorker(id: string): Promise<WorkerRecord | undefined> {
    return parse<WorkerRecord>(this.statements.workerById.get(id));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.statements.allWorkers.all().map((row) => JSON.parse(row.data) as WorkerRecord);
  }

  async deleteWorker(id: string): Promise<void> {
    this.statements.deleteWorker.run(id);
  }

  async insertJoinToken(token: JoinTokenRecord): Promise<void> {
    const { id, expiresAt, usageLimit, uses, lastUsedAt, revokedAt, secretHash, description, createdBy, createdAt, startToken } = token;
    const fixed = { secretHash, description, createdBy, createdAt, startToken };
    try {
      this.statements.insertJoinToken.run(id, expiresAt ?? null, usageLimit ?? null, uses, lastUsedAt ?? null, revokedAt ?? null, JSON.stringify(fixed));
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new WharfError('conflict', `a join token with id ${id} already exists`);
      }
      throw error;
    }
  }

  async getJoinToken(id: string): Promise<JoinTokenRecord | undefined> {
    return joinTokenOf(this.statements.joinTokenById.get(id));
  }

  async listJoinTokens(): Promise<JoinTokenRecord[]> {
    return this.statements.allJoinTokens.all().map((row) => joinTokenOf(row)!);
  }

  async useJoinToken(id: string, now: number): Promise<boolean> {
    return this.statements.useJoinToken.run(now, id, now).changes === 1;
  }

  async revokeJoinToken(id: string, at: number): Promise<boolean> {
    return this.statements.revokeJoinToken.run(at, id).changes === 1;
  }

  async revokeCertificate(entry: RevokedCertificate): Promise<void> {
    this.statements.revokeCertificate.run(entry.fingerprint256, JSON.stringify(entry));
  }

  async listRevokedCertificates(): Promise<RevokedCertificate[]> {
    return this.statements.allRevokedCertificates.all().map((row) => JSON.parse(row.data) as RevokedCertificate);
  }

  // ---- audit trail ----------------------------------------------------------------------

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.auditStatements.insert.run(entry.id, entry.at, entry.userId ?? null, entry.action, JSON.stringify(entry));
  }

  async listAudit(query: AuditQuery): Promise<AuditPage> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.userId !== undefined) {
      where.push('user_id = ?');
      params.push(query.userId);
    }
    if (query.action !== undefined) {
      where.push('action = ?');
      params.push(query.action);
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('at < ?');
      params.push(query.until);
    }
    if (query.cursor !== undefined) {
      const cursor = decodeAuditCursor(query.cursor);
      if (!cursor) throw new WharfError('validation_failed', 'cursor: not a cursor this server issued');
      where.push('(at < ? OR (at = ? AND id < ?))');
      params.push(cursor.at, cursor.at, cursor.id);
    }
    const sql = `SELECT data FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, query.limit + 1);
    const entries = rows.slice(0, query.limit).map((row) => JSON.parse(row.data) as AuditEntry);
    const last = entries[entries.length - 1];
    return { entries, nextCursor: rows.length > query.limit && last ? encodeAuditCursor(last) : undefined };
  }

  async pruneAudit(before: number): Promise<number> {
    return this.auditStatements.prune.run(before).changes;
  }

  // ---- end of audit trail ---------------------------------------------------------------

  // ---- worker history ------------------------------------------------------------------

  async appendWorkerEvent(event: WorkerHistoryEvent): Promise<void> {
    this.db.prepare('INSERT INTO worker_events (id, worker_id, at, data) VALUES (?, ?, ?, ?)').run(event.id, event.workerId, event.at, JSON.stringify(event));
  }

  async listWorkerEvents(workerId: string, limit: number): Promise<WorkerHistoryEvent[]> {
    return this.db
      .prepare<[string, number], Row>('SELECT data FROM worker_events WHERE worker_id = ? ORDER BY at DESC, id DESC LIMIT ?')
      .all(workerId, limit)
      .map((row) => JSON.parse(row.data) as WorkerHistoryEvent);
  }

  async listAttemptsOfWorker(workerId: string, limit: number): Promise<Attempt[]> {
    return this.db
      .prepare<[string, number], Row>(
        "SELECT data FROM attempts WHERE json_extract(data, '$.workerId') = ? ORDER BY json_extract(data, '$.createdAt') DESC, id DESC LIMIT ?",
      )
      .all(workerId, limit)
      .map((row) => JSON.parse(row.data) as Attempt);
  }

  // ---- end of worker history -----------------------------------------------------------

  async getTask(id: string): Promise<Task | undefined> {
    return parse<Task>(this.statements.taskById.get(id));
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    const { where, params } = taskWhere(query);
    const sort = query.sort ?? '-createdAt';
    const descending = sort.startsWith('-');
    const key = TASK_SORT_KEY[sort.replace('-', '') as keyof typeof TASK_SORT_KEY];
    if (query.cursor !== undefined) {
      const cursor = decodeTaskListCursor(query.cursor, sort);
      const after = descending ? '<' : '>';
      where.push(`(${key} ${after} ? OR (${key} = ? AND id ${after} ?))`);
      params.push(cursor.key, cursor.key, cursor.id);
    }
    const direction = descending ? 'DESC' : 'ASC';
    const sql = `SELECT data FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${key} ${direction}, id ${direction} LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, query.limit + 1);
    const tasks = rows.slice(0, query.limit).map((row) => JSON.parse(row.data) as Task);
    const last = tasks[tasks.length - 1];
    return { tasks, nextCursor: rows.length > query.limit && last ? encodeTaskListCursor(last, sort) : undefined };
  }

  async countTasks(filter: TaskFilter): Promise<TaskCounts> {
    const { where, params } = taskWhere(filter);
    const sql = `SELECT status, COUNT(*) AS n FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY status`;
    const counts = zeroTaskCounts();
    for (const row of this.db.prepare<(string | number)[], { status: TaskStatus; n: number }>(sql).all(...params)) counts[row.status] = row.n;
    return counts;
  }

  async listUnfinishedTasks(): Promise<Task[]> {
    return this.statements.unfinishedTasks.all().map((row) => JSON.parse(row.data) as Task);
  }

  async getAttempt(id: string): Promise<Attempt | undefined> {
    return parse<Attempt>(this.statements.attemptById.get(id));
  }

  async listAttempts(taskId: string): Promise<Attempt[]> {
    return this.statements.attemptsByTask.all(taskId).map((row) => JSON.parse(row.data) as Attempt);
  }

  async listActiveAttempts(): Promise<Attempt[]> {
    return this.statements.activeAttempts.all().map((row) => JSON.parse(row.data) as Attempt);
  }

  async listEvents(taskId: string): Promise<TaskEvent[]> {
    return this.statements.eventsByTask.all(taskId).map((row) => JSON.parse(row.data) as TaskEvent);
  }

  async listFiles(filter: { userId?: string | undefined; taskId?: string | undefined }): Promise<OutputFileRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.userId !== undefined) {
      where.push('user_id = ?');
      params.push(filter.userId);
    }
    if (filter.taskId !== undefined) {
      where.push('task_id = ?');
      params.push(filter.taskId);
    }
    const sql = `SELECT data FROM files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rowid`;
    return this.db
      .prepare<string[], Row>(sql)
      .all(...params)
      .map((row) => JSON.parse(row.data) as OutputFileRecord);
  }

  async getDag(id: string): Promise<DagRun | undefined> {
    return parse<DagRun>(this.statements.dagById.get(id));
  }

  async listDags(query: DagQuery): Promise<DagRun[]> {
    return this.newestFirst<DagRun>('dags', { user_id: query.userId, name: query.name }, query.limit);
  }

  async listUnfinishedDags(): Promise<DagRun[]> {
    return this.statements.unfinishedDags.all().map((row) => JSON.parse(row.data) as DagRun);
  }

  async listDagIds(): Promise<string[]> {
    return this.statements.dagIds.all().map((row) => row.id);
  }

  async getGang(id: string): Promise<Gang | undefined> {
    return parse<Gang>(this.statements.gangById.get(id));
  }

  async listGangs(query: GangQuery): Promise<Gang[]> {
    return this.newestFirst<Gang>('gangs', { user_id: query.userId, status: query.status }, query.limit);
  }

  /** The newest `limit` documents of a table with created_at/id columns, where each given column equals its value. */
  private newestFirst<T>(table: 'dags' | 'gangs', equal: Record<string, string | undefined>, limit: number): T[] {
    const filters = Object.entries(equal).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const where = filters.length ? `WHERE ${filters.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
    return this.db
      .prepare<(string | number)[], Row>(`SELECT data FROM ${table} ${where} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...filters.map(([, value]) => value), limit)
      .map((row) => JSON.parse(row.data) as T);
  }

  async listUnfinishedGangs(): Promise<Gang[]> {
    return this.statements.unfinishedGangs.all().map((row) => JSON.parse(row.data) as Gang);
  }

  async commit(changes: readonly StoreChange[]): Promise<boolean> {
    try {
      this.applyGroup.immediate(changes);
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionFailed) return false;
      if (error instanceof FencedOut) throw fencedOut(error);
      throw error;
    }
  }

  /** Every group in one transaction (one WAL commit), each group in its own savepoint. */
  async commitMany(groups: readonly (readonly StoreChange[])[]): Promise<boolean[]> {
    try {
      return this.applyGroups.immediate(groups);
    } catch (error: unknown) {
      if (error instanceof FencedOut) throw fencedOut(error);
      throw error;
    }
  }

  // ---- leases ---------------------------------------------------------------------------
  private leaseByName: Database.Statement<[string], Row> | undefined;
  private leaseCommitCount: Database.Statement<[string, number, number]> | undefined;

  private readLeaseRow(name: string): LeaseRecord | undefined {
    this.leaseByName ??= this.db.prepare<[string], Row>('SELECT data FROM leases WHERE name = ?');
    return parse<LeaseRecord>(this.leaseByName.get(name));
  }

  private writeLease(lease: LeaseRecord): void {
    this.db
      .prepare('INSERT INTO leases (name, data) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data')
      .run(lease.name, JSON.stringify(lease));
  }

  async acquireLease(claim: LeaseClaim): Promise<{ acquired: boolean; lease: LeaseRecord }> {
    return this.db
      .transaction(() => {
        const current = this.readLeaseRow(claim.name);
        if (current && !leaseIsFree(current, claim)) return { acquired: false, lease: current };
        const lease = leaseFor(claim, current);
        this.writeLease(lease);
        return { acquired: true, lease };
      })
      .immediate();
  }

  async renewLease(name: string, holder: string, epoch: number, now: number, ttlMs: number): Promise<LeaseRecord | undefined> {
    return this.db
      .transaction(() => {
        const current = this.readLeaseRow(name);
        if (!current || current.holder !== holder || current.epoch !== epoch) return undefined;
        const lease = { ...current, renewedAt: now, expiresAt: Math.max(current.expiresAt, now + ttlMs) };
        this.writeLease(lease);
        return lease;
      })
      .immediate();
  }

  async releaseLease(name: string, holder: string, epoch: number, now: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        const current = this.readLeaseRow(name);
        if (!current || current.holder !== holder || current.epoch !== epoch) return false;
        this.writeLease({ ...current, expiresAt: Math.min(current.expiresAt, now) });
        return true;
      })
      .immediate();
  }

  async readLease(name: string): Promise<LeaseRecord | undefined> {
    return this.readLeaseRow(name);
  }
  // ---- end of leases --------------------------------------------------------------------

  private applyChange(change: StoreChange): void {
    const s = this.statements;
    switch (change.kind) {
      case 'insertTask': {
        const t = change.task;
        s.insertTask.run(t.id, t.userId, t.status, t.createdAt, JSON.stringify(t));
        return;
      }
      case 'insertAttempt': {
        const a = change.attempt;
        s.insertAttempt.run(a.id, a.taskId, a.number, a.status, JSON.stringify(a));
        return;
      }
      case 'updateTask': {
        const task = parse<Task>(s.taskById.get(change.taskId));
        if (!task) throw new ConditionFailed();
        if (change.expectStatus && !change.expectStatus.includes(task.status)) throw new ConditionFailed();
        if (change.expectAttemptId !== undefined && task.currentAttemptId !== change.expectAttemptId) {
          throw new ConditionFailed();
        }
        const next = applyPatch({ ...task }, change.patch);
        s.updateTask.run(next.status, JSON.stringify(next), task.id);
        return;
      }
      case 'updateAttempt': {
        const attempt = parse<Attempt>(s.attemptById.get(change.attemptId));
        if (!attempt) throw new ConditionFailed();
        if (change.expectStatus && !change.expectStatus.includes(attempt.status)) throw new ConditionFailed();
        const next = applyPatch({ ...attempt }, change.patch);
        s.updateAttempt.run(next.status, JSON.stringify(next), attempt.id);
        return;
      }
      case 'appendEvent':
        s.insertEvent.run(change.event.taskId, JSON.stringify(change.event));
        return;
      case 'replaceTaskFiles':
        s.deleteFiles.run(change.taskId);
        for (const file of change.files) s.insertFile.run(file.taskId, file.path, file.userId, JSON.stringify(file));
        return;
      case 'insertDag': {
        const d = change.dag;
        s.insertDag.run(d.id, d.userId, d.name, d.status, d.createdAt, JSON.stringify(d));
        return;
      }
      case 'updateDag': {
        const dag = parse<DagRun>(s.dagById.get(change.dagId));
        if (!dag) throw new ConditionFailed();
        if (change.expectStatus && !change.expectStatus.includes(dag.status)) throw new ConditionFailed();
        if (change.expectVersion !== undefined && dag.version !== change.expectVersion) throw new ConditionFailed();
        const next = applyPatch({ ...dag }, change.patch);
        s.updateDag.run(next.status, JSON.stringify(next), dag.id);
        return;
      }
      case 'insertGang': {
        const g = change.gang;
        s.insertGang.run(g.id, g.userId, g.status, g.createdAt, JSON.stringify(g));
        return;
      }
      case 'updateGang': {
        const gang = parse<Gang>(s.gangById.get(change.gangId));
        if (!gang) throw new ConditionFailed();
        if (change.expectStatus && !change.expectStatus.includes(gang.status)) throw new ConditionFailed();
        if (change.expectVersion !== undefined && gang.version !== change.expectVersion) throw new ConditionFailed();
        const next = applyPatch({ ...gang }, change.patch);
        s.updateGang.run(next.status, JSON.stringify(next), gang.id);
        return;
      }
      case 'expectLeaseEpoch': {
        const lease = this.readLeaseRow(change.name);
        if (lease?.epoch !== change.epoch) {
          throw new FencedOut(`commit refused: lease ${change.name} is at epoch ${lease?.epoch ?? 'none'}, not ${change.epoch} (another master leads)`);
        }
        // how many commits each epoch made, and when the last was: what an operator (and the
        // failover test) checks to see that a deposed leader wrote nothing after its takeover
        this.leaseCommitCount ??= this.db.prepare(
          'INSERT INTO lease_commits (name, epoch, commits, last_at) VALUES (?, ?, 1, ?) ON CONFLICT (name, epoch) DO UPDATE SET commits = commits + 1, last_at = excluded.last_at',
        );
        this.leaseCommitCount.run(change.name, change.epoch, Date.now());
        return;
      }
    }
  }

  // ---- dead letters ---------------------------------------------------------------------
  async listDeadLetters(query: DeadLetterQuery): Promise<TaskPage> {
    const at = "json_extract(data, '$.deadLetteredAt')";
    const where = ["status = 'failed'", `${at} IS NOT NULL`];
    const params: (string | number)[] = [];
    if (query.userId !== undefined) {
      where.push('user_id = ?');
      params.push(query.userId);
    }
    if (query.image !== undefined) {
      where.push("json_extract(data, '$.image') = ?");
      params.push(query.image);
    }
    if (query.name !== undefined) {
      where.push("json_extract(data, '$.name') = ?");
      params.push(query.name);
    }
    if (query.cursor !== undefined) {
      const cursor = decodeTaskCursor(query.cursor);
      if (!cursor) throw new WharfError('validation_failed', 'cursor: not a cursor this server issued');
      where.push(`(${at} < ? OR (${at} = ? AND id < ?))`);
      params.push(cursor.createdAt, cursor.createdAt, cursor.id);
    }
    const sql = `SELECT data FROM tasks WHERE ${where.join(' AND ')} ORDER BY ${at} DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, query.limit + 1);
    const tasks = rows.slice(0, query.limit).map((row) => JSON.parse(row.data) as Task);
    const last = tasks[tasks.length - 1];
    return { tasks, nextCursor: rows.length > query.limit && last ? encodeDeadLetterCursor(last) : undefined };
  }

  async countDeadLetters(): Promise<number> {
    const row = this.db
      .prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE status = 'failed' AND json_extract(data, '$.deadLetteredAt') IS NOT NULL")
      .get();
    return row?.n ?? 0;
  }
  // ---- end of dead letters --------------------------------------------------------------

  // ---- retention and garbage collection -------------------------------------------------

  async listFinishedTasks(query: FinishedQuery & { dagTasks: boolean }): Promise<Task[]> {
    const at = "json_extract(data, '$.finishedAt')";
    const where = [FINISHED_TASK];
    const params: (string | number)[] = [];
    if (!query.dagTasks) where.push("json_extract(data, '$.dagId') IS NULL");
    if (query.finishedBefore !== undefined) {
      where.push(`${at} < ?`);
      params.push(query.finishedBefore);
    }
    if (query.after) {
      where.push(`(${at} > ? OR (${at} = ? AND id > ?))`);
      params.push(query.after.finishedAt, query.after.finishedAt, query.after.id);
    }
    // the partial index by finishedAt: the planner would otherwise sort every finished task per batch
    const sql = `SELECT data FROM tasks INDEXED BY tasks_finished WHERE ${where.join(' AND ')} ORDER BY ${at}, id LIMIT ?`;
    return this.db.prepare<(string | number)[], Row>(sql).all(...params, query.limit).map((row) => JSON.parse(row.data) as Task);
  }

  async countFinishedTasks(): Promise<number> {
    const sql = `SELECT COUNT(*) AS n FROM tasks WHERE ${FINISHED_TASK} AND json_extract(data, '$.dagId') IS NULL`;
    return this.db.prepare<[], { n: number }>(sql).get()?.n ?? 0;
  }

  async deleteFinishedTasks(ids: readonly string[]): Promise<DeletedTasks> {
    const deleted: DeletedTasks = { tasks: 0, attempts: 0, events: 0, files: 0 };
    const db = this.db;
    const remove = db.prepare(`DELETE FROM tasks WHERE id = ? AND ${FINISHED_TASK}`);
    const attempts = db.prepare('DELETE FROM attempts WHERE task_id = ?');
    const events = db.prepare('DELETE FROM events WHERE task_id = ?');
    const files = db.prepare('DELETE FROM files WHERE task_id = ?');
    db.transaction(() => {
      for (const id of ids) {
        if (remove.run(id).changes === 0) continue;
        deleted.tasks += 1;
        deleted.attempts += attempts.run(id).changes;
        deleted.events += events.run(id).changes;
        deleted.files += files.run(id).changes;
      }
    })();
    return deleted;
  }

  async listFinishedDags(query: FinishedQuery): Promise<DagRun[]> {
    const at = "json_extract(data, '$.finishedAt')";
    const where = ["status <> 'running'", `${at} IS NOT NULL`];
    const params: (string | number)[] = [];
    if (query.finishedBefore !== undefined) {
      where.push(`${at} < ?`);
      params.push(query.finishedBefore);
    }
    if (query.after) {
      where.push(`(${at} > ? OR (${at} = ? AND id > ?))`);
      params.push(query.after.finishedAt, query.after.finishedAt, query.after.id);
    }
    const sql = `SELECT data FROM dags INDEXED BY dags_finished WHERE ${where.join(' AND ')} ORDER BY ${at}, id LIMIT ?`;
    return this.db.prepare<(string | number)[], Row>(sql).all(...params, query.limit).map((row) => JSON.parse(row.data) as DagRun);
  }

  async countFinishedDags(): Promise<number> {
    return this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM dags WHERE status <> 'running' AND json_extract(data, '$.finishedAt') IS NOT NULL").get()?.n ?? 0;
  }

  async deleteFinishedDags(ids: readonly string[]): Promise<number> {
    const remove = this.db.prepare("DELETE FROM dags WHERE id = ? AND status <> 'running'");
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) n += remove.run(id).changes;
    })();
    return n;
  }

  async sumFileBytesByUser(): Promise<UserBytes[]> {
    return this.db
      .prepare<[], { user_id: string; bytes: number }>("SELECT user_id, SUM(json_extract(data, '$.size')) AS bytes FROM files GROUP BY user_id ORDER BY user_id")
      .all()
      .map((row) => ({ userId: row.user_id, bytes: row.bytes }));
  }
  // ---- end of retention and garbage collection ------------------------------------------

  // ---- API tokens -----------------------------------------------------------------------

  async insertApiToken(token: ApiTokenRecord): Promise<void> {
    try {
      this.apiTokenStatements.insert.run(token.id, token.userId, token.name, token.secretHash, token.createdAt, JSON.stringify(token));
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && String(error.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new WharfError('conflict', `name: an API token named "${token.name}" already exists for this user`);
      }
      throw error;
    }
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    return parse<ApiTokenRecord>(this.apiTokenStatements.byId.get(id));
  }

  async findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    return parse<ApiTokenRecord>(this.apiTokenStatements.byHash.get(secretHash));
  }

  async listApiTokens(filter: { userId?: string | undefined }): Promise<ApiTokenRecord[]> {
    const rows = filter.userId === undefined ? this.apiTokenStatements.all.all() : this.apiTokenStatements.byUser.all(filter.userId);
    return rows.map((row) => JSON.parse(row.data) as ApiTokenRecord);
  }

  async deleteApiToken(id: string): Promise<boolean> {
    return this.apiTokenStatements.delete.run(id).changes > 0;
  }

  async touchApiToken(id: string, lastUsedAt: number): Promise<void> {
    const token = parse<ApiTokenRecord>(this.apiTokenStatements.byId.get(id));
    if (token) this.apiTokenStatements.update.run(JSON.stringify({ ...token, lastUsedAt }), id);
  }

  // ---- end of API tokens ----------------------------------------------------------------

  // ---- registry credentials --------------------------------------------------------------

  async putRegistryCredential(credential: RegistryCredentialRecord): Promise<RegistryCredentialRecord> {
    const s = this.credentialStatements;
    s.put.run(credential.id, credential.userId, credential.registry, credential.createdAt, JSON.stringify(credential));
    return parse<RegistryCredentialRecord>(s.byUserRegistry.get(credential.userId, credential.registry))!;
  }

  async getRegistryCredential(id: string): Promise<RegistryCredentialRecord | undefined> {
    return parse<RegistryCredentialRecord>(this.credentialStatements.byId.get(id));
  }

  async listRegistryCredentials(filter: { userId?: string | undefined }): Promise<RegistryCredentialRecord[]> {
    const s = this.credentialStatements;
    const rows = filter.userId === undefined ? s.all.all() : s.byUser.all(filter.userId);
    return rows.map((row) => JSON.parse(row.data) as RegistryCredentialRecord);
  }

  async deleteRegistryCredential(id: string): Promise<boolean> {
    return this.credentialStatements.delete.run(id).changes > 0;
  }

  // ---- end of registry credentials -------------------------------------------------------

  // ---- queues and user limits ------------------------------------------------------------

  async insertQueue(queue: QueueRecord): Promise<void> {
    try {
      this.queueStatements.insert.run(queue.name, JSON.stringify(queue));
    } catch (error: unknown) {
      if (error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new WharfError('conflict', `queue ${queue.name} already exists`);
      }
      throw error;
    }
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    return parse<QueueRecord>(this.queueStatements.byName.get(name));
  }

  async listQueues(): Promise<QueueRecord[]> {
    return this.queueStatements.all.all().map((row) => JSON.parse(row.data) as QueueRecord);
  }

  async updateQueue(queue: QueueRecord): Promise<boolean> {
    return this.queueStatements.update.run(JSON.stringify(queue), queue.name).changes > 0;
  }

  async deleteQueue(name: string): Promise<boolean> {
    return this.queueStatements.delete.run(name).changes > 0;
  }

  async putUserLimit(limit: UserLimitRecord): Promise<void> {
    this.queueStatements.putLimit.run(limit.userId, limit.queue ?? '', JSON.stringify(limit));
  }

  async listUserLimits(): Promise<UserLimitRecord[]> {
    return this.queueStatements.allLimits.all().map((row) => JSON.parse(row.data) as UserLimitRecord);
  }

  async deleteUserLimit(userId: string, queue: string | undefined): Promise<boolean> {
    return this.queueStatements.deleteLimit.run(userId, queue ?? '').changes > 0;
  }

  // ---- end of queues and user limits -----------------------------------------------------

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
