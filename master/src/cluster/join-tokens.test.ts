import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import { generateJoinToken, hashJoinToken, JOIN_TOKEN_PATTERN, JoinTokenRefused, JoinTokens } from './join-tokens.js';

function tokens(now = () => Date.now()) {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'wharf-tokens-')), 'db'));
  return { store, joinTokens: new JoinTokens(store, pino({ level: 'silent' }), now) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JoinTokenRefused);
  return (error as JoinTokenRefused).reason;
}

describe('join tokens', () => {
  it('makes tokens like bootstrap tokens and keeps only their hash', async () => {
    const { store, joinTokens } = tokens();
    expect(generateJoinToken()).toMatch(/^wharf_[a-z0-9]{6}\.[a-z0-9]{32}$/);
    const { token, secret } = await joinTokens.create({ description: 'rack 4', usageLimit: 2 }, 'admin@wharf.local');
    expect(secret).toMatch(JOIN_TOKEN_PATTERN);
    expect(secret.startsWith(`${token.id}.`)).toBe(true);
    const stored = await store.getJoinToken(token.id);
    expect(stored?.secretHash).toBe(hashJoinToken(secret));
    expect(JSON.stringify(stored)).not.toContain(secret.split('.')[1]);
  });

  it('admits a token until it is used up, expired or revoked, and says which', async () => {
    let now = 1_000_000;
    const { joinTokens } = tokens(() => now);
    const limited = await joinTokens.create({ usageLimit: 1 }, 'a');
    await joinTokens.consume(limited.secret);
    expect(await refusal(joinTokens.consume(limited.secret))).toBe('used_up_token');

    const expiring = await joinTokens.create({ expiresInMs: 60_000 }, 'a');
    await joinTokens.consume(expiring.secret);
    now += 60_000;
    expect(await refusal(joinTokens.consume(expiring.secret))).toBe('expired_token');

    const revoked = await joinTokens.create({}, 'a');
    await joinTokens.revoke(revoked.token.id, 'a');
    expect(await refusal(joinTokens.consume(revoked.secret))).toBe('revoked_token');

    // a wrong secret for a real id and an unknown id answer the same
    expect(await refusal(joinTokens.consume(`${revoked.token.id}.${'x'.repeat(32)}`))).toBe('invalid_token');
    expect(await refusal(joinTokens.consume('wharf_zzzzzz.0123456789abcdef0123'))).toBe('invalid_token');
    expect(await refusal(joinTokens.consume('not a token'))).toBe('invalid_token');
  });

  it('counts uses atomically: a token for 3 enrols 3 of 6 joining at once', async () => {
    const { joinTokens, store } = tokens();
    const { token, secret } = await joinTokens.create({ usageLimit: 3 }, 'a');
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => joinTokens.consume(secret)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect((await store.getJoinToken(token.id))?.uses).toBe(3);
  });

  it('makes the start token one of the tokens and revokes the previous one when it changes', async () => {
    const { joinTokens, store } = tokens();
    const first = 'wharf_start1.0123456789abcdef0123456789abcdef';
    expect(await joinTokens.ensureStartToken(first, 'generated')).toEqual({ usable: true });
    expect(await joinTokens.ensureStartToken(first, 'generated')).toEqual({ usable: true });
    await joinTokens.consume(first);
    const second = 'wharf_start2.0123456789abcdef0123456789abcdef';
    await joinTokens.ensureStartToken(second, 'config');
    expect(await refusal(joinTokens.consume(first))).toBe('revoked_token');
    await joinTokens.consume(second);
    expect((await store.listJoinTokens()).map((t) => [t.id, t.startToken, t.revokedAt !== undefined, t.usageLimit, t.expiresAt])).toEqual([
      ['wharf_start1', true, true, undefined, undefined],
      ['wharf_start2', true, false, undefined, undefined],
    ]);
    // an admin revoked the start token: it stays revoked across restarts
    await joinTokens.revoke('wharf_start2', 'a');
    expect(await joinTokens.ensureStartToken(second, 'config')).toEqual({ usable: false });
    // the same id with another secret is a mistake, not a new token
    await expect(joinTokens.ensureStartToken('wharf_start2.ffffffffffffffffffffffffffffffff', 'config')).rejects.toThrow(/belongs to another join token/);
  });
});
