import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import type { User } from '../records/user.js';
import { API_TOKEN_PREFIX } from '../records/api-token.js';
import { hashApiTokenSecret, MAX_API_TOKENS_PER_USER } from './api-token-service.js';
import { AuthService } from './auth-service.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Registers an account (open registration) and answers it. */
async function signUp(auth: AuthService, email: string): Promise<{ user: User }> {
  const { user } = await auth.register({ email, password: 'password1' }, '127.0.0.1');
  if (!user) throw new Error(`${email} was taken`);
  return { user };
}

/** A real SQLite store and an AuthService on a clock the test moves. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tokens-'));
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'wharf.db'));
  const clock = { now: 1_800_000_000_000 };
  const auth = new AuthService(store, { jwtSecret: 's'.repeat(40), jwtTtlMs: 60_000, loginRateLimitPerMinute: 100, now: () => clock.now });
  return { store, auth, clock };
}

describe('API tokens', () => {
  it('answers the secret once, stores only its hash, and lets it act as its user', async () => {
    const { store, auth } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    const { token, secret } = await auth.apiTokens.create(user, { name: 'ci', expiresInMs: 3_600_000 });
    expect(secret).toMatch(new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(token.hint).toBe(secret.slice(0, API_TOKEN_PREFIX.length + 6));
    const stored = await store.getApiToken(token.id);
    expect(stored?.secretHash).toBe(hashApiTokenSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret.slice(API_TOKEN_PREFIX.length + 6));
    expect((await auth.authenticate(secret)).id).toBe(user.id);
  });

  it('refuses a token at once after it is revoked, and one that was never issued', async () => {
    const { auth } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    const { token, secret } = await auth.apiTokens.create(user, { name: 'ci' });
    await auth.apiTokens.revoke(user, token.id);
    await expect(auth.authenticate(secret)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('not recognised') });
    const forged = `${API_TOKEN_PREFIX}${'A'.repeat(43)}`;
    await expect(auth.authenticate(forged)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.authenticate(`${API_TOKEN_PREFIX}short`)).rejects.toMatchObject({ code: 'unauthenticated', message: 'invalid API token' });
    await expect(auth.apiTokens.revoke(user, token.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a token from the moment it expires; one made to never expire keeps working', async () => {
    const { auth, clock } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    const short = await auth.apiTokens.create(user, { name: 'short', expiresInMs: 60_000 });
    const forever = await auth.apiTokens.create(user, { name: 'forever' });
    expect(forever.token.expiresAt).toBeUndefined();
    clock.now += 59_999;
    await expect(auth.authenticate(short.secret)).resolves.toMatchObject({ id: user.id });
    clock.now += 1;
    await expect(auth.authenticate(short.secret)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('expired') });
    clock.now += 10 * 365 * 86_400_000;
    await expect(auth.authenticate(forever.secret)).resolves.toMatchObject({ id: user.id });
  });

  it('refuses a token whose user no longer exists', async () => {
    const { store, auth } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    const { secret } = await auth.apiTokens.create(user, { name: 'ci' });
    expect(await store.deleteUser(user.id)).toBe(true);
    await expect(auth.authenticate(secret)).rejects.toMatchObject({ code: 'unauthenticated', message: 'the user of this token no longer exists' });
  });

  it('keeps each user to their own tokens; an admin sees and revokes everyone\'s', async () => {
    const { auth } = setup();
    const ada = (await signUp(auth, 'ada@example.com')).user;
    const bob = (await signUp(auth, 'bob@example.com')).user;
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const adas = await auth.apiTokens.create(ada, { name: 'ci' });
    await auth.apiTokens.create(bob, { name: 'ci' }); // the same name for another user is fine
    expect((await auth.apiTokens.list(bob)).map((t) => t.userId)).toEqual([bob.id]);
    await expect(auth.apiTokens.list(bob, { all: true })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(auth.apiTokens.revoke(bob, adas.token.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(auth.authenticate(adas.secret)).resolves.toMatchObject({ id: ada.id });
    expect(await auth.apiTokens.list(admin, { all: true })).toHaveLength(2);
    await auth.apiTokens.revoke(admin, adas.token.id);
    await expect(auth.authenticate(adas.secret)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses a second token of the same name and more than the per-user cap', async () => {
    const { auth } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    await auth.apiTokens.create(user, { name: 'ci' });
    await expect(auth.apiTokens.create(user, { name: 'ci' })).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/^name: /) });
    for (let i = 1; i < MAX_API_TOKENS_PER_USER; i += 1) await auth.apiTokens.create(user, { name: `t${i}` });
    await expect(auth.apiTokens.create(user, { name: 'one-too-many' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('records the last use at most once a minute', async () => {
    const { store, auth, clock } = setup();
    const { user } = await signUp(auth, 'ada@example.com');
    const { token, secret } = await auth.apiTokens.create(user, { name: 'ci' });
    expect((await store.getApiToken(token.id))?.lastUsedAt).toBeUndefined();
    const first = clock.now;
    await auth.authenticate(secret);
    clock.now += 30_000;
    await auth.authenticate(secret);
    expect((await store.getApiToken(token.id))?.lastUsedAt).toBe(first);
    clock.now += 30_000;
    await auth.authenticate(secret);
    expect((await store.getApiToken(token.id))?.lastUsedAt).toBe(first + 60_000);
  });
});
