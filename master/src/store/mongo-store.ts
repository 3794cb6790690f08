// MongoStore: the Store contract on MongoDB (official driver), chosen by WHARF_MONGO_URL.
// It behaves exactly like SqliteStore; the conformance suite (store.conformance.ts) runs
// against both.
//
// Documents: each record is kept as its own fields (the same JSON SqliteStore keeps in its
// `data` column, so a field that is `undefined` is absent), with `_id` = the record's id for
// users, workers, tasks and attempts, and a driver-made ObjectId for files and events.
// `_seq` (an ObjectId made when the record is first written) orders users, workers and
// attempts the way SQLite's rowid does: ObjectIds made by one process only grow.
//
// Changes (`commit`):
// - every update carries its condition in the filter (status, current attempt id) and is a
//   single `findOneAndUpdate`, so a duplicate report, a retried request or a second master can
//   never apply it twice; a field patched to `undefined` becomes `$unset`;
// - on a replica set or a sharded cluster, a commit of more than one document change runs in
//   one transaction (`session.withTransaction`, snapshot reads, majority writes); a missed
//   condition aborts it, so nothing of the commit is visible. A write conflict with another
//   transaction is retried by the driver, and the retry then sees the condition fail;
// - on a standalone server (no transactions) what remains is: each single-document change is
//   still conditional and atomic, changes are applied in order, and when a later condition
//   misses, the changes already applied are undone (deleted inserts, pre-images written back)
//   before commit answers false. What is lost is isolation and crash safety: another reader
//   can see a half-applied commit for a moment, and a master that dies between two changes of
//   one commit leaves the earlier ones in place. Run MongoDB as a replica set (a single-node
//   one is enough; see database/docker-compose.yml) to get the full guarantee.
import { MongoClient, MongoServerError, ObjectId, type ClientSession, type Collection, type Db, type Document, type Filter, type TransactionOptions } from 'mongodb';
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
import { mongoStorageError, translateStoreErrors } from './storage-errors.js';
import type { InviteRecord } from '../records/invite.js';
import type { RevokedSession } from '../records/session.js';
import type { AuditEntry, AuditPage, AuditQuery } from '../records/audit.js';
import type { WorkerHistoryEvent } from '../records/worker-history.js';
import {
  decodeAuditCursor,
  decodeTaskCursor,
  decodeTaskListCursor,
  encodeAuditCursor,
  encodeDeadLetterCursor,
  encodeTaskListCursor,
  zeroTaskCounts,
  type DagQuery,
  type GangQuery,
  leaseFor,
  leaseIsFree,
  type LeaseClaim,
  type LeaseRecord,
  type DeadLetterQuery,
  type DeletedTasks,
  type FinishedQuery,
  type UserBytes,
  type Store,
  type StoreChange,
  type TaskCounts,
  type TaskFilter,
  type TaskPage,
  type TaskQuery,
} from './store.js';

const UNFINISHED_TASK_STATUSES = ['queued', 'assigned', 'running'];
const ACTIVE_ATTEMPT_STATUSES = ['assigned', 'running', 'cancelling', 'preempting'];

