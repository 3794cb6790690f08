// Users, passwords and bearer tokens. Passwords are hashed with scrypt; login tokens are JWT
// HS256 with an expiry, signed with the secret from config or the data dir; API tokens
// (`wharf_pat_…`, api-token-service.ts) are looked up by hash on every request.
//
// Sessions and revocation. A login starts a session (its id `sid` and login time `auth` are in
// every token of it; POST /api/auth/refresh gives a fresh token of the same session until
// WHARF_SESSION_MAX_AGE after the login). Each token also carries the user's token version
// (`ver`). On every request the user record is read anyway (role, existence), so the checks
// cost nothing more: a token is refused when its session was ended (logout: an in-memory set,
// kept in the store), when its version is not the user's (bumped by a role change, a disable or
// "log out everywhere"), and when the account is disabled or gone. API tokens are refused when
// revoked or expired and when their user is disabled or gone. Each revocation is also
// announced (`onRevoked`), so open WebSockets and log streams end at once (credential-watch.ts).
//
// Registration (WHARF_REGISTRATION): `open` lets anyone register, `invite` needs an invite code
// from an admin (invites.ts), `closed` lets nobody. In `open` mode the answer is the same
// whether the address was free or taken (the caller is not told which; only the address's
// owner can log in), and the same work is done for both.
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { WharfError } from '../errors.js';
import type { Role, User } from '../records/user.js';
import type { Store } from '../store/store.js';
import { ApiTokenService, looksLikeApiToken } from './api-token-service.js';
import { Invites } from './invites.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { SessionRevocations } from './session-revocations.js';
import { UnauthenticatedLimits } from './unauthenticated-limits.js';

export type RegistrationMode = 'open' | 'invite' | 'closed';
export const REGISTRATION_MODES: readonly RegistrationMode[] = ['open', 'invite', 'closed'];

export interface AuthResult {
  user: User;
  token: string;
}

/** What a registration did. `user` and `token` only when the caller may be told (an invite). */
export interface RegisterResult {
  via: 'open' | 'invite';
  user?: User | undefined;
  token?: string | undefined;
}

/** What a bearer token is, once accepted: a login session's token or an API token. */
export type Credential =
  | { kind: 'session'; sessionId: string; userId: string; /** epoch ms */ expiresAt: number }
  | { kind: 'apiToken'; tokenId: string; userId: string; /** epoch ms; absent: never */ expiresAt?: number | undefined };

export interface Principal {
  user: User;
  credential: Credential;
}

/**
 * A credential stopped being valid before its expiry: one session (logout), every login session
 * of a user (`sessions`: log out everywhere) or everything of a user (`all`: disabled, deleted,
 * role changed), or one API token.
 */
export type Revocation =
  | { kind: 'session'; sessionId: string; userId: string; reason: string }
  | { kind: 'user'; userId: string; scope: 'sessions' | 'all'; reason: string }
  | { kind: 'apiToken'; tokenId: string; userId: string; reason: string };

interface TokenClaims {
  sub: string;
  role: Role;
  /** always `user`: workers authenticate with certificates (cluster/worker-identity.ts) */
  typ: 'user';
  /** the session (login) the token belongs to */
  sid: string;
  /** when the session's login was, seconds since the epoch */
  auth: number;
  /** the user's token version when it was issued */
  ver: number;
  exp: number;
}

export interface AuthOptions {
  jwtSecret: string;
  jwtTtlMs: number;
  loginRateLimitPerMinute: number;
  /** how long after the login a session may still be renewed (default 7 days) */
  sessionMaxAgeMs?: number | undefined;
  /** default `open` */
  registration?: RegistrationMode | undefined;
  /** requests per minute per address to the unauthenticated endpoints (default 60) */
  authRateLimitPerMinute?: number | undefined;
  /** hashings per minute for identities that are not accounts, master-wide (default 300) */
  authGlobalRateLimitPerMinute?: number | undefined;
  now?: () => number;
}

export const DEFAULT_SESSION_MAX_AGE_MS = 7 * 86_400_000;

