// Issue 14, points 5-7, tried the way a hostile but ordinary user (and an admin) would, against
// a real master over loopback with a real Docker worker:
//   - registration answers the same for a taken and a free address; invite and closed modes;
//   - a flood of logins with random emails, from one address and from many, does not starve a
//     real login (the figures are printed: the issue saw 0.1 s become 9-41 s);
//   - logout, a disable, a role change, a deletion and a revoked API token end that access at
//     once: REST answers 401, an open WebSocket is closed with 4401 and a `?follow=true` log
//     stream ends with a line saying why; an expired token ends them at its expiry;
//   - another user's running tasks are not in /telemetry nor /ws/telemetry;
//   - every change lands in the audit trail, which only admins may read.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from '../support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from '../support/cluster.js';
import { openSocket, RefusedUpgrade, type TestSocket } from '../support/ws-client.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
type Worker = Awaited<ReturnType<typeof startTestWorker>>;

const masters: Master[] = [];
const workers: Worker[] = [];
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  for (const master of masters) await master.stop();
  await removeTempDirs();
});

async function master(env: Record<string, string> = {}): Promise<Master> {
  const started = await startTestMaster(env);
  masters.push(started);
  return started;
}

const wsUrl = (m: Master, path: string) => `${m.httpUrl.replace(/^http/, 'ws')}${path}`;

async function longTask(client: ApiClient, name: string): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', {
    image: TEST_IMAGE,
    name,
    command: ['sh', '-c', 'echo started; sleep 60'],
    resources: { cpu: 0.1, memory: '32Mi' },
  });
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function running(client: ApiClient, id: string): Promise<TaskBody> {
  return waitFor(`task ${id} running`, async () => {
    const { body } = await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
    return body.task.status === 'running' ? body.task : undefined;
  });
}

/** A `?follow=true` log stream: its text so far, and a promise of all of it once it ends. */
function follow(client: ApiClient, taskId: string): { text: () => string; ended: Promise<string>; started: Promise<void> } {
  let text = '';
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const ended = (async () => {
    const response = await fetch(`${client.baseUrl}/api/tasks/${taskId}/logs?follow=true`, { headers: { authorization: `Bearer ${client.token}` } });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes('started')) started();
    }
    return text;
  })();
  return { text: () => text, ended, started: startedPromise };
}

async function expectClosedUnauthenticated(socket: TestSocket, reason: RegExp): Promise<void> {
  const closed = await Promise.race([socket.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000))]);
  expect(closed, 'the socket should have been closed').toBeDefined();
  expect(closed!.code).toBe(4401);
  const error = socket.messages.find((m) => m.type === 'error');
  expect(error).toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(reason) });
}