const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/** What an index list looks like; created at start, each by name (createIndex is idempotent). */
const INDEXES: Record<CollectionName, { name: string; key: Record<string, 1 | -1>; unique?: boolean }[]> = {
  users: [
    { name: 'users_by_email', key: { email: 1 }, unique: true },
    { name: 'users_in_order', key: { _seq: 1 } },
  ],
  workers: [{ name: 'workers_in_order', key: { _seq: 1 } }], // workers by id: the _id index
  tasks: [
    { name: 'tasks_queue', key: { status: 1, priority: -1, createdAt: 1 } },
    { name: 'tasks_by_status', key: { status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_user', key: { userId: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_worker', key: { workerId: 1 } },
    // the task list's filters (TaskFilter): each with the status (per-status counts) and the default order
    { name: 'tasks_by_worker_status', key: { workerId: 1, status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_queue_status', key: { queue: 1, status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_dag_status', key: { dagId: 1, status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_image_status', key: { image: 1, status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_user_status', key: { userId: 1, status: 1, createdAt: -1, _id: -1 } },
    { name: 'tasks_by_created', key: { createdAt: -1, _id: -1 } },
    // dead letters, newest first (only failed tasks carry deadLetteredAt)
    { name: 'tasks_dead_letters', key: { deadLetteredAt: -1, _id: -1 } },
    // retention: finished tasks by when they finished
    { name: 'tasks_finished', key: { finishedAt: 1, _id: 1 } },
  ],
  attempts: [
    { name: 'attempts_by_task', key: { taskId: 1, number: 1 } },
    { name: 'attempts_by_status', key: { status: 1, _seq: 1 } },
    // a worker's recent attempts (GET /api/workers/:id/history)
    { name: 'attempts_by_worker', key: { workerId: 1, createdAt: -1, _id: -1 } },
  ],
  files: [
    { name: 'files_by_task', key: { taskId: 1, path: 1 }, unique: true },
    { name: 'files_by_user', key: { userId: 1, _id: 1 } },
  ],
  events: [{ name: 'events_by_task', key: { taskId: 1, _id: 1 } }],
  dags: [
    { name: 'dags_by_created', key: { createdAt: -1, _id: -1 } },
    { name: 'dags_by_user', key: { userId: 1, createdAt: -1, _id: -1 } },
    { name: 'dags_by_name', key: { name: 1, createdAt: -1, _id: -1 } },
    { name: 'dags_by_status', key: { status: 1, createdAt: 1, _id: 1 } },
    { name: 'dags_finished', key: { finishedAt: 1, _id: 1 } },
  ],
  gangs: [
    { name: 'gangs_by_created', key: { createdAt: -1, _id: -1 } },
    { name: 'gangs_by_user', key: { userId: 1, createdAt: -1, _id: -1 } },
    { name: 'gangs_by_status', key: { status: 1, createdAt: 1, _id: 1 } },
  ],
  join_tokens: [{ name: 'join_tokens_in_order', key: { _seq: 1 } }],
  revoked_certificates: [{ name: 'revoked_certificates_in_order', key: { _seq: 1 } }],
  // API tokens: found by the secret's hash; (user, name) is unique
  api_tokens: [
    { name: 'api_tokens_by_hash', key: { secretHash: 1 }, unique: true },
    { name: 'api_tokens_by_user_name', key: { userId: 1, name: 1 }, unique: true },
    { name: 'api_tokens_in_order', key: { createdAt: 1, _id: 1 } },
  ],
  // registry credentials: one per (user, registry)
  registry_credentials: [
    { name: 'registry_credentials_by_user_registry', key: { userId: 1, registry: 1 }, unique: true },
    { name: 'registry_credentials_in_order', key: { createdAt: 1, _id: 1 } },
  ],
  // user administration: invites found by the code's hash; ended sessions pruned by expiry
  invites: [
    { name: 'invites_by_hash', key: { codeHash: 1 }, unique: true },
    { name: 'invites_in_order', key: { createdAt: 1, _id: 1 } },
  ],
  revoked_sessions: [
    { name: 'revoked_sessions_in_order', key: { _seq: 1 } },
    { name: 'revoked_sessions_by_expiry', key: { expiresAt: 1 } },
  ],
  // the audit trail: newest first, by user, by action; pruned by age
  audit: [
    { name: 'audit_by_at', key: { at: -1, _id: -1 } },
    { name: 'audit_by_user', key: { userId: 1, at: -1, _id: -1 } },
    { name: 'audit_by_action', key: { action: 1, at: -1, _id: -1 } },
  ],
  // worker history: newest first per worker
  worker_events: [{ name: 'worker_events_by_worker', key: { workerId: 1, at: -1, _id: -1 } }],
  // queues by name (the _id index); user limits by (user, queue; '' = all queues): their _id
  queues: [],
  user_limits: [],
};

type CollectionName =
  | 'users'
  | 'workers'
  | 'tasks'
  | 'attempts'
  | 'files'
  | 'events'
  | 'dags'
  | 'gangs'
  | 'join_tokens'
  | 'revoked_certificates'
  | 'api_tokens'
  | 'registry_credentials'
  | 'invites'
  | 'revoked_sessions'
  | 'audit'
  | 'worker_events'
  | 'queues'
  | 'user_limits';

/** A record keyed by its own id (users, workers, tasks, attempts). */
interface Keyed extends Document {
  _id: string;
}

/** The same JSON form SqliteStore stores: `undefined` fields dropped, nothing but JSON values. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function publicUser(user: UserWithPassword): User {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

/** `$set` for given fields, `$unset` for fields given as undefined; undefined when empty. */
function toUpdate(patch: object): Document | undefined {
  const set: Record<string, unknown> = {};
  const unset: Record<string, ''> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) unset[key] = '';
    else set[key] = value;
  }
  const update: Document = {};
  if (Object.keys(set).length > 0) update.$set = plain(set);
  if (Object.keys(unset).length > 0) update.$unset = unset;
  return Object.keys(update).length > 0 ? update : undefined;
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/** Read projection: the record as the domain knows it. */
const RECORD = { projection: { _id: 0, _seq: 0 } } as const;

/** A TaskFilter as a query (every condition ANDed). */
function taskFilter(filter: TaskFilter): Filter<Keyed> {
  const and: Filter<Keyed>[] = [];
  if (filter.userId !== undefined) and.push({ userId: filter.userId });
  if (filter.status !== undefined) and.push({ status: filter.status });
  if (filter.statuses !== undefined) and.push({ status: { $in: [...filter.statuses] } });
  if (filter.workerIds !== undefined) and.push({ workerId: { $in: [...filter.workerIds] } });
  if (filter.queue !== undefined) and.push({ queue: filter.queue });
  if (filter.dagId !== undefined) and.push({ dagId: filter.dagId });
  if (filter.image !== undefined) and.push({ image: filter.image });
  // a substring, case-insensitively, the name's regex characters taken literally
  if (filter.name !== undefined) and.push({ name: { $regex: filter.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' } });
  if (filter.since !== undefined) and.push({ createdAt: { $gte: filter.since } });
  if (filter.until !== undefined) and.push({ createdAt: { $lt: filter.until } });
  return and.length === 0 ? {} : { $and: and };
}

/** Undoes one applied change (standalone servers only; a transaction aborts instead). */
type Undo = () => Promise<void>;
const NOTHING_TO_UNDO: Undo = async () => {};

class ConditionFailed extends Error {}

/** An `expectLeaseEpoch` that does not hold: the commit is refused with not_leader (see store.ts). */
class FencedOut extends Error {}

/** A lease as stored: the record under `_id` = its name, plus the fence's write counter. */
interface LeaseDocument extends Document {
  _id: string;
}
const LEASE_PROJECTION = { projection: { _id: 0, fencedWrites: 0 } } as const;

export interface MongoStoreOptions {
  /** how long the start may wait for a server before failing (default 5 s) */
  startTimeoutMs?: number;
}

export class MongoStore implements Store {
  readonly kind = 'mongo' as const;
  private readonly users: Collection<Keyed>;
  private readonly workers: Collection<Keyed>;
  private readonly tasks: Collection<Keyed>;
  private readonly attempts: Collection<Keyed>;
  private readonly files: Collection;
  private readonly events: Collection;
  private readonly dags: Collection<Keyed>;
  private readonly gangs: Collection<Keyed>;
  private readonly joinTokens: Collection<Keyed>;
  private readonly revokedCertificates: Collection<Keyed>;
  private readonly apiTokens: Collection<Keyed>;
  private readonly registryCredentials: Collection<Keyed>;
  private readonly invites: Collection<Keyed>;
  private readonly revokedSessions: Collection<Keyed>;
  private readonly audit: Collection<Keyed>;
  private readonly workerEvents: Collection<Keyed>;
  private readonly queues: Collection<Keyed>;
  private readonly userLimits: Collection<Keyed>;
  private readonly leases: Collection<LeaseDocument>;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
    /** true on a replica set or sharded cluster: multi-document commits run in a transaction */
    readonly transactions: boolean,
  ) {
    this.users = db.collection<Keyed>('users');
    this.workers = db.collection<Keyed>('workers');
    this.tasks = db.collection<Keyed>('tasks');
    this.attempts = db.collection<Keyed>('attempts');
    this.files = db.collection('files');
    this.events = db.collection('events');
    this.dags = db.collection<Keyed>('dags');
    this.gangs = db.collection<Keyed>('gangs');
    this.joinTokens = db.collection<Keyed>('join_tokens');
    this.revokedCertificates = db.collection<Keyed>('revoked_certificates');
    this.apiTokens = db.collection<Keyed>('api_tokens');
    this.registryCredentials = db.collection<Keyed>('registry_credentials');
    this.invites = db.collection<Keyed>('invites');
    this.revokedSessions = db.collection<Keyed>('revoked_sessions');
    this.audit = db.collection<Keyed>('audit');
    this.workerEvents = db.collection<Keyed>('worker_events');
    this.queues = db.collection<Keyed>('queues');
    this.userLimits = db.collection<Keyed>('user_limits');
    this.leases = db.collection<LeaseDocument>('leases');
  }

  /**
   * Connects, finds out whether the deployment has transactions and creates the indexes.
   * Fails within `startTimeoutMs` when no server answers: a short-lived probe client with that
   * server selection timeout checks first, so the long-lived client can keep the driver's
   * default (30 s), which rides out a replica-set election instead of failing requests.
   */
  static async connect(url: string, databaseName: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
    const startTimeoutMs = options.startTimeoutMs ?? 5000;
    const probe = new MongoClient(url, { serverSelectionTimeoutMS: startTimeoutMs, connectTimeoutMS: startTimeoutMs, appName: 'wharf-master' });
    let hello: Document;
    try {
      await probe.connect();
      hello = await probe.db('admin').command({ hello: 1 });
    } finally {
      await probe.close();
    }
    // Transactions need sessions and a replica set (setName) or mongos (msg: 'isdbgrid').
    const transactions =
      hello.logicalSessionTimeoutMinutes !== undefined && (typeof hello.setName === 'string' || hello.msg === 'isdbgrid');
    const client = new MongoClient(url, { appName: 'wharf-master', ignoreUndefined: true });
    try {
      await client.connect();
      const store = new MongoStore(client, client.db(databaseName), transactions);
      await store.createIndexes();
      // tasks stored before queues existed belong to the default queue
      await store.tasks.updateMany({ queue: { $exists: false } }, { $set: { queue: DEFAULT_QUEUE } });
      // every method's out-of-disk-space error becomes storage_full ("master storage full: …")
      return translateStoreErrors(store, mongoStorageError);
    } catch (error: unknown) {
      await client.close();
      throw error;
    }
  }

  private async createIndexes(): Promise<void> {
    for (const [collection, indexes] of Object.entries(INDEXES)) {
      for (const index of indexes) {
        await this.db.collection(collection).createIndex(index.key, { name: index.name, unique: index.unique ?? false });
      }
    }
  }

  // users

  async insertUser(user: UserWithPassword): Promise<void> {
    try {
      await this.users.insertOne({ _id: user.id, _seq: new ObjectId(), ...plain(user) });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw new WharfError('conflict', `a user with email ${user.email} already exists`);
      throw error;
    }
  }

  async findUserByEmail(email: string): Promise<UserWithPassword | undefined> {
    return ((await this.users.findOne({ email }, RECORD)) ?? undefined) as UserWithPassword | undefined;
  }

  async getUser(id: string): Promise<User | undefined> {
    const user = (await this.users.findOne({ _id: id }, RECORD)) as UserWithPassword | null;
    return user ? publicUser(user) : undefined;
  }

  async listUsers(): Promise<User[]> {
    const users = await this.users.find({}, { ...RECORD, sort: { _seq: 1 } }).toArray();
    return users.map((user) => publicUser(user as unknown as UserWithPassword));
  }

  async countUsers(): Promise<number> {
    return this.users.countDocuments({});
  }

  // ---- user administration, invites and ended sessions ---------------------------------

  async updateUser(id: string, patch: UserPatch): Promise<User | undefined> {
    const update = toUpdate(patch);
    const after = update
      ? await this.users.findOneAndUpdate({ _id: id }, update, { ...RECORD, returnDocument: 'after' })
      : await this.users.findOne({ _id: id }, RECORD);
    return after ? publicUser(after as unknown as UserWithPassword) : undefined;
  }

  async deleteUser(id: string): Promise<boolean> {
    return (await this.users.deleteOne({ _id: id })).deletedCount > 0;
  }

  async insertInvite(invite: InviteRecord): Promise<void> {
    try {
      await this.invites.insertOne({ _id: invite.id, ...plain(invite) });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw new WharfError('conflict', `an invite with id ${invite.id} (or that code) already exists`);
      throw error;
    }
  }

  async getInvite(id: string): Promise<InviteRecord | undefined> {
    return ((await this.invites.findOne({ _id: id }, RECORD)) ?? undefined) as InviteRecord | undefined;
  }

  async findInviteByHash(codeHash: string): Promise<InviteRecord | undefined> {
    return ((await this.invites.findOne({ codeHash }, RECORD)) ?? undefined) as InviteRecord | undefined;
  }

  async listInvites(): Promise<InviteRecord[]> {
    return (await this.invites.find({}, { ...RECORD, sort: { createdAt: 1, _id: 1 } }).toArray()) as unknown as InviteRecord[];
  }

  async useInvite(id: string, now: number, userId: string): Promise<boolean> {
    const result = await this.invites.updateOne(
      { _id: id, usedAt: { $exists: false }, revokedAt: { $exists: false }, expiresAt: { $gt: now } },
      { $set: { usedAt: now, usedBy: userId } },
    );
    return result.modifiedCount === 1;
  }

  async revokeInvite(id: string, at: number): Promise<boolean> {
    const result = await this.invites.updateOne({ _id: id, usedAt: { $exists: false }, revokedAt: { $exists: false } }, { $set: { revokedAt: at } });
    return result.modifiedCount === 1;
  }

  async revokeSession(entry: RevokedSession): Promise<void> {
    await this.revokedSessions.updateOne(
      { _id: entry.sessionId },
      { $setOnInsert: { _seq: new ObjectId(), ...plain(entry) } },
      { upsert: true },
    );
  }

  async listRevokedSessions(): Promise<RevokedSession[]> {
    return (await this.revokedSessions.find({}, { ...RECORD, sort: { _seq: 1 } }).toArray()) as unknown as RevokedSession[];
  }

  async pruneRevokedSessions(now: number): Promise<number> {
    return (await this.revokedSessions.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
  }

  // ---- end of user administration -------------------------------------------------------

  // workers

  /** Replaces the record (as SQLite's upsert does), keeping its place in the listing order. */
  async saveWorker(worker: WorkerRecord): Promise<void> {
    const existing = await this.workers.findOne({ _id: worker.id }, { projection: { _seq: 1 } });
    const seq: unknown = existing?._seq ?? new ObjectId();
    await this.workers.replaceOne({ _id: worker.id }, { _seq: seq, ...plain(worker) }, { upsert: true });
  }

  async getWorker(id: string): Promise<WorkerRecord | undefined> {
    return ((await this.workers.findOne({ _id: id }, RECORD)) ?? undefined) as WorkerRecord | undefined;
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.workers.find({}, { ...RECORD, sort: { _seq: 1 } }).toArray()) as unknown as WorkerRecord[];
  }

  async deleteWorker(id: string): Promise<void> {
    await this.workers.deleteOne({ _id: id });
  }

  // join tokens and revoked certificates

  async insertJoinToken(token: JoinTokenRecord): Promise<void> {
    try {
      await this.joinTokens.insertOne({ _id: token.id, _seq: new ObjectId(), ...plain(token) });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw new WharfError('conflict', `a join token with id ${token.id} already exists`);
      throw error;
    }
  }

  async getJoinToken(id: string): Promise<JoinTokenRecord | undefined> {
    return ((await this.joinTokens.findOne({ _id: id }, RECORD)) ?? undefined) as JoinTokenRecord | undefined;
  }

  async listJoinTokens(): Promise<JoinTokenRecord[]> {
    return (await this.joinTokens.find({}, { ...RECORD, sort: { _seq: 1 } }).toArray()) as unknown as JoinTokenRecord[];
  }

  /** One conditional update: the condition (usable at `now`) and the count are one atomic step. */
  async useJoinToken(id: string, now: number): Promise<boolean> {
    const result = await this.joinTokens.updateOne(
      {
        _id: id,
        revokedAt: { $exists: false },
        $and: [
          { $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: now } }] },
          { $or: [{ usageLimit: { $exists: false } }, { $expr: { $lt: ['$uses', '$usageLimit'] } }] },
        ],
      },
      { $inc: { uses: 1 }, $set: { lastUsedAt: now } },
    );
    return result.modifiedCount === 1;
  }

  async revokeJoinToken(id: string, at: number): Promise<boolean> {
    const result = await this.joinTokens.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: at } });
    return result.modifiedCount === 1;
  }

  async revokeCertificate(entry: RevokedCertificate): Promise<void> {
    await this.revokedCertificates.updateOne(
      { _id: entry.fingerprint256 },
      { $setOnInsert: { _seq: new ObjectId(), ...plain(entry) } },
      { upsert: true },
    );
  }

  async listRevokedCertificates(): Promise<RevokedCertificate[]> {
    return (await this.revokedCertificates.find({}, { ...RECORD, sort: { _seq: 1 } }).toArray()) as unknown as RevokedCertificate[];
  }

  // ---- audit trail ----------------------------------------------------------------------

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.audit.insertOne({ _id: entry.id, ...plain(entry) });
  }

  async listAudit(query: AuditQuery): Promise<AuditPage> {
    const filter: Filter<Keyed> = {};
    if (query.userId !== undefined) filter.userId = query.userId;
    if (query.action !== undefined) filter.action = query.action;
    if (query.since !== undefined || query.until !== undefined) {
      filter.at = { ...(query.since !== undefined ? { $gte: query.since } : {}), ...(query.until !== undefined ? { $lt: query.until } : {}) };
    }
    if (query.cursor !== undefined) {
      const cursor = decodeAuditCursor(query.cursor);
      if (!cursor) throw new WharfError('validation_failed', 'cursor: not a cursor this server issued');
      filter.$or = [{ at: { $lt: cursor.at } }, { at: cursor.at, _id: { $lt: cursor.id } }];
    }
    const docs = await this.audit.find(filter, { projection: { _id: 0 }, sort: { at: -1, _id: -1 }, limit: query.limit + 1 }).toArray();
    const entries = docs.slice(0, query.limit) as unknown as AuditEntry[];
    const last = entries[entries.length - 1];
    return { entries, nextCursor: docs.length > query.limit && last ? encodeAuditCursor(last) : undefined };
  }

  async pruneAudit(before: number): Promise<number> {
    return (await this.audit.deleteMany({ at: { $lt: before } })).deletedCount;
  }

  // ---- end of audit trail ---------------------------------------------------------------

  // ---- worker history ------------------------------------------------------------------

  async appendWorkerEvent(event: WorkerHistoryEvent): Promise<void> {
    await this.workerEvents.insertOne({ _id: event.id, ...plain(event) });
  }

  async listWorkerEvents(workerId: string, limit: number): Promise<WorkerHistoryEvent[]> {
    const docs = await this.workerEvents.find({ workerId }, { projection: { _id: 0 }, sort: { at: -1, _id: -1 }, limit }).toArray();
    return docs as unknown as WorkerHistoryEvent[];
  }

  async listAttemptsOfWorker(workerId: string, limit: number): Promise<Attempt[]> {
    return (await this.attempts.find({ workerId }, { ...RECORD, sort: { createdAt: -1, _id: -1 }, limit }).toArray()) as unknown as Attempt[];
  }

  // ---- end of worker history -----------------------------------------------------------

  // tasks and attempts

  async getTask(id: string): Promise<Task | undefined> {
    return ((await this.tasks.findOne({ _id: id }, RECORD)) ?? undefined) as Task | undefined;
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    const sort = query.sort ?? '-createdAt';
    const direction = sort.startsWith('-') ? -1 : 1;
    const after = direction === -1 ? '$lt' : '$gt';
    const cursor = query.cursor === undefined ? undefined : decodeTaskListCursor(query.cursor, sort);
    let rows: Task[];
    if (sort.endsWith('createdAt')) {
      // a plain find, so the (filter, createdAt, _id) indexes serve the order
      const filter = taskFilter(query);
      const page: Filter<Keyed> =
        cursor === undefined ? filter : { $and: [filter, { $or: [{ createdAt: { [after]: cursor.key } }, { createdAt: cursor.key, _id: { [after]: cursor.id } }] }] };
      rows = (await this.tasks.find(page, { ...RECORD, sort: { createdAt: direction, _id: direction }, limit: query.limit + 1 }).toArray()) as unknown as Task[];
    } else {
      // the key as TaskSort defines it (an unfinished task: 0), computed: these orders sort what the filters leave
      const key =
        sort.endsWith('finishedAt')
          ? { $ifNull: ['$finishedAt', 0] }
          : { $cond: [{ $and: [{ $isNumber: '$finishedAt' }, { $isNumber: '$startedAt' }] }, { $subtract: ['$finishedAt', '$startedAt'] }, 0] };
      const pipeline: Document[] = [{ $match: taskFilter(query) }, { $addFields: { _key: key } }];
      if (cursor !== undefined) pipeline.push({ $match: { $or: [{ _key: { [after]: cursor.key } }, { _key: cursor.key, _id: { [after]: cursor.id } }] } });
      pipeline.push({ $sort: { _key: direction, _id: direction } }, { $limit: query.limit + 1 }, { $project: { _id: 0, _seq: 0, _key: 0 } });
      rows = (await this.tasks.aggregate(pipeline).toArray()) as unknown as Task[];
    }
    const tasks = rows.slice(0, query.limit);
    const last = tasks[tasks.length - 1];
    return { tasks, nextCursor: rows.length > query.limit && last ? encodeTaskListCursor(last, sort) : undefined };
  }

  async countTasks(filter: TaskFilter): Promise<TaskCounts> {
    const counts = zeroTaskCounts();
    const rows = await this.tasks.aggregate<{ _id: TaskStatus; n: number }>([{ $match: taskFilter(filter) }, { $group: { _id: '$status', n: { $sum: 1 } } }]).toArray();
    for (const row of rows) counts[row._id] = row.n;
    return counts;
  }

  async listUnfinishedTasks(): Promise<Task[]> {
    return (await this.tasks
      .find({ status: { $in: UNFINISHED_TASK_STATUSES } }, { ...RECORD, sort: { createdAt: 1, _id: 1 } })
      .toArray()) as unknown as Task[];
  }

  async getAttempt(id: string): Promise<Attempt | undefined> {
    return ((await this.attempts.findOne({ _id: id }, RECORD)) ?? undefined) as Attempt | undefined;
  }

  async listAttempts(taskId: string): Promise<Attempt[]> {
    return (await this.attempts.find({ taskId }, { ...RECORD, sort: { number: 1, _seq: 1 } }).toArray()) as unknown as Attempt[];
  }

  async listActiveAttempts(): Promise<Attempt[]> {
    return (await this.attempts
      .find({ status: { $in: ACTIVE_ATTEMPT_STATUSES } }, { ...RECORD, sort: { _seq: 1 } })
      .toArray()) as unknown as Attempt[];
  }

  async listEvents(taskId: string): Promise<TaskEvent[]> {
    return (await this.events.find({ taskId }, { projection: { _id: 0 }, sort: { _id: 1 } }).toArray()) as unknown as TaskEvent[];
  }

  // files

  async listFiles(filter: { userId?: string | undefined; taskId?: string | undefined }): Promise<OutputFileRecord[]> {
    const query: Filter<Document> = {};
    if (filter.userId !== undefined) query.userId = filter.userId;
    if (filter.taskId !== undefined) query.taskId = filter.taskId;
    return (await this.files.find(query, { projection: { _id: 0 }, sort: { _id: 1 } }).toArray()) as unknown as OutputFileRecord[];
  }

  // DAG runs

  async getDag(id: string): Promise<DagRun | undefined> {
    return ((await this.dags.findOne({ _id: id }, RECORD)) ?? undefined) as DagRun | undefined;
  }

  async listDags(query: DagQuery): Promise<DagRun[]> {
    const filter: Filter<Keyed> = {};
    if (query.userId !== undefined) filter.userId = query.userId;
    if (query.name !== undefined) filter.name = query.name;
    return (await this.dags.find(filter, { ...RECORD, sort: { createdAt: -1, _id: -1 }, limit: query.limit }).toArray()) as unknown as DagRun[];
  }

  async listUnfinishedDags(): Promise<DagRun[]> {
    return (await this.dags.find({ status: 'running' }, { ...RECORD, sort: { createdAt: 1, _id: 1 } }).toArray()) as unknown as DagRun[];
  }

  async getGang(id: string): Promise<Gang | undefined> {
    return ((await this.gangs.findOne({ _id: id }, RECORD)) ?? undefined) as Gang | undefined;
  }

  async listGangs(query: GangQuery): Promise<Gang[]> {
    const filter: Filter<Keyed> = {};
    if (query.userId !== undefined) filter.userId = query.userId;
    if (query.status !== undefined) filter.status = query.status;
    return (await this.gangs.find(filter, { ...RECORD, sort: { createdAt: -1, _id: -1 }, limit: query.limit }).toArray()) as unknown as Gang[];
  }

  async listUnfinishedGangs(): Promise<Gang[]> {
    return (await this.gangs.find({ status: { $in: ['pending', 'running'] } }, { ...RECORD, sort: { createdAt: 1, _id: 1 } }).toArray()) as unknown as Gang[];
  }

  async listDagIds(): Promise<string[]> {
    const rows = await this.dags.find({}, { projection: { _id: 1 }, sort: { createdAt: 1, _id: 1 } }).toArray();
    return rows.map((row) => row._id);
  }

  // changes

  async commit(changes: readonly StoreChange[]): Promise<boolean> {
    try {
      return await this.commitChanges(changes);
    } catch (error: unknown) {
      if (error instanceof FencedOut) throw new WharfError('not_leader', error.message);
      throw error;
    }
  }

  // ---- leases ---------------------------------------------------------------------------
  async acquireLease(claim: LeaseClaim): Promise<{ acquired: boolean; lease: LeaseRecord }> {
    const current = await this.readLease(claim.name);
    if (current && !leaseIsFree(current, claim)) return { acquired: false, lease: current };
    const lease = leaseFor(claim, current);
    try {
      // conditional on the epoch read: of two masters claiming at once, one gets it
      const taken = current
        ? await this.leases.findOneAndUpdate({ _id: claim.name, epoch: current.epoch }, { $set: { ...lease } })
        : await this.leases.insertOne({ _id: claim.name, ...lease });
      if (taken) return { acquired: true, lease };
    } catch (error: unknown) {
      if (!isDuplicateKey(error)) throw error;
    }
    const now = await this.readLease(claim.name);
    if (!now) throw new WharfError('internal', `lease ${claim.name} vanished while it was claimed`);
    return { acquired: false, lease: now };
  }

  async renewLease(name: string, holder: string, epoch: number, now: number, ttlMs: number): Promise<LeaseRecord | undefined> {
    const after = await this.leases.findOneAndUpdate(
      { _id: name, holder, epoch },
      { $set: { renewedAt: now }, $max: { expiresAt: now + ttlMs } },
      { returnDocument: 'after', ...LEASE_PROJECTION },
    );
    return (after ?? undefined) as LeaseRecord | undefined;
  }

  async releaseLease(name: string, holder: string, epoch: number, now: number): Promise<boolean> {
    const result = await this.leases.updateOne({ _id: name, holder, epoch }, { $min: { expiresAt: now } });
    return result.matchedCount > 0;
  }

  async readLease(name: string): Promise<LeaseRecord | undefined> {
    return ((await this.leases.findOne({ _id: name }, LEASE_PROJECTION)) ?? undefined) as LeaseRecord | undefined;
  }
  // ---- end of leases --------------------------------------------------------------------

  private async commitChanges(changes: readonly StoreChange[]): Promise<boolean> {
    const [only] = changes;
    if (only === undefined) return true;
    // One change to one document is atomic by itself; replaceTaskFiles touches several.
    const singleDocument = changes.length === 1 && only.kind !== 'replaceTaskFiles';
    if (this.transactions && !singleDocument) return this.commitInTransaction(changes);
    // Standalone server (or a single-document change): in order, taking back what this commit
    // already did when a condition misses or a write fails (see the header).
    const applied: Undo[] = [];
    const takeBack = async () => {
      for (const step of applied.reverse()) await step();
    };
    for (const change of changes) {
      let undo: Undo | false;
      try {
        undo = await this.applyChange(change, undefined);
      } catch (error: unknown) {
        await takeBack();
        throw error;
      }
      if (undo === false) {
        await takeBack();
        return false;
      }
      applied.push(undo);
    }
    return true;
  }

  private async commitInTransaction(changes: readonly StoreChange[]): Promise<boolean> {
    const session = this.client.startSession();
    try {
      await session.withTransaction(async () => {
        for (const change of changes) {
          if ((await this.applyChange(change, session)) === false) throw new ConditionFailed();
        }
      }, TRANSACTION_OPTIONS);
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionFailed) return false;
      throw error;
    } finally {
      await session.endSession();
    }
  }

  /** Applies one change; false when its condition does not hold (nothing was written). */
  private async applyChange(change: StoreChange, session: ClientSession | undefined): Promise<Undo | false> {
    const options = { session };
    switch (change.kind) {
      case 'insertTask': {
        const id = change.task.id;
        await this.tasks.insertOne({ _id: id, ...plain(change.task) }, options);
        return async () => void (await this.tasks.deleteOne({ _id: id }));
      }
      case 'insertAttempt': {
        const id = change.attempt.id;
        await this.attempts.insertOne({ _id: id, _seq: new ObjectId(), ...plain(change.attempt) }, options);
        return async () => void (await this.attempts.deleteOne({ _id: id }));
      }
      case 'updateTask': {
        const filter: Filter<Keyed> = { _id: change.taskId };
        if (change.expectStatus) filter.status = { $in: [...change.expectStatus] };
        if (change.expectAttemptId !== undefined) filter.currentAttemptId = change.expectAttemptId;
        return this.conditionalUpdate(this.tasks, filter, change.patch, session);
      }
      case 'updateAttempt': {
        const filter: Filter<Keyed> = { _id: change.attemptId };
        if (change.expectStatus) filter.status = { $in: [...change.expectStatus] };
        return this.conditionalUpdate(this.attempts, filter, change.patch, session);
      }
      case 'appendEvent': {
        const id = new ObjectId();
        await this.events.insertOne({ _id: id, ...plain(change.event) }, options);
        return async () => void (await this.events.deleteOne({ _id: id }));
      }
      case 'insertDag': {
        const id = change.dag.id;
        await this.dags.insertOne({ _id: id, ...plain(change.dag) }, options);
        return async () => void (await this.dags.deleteOne({ _id: id }));
      }
      case 'updateDag': {
        const filter: Filter<Keyed> = { _id: change.dagId };
        if (change.expectStatus) filter.status = { $in: [...change.expectStatus] };
        if (change.expectVersion !== undefined) filter.version = change.expectVersion;
        return this.conditionalUpdate(this.dags, filter, change.patch, session);
      }
      case 'insertGang': {
        const id = change.gang.id;
        await this.gangs.insertOne({ _id: id, ...plain(change.gang) }, options);
        return async () => void (await this.gangs.deleteOne({ _id: id }));
      }
      case 'updateGang': {
        const filter: Filter<Keyed> = { _id: change.gangId };
        if (change.expectStatus) filter.status = { $in: [...change.expectStatus] };
        if (change.expectVersion !== undefined) filter.version = change.expectVersion;
        return this.conditionalUpdate(this.gangs, filter, change.patch, session);
      }
      case 'expectLeaseEpoch': {
        // in a transaction the fence WRITES the lease document, so a takeover that commits
        // meanwhile is a write conflict: the driver retries, and the retry sees the new epoch.
        // Without transactions (standalone) it is a check before the other changes.
        const fence = session
          ? await this.leases.findOneAndUpdate({ _id: change.name, epoch: change.epoch }, { $inc: { fencedWrites: 1 } }, { session })
          : await this.leases.findOne({ _id: change.name, epoch: change.epoch }, { projection: { _id: 1 } });
        if (!fence) throw new FencedOut(`commit refused: lease ${change.name} is no longer at epoch ${change.epoch} (another master leads)`);
        return NOTHING_TO_UNDO;
      }
      case 'replaceTaskFiles': {
        const taskId = change.taskId;
        const previous = await this.files.find({ taskId }, options).toArray();
        await this.files.deleteMany({ taskId }, options);
        if (change.files.length > 0) {
          await this.files.insertMany(
            change.files.map((file) => ({ _id: new ObjectId(), ...plain(file) })),
            options,
          );
        }
        return async () => {
          await this.files.deleteMany({ taskId });
          if (previous.length > 0) await this.files.insertMany(previous);
        };
      }
    }
  }

  private async conditionalUpdate(
    collection: Collection<Keyed>,
    filter: Filter<Keyed>,
    patch: object,
    session: ClientSession | undefined,
  ): Promise<Undo | false> {
    const update = toUpdate(patch);
    if (update === undefined) {
      // an empty patch only checks its condition
      return (await collection.findOne(filter, { session, projection: { _id: 1 } })) ? NOTHING_TO_UNDO : false;
    }
    const before = await collection.findOneAndUpdate(filter, update, { session, returnDocument: 'before' });
    if (!before) return false;
    return async () => void (await collection.replaceOne({ _id: before._id }, before));
  }

  // ---- dead letters ---------------------------------------------------------------------
  async listDeadLetters(query: DeadLetterQuery): Promise<TaskPage> {
    const filter: Filter<Keyed> = { status: 'failed', deadLetteredAt: { $exists: true } };
    if (query.userId !== undefined) filter.userId = query.userId;
    if (query.image !== undefined) filter.image = query.image;
    if (query.name !== undefined) filter.name = query.name;
    if (query.cursor !== undefined) {
      const cursor = decodeTaskCursor(query.cursor);
      if (!cursor) throw new WharfError('validation_failed', 'cursor: not a cursor this server issued');
      filter.$or = [{ deadLetteredAt: { $lt: cursor.createdAt } }, { deadLetteredAt: cursor.createdAt, _id: { $lt: cursor.id } }];
    }
    const rows = (await this.tasks
      .find(filter, { ...RECORD, sort: { deadLetteredAt: -1, _id: -1 }, limit: query.limit + 1 })
      .toArray()) as unknown as Task[];
    const tasks = rows.slice(0, query.limit);
    const last = tasks[tasks.length - 1];
    return { tasks, nextCursor: rows.length > query.limit && last ? encodeDeadLetterCursor(last) : undefined };
  }

  async countDeadLetters(): Promise<number> {
    return this.tasks.countDocuments({ status: 'failed', deadLetteredAt: { $exists: true } });
  }
  // ---- end of dead letters --------------------------------------------------------------

  // ---- retention and garbage collection -------------------------------------------------
  async listFinishedTasks(query: FinishedQuery & { dagTasks: boolean }): Promise<Task[]> {
    const filter: Filter<Keyed> = { ...finishedTaskFilter(), ...finishedRange(query) };
    if (!query.dagTasks) filter.dagId = { $exists: false };
    return (await this.tasks.find(filter, { ...RECORD, sort: { finishedAt: 1, _id: 1 }, limit: query.limit }).toArray()) as unknown as Task[];
  }

  async countFinishedTasks(): Promise<number> {
    return this.tasks.countDocuments({ ...finishedTaskFilter(), dagId: { $exists: false } });
  }

  async deleteFinishedTasks(ids: readonly string[]): Promise<DeletedTasks> {
    const deleted: DeletedTasks = { tasks: 0, attempts: 0, events: 0, files: 0 };
    for (const id of ids) {
      if ((await this.tasks.deleteOne({ _id: id, ...finishedTaskFilter() })).deletedCount === 0) continue;
      deleted.tasks += 1;
      deleted.attempts += (await this.attempts.deleteMany({ taskId: id })).deletedCount;
      deleted.events += (await this.events.deleteMany({ taskId: id })).deletedCount;
      deleted.files += (await this.files.deleteMany({ taskId: id })).deletedCount;
    }
    return deleted;
  }

  async listFinishedDags(query: FinishedQuery): Promise<DagRun[]> {
    const filter: Filter<Keyed> = { status: { $ne: 'running' }, ...finishedRange(query) };
    return (await this.dags.find(filter, { ...RECORD, sort: { finishedAt: 1, _id: 1 }, limit: query.limit }).toArray()) as unknown as DagRun[];
  }

  async countFinishedDags(): Promise<number> {
    return this.dags.countDocuments({ status: { $ne: 'running' }, finishedAt: { $exists: true } });
  }

  async deleteFinishedDags(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.dags.deleteMany({ _id: { $in: [...ids] }, status: { $ne: 'running' } })).deletedCount;
  }

  async sumFileBytesByUser(): Promise<UserBytes[]> {
    const rows = await this.files
      .aggregate<{ _id: string; bytes: number }>([{ $group: { _id: '$userId', bytes: { $sum: '$size' } } }, { $sort: { _id: 1 } }])
      .toArray();
    return rows.map((row) => ({ userId: row._id, bytes: row.bytes }));
  }
  // ---- end of retention and garbage collection ------------------------------------------

  // ---- API tokens -----------------------------------------------------------------------

  async insertApiToken(token: ApiTokenRecord): Promise<void> {
    try {
      await this.apiTokens.insertOne({ _id: token.id, ...plain(token) });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw new WharfError('conflict', `name: an API token named "${token.name}" already exists for this user`);
      throw error;
    }
  }

  async getApiToken(id: string): Promise<ApiTokenRecord | undefined> {
    return ((await this.apiTokens.findOne({ _id: id }, RECORD)) ?? undefined) as ApiTokenRecord | undefined;
  }

  async findApiTokenByHash(secretHash: string): Promise<ApiTokenRecord | undefined> {
    return ((await this.apiTokens.findOne({ secretHash }, RECORD)) ?? undefined) as ApiTokenRecord | undefined;
  }

  async listApiTokens(filter: { userId?: string | undefined }): Promise<ApiTokenRecord[]> {
    const query: Filter<Keyed> = filter.userId === undefined ? {} : { userId: filter.userId };
    return (await this.apiTokens.find(query, { ...RECORD, sort: { createdAt: 1, _id: 1 } }).toArray()) as unknown as ApiTokenRecord[];
  }

  async deleteApiToken(id: string): Promise<boolean> {
    return (await this.apiTokens.deleteOne({ _id: id })).deletedCount > 0;
  }

  async touchApiToken(id: string, lastUsedAt: number): Promise<void> {
    await this.apiTokens.updateOne({ _id: id }, { $set: { lastUsedAt } });
  }

  // ---- end of API tokens ----------------------------------------------------------------

  // ---- registry credentials --------------------------------------------------------------

  async putRegistryCredential(credential: RegistryCredentialRecord): Promise<RegistryCredentialRecord> {
    const { id, userId, registry, username, secret, createdAt } = plain(credential);
    // (user, registry) already stored: the new username and secret replace the old, the id stays
    const stored = await this.registryCredentials.findOneAndUpdate(
      { userId, registry },
      { $set: { username, secret, createdAt }, $setOnInsert: { _id: id, id } }, // userId and registry come from the filter
      { upsert: true, returnDocument: 'after', ...RECORD },
    );
    return stored as unknown as RegistryCredentialRecord;
  }

  async getRegistryCredential(id: string): Promise<RegistryCredentialRecord | undefined> {
    return ((await this.registryCredentials.findOne({ _id: id }, RECORD)) ?? undefined) as RegistryCredentialRecord | undefined;
  }

  async listRegistryCredentials(filter: { userId?: string | undefined }): Promise<RegistryCredentialRecord[]> {
    const query: Filter<Keyed> = filter.userId === undefined ? {} : { userId: filter.userId };
    return (await this.registryCredentials.find(query, { ...RECORD, sort: { createdAt: 1, _id: 1 } }).toArray()) as unknown as RegistryCredentialRecord[];
  }

  async deleteRegistryCredential(id: string): Promise<boolean> {
    return (await this.registryCredentials.deleteOne({ _id: id })).deletedCount > 0;
  }

  // ---- end of registry credentials -------------------------------------------------------

  // ---- queues and user limits ------------------------------------------------------------

  async insertQueue(queue: QueueRecord): Promise<void> {
    try {
      await this.queues.insertOne({ _id: queue.name, ...plain(queue) });
    } catch (error: unknown) {
      if (isDuplicateKey(error)) throw new WharfError('conflict', `queue ${queue.name} already exists`);
      throw error;
    }
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    return ((await this.queues.findOne({ _id: name }, RECORD)) ?? undefined) as QueueRecord | undefined;
  }

  async listQueues(): Promise<QueueRecord[]> {
    return (await this.queues.find({}, { ...RECORD, sort: { _id: 1 } }).toArray()) as unknown as QueueRecord[];
  }

  async updateQueue(queue: QueueRecord): Promise<boolean> {
    return (await this.queues.replaceOne({ _id: queue.name }, { _id: queue.name, ...plain(queue) })).matchedCount > 0;
  }

  async deleteQueue(name: string): Promise<boolean> {
    return (await this.queues.deleteOne({ _id: name })).deletedCount > 0;
  }

  private static userLimitKey(userId: string, queue: string | undefined): string {
    return JSON.stringify([userId, queue ?? '']);
  }

  async putUserLimit(limit: UserLimitRecord): Promise<void> {
    const _id = MongoStore.userLimitKey(limit.userId, limit.queue);
    await this.userLimits.replaceOne({ _id }, { _id, ...plain(limit) }, { upsert: true });
  }

  async listUserLimits(): Promise<UserLimitRecord[]> {
    // by (user, queue): the key sorts the same way ('' for all queues first)
    return (await this.userLimits.find({}, { ...RECORD, sort: { _id: 1 } }).toArray()) as unknown as UserLimitRecord[];
  }

  async deleteUserLimit(userId: string, queue: string | undefined): Promise<boolean> {
    return (await this.userLimits.deleteOne({ _id: MongoStore.userLimitKey(userId, queue) })).deletedCount > 0;
  }

  // ---- end of queues and user limits -----------------------------------------------------

  async close(): Promise<void> {
    await this.client.close();
  }
}

// ---- retention and garbage collection ---------------------------------------------------
/** a finished task that is not a dead letter (what the collector may delete) */
function finishedTaskFilter(): Filter<Keyed> {
  return { status: { $in: ['succeeded', 'failed', 'cancelled'] }, deadLetteredAt: { $exists: false } };
}

/** finishedAt present, before `finishedBefore`, after the cursor */
function finishedRange(query: FinishedQuery): Filter<Keyed> {
  const at: Record<string, unknown> = { $exists: true };
  if (query.finishedBefore !== undefined) at.$lt = query.finishedBefore;
  const filter: Filter<Keyed> = { finishedAt: at };
  if (query.after) {
    filter.$or = [{ finishedAt: { $gt: query.after.finishedAt } }, { finishedAt: query.after.finishedAt, _id: { $gt: query.after.id } }];
  }
  return filter;
}