export class AuthService {
  private readonly jwtKey: KeyObject;
  private readonly limits: UnauthenticatedLimits;
  private readonly sessions: SessionRevocations;
  private readonly revocationListeners = new Set<(revocation: Revocation) => void>();
  private readonly now: () => number;
  readonly registration: RegistrationMode;
  readonly sessionMaxAgeMs: number;
  /** API tokens for scripts and CI: accepted by `authenticate` like a login token */
  readonly apiTokens: ApiTokenService;
  /** invitations to register */
  readonly invites: Invites;

  constructor(
    private readonly store: Store,
    private readonly options: AuthOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.registration = options.registration ?? 'open';
    this.sessionMaxAgeMs = options.sessionMaxAgeMs ?? DEFAULT_SESSION_MAX_AGE_MS;
    this.limits = new UnauthenticatedLimits({
      perAddressPerMinute: options.authRateLimitPerMinute ?? 60,
      loginPerAddressAndEmailPerMinute: options.loginRateLimitPerMinute,
      globalHashingPerMinute: options.authGlobalRateLimitPerMinute ?? 300,
      now: this.now,
    });
    this.sessions = new SessionRevocations(store);
    this.apiTokens = new ApiTokenService(store, this.now, (token, reason) =>
      this.announce({ kind: 'apiToken', tokenId: token.id, userId: token.userId, reason }),
    );
    this.invites = new Invites(store, this.now);
    // one key object, not one per token: jsonwebtoken otherwise builds it on every sign/verify
    this.jwtKey = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
  }

  /** Reads the ended sessions from the store (once, at start). */
  load(): Promise<void> {
    return this.sessions.load();
  }

  /** Creates the admin from config when no user has that email yet. */
  async ensureAdmin(email: string, password: string): Promise<User> {
    const existing = await this.store.findUserByEmail(email.toLowerCase());
    if (existing) {
      const { passwordHash: _hash, ...user } = existing;
      return user;
    }
    const user = this.newUser({ email, name: 'Administrator', role: 'admin' });
    await this.store.insertUser({ ...user, passwordHash: await hashPassword(password) });
    return user;
  }

  /**
   * Registers an account. With an invite code: the invite's address and role, answered with
   * the user and a token. Without one (open mode only): the same answer and the same work
   * whether the address was free or taken; `user` tells the caller's code which it was.
   */
  async register(
    input: { email: string; password: string; name?: string | undefined; invite?: string | undefined },
    address: string,
  ): Promise<RegisterResult> {
    this.limits.admit(address);
    if (this.registration === 'closed') {
      throw new WharfError('forbidden', 'registration is closed on this master; ask an admin for an account');
    }
    if (input.invite !== undefined) return this.registerWithInvite({ ...input, invite: input.invite });
    if (this.registration === 'invite') {
      throw new WharfError('forbidden', 'invite: registration on this master needs an invite code; ask an admin for an invite');
    }
    const wait = this.limits.takeHashing();
    if (wait > 0) {
      throw new WharfError('rate_limited', `too many registrations on this master right now; try again in ${wait}s`, {
        details: { retryAfterSeconds: wait },
      });
    }
    const user = this.newUser({ email: input.email, name: input.name, role: 'user' });
    // the hash is made whether or not the address is free, so both take as long
    const passwordHash = await this.timedHash(input.password);
    try {
      await this.store.insertUser({ ...user, passwordHash });
      return { via: 'open', user };
    } catch (error: unknown) {
      if (error instanceof WharfError && error.code === 'conflict') return { via: 'open' };
      throw error;
    }
  }

  private async registerWithInvite(input: { email: string; password: string; name?: string | undefined; invite: string }): Promise<RegisterResult> {
    const invite = await this.invites.find(input.invite);
    if (input.email.toLowerCase() !== invite.email) {
      throw new WharfError('validation_failed', `email: this invite is for ${invite.email}; register that address`);
    }
    const user = this.newUser({ email: invite.email, name: input.name, role: invite.role });
    const passwordHash = await this.timedHash(input.password);
    if (!(await this.invites.use(invite, user.id))) throw new WharfError('forbidden', 'invite: this invite code was just used, revoked or expired');
    try {
      await this.store.insertUser({ ...user, passwordHash });
    } catch (error: unknown) {
      if (error instanceof WharfError && error.code === 'conflict') {
        throw new WharfError('conflict', `email: ${invite.email} already has an account (made since the invite); log in instead`);
      }
      throw error;
    }
    return { via: 'invite', user, token: this.issueToken(user, { sessionId: randomUUID(), authAt: this.now() }) };
  }

