// Login sessions ended before their tokens expire (logout). Kept in the store so a restart
// does not bring a logged-out token back, and in memory so that checking a token on every
// request costs a set look-up, not a store read. An entry goes once every token of its session
// has expired (prune).
import type { RevokedSession } from '../records/session.js';
import type { Store } from '../store/store.js';

export class SessionRevocations {
  private readonly ended = new Map<string, RevokedSession>();

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    for (const entry of await this.store.listRevokedSessions()) this.ended.set(entry.sessionId, entry);
  }

  has(sessionId: string): boolean {
    return this.ended.has(sessionId);
  }

  async revoke(entry: RevokedSession): Promise<void> {
    await this.store.revokeSession(entry);
    this.ended.set(entry.sessionId, entry);
  }

  /** Forgets the sessions no token of which can still be valid at `now`; answers how many. */
  async prune(now: number): Promise<number> {
    for (const [id, entry] of this.ended) if (entry.expiresAt <= now) this.ended.delete(id);
    return this.store.pruneRevokedSessions(now);
  }
}
