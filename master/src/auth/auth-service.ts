// Users, passwords and bearer tokens. Passwords are hashed with scrypt; login tokens are JWT
// HS256 with an expiry, signed with the secret from config or the data dir; API tokens
// (`wharf_pat_…`, api-token-service.ts) are looked up by hash on every request.
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { WharfError } from '../errors.js';
import type { Role, User } from '../records/user.js';
import type { Store } from '../store/store.js';
import { ApiTokenService, looksLikeApiToken } from './api-token-service.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { RateLimiter } from './rate-limiter.js';

export interface AuthResult {
  user: User;
  token: string;
}

interface TokenClaims {
  sub: string;
  role: Role;
  /** always `user`: workers authenticate with certificates (cluster/worker-identity.ts) */
  typ: 'user';
}

export class AuthService {
  private readonly loginLimiter: RateLimiter;
  private readonly jwtKey: KeyObject;
  /** API tokens for scripts and CI: accepted by `authenticate` like a login token */
  readonly apiTokens: ApiTokenService;

  constructor(
    private readonly store: Store,
    private readonly options: { jwtSecret: string; jwtTtlMs: number; loginRateLimitPerMinute: number; now?: () => number },
  ) {
    this.loginLimiter = new RateLimiter(options.loginRateLimitPerMinute, 60_000);
    this.apiTokens = new ApiTokenService(store, options.now);
    // one key object, not one per token: jsonwebtoken otherwise builds it on every sign/verify
    this.jwtKey = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
  }

  /** Creates the admin from config when no user has that email yet. */
  async ensureAdmin(email: string, password: string): Promise<User> {
    const existing = await this.store.findUserByEmail(email.toLowerCase());
    if (existing) {
      const { passwordHash: _hash, ...user } = existing;
      return user;
    }
    return this.createUser({ email, password, name: 'Administrator', role: 'admin' });
  }

  async register(input: { email: string; password: string; name?: string | undefined }): Promise<AuthResult> {
    const user = await this.createUser({ ...input, role: 'user' });
    return { user, token: this.issueUserToken(user) };
  }

  async login(input: { email: string; password: string }, clientKey: string): Promise<AuthResult> {
    const email = input.email.toLowerCase();
    const wait = this.loginLimiter.hit(`${clientKey}|${email}`);
    if (wait > 0) {
      throw new WharfError('rate_limited', `too many login attempts; try again in ${wait}s`, {
        details: { retryAfterSeconds: wait },
      });
    }
    const stored = await this.store.findUserByEmail(email);
    // verify against a dummy hash when the user is unknown, so timing does not reveal emails
    const ok = await verifyPassword(input.password, stored?.passwordHash ?? DUMMY_HASH);
    if (!stored || !ok) throw new WharfError('unauthenticated', 'wrong email or password');
    const { passwordHash: _hash, ...user } = stored;
    return { user, token: this.issueUserToken(user) };
  }

  issueUserToken(user: User): string {
    const claims: TokenClaims = { sub: user.id, role: user.role, typ: 'user' };
    return jwt.sign(claims, this.jwtKey, {
      algorithm: 'HS256',
      expiresIn: Math.floor(this.options.jwtTtlMs / 1000),
      jwtid: randomUUID(),
    });
  }

  /**
   * Resolves a bearer token (a login JWT or an API token) to its user; throws `unauthenticated`
   * when invalid, expired or revoked.
   */
  async authenticate(token: string): Promise<User> {
    if (looksLikeApiToken(token)) return this.apiTokens.authenticate(token);
    const claims = this.verify(token, 'user');
    const user = await this.store.getUser(claims.sub);
    if (!user) throw new WharfError('unauthenticated', 'the user of this token no longer exists');
    return user;
  }

  private verify(token: string, typ: TokenClaims['typ']): TokenClaims {
    let decoded: unknown;
    try {
      decoded = jwt.verify(token, this.jwtKey, { algorithms: ['HS256'] });
    } catch (error: unknown) {
      const expired = error instanceof jwt.TokenExpiredError;
      throw new WharfError('unauthenticated', expired ? 'token expired; log in again' : 'invalid token', { cause: error });
    }
    if (typeof decoded !== 'object' || decoded === null) throw new WharfError('unauthenticated', 'invalid token');
    const claims = decoded as Partial<TokenClaims>;
    if (claims.typ !== typ || typeof claims.sub !== 'string') throw new WharfError('unauthenticated', 'invalid token');
    return claims as TokenClaims;
  }

  listUsers(): Promise<User[]> {
    return this.store.listUsers();
  }

  private async createUser(input: { email: string; password: string; name?: string | undefined; role: Role }): Promise<User> {
    const user: User = {
      id: randomUUID(),
      email: input.email.toLowerCase(),
      name: input.name ?? input.email.split('@')[0] ?? input.email,
      role: input.role,
      createdAt: Date.now(),
    };
    await this.store.insertUser({ ...user, passwordHash: await hashPassword(input.password) });
    return user;
  }
}

// A valid scrypt hash of a random password nobody knows, for constant-time misses.
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + Buffer.alloc(64, 7).toString('base64url');