  /** The open invite a code stands for (the dashboard shows its address before registering). */
  async lookUpInvite(code: string, address: string): Promise<{ email: string; role: Role; expiresAt: number }> {
    this.limits.admit(address);
    const invite = await this.invites.find(code);
    return { email: invite.email, role: invite.role, expiresAt: invite.expiresAt };
  }

  async login(input: { email: string; password: string }, address: string): Promise<AuthResult> {
    const email = input.email.toLowerCase();
    this.limits.admit(address);
    this.limits.admitLogin(address, email);
    const stored = await this.store.findUserByEmail(email);
    let ok: boolean;
    if (stored) {
      ok = await this.timedVerify(input.password, stored.passwordHash);
    } else if (this.limits.takeHashing() === 0) {
      // verify against a dummy hash when the user is unknown, so timing does not reveal emails
      await this.timedVerify(input.password, DUMMY_HASH);
      ok = false;
    } else {
      // the master's budget for unknown identities is spent: no hashing, the same wait and answer
      await sleep(this.limits.typicalHashMs());
      ok = false;
    }
    if (!stored || !ok) throw new WharfError('unauthenticated', 'wrong email or password');
    const { passwordHash: _hash, ...user } = stored;
    if (user.disabled) throw new WharfError('forbidden', 'this account is disabled; ask an admin');
    return { user, token: this.issueToken(user, { sessionId: randomUUID(), authAt: this.now() }) };
  }

  /** A fresh token of the same session; refused past WHARF_SESSION_MAX_AGE after the login. */
  async refresh(principal: Principal, token: string): Promise<AuthResult> {
    if (principal.credential.kind !== 'session') {
      throw new WharfError('validation_failed', 'token: an API token is not renewed; create a new one (POST /api/tokens)');
    }
    const claims = this.verify(token);
    const authAt = claims.auth * 1000;
    if (this.now() >= authAt + this.sessionMaxAgeMs) {
      throw new WharfError('unauthenticated', 'this session is too old to renew; log in again');
    }
    return { user: principal.user, token: this.issueToken(principal.user, { sessionId: claims.sid, authAt }) };
  }

  /**
   * Ends the session of a login token (every token of it is refused from now on), or with
   * `everywhere` every login session of its user. API tokens are revoked with DELETE /api/tokens/:id.
   */
  async logout(principal: Principal, token: string, options: { everywhere?: boolean } = {}): Promise<void> {
    const { user, credential } = principal;
    if (options.everywhere) {
      await this.store.updateUser(user.id, { tokenVersion: (user.tokenVersion ?? 0) + 1 });
      this.announce({ kind: 'user', userId: user.id, scope: 'sessions', reason: 'logged out everywhere' });
      return;
    }
    if (credential.kind !== 'session') {
      throw new WharfError('validation_failed', 'token: this is an API token; revoke it with DELETE /api/tokens/:id');
    }
    const claims = this.verify(token);
    const now = this.now();
    const lastExpiry = Math.min(now + this.options.jwtTtlMs, claims.auth * 1000 + this.sessionMaxAgeMs);
    await this.sessions.revoke({ sessionId: claims.sid, userId: user.id, revokedAt: now, expiresAt: Math.max(lastExpiry, claims.exp * 1000) });
    this.announce({ kind: 'session', sessionId: claims.sid, userId: user.id, reason: 'logged out' });
  }

  /** Forgets ended sessions whose tokens have all expired. */
  pruneEndedSessions(): Promise<number> {
    return this.sessions.prune(this.now());
  }

  /** Listens for revocations (open WebSockets and log streams end on them). */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  /** Tells the listeners; used by the user administration too. */
  announce(revocation: Revocation): void {
    for (const listener of [...this.revocationListeners]) {
      try {
        listener(revocation);
      } catch {
        // a listener's failure must not stop the others from hearing of the revocation
      }
    }
  }

