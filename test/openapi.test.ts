// The OpenAPI document of a real master: valid OpenAPI 3.1 by a real validator
// (@seriousme/openapi-schema-validator), naming exactly the routes Express serves (both ways),
// with each route's auth as the master enforces it, describing what the master really answers
// (real answers checked against the document's schemas with Ajv's draft 2020-12 validator), and
// rendered by the dashboard's /docs page in Chromium.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Express } from 'express';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, tempDir } from './support/cluster.js';

const CHROMIUM = process.env.WHARF_CHROMIUM ?? '/usr/bin/chromium';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
type JsonObject = Record<string, unknown>;
interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: JsonObject }> }> }>>;
  components: { schemas: Record<string, JsonObject> };
}

/** What router 2.x's listRoutes() gives (router.listRoutes is public API since router 2.3). */
interface ListedRoute {
  path: string | RegExp;
  methods: string[] | undefined;
  router: { listRoutes(): ListedRoute[] } | undefined;
}

/**
 * Every "METHOD /path" Express serves, in OpenAPI form (`:id` → `{id}`, `*path` → `{path}`),
 * recursing into mounted routers. HEAD that Express adds to every GET is left out. RegExp
 * paths are returned apart: the only one is the dashboard's single-page fallback.
 */
function servedRoutes(app: Express): { routes: string[]; patterns: string[] } {
  const routes: string[] = [];
  const patterns: string[] = [];
  const walk = (router: { listRoutes(): ListedRoute[] }, prefix: string): void => {
    for (const entry of router.listRoutes()) {
      if (entry.path instanceof RegExp) {
        patterns.push(`${prefix} ${String(entry.path)}`);
        continue;
      }
      const path = `${prefix}${entry.path === '/' ? '' : entry.path}`;
      if (entry.router) walk(entry.router, path);
      for (const method of entry.methods ?? []) {
        if (method === 'HEAD' && entry.methods?.includes('GET')) continue;
        routes.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}').replace(/\*(\w+)/g, '{$1}')}`);
      }
    }
  };
  walk(app.router as unknown as { listRoutes(): ListedRoute[] }, '');
  return { routes: [...new Set(routes)].sort(), patterns };
}

let master: Master;
let document: OpenApi;
let response: Response;

beforeAll(async () => {
  // the dashboard as the source says now, built into this file's own directory (ui-e2e builds ui/dist)
  const uiDir = tempDir('openapi-ui');
  execFileSync('npx', ['vite', 'build', '--outDir', uiDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: `${REPO_ROOT}/ui`, stdio: 'pipe' });
  master = await startTestMaster({}, undefined, { uiDir });
  response = await fetch(`${master.httpUrl}/api/openapi.json`);
  document = (await response.clone().json()) as OpenApi;
});

afterAll(async () => {
  await master?.stop();
  await removeTempDirs();
});

