// Join tokens, as Kubernetes bootstrap tokens: `<id>.<secret>`. A token admits NEW workers
// only (enrolment); a worker that has joined authenticates with its certificate from then on.
// Admins create tokens with an expiry and a use limit, list them (never their secrets) and
// revoke them. The token the master is started with (WHARF_JOIN_TOKEN, or the one generated
// into the data dir) is one of them: no expiry, no limit; when the configured token changes,
// the previous start token is revoked.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { JoinTokenRecord } from '../records/credentials.js';

/** `<id>.<secret>`: the id as bootstrap tokens have it (a prefix allowed), the secret long and random. */
export const JOIN_TOKEN_PATTERN = /^([a-z0-9_]{3,40})\.([A-Za-z0-9_-]{16,128})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Why a join token was refused (for logs and wharf_worker_register_failures_total{reason}). */
export type JoinTokenRefusal = 'invalid_token' | 'expired_token' | 'revoked_token' | 'used_up_token';

export class JoinTokenRefused extends WharfError {
  constructor(
    readonly reason: JoinTokenRefusal,
    message: string,
  ) {
    super('unauthenticated', message);
  }
}

function randomText(length: number): string {
  let text = '';
  for (let i = 0; i < length; i += 1) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

/** A new token: `wharf_<6>.<32>` (lower-case letters and digits). */
export function generateJoinToken(): string {
  return `wharf_${randomText(6)}.${randomText(32)}`;
}

export function hashJoinToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function joinTokenId(token: string): string | undefined {
  return JOIN_TOKEN_PATTERN.exec(token)?.[1];
}

export interface NewJoinToken {
  description?: string | undefined;
  /** from now; absent = never expires */
  expiresInMs?: number | undefined;
  usageLimit?: number | undefined;
}

export class JoinTokens {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes the start token one of the tokens (no expiry, unlimited) and revokes a previous start
   * token that is no longer configured. A start token an admin revoked stays revoked.
   */
  async ensureStartToken(token: string, createdBy: 'config' | 'generated'): Promise<{ usable: boolean }> {
    const id = joinTokenId(token);
    if (!id) throw new WharfError('validation_failed', 'the start join token must look like <id>.<secret>');
    const hash = hashJoinToken(token);
    const now = this.now();
    for (const other of await this.store.listJoinTokens()) {
      if (other.startToken && other.id !== id && other.revokedAt === undefined) {
        await this.store.revokeJoinToken(other.id, now);
        this.logger.info({ tokenId: other.id }, 'revoked the previous start join token (the configured one changed)');
      }
    }
    const existing = await this.store.getJoinToken(id);
    if (existing) {
      if (!sameHash(existing.secretHash, hash)) {
        throw new WharfError('conflict', `the start join token's id ${id} belongs to another join token; choose another id`);
      }
      if (existing.revokedAt !== undefined) {
        this.logger.warn({ tokenId: id }, 'the start join token was revoked by an admin: workers cannot join with it');
        return { usable: false };
      }
      return { usable: true };
    }
    await this.store.insertJoinToken({
      id,
      secretHash: hash,
      description: 'start token (printed by the master at start)',
      createdBy,
      createdAt: now,
      uses: 0,
      startToken: true,
    });
    return { usable: true };
  }

  /** Creates a token; answers its record and the full token (shown once, never stored). */
  async create(input: NewJoinToken, createdBy: string): Promise<{ token: JoinTokenRecord; secret: string }> {
    for (let tries = 0; ; tries += 1) {
      const secret = generateJoinToken();
      const now = this.now();
      const record: JoinTokenRecord = {
        id: joinTokenId(secret)!,
        secretHash: hashJoinToken(secret),
        description: input.description ?? '',
        createdBy,
        createdAt: now,
        expiresAt: input.expiresInMs === undefined ? undefined : now + input.expiresInMs,
        usageLimit: input.usageLimit,
        uses: 0,
      };
      try {
        await this.store.insertJoinToken(record);
      } catch (error: unknown) {
        // 36^6 ids: a collision is rare, and another draw fixes it
        if (error instanceof WharfError && error.code === 'conflict' && tries < 5) continue;
        throw error;
      }
      this.logger.info({ tokenId: record.id, createdBy, expiresAt: record.expiresAt, usageLimit: record.usageLimit }, 'join token created');
      return { token: record, secret };
    }
  }

  list(): Promise<JoinTokenRecord[]> {
    return this.store.listJoinTokens();
  }

  async revoke(id: string, by: string): Promise<JoinTokenRecord> {
    const existing = await this.store.getJoinToken(id);
    if (!existing) throw new WharfError('not_found', `join token ${id} not found`);
    if (existing.revokedAt === undefined) {
      await this.store.revokeJoinToken(id, this.now());
      this.logger.info({ tokenId: id, by }, 'join token revoked');
    }
    return (await this.store.getJoinToken(id)) ?? existing;
  }

  /**
   * Checks a presented token and counts one use (atomically, so a use-limited token cannot be
   * used twice at once). Throws JoinTokenRefused saying why; an unknown id and a wrong secret
   * get the same answer.
   */
  async consume(token: string): Promise<JoinTokenRecord> {
    const id = joinTokenId(token);
    const record = id === undefined ? undefined : await this.store.getJoinToken(id);
    if (!record || !sameHash(record.secretHash, hashJoinToken(token))) {
      throw new JoinTokenRefused('invalid_token', 'invalid join token');
    }
    const now = this.now();
    const refusal = refusalOf(record, now);
    if (refusal) throw refusal;
    if (!(await this.store.useJoinToken(record.id, now))) {
      // lost a race: someone revoked it, or took its last use, meanwhile
      const current = (await this.store.getJoinToken(record.id)) ?? record;
      throw refusalOf(current, now) ?? new JoinTokenRefused('used_up_token', `join token ${record.id} has been used up`);
    }
    return record;
  }
}

/** Why a token cannot be used at `now`, or undefined when it can. */
function refusalOf(record: JoinTokenRecord, now: number): JoinTokenRefused | undefined {
  if (record.revokedAt !== undefined) return new JoinTokenRefused('revoked_token', `join token ${record.id} was revoked`);
  if (record.expiresAt !== undefined && record.expiresAt <= now) {
    return new JoinTokenRefused('expired_token', `join token ${record.id} expired at ${new Date(record.expiresAt).toISOString()}`);
  }
  if (record.usageLimit !== undefined && record.uses >= record.usageLimit) {
    return new JoinTokenRefused('used_up_token', `join token ${record.id} has been used up (${record.usageLimit} of ${record.usageLimit})`);
  }
  return undefined;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