  /** A login token for the user, in a session that started at `authAt`. */
  private issueToken(user: User, session: { sessionId: string; authAt: number }): string {
    const now = this.now();
    const expiresAt = Math.min(now + this.options.jwtTtlMs, session.authAt + this.sessionMaxAgeMs);
    const claims: Omit<TokenClaims, 'exp'> & { exp: number; iat: number } = {
      sub: user.id,
      role: user.role,
      typ: 'user',
      sid: session.sessionId,
      auth: Math.floor(session.authAt / 1000),
      ver: user.tokenVersion ?? 0,
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresAt / 1000),
    };
    return jwt.sign(claims, this.jwtKey, { algorithm: 'HS256', jwtid: randomUUID() });
  }

  /**
   * Resolves a bearer token (a login JWT or an API token) to its user; throws `unauthenticated`
   * when invalid, expired or revoked.
   */
  async authenticate(token: string): Promise<User> {
    return (await this.authenticatePrincipal(token)).user;
  }

  /** The user and what the token is (for watching it: credential-watch.ts). */
  async authenticatePrincipal(token: string): Promise<Principal> {
    if (looksLikeApiToken(token)) {
      const { user, token: record } = await this.apiTokens.authenticate(token);
      if (user.disabled) throw new WharfError('unauthenticated', 'the account of this token is disabled');
      return { user, credential: { kind: 'apiToken', tokenId: record.id, userId: user.id, expiresAt: record.expiresAt } };
    }
    const claims = this.verify(token);
    if (this.sessions.has(claims.sid)) throw new WharfError('unauthenticated', 'this session was logged out; log in again');
    const user = await this.store.getUser(claims.sub);
    if (!user) throw new WharfError('unauthenticated', 'the user of this token no longer exists');
    if (user.disabled) throw new WharfError('unauthenticated', 'this account is disabled; ask an admin');
    if ((user.tokenVersion ?? 0) !== claims.ver) {
      throw new WharfError('unauthenticated', 'this token was revoked (role changed, or logged out everywhere); log in again');
    }
    return { user, credential: { kind: 'session', sessionId: claims.sid, userId: user.id, expiresAt: claims.exp * 1000 } };
  }

  private verify(token: string): TokenClaims {
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.jwtKey, { algorithms: ['HS256'], clockTimestamp: Math.floor(this.now() / 1000) });
    } catch (error: unknown) {
      const expired = error instanceof jwt.TokenExpiredError;
      throw new WharfError('unauthenticated', expired ? 'token expired; log in again' : 'invalid token', { cause: error });
    }
    if (typeof decoded !== 'object' || decoded === null) throw new WharfError('unauthenticated', 'invalid token');
    const claims = decoded as Partial<TokenClaims>;
    if (claims.typ !== 'user' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number') {
      throw new WharfError('unauthenticated', 'invalid token');
    }
    if (typeof claims.sid !== 'string' || typeof claims.auth !== 'number' || typeof claims.ver !== 'number') {
      throw new WharfError('unauthenticated', 'this token is from an older master (no session); log in again');
    }
    return claims as TokenClaims;
  }

  listUsers(): Promise<User[]> {
    return this.store.listUsers();
  }

  private newUser(input: { email: string; name?: string | undefined; role: Role }): User {
    return {
      id: randomUUID(),
      email: input.email.toLowerCase(),
      name: input.name ?? input.email.split('@')[0] ?? input.email,
      role: input.role,
      createdAt: this.now(),
    };
  }

  private async timedHash(password: string): Promise<string> {
    const started = performance.now();
    const hash = await hashPassword(password);
    this.limits.recordHashing(performance.now() - started);
    return hash;
  }

  private async timedVerify(password: string, hash: string): Promise<boolean> {
    const started = performance.now();
    const ok = await verifyPassword(password, hash);
    this.limits.recordHashing(performance.now() - started);
    return ok;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A valid scrypt hash of a random password nobody knows, for constant-time misses.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + Buffer.alloc(64, 7).toString('base64url');
