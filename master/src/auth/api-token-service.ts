// API tokens: create (the secret is answered once), list, revoke, and resolve a presented
// secret to its user. A token acts as its user wherever a login JWT works (REST and WebSocket
// upgrades both go through AuthService.authenticate); it is refused at once after revocation,
// after its expiry and when its user is disabled or no longer exists, because every request
// looks it up. A revocation is announced, so WebSockets and log streams opened with the token
// end at once too.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { isStorageFull, notFound, WharfError } from '../errors.js';
import type { Store } from '../store/store.js';
import { API_TOKEN_PREFIX, type ApiTokenRecord } from '../records/api-token.js';
import type { User } from '../records/user.js';

/** A user may hold this many tokens at once (revoke one to make room). */
export const MAX_API_TOKENS_PER_USER = 100;
/** lastUsedAt is written at most this often per token, so a busy CI job is not a write per request */
const TOUCH_INTERVAL_MS = 60_000;
const SECRET_BYTES = 32;
/** the prefix and 43 base64url characters (32 random bytes) */
const SECRET_PATTERN = new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);
const HINT_CHARS = 6;

export interface CreatedApiToken {
  token: ApiTokenRecord;
  /** shown once; only its hash is stored */
  secret: string;
}

export function hashApiTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function looksLikeApiToken(bearer: string): boolean {
  return bearer.startsWith(API_TOKEN_PREFIX);
}

export class ApiTokenService {
  /** token id -> when lastUsedAt was last written by this master */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    /** told of every revoked token (AuthService announces it to open connections) */
    private readonly onRevoked: (token: ApiTokenRecord, reason: string) => void = () => undefined,
  ) {}

  /** `expiresInMs` undefined: the token never expires. */
  async create(user: User, input: { name: string; expiresInMs?: number | undefined }): Promise<CreatedApiToken> {
    const existing = await this.store.listApiTokens({ userId: user.id });
    if (existing.length >= MAX_API_TOKENS_PER_USER) {
      throw new WharfError('conflict', `you already have ${existing.length} API tokens (at most ${MAX_API_TOKENS_PER_USER}); revoke one first`);
    }
    if (existing.some((token) => token.name === input.name)) {
      throw new WharfError('conflict', `name: you already have an API token named "${input.name}"; revoke it or pick another name`);
    }
    const secret = API_TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
    const createdAt = this.now();
    const token: ApiTokenRecord = {
      id: randomUUID(),
      userId: user.id,
      name: input.name,
      secretHash: hashApiTokenSecret(secret),
      hint: secret.slice(0, API_TOKEN_PREFIX.length + HINT_CHARS),
      createdAt,
      ...(input.expiresInMs === undefined ? {} : { expiresAt: createdAt + input.expiresInMs }),
    };
    await this.store.insertApiToken(token);
    return { token, secret };
  }

  /** The user's own tokens, oldest first; every user's for an admin asking for `all`. */
  async list(user: User, options: { all?: boolean } = {}): Promise<ApiTokenRecord[]> {
    if (options.all && user.role !== 'admin') throw new WharfError('forbidden', 'all: only admins may list every user\'s tokens');
    return this.store.listApiTokens(options.all ? {} : { userId: user.id });
  }

  /** Revokes one of the user's tokens (an admin: anyone's). Another user's token answers 404. */
  async revoke(user: User, id: string): Promise<ApiTokenRecord> {
    const token = await this.store.getApiToken(id);
    if (!token || (user.role !== 'admin' && token.userId !== user.id)) throw notFound(`API token ${id}`);
    if (!(await this.store.deleteApiToken(id))) throw notFound(`API token ${id}`);
    this.touched.delete(id);
    this.onRevoked(token, 'API token revoked');
    return token;
  }

  /** Revokes every token of a user (their account is being deleted); answers how many. */
  async revokeAllOf(userId: string, reason: string): Promise<number> {
    let count = 0;
    for (const token of await this.store.listApiTokens({ userId })) {
      if (await this.store.deleteApiToken(token.id)) {
        count += 1;
        this.touched.delete(token.id);
        this.onRevoked(token, reason);
      }
    }
    return count;
  }

  /** The user a presented secret acts as, and its token; `unauthenticated` when it is unknown, revoked or expired. */
  async authenticate(secret: string): Promise<{ user: User; token: ApiTokenRecord }> {
    if (!SECRET_PATTERN.test(secret)) throw new WharfError('unauthenticated', 'invalid API token');
    const token = await this.store.findApiTokenByHash(hashApiTokenSecret(secret));
    if (!token) throw new WharfError('unauthenticated', 'API token not recognised (revoked, or never issued)');
    const now = this.now();
    if (token.expiresAt !== undefined && token.expiresAt <= now) {
      throw new WharfError('unauthenticated', `API token "${token.name}" expired at ${new Date(token.expiresAt).toISOString()}; create a new one`);
    }
    const user = await this.store.getUser(token.userId);
    if (!user) throw new WharfError('unauthenticated', 'the user of this token no longer exists');
    const last = this.touched.get(token.id) ?? token.lastUsedAt ?? 0;
    if (now - last >= TOUCH_INTERVAL_MS) {
      this.touched.set(token.id, now);
      try {
        await this.store.touchApiToken(token.id, now);
      } catch (error: unknown) {
        // lastUsedAt is a note, not the request: a full disk (storage_full) must not refuse the
        // token; the next request tries the note again
        if (!isStorageFull(error)) throw error;
        this.touched.delete(token.id);
      }
    }
    return { user, token };
  }
}
