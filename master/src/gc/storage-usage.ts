// Per-user storage usage (GET /api/usage) and the per-user storage quota (WHARF_USER_STORAGE_QUOTA,
// or the user's own `storageQuotaBytes` an admin set): bytes of task logs, output files and DAG
// artifacts each user keeps on the master.
//
// The figures are measured, not counted as bytes arrive: output files from their store records,
// logs from the log folders on disk (each task folder to its owner), artifacts from the DAG runs
// that reference them (an artifact shared by two runs of one user counts once, by two users'
// runs for both). A measure walks every log folder and DAG run, so it is kept for `maxAgeMs`
// (30 s) and taken again on demand; the quota check never waits for a new measure once one exists (it
// uses the last one and asks for a fresh one in the background), so a submission costs no walk.
// A garbage-collection run makes the next check measure again.
import { WharfError } from '../errors.js';
import type { LogStore } from '../logs/log-store.js';
import type { User } from '../records/user.js';
import type { Store } from '../store/store.js';

export interface UserUsage {
  userId: string;
  logBytes: number;
  outputBytes: number;
  artifactBytes: number;
  totalBytes: number;
}

export interface UsageMeasure {
  /** epoch ms the measure was taken */
  measuredAt: number;
  users: Map<string, UserUsage>;
}

export interface StorageUsageOptions {
  store: Store;
  logs: Pick<LogStore, 'taskLogBytes'>;
  /** the master-wide quota in bytes; undefined = none (a user's own storageQuotaBytes still applies) */
  defaultQuotaBytes: number | undefined;
  /** how long a measure is used before the next request measures again (default 30 s) */
  maxAgeMs?: number | undefined;
  now?: () => number;
}

const yieldToOthers = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class StorageUsage {
  private last: UsageMeasure | undefined;
  private measuring: Promise<UsageMeasure> | undefined;
  /** task id → owner, for log folders (an owner never changes) */
  private readonly owners = new Map<string, string | null>();
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: StorageUsageOptions) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
  }

  /** A measure no older than maxAgeMs (measured now when the last one is older). */
  async current(): Promise<UsageMeasure> {
    if (this.last && this.now() - this.last.measuredAt <= this.maxAgeMs) return this.last;
    return this.measure();
  }

  /** The next read measures again (after a garbage collection). */
  invalidate(): void {
    if (this.last) this.last = { ...this.last, measuredAt: -Infinity };
  }

  /** One user's usage in a measure (zeros when they keep nothing). */
  static of(measure: UsageMeasure, userId: string): UserUsage {
    return measure.users.get(userId) ?? { userId, logBytes: 0, outputBytes: 0, artifactBytes: 0, totalBytes: 0 };
  }

  /** The user's quota in bytes: their own, else the master-wide one; undefined = none. */
  quotaOf(user: Pick<User, 'storageQuotaBytes'>): number | undefined {
    return user.storageQuotaBytes ?? this.options.defaultQuotaBytes;
  }

  /**
   * Throws storage_quota_exceeded (403) naming used and limit when the user keeps at least their
   * quota. Uses the last measure (a fresh one is started in the background when it is old).
   */
  async check(user: User): Promise<void> {
    const limit = this.quotaOf(user);
    if (limit === undefined) return;
    let measure = this.last;
    if (!measure) measure = await this.measure();
    else if (this.now() - measure.measuredAt > this.maxAgeMs) void this.measure().catch(() => undefined);
    const used = StorageUsage.of(measure, user.id).totalBytes;
    if (used >= limit) {
      throw new WharfError(
        'storage_quota_exceeded',
        `storage quota exceeded: ${user.email} keeps ${used} bytes of logs, outputs and artifacts, the limit is ${limit} bytes; delete old work or ask an admin to raise the quota (GET /api/usage shows the figures)`,
        { details: { usedBytes: used, limitBytes: limit } },
      );
    }
  }

  private measure(): Promise<UsageMeasure> {
    this.measuring ??= this.measureNow().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }

  private async measureNow(): Promise<UsageMeasure> {
    const { store, logs } = this.options;
    const measuredAt = this.now();
    const users = new Map<string, UserUsage>();
    const entry = (userId: string): UserUsage => {
      let usage = users.get(userId);
      if (!usage) {
        usage = { userId, logBytes: 0, outputBytes: 0, artifactBytes: 0, totalBytes: 0 };
        users.set(userId, usage);
      }
      return usage;
    };
    for (const { userId, bytes } of await store.sumFileBytesByUser()) entry(userId).outputBytes += bytes;
    let seen = 0;
    for await (const { taskId, bytes } of logs.taskLogBytes()) {
      let owner = this.owners.get(taskId);
      if (owner === undefined) {
        owner = (await store.getTask(taskId))?.userId ?? null;
        // a folder whose task is not stored (yet) is asked again next time
        if (owner !== null) this.owners.set(taskId, owner);
      }
      if (owner !== null) entry(owner).logBytes += bytes;
      if (++seen % 500 === 0) await yieldToOthers();
    }
    for (const id of await store.listDagIds()) {
      const dag = await store.getDag(id);
      if (!dag) continue;
      const counted = new Set<string>();
      for (const task of dag.tasks) {
        for (const artifact of task.artifacts ?? []) {
          if (counted.has(artifact.sha256)) continue;
          counted.add(artifact.sha256);
          entry(dag.userId).artifactBytes += artifact.size;
        }
      }
      if (++seen % 500 === 0) await yieldToOthers();
    }
    for (const usage of users.values()) usage.totalBytes = usage.logBytes + usage.outputBytes + usage.artifactBytes;
    this.last = { measuredAt, users };
    return this.last;
  }
}
