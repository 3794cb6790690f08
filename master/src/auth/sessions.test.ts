// Sessions, revocation, registration modes, invites and the limits on unauthenticated endpoints,
// on a real SQLite store and a clock the test moves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite-store.js';
import type { User } from '../records/user.js';
import { AuthService, type AuthOptions, type Revocation } from './auth-service.js';
import { watchCredential, type CredentialEnd } from './credential-watch.js';
import { UserAdmin } from './user-admin.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<AuthOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sessions-'));
  dirs.push(dir);
  const store = new SqliteStore(join(dir, 'wharf.db'));
  const clock = { now: 1_800_000_000_000 };
  const make = () =>
    new AuthService(store, {
      jwtSecret: 's'.repeat(40),
      jwtTtlMs: 3600_000,
      loginRateLimitPerMinute: 100,
      authRateLimitPerMinute: 1000,
      now: () => clock.now,
      ...options,
    });
  const auth = make();
  const revocations: Revocation[] = [];
  auth.onRevoked((r) => revocations.push(r));
  const cancelled: string[] = [];
  const users = new UserAdmin({
    store,
    auth,
    cancelWorkOf: async (user) => {
      cancelled.push(user.id);
      return { tasks: 2, dags: 1 };
    },
  });
  return { store, auth, clock, make, revocations, users, cancelled };
}

async function account(auth: AuthService, email: string): Promise<User> {
  const { user } = await auth.register({ email, password: 'password1' }, '10.0.0.1');
  if (!user) throw new Error(`${email} was taken`);
  return user;
}

describe('login sessions', () => {
  it('refuses a logged-out token at once, and after a restart, while another session of the user works', async () => {
    const { auth, make, revocations } = setup();
    const ada = await account(auth, 'ada@example.com');
    const first = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const second = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const principal = await auth.authenticatePrincipal(first.token);
    await auth.logout(principal, first.token);
    await expect(auth.authenticate(first.token)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('logged out') });
    await expect(auth.authenticate(second.token)).resolves.toMatchObject({ id: ada.id });
    expect(revocations).toEqual([{ kind: 'session', sessionId: principal.credential.kind === 'session' ? principal.credential.sessionId : '', userId: ada.id, reason: 'logged out' }]);
    const restarted = make();
    await restarted.load();
    await expect(restarted.authenticate(first.token)).rejects.toMatchObject({ message: expect.stringContaining('logged out') });
    await expect(restarted.authenticate(second.token)).resolves.toMatchObject({ id: ada.id });
  });

  it('renews a session until WHARF_SESSION_MAX_AGE after the login; a refreshed token is logged out with its session', async () => {
    const { auth, clock } = setup({ sessionMaxAgeMs: 3 * 3600_000 });
    await account(auth, 'ada@example.com');
    const login = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    clock.now += 50 * 60_000;
    const renewed = await auth.refresh(await auth.authenticatePrincipal(login.token), login.token);
    const renewedPrincipal = await auth.authenticatePrincipal(renewed.token);
    expect(renewedPrincipal.credential).toMatchObject({ kind: 'session', expiresAt: clock.now - (clock.now % 1000) + 3600_000 });
    clock.now += 11 * 60_000; // the first token has expired, the renewed one has not
    await expect(auth.authenticate(login.token)).rejects.toMatchObject({ message: 'token expired; log in again' });
    await expect(auth.authenticate(renewed.token)).resolves.toBeDefined();
    // near the session's end a renewal stops at the session's end
    clock.now += 39 * 60_000; // 100 min after the login
    const second = await auth.refresh(await auth.authenticatePrincipal(renewed.token), renewed.token);
    clock.now += 50 * 60_000; // 150 min
    const last = await auth.refresh(await auth.authenticatePrincipal(second.token), second.token);
    const lastExpiry = (await auth.authenticatePrincipal(last.token)).credential.expiresAt!;
    expect(lastExpiry).toBe(1_800_000_000_000 + 3 * 3600_000);
    clock.now = lastExpiry;
    await expect(auth.authenticate(last.token)).rejects.toMatchObject({ code: 'unauthenticated' });
    // logging out the renewed token ends the session: every token of it
    const again = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const refreshed = await auth.refresh(await auth.authenticatePrincipal(again.token), again.token);
    await auth.logout(await auth.authenticatePrincipal(refreshed.token), refreshed.token);
    await expect(auth.authenticate(again.token)).rejects.toMatchObject({ message: expect.stringContaining('logged out') });
  });

  it('logs out everywhere: every login token of the user is refused, API tokens keep working', async () => {
    const { auth, revocations } = setup();
    const ada = await account(auth, 'ada@example.com');
    const a = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const b = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.2');
    const { secret } = await auth.apiTokens.create(ada, { name: 'ci' });
    await auth.logout(await auth.authenticatePrincipal(a.token), a.token, { everywhere: true });
    for (const token of [a.token, b.token]) await expect(auth.authenticate(token)).rejects.toMatchObject({ message: expect.stringContaining('revoked') });
    await expect(auth.authenticate(secret)).resolves.toMatchObject({ id: ada.id });
    expect(revocations.at(-1)).toEqual({ kind: 'user', userId: ada.id, scope: 'sessions', reason: 'logged out everywhere' });
  });

  it('refuses a token of an older master (no session in it)', async () => {
    const { auth } = setup();
    const jwt = await import('jsonwebtoken');
    const old = jwt.default.sign({ sub: 'u', role: 'user', typ: 'user', exp: 1_800_000_060 }, 's'.repeat(40));
    await expect(auth.authenticate(old)).rejects.toMatchObject({ message: expect.stringContaining('older master') });
  });
});

