import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import type { WharfError } from '../errors.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { AuthService } from './auth-service.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { RateLimiter, TokenBucketLimiter } from './rate-limiter.js';

const secret = 'x'.repeat(40);
function service(limit = 10) {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'wharf-auth-')), 'db'));
  return new AuthService(store, { jwtSecret: secret, jwtTtlMs: 60_000, loginRateLimitPerMinute: limit, authRateLimitPerMinute: 1000 });
}

describe('AuthService', () => {
  it('registers, logs in and resolves the token to the user', async () => {
    const auth = service();
    const registered = await auth.register({ email: 'Ada@Example.com', password: 'correct horse' }, '127.0.0.1');
    expect(registered.user).toMatchObject({ email: 'ada@example.com', role: 'user', name: 'Ada' });
    expect(registered.token).toBeUndefined(); // open registration answers no token: log in
    const login = await auth.login({ email: 'ada@example.com', password: 'correct horse' }, '127.0.0.1');
    expect((await auth.authenticate(login.token)).id).toBe(registered.user!.id);
  });

  it('refuses a wrong password, a forged token and an expired one', async () => {
    const auth = service();
    await auth.register({ email: 'a@b.c', password: 'password1' }, 'ip');
    await expect(auth.login({ email: 'a@b.c', password: 'nope-nope' }, 'ip')).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(auth.login({ email: 'x@b.c', password: 'password1' }, 'ip')).rejects.toMatchObject({ code: 'unauthenticated' });
    const forged = jwt.sign({ sub: 'u', role: 'admin', typ: 'user' }, 'another secret that is long enough!!');
    await expect(auth.authenticate(forged)).rejects.toMatchObject({ code: 'unauthenticated' });
    const expired = jwt.sign({ sub: 'u', role: 'user', typ: 'user', sid: 's', auth: 1, ver: 0 }, secret, { expiresIn: -10 });
    await expect(auth.authenticate(expired)).rejects.toMatchObject({ message: 'token expired; log in again' });
  });

  it('does not accept a token of another type (the worker session tokens of old masters)', async () => {
    const auth = service();
    const worker = jwt.sign({ sub: 'w1', role: 'user', typ: 'worker' }, secret, { expiresIn: '30d' });
    await expect(auth.authenticate(worker)).rejects.toMatchObject({ code: 'unauthenticated', message: 'invalid token' });
  });

  it('rate-limits login attempts per client and email', async () => {
    const auth = service(2);
    await auth.register({ email: 'a@b.c', password: 'password1' }, 'ip');
    await auth.login({ email: 'a@b.c', password: 'password1' }, 'ip');
    await auth.login({ email: 'a@b.c', password: 'password1' }, 'ip');
    const error = (await auth.login({ email: 'a@b.c', password: 'password1' }, 'ip').catch((e: unknown) => e)) as WharfError;
    expect(error.code).toBe('rate_limited');
    expect(error.details?.retryAfterSeconds).toBeGreaterThan(0);
    await expect(auth.login({ email: 'a@b.c', password: 'password1' }, 'other-ip')).resolves.toBeDefined();
  });

  it('creates the configured admin once', async () => {
    const auth = service();
    const first = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    const second = await auth.ensureAdmin('root@wharf.local', 'adminpass');
    expect(first.role).toBe('admin');
    expect(second.id).toBe(first.id);
  });
});

describe('passwords and limiter', () => {
  it('hashes with a salt and verifies', async () => {
    const a = await hashPassword('secret-pass');
    expect(a).not.toBe(await hashPassword('secret-pass'));
    expect(await verifyPassword('secret-pass', a)).toBe(true);
    expect(await verifyPassword('other-pass', a)).toBe(false);
  });
  it('opens a new window after the old one passes', () => {
    let now = 0;
    const limiter = new RateLimiter(1, 1000, () => now);
    expect(limiter.hit('k')).toBe(0);
    expect(limiter.hit('k')).toBe(1);
    now = 1000;
    expect(limiter.hit('k')).toBe(0);
  });
});

describe('token bucket', () => {
  it('passes a burst, then refills at the rate, per key', () => {
    let now = 0;
    const bucket = new TokenBucketLimiter(6, 3, () => now); // one token per 10 s, three at once
    expect([bucket.take('a'), bucket.take('a'), bucket.take('a')]).toEqual([0, 0, 0]);
    expect(bucket.take('a')).toBe(10);
    expect(bucket.take('b')).toBe(0);
    now = 5_000;
    expect(bucket.take('a')).toBe(5);
    now = 10_000;
    expect(bucket.take('a')).toBe(0);
    expect(bucket.take('a')).toBeGreaterThan(0);
    now = 1_000_000;
    expect([bucket.take('a'), bucket.take('a'), bucket.take('a'), bucket.take('a') > 0]).toEqual([0, 0, 0, true]);
  });
});
