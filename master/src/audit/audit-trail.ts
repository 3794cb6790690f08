// The audit trail: who changed what, from where, with which outcome. The HTTP layer records
// every state-changing request once it is answered (http/audit-log.ts), the REPL every command
// that changes something (as the local admin, from `console`). An entry is written after the
// answer has gone out, one insert each, so a request never waits for it; a failed write is
// logged, never thrown at the request. Entries older than WHARF_AUDIT_RETENTION (90 days by
// default) are pruned at start and every hour (tasks, logs and files have their own retention:
// gc/garbage-collector.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { AuditEntry, AuditPage, AuditQuery } from '../records/audit.js';
import type { Store } from '../store/store.js';

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

export const DEFAULT_AUDIT_RETENTION_MS = 90 * 86_400_000;

export class AuditTrail {
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: { retentionMs: number; now?: () => number },
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Appends an entry in the background; never throws. */
  record(entry: NewAuditEntry): void {
    const full: AuditEntry = { id: randomUUID(), at: this.now(), ...entry };
    const write = this.store
      .appendAudit(full)
      .catch((error: unknown) => this.logger.error({ err: error, action: full.action, object: full.object }, 'audit entry not written'))
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  list(query: AuditQuery): Promise<AuditPage> {
    return this.store.listAudit(query);
  }

  /** Drops entries older than the retention; answers how many. */
  async prune(): Promise<number> {
    return this.store.pruneAudit(this.now() - this.options.retentionMs);
  }

  /** Resolves once every entry recorded so far is written (or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