describe('user administration', () => {
  it('a role change refuses the user\'s login tokens at once, announces it, and their API tokens act with the new role', async () => {
    const { auth, users, revocations } = setup();
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const ada = await account(auth, 'ada@example.com');
    const login = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const { secret } = await auth.apiTokens.create(ada, { name: 'ci' });
    const updated = await users.update(admin, ada.id, { role: 'admin' });
    expect(updated).toMatchObject({ role: 'admin', tokenVersion: 1 });
    await expect(auth.authenticate(login.token)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.authenticate(secret)).resolves.toMatchObject({ role: 'admin' });
    expect(revocations.at(-1)).toEqual({ kind: 'user', userId: ada.id, scope: 'all', reason: 'role changed to admin by root@wharf.local' });
    const relogin = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    await expect(auth.authenticate(relogin.token)).resolves.toMatchObject({ role: 'admin' });
  });

  it('a disabled account cannot log in and none of its tokens work; enabled again, a new login works', async () => {
    const { auth, users } = setup();
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const ada = await account(auth, 'ada@example.com');
    const login = await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const { secret } = await auth.apiTokens.create(ada, { name: 'ci' });
    await users.update(admin, ada.id, { disabled: true });
    await expect(auth.authenticate(login.token)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('disabled') });
    await expect(auth.authenticate(secret)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringContaining('disabled') });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1')).rejects.toMatchObject({ code: 'forbidden' });
    // a wrong password on a disabled account says nothing more than a wrong password
    await expect(auth.login({ email: 'ada@example.com', password: 'wrong-one' }, '10.0.0.1')).rejects.toMatchObject({ code: 'unauthenticated' });
    await users.update(admin, ada.id, { disabled: false });
    await expect(auth.authenticate(login.token)).rejects.toMatchObject({ code: 'unauthenticated' }); // still revoked
    await expect(auth.authenticate(secret)).resolves.toMatchObject({ id: ada.id });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1')).resolves.toBeDefined();
  });

  it('deleting an account cancels its work, revokes its API tokens and frees its address; the last admin stays', async () => {
    const { auth, users, cancelled, store } = setup();
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const ada = await account(auth, 'ada@example.com');
    const { secret } = await auth.apiTokens.create(ada, { name: 'ci' });
    const result = await users.delete(admin, ada.id);
    expect(result).toMatchObject({ user: { id: ada.id }, cancelled: { tasks: 2, dags: 1 }, apiTokens: 1 });
    expect(cancelled).toEqual([ada.id]);
    expect(await store.getUser(ada.id)).toBeUndefined();
    await expect(auth.authenticate(secret)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(users.get(ada.id)).rejects.toMatchObject({ code: 'not_found' });
    // the only enabled admin cannot be demoted, disabled or deleted
    await expect(users.update(admin, admin.id, { role: 'user' })).rejects.toMatchObject({ code: 'conflict' });
    await expect(users.update(admin, admin.id, { disabled: true })).rejects.toMatchObject({ code: 'conflict' });
    await expect(users.delete(admin, admin.id)).rejects.toMatchObject({ code: 'conflict', message: expect.stringContaining('only enabled admin') });
    expect(cancelled).toEqual([ada.id]);
  });
});

describe('the credential watch', () => {
  it('ends a connection at its token\'s expiry and at once on a matching revocation, not on another one', async () => {
    const { auth, users } = setup({ jwtTtlMs: 60_000 });
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const ada = await account(auth, 'ada@example.com');
    const bob = await account(auth, 'bob@example.com');
    const adas = await auth.authenticatePrincipal((await auth.login({ email: 'ada@example.com', password: 'password1' }, 'x')).token);
    const bobs = await auth.authenticatePrincipal((await auth.login({ email: 'bob@example.com', password: 'password1' }, 'x')).token);
    const ends: Record<string, CredentialEnd[]> = { ada: [], bob: [] };
    watchCredential(auth, adas, (end) => ends.ada!.push(end));
    const stopBob = watchCredential(auth, bobs, (end) => ends.bob!.push(end), () => 1_800_000_000_000);
    await users.update(admin, ada.id, { disabled: true });
    expect(ends.ada).toEqual([{ kind: 'revoked', reason: 'account disabled by root@wharf.local' }]);
    expect(ends.bob).toEqual([]);
    stopBob();
    // a token already past its expiry ends at once
    const late = await auth.authenticatePrincipal((await auth.login({ email: 'bob@example.com', password: 'password1' }, 'x')).token);
    const seen: CredentialEnd[] = [];
    watchCredential(auth, late, (end) => seen.push(end), () => Number.MAX_SAFE_INTEGER);
    expect(seen).toEqual([{ kind: 'expired', reason: 'token expired' }]);
    expect(bob.id).toBeDefined();
  });
});