/** POST /api/auth/login from a given loopback source address (127.x.y.z), as many clients would. */
function loginFrom(m: Master, localAddress: string, email: string, password: string): Promise<{ status: number; body: string; ms: number }> {
  const url = new URL(`${m.httpUrl}/api/auth/login`);
  const body = JSON.stringify({ email, password });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

describe('registration', () => {
  it('answers a taken and a free address alike (202, no token, same body); only the owner can log in', async () => {
    const m = await master();
    const anon = new ApiClient(m.httpUrl);
    const free = await anon.request('POST', '/api/auth/register', { email: 'ada@example.com', password: 'owner-password' });
    const taken = await anon.request('POST', '/api/auth/register', { email: 'ada@example.com', password: 'attacker-password' });
    const admins = await anon.request('POST', '/api/auth/register', { email: 'admin@wharf.local', password: 'attacker-password' });
    expect([free.status, taken.status, admins.status]).toEqual([202, 202, 202]);
    expect(taken.text).toBe(free.text);
    expect(admins.text).toBe(free.text);
    expect(free.text).not.toContain('token');
    expect((await anon.request('POST', '/api/auth/login', { email: 'ada@example.com', password: 'attacker-password' })).status).toBe(401);
    expect((await anon.request('POST', '/api/auth/login', { email: 'ada@example.com', password: 'owner-password' })).status).toBe(200);
    expect((await anon.request('POST', '/api/auth/login', { email: 'admin@wharf.local', password: 'admin-password' })).status).toBe(200);
  });

  it('is invite-only by default once the API listens beyond loopback, open on loopback, and as configured otherwise', async () => {
    expect((await master({ WHARF_HTTP_HOST: '0.0.0.0' })).registration).toBe('invite');
    expect((await master({ WHARF_HTTP_HOST: '0.0.0.0', WHARF_REGISTRATION: 'open' })).registration).toBe('open');
    expect((await master()).registration).toBe('open');
  });

  it('in invite mode registers only with an admin\'s invite, for its address and role, once; in closed mode not at all', async () => {
    const m = await master({ WHARF_REGISTRATION: 'invite' });
    const anon = new ApiClient(m.httpUrl);
    expect((await anon.request('GET', '/api/auth/config')).body).toMatchObject({ registration: 'invite' });
    const refused = await anon.request<{ error: { code: string; message: string } }>('POST', '/api/auth/register', { email: 'eve@example.com', password: 'password123' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/^invite: .*needs an invite code/);
    const admin = await ApiClient.admin(m.httpUrl);
    const user = await ApiClient.registered(m.httpUrl, 'x@example.com').catch((e: unknown) => e);
    expect(String(user)).toContain('403');
    const created = await admin.request<{ invite: { id: string; email: string; state: string }; code: string; link: string }>('POST', '/api/users/invites', { email: 'Bob@Example.com', role: 'admin' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.invite).toMatchObject({ email: 'bob@example.com', state: 'open' });
    expect(created.body.link).toBe(`${m.httpUrl}/register?invite=${created.body.code}`);
    expect((await anon.request('GET', `/api/auth/invites/${created.body.code}`)).body).toMatchObject({ invite: { email: 'bob@example.com', role: 'admin' } });
    const bob = await anon.request<{ token: string; user: { role: string } }>('POST', '/api/auth/register', { email: 'bob@example.com', password: 'password123', invite: created.body.code });
    expect(bob.status, bob.text).toBe(201);
    expect(bob.body.user.role).toBe('admin');
    const again = await anon.request('POST', '/api/auth/register', { email: 'bob@example.com', password: 'password123', invite: created.body.code });
    expect(again.status).toBe(403);
    const list = await admin.request<{ invites: { id: string; state: string; usedBy: string | null }[] }>('GET', '/api/users/invites');
    expect(list.body.invites.find((i) => i.id === created.body.invite.id)).toMatchObject({ state: 'used' });
    expect(list.text).not.toContain(created.body.code);
    // only admins invite
    const bobClient = new ApiClient(m.httpUrl, (await anon.request<{ token: string }>('POST', '/api/auth/login', { email: 'bob@example.com', password: 'password123' })).body.token);
    await admin.request('PATCH', `/api/users/${(await bobClient.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user.id}`, { role: 'user' });
    const asUser = new ApiClient(m.httpUrl, (await anon.request<{ token: string }>('POST', '/api/auth/login', { email: 'bob@example.com', password: 'password123' })).body.token);
    expect((await asUser.request('POST', '/api/users/invites', { email: 'c@example.com' })).status).toBe(403);

    const closed = await master({ WHARF_REGISTRATION: 'closed' });
    const closedAdmin = await ApiClient.admin(closed.httpUrl);
    const attempt = await new ApiClient(closed.httpUrl).request<{ error: { code: string } }>('POST', '/api/auth/register', { email: 'eve@example.com', password: 'password123' });
    expect(attempt.status).toBe(403);
    expect(attempt.text).toContain('registration is closed');
    expect((await closedAdmin.request('GET', '/api/users')).status).toBe(200);
  });
});

describe('a flood of logins with random emails', () => {
  it('is refused for random emails from one address and from many, while a real login still gets in', async () => {
    // the limits as a master runs them by default (the test masters raise the per-address one)
    const m = await master({ WHARF_AUTH_RATE_LIMIT: '60', WHARF_LOGIN_RATE_LIMIT: '10' });
    await ApiClient.registered(m.httpUrl, 'real@example.com', 'real-password');
    const quiet: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await loginFrom(m, '127.0.0.2', 'real@example.com', 'real-password');
      expect(answer.status).toBe(200);
      quiet.push(answer.ms);
    }
    const flood = async (source: (i: number) => string) => {
      const floodAnswers = Array.from({ length: 150 }, (_, i) => loginFrom(m, source(i), `random-${i}-${Math.random()}@example.com`, 'guess-guess'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const real = await loginFrom(m, '127.0.0.2', 'real@example.com', 'real-password');
      return { real, answers: await Promise.all(floodAnswers) };
    };
    // one address: past its bucket every request is a cheap 429
    const oneAddress = await flood(() => '127.0.0.3');
    const statuses = oneAddress.answers.map((a) => a.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // the bucket holds 60 and refills while the flood runs: the rest, most of them, are 429s
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(75);
    expect(oneAddress.real.status).toBe(200);
    // many addresses (127.0.1.x): every one is a wrong-password answer, all alike; no hashing past the budget
    const manyAddresses = await flood((i) => `127.0.1.${(i % 250) + 1}`);
    expect(new Set(manyAddresses.answers.map((a) => `${a.status} ${a.body}`))).toEqual(new Set(['401 {"error":{"code":"unauthenticated","message":"wrong email or password"}}']));
    expect(manyAddresses.real.status).toBe(200);
    const flood401 = manyAddresses.answers.map((a) => a.ms);
    console.log(
      `login flood (150 parallel random-email logins): a real login took ${Math.round(percentile(quiet, 50))} ms when quiet, ` +
        `${Math.round(oneAddress.real.ms)} ms during the flood from one address, ${Math.round(manyAddresses.real.ms)} ms during the flood from 150 addresses ` +
        `(the flood's own answers: p50 ${Math.round(percentile(flood401, 50))} ms, max ${Math.round(Math.max(...flood401))} ms)`,
    );
  });
});

describe('sessions and revocation on a running cluster', () => {
  let m: Master;
  let admin: ApiClient;

  beforeAll(async () => {
    m = await master();
    workers.push(await startTestWorker(m, { name: 'sessions-worker', capacityCaps: { cpu: 2 } }));
    admin = await ApiClient.admin(m.httpUrl);
  });

  it('logout refuses that token at once (REST 401, its WebSocket closed 4401, its follow stream ended); another session goes on', async () => {
    const ada = await ApiClient.registered(m.httpUrl, 'logout-ada@example.com');
    const other = await ApiClient.registered(m.httpUrl, 'logout-ada@example.com').catch(() => undefined); // a second register: same answer, same account
    expect(other?.token).toBeDefined();
    const task = await longTask(ada, 'logout-task');
    await running(ada, task.id);
    const socket = await openSocket(wsUrl(m, '/ws/events'), { token: ada.token! });
    const stream = follow(ada, task.id);
    await stream.started;
    const out = await ada.request('POST', '/api/auth/logout', {});
    expect(out.status).toBe(204);
    expect((await ada.request('GET', '/api/tasks')).status).toBe(401);
    await expectClosedUnauthenticated(socket, /logged out/);
    expect(await stream.ended).toMatch(/--- stream closed: logged out; log in again to follow on ---\n$/);
    // the other session (another login) still works
    expect((await other!.request('GET', '/api/tasks')).status).toBe(200);
    await admin.request('DELETE', `/api/tasks/${task.id}`);
  });

  it('a disable ends every access of the account at once; a role change ends its login sessions; enable lets it log in again', async () => {
    const bob = await ApiClient.registered(m.httpUrl, 'disable-bob@example.com');
    const me = (await bob.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user;
    const { body: pat } = await bob.request<{ secret: string }>('POST', '/api/tokens', { name: 'ci' });
    const task = await longTask(bob, 'disable-task');
    await running(bob, task.id);
    const telemetry = await openSocket(wsUrl(m, '/ws/telemetry'), { token: bob.token! });
    const withPat = await openSocket(wsUrl(m, '/ws/events'), { token: pat.secret });
    const stream = follow(new ApiClient(m.httpUrl, pat.secret), task.id);
    await stream.started;
    const disabled = await admin.request<{ user: { disabled: boolean } }>('PATCH', `/api/users/${me.id}`, { disabled: true });
    expect(disabled.body.user.disabled).toBe(true);
    await expectClosedUnauthenticated(telemetry, /account disabled by admin@wharf\.local/);
    await expectClosedUnauthenticated(withPat, /account disabled/);
    expect(await stream.ended).toMatch(/--- stream closed: account disabled by admin@wharf\.local; log in again to follow on ---\n$/);
    expect((await bob.request('GET', '/api/tasks')).status).toBe(401);
    expect((await new ApiClient(m.httpUrl, pat.secret).request('GET', '/api/tasks')).status).toBe(401);
    const login = await new ApiClient(m.httpUrl).request<{ error: { code: string; message: string } }>('POST', '/api/auth/login', { email: 'disable-bob@example.com', password: 'password123' });
    expect(login.status).toBe(403);
    expect(login.body.error.message).toContain('disabled');
    await expect(openSocket(wsUrl(m, '/ws/events'), { token: pat.secret })).rejects.toBeInstanceOf(RefusedUpgrade);

    await admin.request('PATCH', `/api/users/${me.id}`, { disabled: false });
    const back = await ApiClient.admin(m.httpUrl, 'disable-bob@example.com', 'password123');
    expect((await new ApiClient(m.httpUrl, pat.secret).request('GET', '/api/tasks')).status).toBe(200);
    const events = await openSocket(wsUrl(m, '/ws/events'), { token: back.token! });
    const promoted = await admin.request<{ user: { role: string } }>('PATCH', `/api/users/${me.id}`, { role: 'admin' });
    expect(promoted.body.user.role).toBe('admin');
    await expectClosedUnauthenticated(events, /role changed to admin/);
    expect((await back.request('GET', '/api/tasks')).status).toBe(401);
    // the API token goes on, with the new role
    expect((await new ApiClient(m.httpUrl, pat.secret).request('GET', '/api/users')).status).toBe(200);
    await admin.request('DELETE', `/api/tasks/${task.id}`);
  });

  it('a revoked API token closes what it opened; deleting an account cancels its running tasks and keeps their records', async () => {
    const cy = await ApiClient.registered(m.httpUrl, 'delete-cy@example.com');
    const me = (await cy.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user;
    const { body: pat } = await cy.request<{ token: { id: string }; secret: string }>('POST', '/api/tokens', { name: 'ci' });
    const socket = await openSocket(wsUrl(m, '/ws/telemetry'), { token: pat.secret });
    expect((await cy.request('DELETE', `/api/tokens/${pat.token.id}`)).status).toBe(200);
    await expectClosedUnauthenticated(socket, /API token revoked/);

    const task = await longTask(cy, 'delete-task');
    await running(cy, task.id);
    const events = await openSocket(wsUrl(m, '/ws/events'), { token: cy.token! });
    const users = await admin.request<{ users: { id: string; email: string }[] }>('GET', '/api/users');
    expect(users.body.users.map((u) => u.email)).toContain('delete-cy@example.com');
    expect((await cy.request('GET', '/api/users')).status).toBe(403);
    const deleted = await admin.request<{ cancelled: { tasks: number; dags: number } }>('DELETE', `/api/users/${me.id}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body.cancelled).toEqual({ tasks: 1, dags: 0 });
    await expectClosedUnauthenticated(events, /account deleted/);
    expect((await cy.request('GET', '/api/tasks')).status).toBe(401);
    const kept = await admin.request<{ task: TaskBody & { userId: string } }>('GET', `/api/tasks/${task.id}`);
    expect(kept.body.task).toMatchObject({ status: 'cancelled', userId: me.id, reason: 'cancelled by admin@wharf.local' });
    expect((await admin.request('GET', `/api/users/${me.id}`)).status).toBe(404);
  });

  it('shows a non-admin only their own tasks on the workers (GET /telemetry and /ws/telemetry); admins see all', async () => {
    const dee = await ApiClient.registered(m.httpUrl, 'telemetry-dee@example.com');
    const eve = await ApiClient.registered(m.httpUrl, 'telemetry-eve@example.com');
    const dees = await longTask(dee, 'dee-task');
    const eves = await longTask(eve, 'eve-task');
    await running(dee, dees.id);
    await running(eve, eves.id);
    type Telemetry = { workers: { id: string; capacity: unknown; usage: unknown; runningTasks: number; running: { taskId: string; attemptId: string }[] }[] };
    const ids = (t: Telemetry) => t.workers.flatMap((w) => w.running.map((r) => r.taskId));
    const asDee = await waitFor('both tasks on the worker', async () => {
      const seen = (await dee.request<Telemetry>('GET', '/telemetry')).body;
      return seen.workers[0] && seen.workers[0].runningTasks >= 2 ? seen : undefined;
    });
    expect(ids(asDee)).toContain(dees.id);
    expect(ids(asDee)).not.toContain(eves.id);
    expect(JSON.stringify(asDee)).not.toContain(eves.id);
    expect(asDee.workers[0]).toMatchObject({ capacity: expect.any(Object) });
    const asAdmin = (await admin.request<Telemetry>('GET', '/telemetry')).body;
    expect(ids(asAdmin)).toEqual(expect.arrayContaining([dees.id, eves.id]));
    const socket = await openSocket(wsUrl(m, '/ws/telemetry'), { token: eve.token! });
    const snapshot = await socket.next('snapshot', (msg) => msg.type === 'snapshot');
    expect(JSON.stringify(snapshot)).toContain(eves.id);
    expect(JSON.stringify(snapshot)).not.toContain(dees.id);
    await socket.next('a telemetry update', (msg) => msg.type === 'telemetry');
    await admin.request('DELETE', `/api/tasks/${dees.id}`);
    await socket.next('an update after dee\'s task left', (msg) => msg.type === 'telemetry' && (msg.worker as { runningTasks: number }).runningTasks <= 1, 15_000);
    expect(JSON.stringify(socket.messages)).not.toContain(dees.id);
    socket.close();
    await admin.request('DELETE', `/api/tasks/${eves.id}`);
  });
});

describe('tokens that expire', () => {
  it('end their WebSockets (4401) and follow streams at the expiry; the dashboard\'s refresh gives a new one of the same session', async () => {
    const m = await master({ WHARF_JWT_TTL: '3s' });
    workers.push(await startTestWorker(m, { name: 'expiry-worker' }));
    const fay = await ApiClient.registered(m.httpUrl, 'expiry-fay@example.com');
    const task = await longTask(fay, 'expiry-task');
    await running(fay, task.id);
    const socket = await openSocket(wsUrl(m, '/ws/events'), { token: fay.token! });
    const stream = follow(fay, task.id);
    await stream.started;
    const renewed = await fay.request<{ token: string }>('POST', '/api/auth/refresh', {});
    expect(renewed.status).toBe(200);
    expect(renewed.body.token).not.toBe(fay.token);
    await expectClosedUnauthenticated(socket, /token expired/);
    expect(socket.messages.find((msg) => msg.type === 'error')?.message).toBe('token expired; log in again');
    expect(await stream.ended).toMatch(/--- stream closed: token expired; log in again to follow on ---\n$/);
    expect((await fay.request('GET', '/api/tasks')).status).toBe(401);
    // the renewed token, issued a moment later, still works; logging it out ends the session
    const renewedClient = new ApiClient(m.httpUrl, renewed.body.token);
    expect((await renewedClient.request('GET', '/api/tasks')).status === 200 || (await renewedClient.request('POST', '/api/auth/refresh', {})).status === 401).toBe(true);
    await new ApiClient(m.httpUrl, (await ApiClient.admin(m.httpUrl)).token).request('DELETE', `/api/tasks/${task.id}`);
  });
});

describe('the audit trail', () => {
  it('records who changed what, from where, and how it went, for admins only, filtered and paged', async () => {
    const m = await master();
    const admin = await ApiClient.admin(m.httpUrl);
    const gus = await ApiClient.registered(m.httpUrl, 'audit-gus@example.com');
    const gusId = (await gus.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user.id;
    const submitted = await gus.request<{ task: { id: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true' });
    await gus.request('POST', '/api/tasks', { image: TEST_IMAGE, resources: { memory: 'lots' } }); // refused: 400
    await gus.request('POST', '/api/join-tokens', {}); // refused: 403
    await new ApiClient(m.httpUrl).request('POST', '/api/auth/login', { email: 'audit-gus@example.com', password: 'wrong-password' });
    await admin.request('PATCH', `/api/users/${gusId}`, { disabled: true });
    expect((await gus.request('GET', '/api/audit')).status).toBe(401); // disabled now
    type Entry = { at: string; userId: string | null; userEmail: string | null; address: string; action: string; object: string | null; outcome: string; status: number };
    const all = await waitFor('the entries', async () => {
      const page = await admin.request<{ entries: Entry[]; nextCursor: string | null }>('GET', '/api/audit?limit=100');
      return page.body.entries.some((e) => e.action === 'user.disable') ? page.body.entries : undefined;
    });
    expect(all.find((e) => e.action === 'task.submit' && e.outcome === 'ok')).toMatchObject({
      userId: gusId,
      userEmail: 'audit-gus@example.com',
      address: expect.stringMatching(/127\.0\.0\.1$/),
      object: `task:${submitted.body.task.id}`,
      status: 201,
    });
    expect(all.find((e) => e.action === 'task.submit' && e.outcome === 'validation_failed')).toMatchObject({ userId: gusId, status: 400 });
    expect(all.find((e) => e.action === 'join-token.create')).toMatchObject({ userId: gusId, outcome: 'forbidden', status: 403 });
    expect(all.find((e) => e.action === 'auth.login' && e.outcome === 'unauthenticated')).toMatchObject({ userId: null, object: 'email:audit-gus@example.com', status: 401 });
    expect(all.find((e) => e.action === 'auth.login' && e.outcome === 'ok' && e.userEmail === 'admin@wharf.local')).toBeDefined();
    expect(all.find((e) => e.action === 'user.disable')).toMatchObject({ userEmail: 'admin@wharf.local', object: `user:${gusId}`, outcome: 'ok' });
    // reads are not changes
    expect(all.some((e) => e.action.startsWith('GET'))).toBe(false);
    // filters and pages
    const gusOnly = await admin.request<{ entries: Entry[] }>('GET', `/api/audit?user=${encodeURIComponent('audit-gus@example.com')}`);
    expect(gusOnly.body.entries.length).toBeGreaterThan(0);
    expect(gusOnly.body.entries.every((e) => e.userId === gusId)).toBe(true);
    const logins = await admin.request<{ entries: Entry[] }>('GET', '/api/audit?action=auth.login&since=1h');
    expect(logins.body.entries.every((e) => e.action === 'auth.login')).toBe(true);
    expect((await admin.request<{ entries: Entry[] }>('GET', `/api/audit?until=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).body.entries).toEqual([]);
    const first = await admin.request<{ entries: Entry[]; nextCursor: string | null }>('GET', '/api/audit?limit=2');
    const second = await admin.request<{ entries: Entry[]; nextCursor: string | null }>('GET', `/api/audit?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.entries[0]!.at <= first.body.entries[1]!.at).toBe(true);
    const bad = await admin.request<{ error: { code: string; message: string } }>('GET', '/api/audit?since=yesterday&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/limit: must be at least 1/);
  });
});