describe('the OpenAPI document at GET /api/openapi.json', () => {
  it('is served without a token, cacheable, and valid OpenAPI 3.1 by a real validator', async () => {
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(document.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('names every route Express serves, and no route Express does not serve', () => {
    const served = servedRoutes(master.httpApp);
    const documented = Object.entries(document.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(served.routes.length).toBeGreaterThan(30);
    expect(served.routes.filter((route) => !documented.includes(route)), 'served but not in the document (add it to master/src/http/api-route-docs.ts)').toEqual([]);
    expect(documented.filter((route) => !served.routes.includes(route)), 'in the document but not served').toEqual([]);
    // the dashboard's fallback (index.html for deep links) is the one pattern route, and it is not API
    expect(served.patterns).toEqual([' /.*/']);
  });

  it('says truly who may call each route: 401 without a token but on public routes, 403 for a non-admin on admin routes only', async () => {
    // an API token, not a login token: POST /api/auth/logout called with it answers 400 and ends
    // nothing, so the calls after it still act as this user
    const registered = await ApiClient.registered(master.httpUrl, `auth-${Date.now().toString(36)}@example.com`);
    const created = await registered.request<{ secret: string }>('POST', '/api/tokens', { name: 'openapi-auth' });
    expect(created.status, created.text).toBe(201);
    const user = new ApiClient(master.httpUrl, created.body.secret);
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(item as Record<string, { 'x-wharf-auth'?: string }>)) {
        const url = `${master.httpUrl}${path.replace(/\{\w+\}/g, 'x')}`;
        const answer = await fetch(url, { method: method.toUpperCase(), redirect: 'manual' });
        await answer.arrayBuffer();
        const needsToken = op['x-wharf-auth'] !== 'none';
        if ((answer.status === 401) !== needsToken) wrong.push(`${method} ${path}: ${op['x-wharf-auth']} but ${answer.status}`);
        if (!needsToken) continue;
        const asUser = await fetch(url, { method: method.toUpperCase(), headers: { authorization: `Bearer ${user.token}` }, redirect: 'manual' });
        await asUser.arrayBuffer();
        if ((asUser.status === 403) !== (op['x-wharf-auth'] === 'admin')) wrong.push(`${method} ${path}: ${op['x-wharf-auth']} but ${asUser.status} for a user`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has every schema compile as JSON Schema draft 2020-12, and describes real answers', async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'wharf', components: document.components });
    const check = (method: string, path: string, status: number, body: unknown): void => {
      const schema = document.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema;
      expect(schema, `${method} ${path} ${status} has a JSON schema`).toBeDefined();
      const validate = ajv.compile({ $ref: `wharf${String(schema!.$ref)}` });
      const ok = validate(body);
      expect(ok ? [] : validate.errors, `${method} ${path} ${status}`).toEqual([]);
    };
    for (const name of Object.keys(document.components.schemas)) expect(() => ajv.getSchema(`wharf#/components/schemas/${name}`), name).not.toThrow();

    const anonymous = new ApiClient(master.httpUrl);
    const email = `openapi-${Date.now().toString(36)}@example.com`;
    check('get', '/api/auth/config', 200, (await anonymous.request('GET', '/api/auth/config')).body);
    // open registration on a loopback master: 202 whether or not the address was free, then log in
    const registered = await anonymous.request('POST', '/api/auth/register', { email, password: 'password123' });
    check('post', '/api/auth/register', 202, registered.body);
    const login = await anonymous.request<{ token: string }>('POST', '/api/auth/login', { email, password: 'password123' });
    check('post', '/api/auth/login', 200, login.body);
    const user = new ApiClient(master.httpUrl, login.body.token);
    check('get', '/api/auth/me', 200, (await user.request('GET', '/api/auth/me')).body);
    check('post', '/api/auth/refresh', 200, (await user.request('POST', '/api/auth/refresh')).body);

    const submitted = await user.request<{ task: { id: string } }>('POST', '/api/tasks', {
      image: 'wharf/busybox:latest',
      command: 'echo hi',
      env: { A: 'b' },
      labels: { zone: 'nowhere' },
      resources: { cpu: '100m', memory: '64Mi' },
      capAdd: [],
    });
    expect(submitted.status, submitted.text).toBe(201);
    check('post', '/api/tasks', 201, submitted.body);
    check('get', '/api/tasks', 200, (await user.request('GET', '/api/tasks')).body);
    check('get', '/api/tasks/{id}', 200, (await user.request('GET', `/api/tasks/${submitted.body.task.id}`)).body);
    check('delete', '/api/tasks/{id}', 202, (await user.request('DELETE', `/api/tasks/${submitted.body.task.id}`)).body);
    check('post', '/api/tokens', 201, (await user.request('POST', '/api/tokens', { name: 'ci' })).body);
    check('get', '/api/tokens', 200, (await user.request('GET', '/api/tokens')).body);
    check('get', '/api/workers', 200, (await user.request('GET', '/api/workers')).body);
    check('get', '/api/files', 200, (await user.request('GET', '/api/files')).body);
    check('get', '/api/dags', 200, (await user.request('GET', '/api/dags')).body);
    const gang = await user.request<{ gang: { id: string } }>('POST', '/api/gangs', { members: [{ image: 'wharf/busybox:latest', labels: { zone: 'nowhere' } }, { image: 'wharf/busybox:latest', labels: { zone: 'nowhere' } }] });
    expect(gang.status, gang.text).toBe(201);
    check('post', '/api/gangs', 201, gang.body);
    check('get', '/api/gangs', 200, (await user.request('GET', '/api/gangs')).body);
    check('get', '/api/gangs/{id}', 200, (await user.request('GET', `/api/gangs/${gang.body.gang.id}`)).body);
    check('delete', '/api/gangs/{id}', 202, (await user.request('DELETE', `/api/gangs/${gang.body.gang.id}`)).body);

    const admin = await ApiClient.admin(master.httpUrl);
    check('post', '/api/join-tokens', 201, (await admin.request('POST', '/api/join-tokens', { description: 'rack 4', expiresIn: '1h', usageLimit: 2 })).body);
    check('get', '/api/join-tokens', 200, (await admin.request('GET', '/api/join-tokens')).body);
    check('get', '/api/cluster/stats', 200, (await admin.request('GET', '/api/cluster/stats')).body);
    check('get', '/api/cluster/join', 200, (await admin.request('GET', '/api/cluster/join')).body);
    const invited = `invited-${Date.now().toString(36)}@example.com`;
    const invite = await admin.request<{ invite: { id: string }; code: string }>('POST', '/api/users/invites', { email: invited, expiresIn: '1h' });
    check('post', '/api/users/invites', 201, invite.body);
    check('get', '/api/auth/invites/{code}', 200, (await anonymous.request('GET', `/api/auth/invites/${invite.body.code}`)).body);
    check('get', '/api/users/invites', 200, (await admin.request('GET', '/api/users/invites')).body);
    const byInvite = await anonymous.request<{ user: { id: string } }>('POST', '/api/auth/register', { email: invited, password: 'password123', invite: invite.body.code });
    check('post', '/api/auth/register', 201, byInvite.body);
    check('get', '/api/users', 200, (await admin.request('GET', '/api/users')).body);
    check('get', '/api/users/{id}', 200, (await admin.request('GET', `/api/users/${byInvite.body.user.id}`)).body);
    check('patch', '/api/users/{id}', 200, (await admin.request('PATCH', `/api/users/${byInvite.body.user.id}`, { disabled: true })).body);
    check('delete', '/api/users/{id}', 200, (await admin.request('DELETE', `/api/users/${byInvite.body.user.id}`)).body);
    const spare = await admin.request<{ invite: { id: string } }>('POST', '/api/users/invites', { email: `spare-${invited}` });
    check('delete', '/api/users/invites/{id}', 200, (await admin.request('DELETE', `/api/users/invites/${spare.body.invite.id}`)).body);
    check('get', '/api/audit', 200, (await admin.request('GET', '/api/audit?limit=20')).body);
    const queueName = `oa-${Date.now().toString(36)}`;
    const queue = await admin.request('POST', '/api/queues', { name: queueName, maxCpu: 2, maxMemory: '1Gi', workerSelector: { pool: 'x' }, constraints: [{ key: 'zone', op: 'in', values: ['a'] }] });
    check('post', '/api/queues', 201, queue.body);
    check('get', '/api/queues', 200, (await user.request('GET', '/api/queues')).body);
    check('get', '/api/queues/{name}', 200, (await admin.request('GET', `/api/queues/${queueName}`)).body);
    check('patch', '/api/queues/{name}', 200, (await admin.request('PATCH', `/api/queues/${queueName}`, { maxCpu: null, description: 'openapi' })).body);
    check('put', '/api/queues/{name}/users/{user}', 200, (await admin.request('PUT', `/api/queues/${queueName}/users/${encodeURIComponent(email)}`, { maxRunning: 2, weight: 3 })).body);
    check('put', '/api/user-limits/{user}', 200, (await admin.request('PUT', `/api/user-limits/${encodeURIComponent(email)}`, { maxCpu: 4 })).body);
    check('get', '/api/user-limits', 200, (await admin.request('GET', '/api/user-limits')).body);
    expect((await admin.request('DELETE', `/api/queues/${queueName}/users/${encodeURIComponent(email)}`)).status).toBe(204);
    expect((await admin.request('DELETE', `/api/user-limits/${encodeURIComponent(email)}`)).status).toBe(204);
    check('delete', '/api/queues/{name}', 200, (await admin.request('DELETE', `/api/queues/${queueName}`)).body);
    check('get', '/health', 200, (await anonymous.request('GET', '/health')).body);

    // errors: the envelope, for a bad field, no token and a non-admin
    const bad = await user.request('POST', '/api/tasks', { image: 'wharf/busybox', priority: 'high' });
    expect(bad.status).toBe(400);
    check('post', '/api/tasks', 400, bad.body);
    const unauthenticated = await anonymous.request('GET', '/api/tasks');
    check('get', '/api/tasks', 401, unauthenticated.body);
    check('get', '/api/cluster/stats', 403, (await user.request('GET', '/api/cluster/stats')).body);
  });

  it('sends /api/docs to the dashboard page that renders it', async () => {
    const redirect = await fetch(`${master.httpUrl}/api/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/docs');
  });

  it('renders in Chromium at /api/docs: every route of the document, with its schemas one click away', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash scripts/browser-up.sh\` or set WHARF_CHROMIUM`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${master.httpUrl}/api/docs`);
      await page.waitForURL('**/docs');
      await page.getByRole('heading', { name: 'Wharf API' }).waitFor();
      const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
      expect(await page.locator('details.docs-op[id^="op-"]').count()).toBe(operations);
      // no login needed: the page opened without a token; open one route and follow its schema
      const submit = page.locator('#op-submitTask');
      await submit.locator('summary').click();
      await submit.getByRole('link', { name: 'TaskSubmission' }).waitFor();
      expect(await submit.textContent()).toContain('a bad field (the message names it)');
      await submit.getByRole('link', { name: 'TaskSubmission' }).click();
      await page.locator('#schema-TaskSubmission[open] pre').waitFor();
      expect(await page.locator('#schema-TaskSubmission pre').textContent()).toContain('"pullPolicy"');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
