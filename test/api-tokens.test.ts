// API tokens against a real master over loopback: a token made through the REST API works
// wherever a login token works (REST and a WebSocket upgrade), acts as its user, and is refused
// at once after it is revoked or has expired; one user cannot see or revoke another's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, waitFor } from './support/cluster.js';
import { openSocket, RefusedUpgrade } from './support/ws-client.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

interface TokenView {
  id: string;
  name: string;
  userId: string;
  hint: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

async function createToken(client: ApiClient, body: Record<string, unknown>): Promise<{ token: TokenView; secret: string }> {
  const response = await client.request<{ token: TokenView; secret: string }>('POST', '/api/tokens', body);
  expect(response.status, response.text).toBe(201);
  return response.body;
}

/** The upgrade's HTTP status (101 when it opened). */
async function upgradeStatus(master: Master, path: string, token: string): Promise<number> {
  try {
    const socket = await openSocket(`${master.httpUrl.replace(/^http/, 'ws')}${path}`, { token, header: false });
    socket.close();
    return 101;
  } catch (error: unknown) {
    if (error instanceof RefusedUpgrade) return error.status;
    throw error;
  }
}

describe('API tokens on a real master', () => {
  let master: Master;
  let ada: ApiClient;
  let bob: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster();
    ada = await ApiClient.registered(master.httpUrl, 'ada@example.com');
    bob = await ApiClient.registered(master.httpUrl, 'bob@example.com');
    admin = await ApiClient.admin(master.httpUrl);
  });
  afterAll(async () => {
    await master?.stop();
    await removeTempDirs();
  });

  it('shows the secret once, lists the token without it, and accepts it on REST and WebSockets as its user', async () => {
    const { token, secret } = await createToken(ada, { name: 'ci', expiresIn: '30d' });
    expect(secret).toMatch(/^wharf_pat_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: 'ci', hint: `${secret.slice(0, 16)}…`, lastUsedAt: null });
    expect(Date.parse(token.expiresAt!) - Date.parse(token.createdAt)).toBe(30 * 86_400_000);
    const listed = await ada.request<{ tokens: TokenView[] }>('GET', '/api/tokens');
    expect(listed.body.tokens.map((t) => t.id)).toEqual([token.id]);
    expect(listed.text).not.toContain(secret.slice(10));

    const ci = new ApiClient(master.httpUrl, secret);
    const me = await ci.request<{ user: { email: string } }>('GET', '/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe('ada@example.com');
    const submitted = await ci.request<{ task: { id: string; userId: string } }>('POST', '/api/tasks', { image: 'wharf/busybox', command: 'true' });
    expect(submitted.status).toBe(201);
    expect((await ada.request('GET', `/api/tasks/${submitted.body.task.id}`)).status).toBe(200); // ada's task
    expect(await upgradeStatus(master, '/ws/events', secret)).toBe(101);
    expect(await upgradeStatus(master, `/ws/tasks/${submitted.body.task.id}/logs`, secret)).toBe(101);
    const used = await ada.request<{ tokens: TokenView[] }>('GET', '/api/tokens');
    expect(used.body.tokens[0]?.lastUsedAt).not.toBeNull();
  });

  it('refuses a revoked token with 401 on REST and on a WebSocket upgrade', async () => {
    const { token, secret } = await createToken(ada, { name: 'to-revoke' });
    const ci = new ApiClient(master.httpUrl, secret);
    expect((await ci.request('GET', '/api/tasks')).status).toBe(200);
    const revoked = await ada.request<{ token: TokenView }>('DELETE', `/api/tokens/${token.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.id).toBe(token.id);
    const refused = await ci.request<{ error: { code: string; message: string } }>('GET', '/api/tasks');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');
    expect(refused.body.error.message).toContain('revoked');
    expect(await upgradeStatus(master, '/ws/events', secret)).toBe(401);
    expect((await ada.request('DELETE', `/api/tokens/${token.id}`)).status).toBe(404);
  });

  it('refuses a token once it has expired', async () => {
    const { secret } = await createToken(ada, { name: 'short-lived', expiresIn: '2s' });
    const ci = new ApiClient(master.httpUrl, secret);
    expect((await ci.request('GET', '/api/auth/me')).status).toBe(200);
    const expired = await waitFor('the token to expire', async () => {
      const response = await ci.request<{ error: { message: string } }>('GET', '/api/auth/me');
      return response.status === 401 ? response : undefined;
    }, 15_000, 250);
    expect(expired.body.error.message).toContain('expired');
    expect(await upgradeStatus(master, '/ws/telemetry', secret)).toBe(401);
  });

  it('keeps one user from listing or revoking another\'s tokens; an admin may do both', async () => {
    const { token, secret } = await createToken(bob, { name: 'bobs' });
    const adas = await ada.request<{ tokens: TokenView[] }>('GET', '/api/tokens');
    expect(adas.body.tokens.map((t) => t.id)).not.toContain(token.id);
    expect((await ada.request('GET', '/api/tokens?all=true')).status).toBe(403);
    const steal = await ada.request<{ error: { code: string } }>('DELETE', `/api/tokens/${token.id}`);
    expect(steal.status).toBe(404);
    expect((await new ApiClient(master.httpUrl, secret).request('GET', '/api/auth/me')).status).toBe(200);
    const all = await admin.request<{ tokens: TokenView[] }>('GET', '/api/tokens?all=true');
    expect(all.body.tokens.map((t) => t.id)).toContain(token.id);
    expect((await admin.request('DELETE', `/api/tokens/${token.id}`)).status).toBe(200);
    expect((await new ApiClient(master.httpUrl, secret).request('GET', '/api/auth/me')).status).toBe(401);
  });

  it('answers bad input with 400 naming the field, a taken name with 409', async () => {
    const bad = async (body: unknown, field: RegExp) => {
      const response = await ada.request<{ error: { code: string; message: string } }>('POST', '/api/tokens', body);
      expect(response.status, response.text).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.message).toMatch(field);
    };
    await bad({}, /^name: /);
    await bad({ name: 'x', expiresIn: 'soon' }, /^expiresIn: /);
    await bad({ name: 'x', expiresIn: '99999d' }, /^expiresIn: /);
    await bad({ name: 'x', scope: 'all' }, /unknown field "scope"/);
    await bad('[1]', /^body: /);
    await createToken(ada, { name: 'twice' });
    expect((await ada.request('POST', '/api/tokens', { name: 'twice' })).status).toBe(409);
    expect((await ada.request('DELETE', '/api/tokens/no_such')).status).toBe(400);
    const never = await createToken(ada, { name: 'forever', expiresIn: 'never' });
    expect(never.token.expiresAt).toBeNull();
  });
});