describe('registration', () => {
  it('open: the same answer and no token for a free and a taken address; only the owner\'s password logs in', async () => {
    const { auth } = setup();
    const free = await auth.register({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    const taken = await auth.register({ email: 'ada@example.com', password: 'attacker-pw' }, '10.0.0.1');
    expect(free.token).toBeUndefined();
    expect(taken).toEqual({ via: 'open' });
    await expect(auth.login({ email: 'ada@example.com', password: 'attacker-pw' }, '10.0.0.1')).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1')).resolves.toBeDefined();
  });

  it('invite: only with a code, for the invited address and role, once', async () => {
    const { auth, clock } = setup({ registration: 'invite' });
    const admin = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    await expect(auth.register({ email: 'ada@example.com', password: 'password1' }, 'x')).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^invite: /) });
    const { invite, code } = await auth.invites.create(admin, { email: 'Ada@Example.com', role: 'admin' });
    expect(invite).toMatchObject({ email: 'ada@example.com', role: 'admin', createdBy: admin.id });
    expect(await auth.lookUpInvite(code, 'x')).toMatchObject({ email: 'ada@example.com', role: 'admin' });
    await expect(auth.register({ email: 'eve@example.com', password: 'password1', invite: code }, 'x')).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^email: /) });
    const registered = await auth.register({ email: 'ada@example.com', password: 'password1', invite: code }, 'x');
    expect(registered).toMatchObject({ via: 'invite', user: { email: 'ada@example.com', role: 'admin' } });
    await expect(auth.authenticate(registered.token!)).resolves.toMatchObject({ role: 'admin' });
    await expect(auth.register({ email: 'ada@example.com', password: 'password1', invite: code }, 'x')).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^invite: /) });
    // an expired invite, and a made-up code, get the same answer
    const late = await auth.invites.create(admin, { email: 'bob@example.com', expiresInMs: 60_000 });
    clock.now += 60_000;
    const expired = await auth.register({ email: 'bob@example.com', password: 'password1', invite: late.code }, 'x').catch((e: unknown) => e);
    const madeUp = await auth.register({ email: 'bob@example.com', password: 'password1', invite: `wharf_inv_${'A'.repeat(43)}` }, 'x').catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 'forbidden' });
    expect((madeUp as Error).message).toBe((expired as Error).message);
    await expect(auth.invites.create(admin, { email: 'ada@example.com' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('closed: nobody registers, with or without a code', async () => {
    const { auth } = setup({ registration: 'closed' });
    await expect(auth.register({ email: 'ada@example.com', password: 'password1' }, 'x')).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('closed') });
    await expect(auth.register({ email: 'ada@example.com', password: 'password1', invite: 'wharf_inv_x' }, 'x')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('limits on unauthenticated endpoints', () => {
  it('answers 429 past the per-address bucket, for logins and registrations alike, and not for another address', async () => {
    const { auth } = setup({ authRateLimitPerMinute: 3 });
    await account(auth, 'ada@example.com');
    await auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1');
    await expect(auth.login({ email: 'x@example.com', password: 'password1' }, '10.0.0.1')).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.register({ email: 'b@example.com', password: 'password1' }, '10.0.0.1')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.1')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.0.0.2')).resolves.toBeDefined();
  });

  it('past the master-wide hashing budget, unknown emails are refused without hashing while real accounts still log in', async () => {
    const { auth } = setup({ authGlobalRateLimitPerMinute: 10 }); // a burst of 5
    await account(auth, 'ada@example.com'); // one hashing of the budget
    const unknown = await Promise.all(
      Array.from({ length: 20 }, (_, i) => auth.login({ email: `nobody${i}@example.com`, password: 'password1' }, `10.1.0.${i}`).catch((e: unknown) => e)),
    );
    for (const error of unknown) expect(error).toMatchObject({ code: 'unauthenticated', message: 'wrong email or password' });
    // the budget is spent: a registration waits, a real login does not
    await expect(auth.register({ email: 'bob@example.com', password: 'password1' }, '10.2.0.1')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(auth.login({ email: 'ada@example.com', password: 'password1' }, '10.2.0.2')).resolves.toBeDefined();
  });
});
