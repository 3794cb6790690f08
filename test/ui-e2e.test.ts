// The dashboard end to end: Debian's Chromium (driven by playwright-core) against a real master
// serving ui/dist and a real worker on the Docker engine. Each test registers its own user and
// submits its own tasks; they share one master and worker to keep the suite short.
// Every page is screenshotted at 1280 and 390 px into ui/test-results/ (ignored by git).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { launchChromium } from './support/browser.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

const SHOTS = join(REPO_ROOT, 'ui/test-results');
const WIDTHS = [1280, 390] as const;
// run inside the page (a string: this file is type-checked without the DOM library)
const CHART_HAS_SAMPLES = `Number(document.querySelector('figure.chart')?.getAttribute('data-samples') ?? 0) > 3`;

type Master = Awaited<ReturnType<typeof startTestMaster>>;
let master: Master;
let worker: WorkerHandle;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

const uniqueEmail = (what: string) => `${what}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;

beforeAll(async () => {
  // test what the source says now: build ui/dist (about 2 s)
  execFileSync('npm', ['run', '--silent', 'build', '-w', '@wharf/ui'], { cwd: REPO_ROOT, stdio: 'pipe' });
  mkdirSync(SHOTS, { recursive: true });
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'e2e-worker' });
  browser = await launchChromium();
});

// each test's pages close after it: open dashboards keep rendering live data and would slow the next test
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  if (worker) {
    try {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
      if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    } catch {
      // the engine is gone already
    }
  }
  await master?.stop();
  removeTempDirs();
  // an uncaught exception in the page is a bug even when every assertion passed
  expect(pageErrors).toEqual([]);
});

async function newPage(options: { width?: number; token?: string; dark?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.width && options.width < 600 ? 844 : 900 },
    acceptDownloads: true,
    colorScheme: options.dark ? 'dark' : 'light',
    baseURL: master.httpUrl,
  });
  contexts.push(context);
  if (options.token) await context.addInitScript(`localStorage.setItem('wharf.token', ${JSON.stringify(options.token)})`);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function userClient(): Promise<ApiClient> {
  return ApiClient.registered(master.httpUrl, uniqueEmail('user'));
}

async function submit(client: ApiClient, body: Record<string, unknown>): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', body);
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function taskOf(client: ApiClient, id: string): Promise<TaskBody> {
  return (await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
}

async function finished(client: ApiClient, id: string, timeoutMs = 60_000): Promise<TaskBody> {
  return waitFor(`task ${id} to finish`, async () => {
    const task = await taskOf(client, id);
    return ['succeeded', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
  }, timeoutMs, 200);
}

/** Ticks or clears a status box of the task list: the URL holds the filter, so the box follows a moment later (a router transition). */
async function toggle(page: Page, status: string, on: boolean): Promise<void> {
  const box = page.getByRole('checkbox', { name: status, exact: true });
  if ((await box.isChecked()) !== on) await box.click();
  await expect.poll(() => box.isChecked()).toBe(on);
}

const headingBadge = (page: Page) => page.locator('h1 .badge');

describe('the dashboard in a real browser', () => {
  it('registers, tells a second registration of the address only that it does not open, logs out and logs back in', async () => {
    const email = uniqueEmail('ada');
    const page = await newPage();
    await page.goto('/');
    await page.waitForURL('**/login');
    await page.getByRole('link', { name: 'Create an account' }).click();

    // a client-side check first: nothing is sent
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => page.locator('.field-invalid .field-error').textContent()).toBe('must be at least 8 characters');

    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await expect.poll(() => page.locator('.who-name').textContent()).toContain(email);

    // the same email again, from another browser: the master answers as for a free address
    // (no enumeration); the page's login with the other password then does not open it
    const other = await newPage();
    await other.goto('/register');
    await other.getByLabel('Email').fill(email);
    await other.getByLabel('Password').fill('another password');
    await other.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(() => other.locator('.form-error').textContent()).toContain('This address and password do not open an account');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const passwordField = page.locator('.field', { has: page.getByLabel('Password') });
    await expect.poll(() => passwordField.locator('.field-error').textContent()).toBe('wrong email or password');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('submits a task from the form, shows its log live until it succeeds, and downloads its output byte for byte', async () => {
    const client = await userClient();
    const page = await newPage({ token: client.token! });
    await page.goto('/tasks/new');
    await page.getByLabel('Image').fill(TEST_IMAGE);
    await page.getByLabel('Name', { exact: true }).fill('e2e-live');
    await page.getByLabel('Command', { exact: true }).fill(
      'for i in 1 2 3 4 5 6 7 8; do echo "tick $i"; sleep 0.5; done; echo "to stderr" >&2; ' +
        'mkdir -p /output/data && head -c 3000 /dev/urandom > /output/data/random.bin && echo hello > /output/hello.txt',
    );
    await page.getByLabel('Memory', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Environment 1 name').fill('GREETING');
    await page.getByLabel('Environment 1 value').fill('hi');
    await page.getByRole('button', { name: 'Submit task' }).click();
    // below Docker's minimum: refused at the field, nothing sent
    const memoryField = page.locator('.field', { has: page.getByLabel('Memory', { exact: true }) });
    await expect.poll(() => memoryField.locator('.field-error').textContent()).toBe('must be at least 6Mi (Docker refuses less)');
    expect((await client.request<{ tasks: unknown[] }>('GET', '/api/tasks')).body.tasks).toHaveLength(0);

    await page.getByLabel('Memory', { exact: true }).fill('64');
    await page.getByRole('button', { name: 'Submit task' }).click();
    await page.waitForURL(/\/tasks\/[^/]+$/);
    const taskId = decodeURIComponent(page.url().split('/').pop()!);
    const created = await taskOf(client, taskId);
    expect(created.status).not.toBe('failed');
    expect((created as unknown as { env: Record<string, string>; resources: { memory: number } }).env).toEqual({ GREETING: 'hi' });
    expect((created as unknown as { resources: { memory: number } }).resources.memory).toBe(64 * 1024 * 1024);

    // the first line shows while the task is still running: the log is live, not loaded at the end
    await page.locator('.log-row', { hasText: 'tick 1' }).waitFor({ timeout: 60_000 });
    expect(await headingBadge(page).textContent()).toBe('running');
    expect((await taskOf(client, taskId)).status).toBe('running');

    await expect.poll(() => headingBadge(page).textContent(), { timeout: 60_000 }).toBe('succeeded');
    await page.locator('.log-row.log-stderr', { hasText: 'to stderr' }).waitFor();
    const ticks = await page.locator('.log-row.log-stdout .log-text').allTextContents();
    expect(ticks).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'tick 6', 'tick 7', 'tick 8']);
    await page.locator('.attempt', { hasText: 'exit 0' }).waitFor();

    // output files with sizes; the download carries the bearer token and gives the same bytes
    const fileButton = page.getByRole('button', { name: 'data/random.bin' });
    await fileButton.waitFor();
    expect(await page.locator('.files li', { has: fileButton }).textContent()).toContain('2.9Ki');
    const [download] = await Promise.all([page.waitForEvent('download'), fileButton.click()]);
    expect(download.suggestedFilename()).toBe('random.bin');
    const saved = readFileSync((await download.path())!);
    const fromApi = await client.bytes(`/api/files/${taskId}/download/data/random.bin`);
    expect(saved.length).toBe(3000);
    expect(saved.equals(fromApi.data)).toBe(true);
    const listed = (await taskOf(client, taskId)).files.find((f) => f.path === 'data/random.bin');
    expect(createHash('sha256').update(saved).digest('hex')).toBe(listed?.sha256);
  });

  it('updates the rows of the tasks page live as tasks are submitted and finish', async () => {
    const client = await userClient();
    const page = await newPage({ token: client.token! });
    await page.goto('/tasks');
    await page.getByText('No tasks yet.').waitFor();
    await page.evaluate('window.notReloaded = true');

    const task = await submit(client, { image: TEST_IMAGE, name: 'row-live', command: 'sleep 1; echo ok', resources: { memory: '32Mi' } });
    const row = page.locator(`tr[data-task="${task.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    expect(await row.locator('.badge').textContent()).toBe('succeeded');
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    // status filter and name search, both by the API (test/ui-task-list-e2e.test.ts has the rest)
    await submit(client, { image: TEST_IMAGE, name: 'will-fail', command: 'exit 3', resources: { memory: '32Mi' } }).then((t) => finished(client, t.id));
    await toggle(page, 'failed', true);
    await expect.poll(() => page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))).toEqual(['failed']);
    await toggle(page, 'failed', false);
    await page.getByLabel('Name contains').fill('row-');
    await page.getByLabel('Name contains').press('Enter');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('tbody tr a.strong').textContent()).toBe('row-live');
  });

  it('moves a worker’s live CPU and memory chart on the dashboard', async () => {
    const client = await userClient();
    const page = await newPage({ token: client.token! });
    await page.goto('/');
    const card = page.locator(`.chart-card[data-worker="${worker.workerId}"]`);
    await card.waitFor();
    const figure = card.locator('figure.chart');
    const samples = async () => Number(await figure.getAttribute('data-samples'));
    await expect.poll(samples, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const path = () => card.locator('.recharts-line path.recharts-curve').first().getAttribute('d');
    const before = { n: await samples(), d: await path() };
    expect(before.d).toBeTruthy();
    await expect.poll(samples, { timeout: 20_000 }).toBeGreaterThan(before.n + 2);
    await expect.poll(path, { timeout: 20_000 }).not.toBe(before.d);
    expect(await page.locator('.stat-ok .stat-value').textContent()).toBe('1');
  });

  it('loads a log of 100,000 lines without freezing the page', async () => {
    const client = await userClient();
    const task = await submit(client, { image: TEST_IMAGE, name: 'many-lines', command: 'seq 1 100000', resources: { memory: '32Mi' } });
    expect((await finished(client, task.id, 90_000)).status).toBe('succeeded');
    const page = await newPage({ token: client.token! });
    // what the log socket carried, for the failure message
    const sockets: string[] = [];
    page.on('websocket', (ws) => {
      if (!ws.url().includes('/logs')) return;
      let frames = 0;
      const opened = Date.now();
      ws.on('framereceived', () => (frames += 1));
      ws.on('close', () => sockets.push(`closed after ${frames} frames, ${Date.now() - opened} ms`));
    });
    await page.goto(`/tasks/${task.id}`);
    await page.getByTestId('log-count').waitFor();
    // while the lines stream in, the page keeps answering: a round trip into the page's main
    // thread stays short (a frozen page would hold it for seconds)
    const lags: number[] = [];
    const deadline = Date.now() + 100_000;
    while (Date.now() < deadline) {
      const started = Date.now();
      const text = await page.evaluate(`document.querySelector('[data-testid="log-count"]')?.textContent`);
      lags.push(Date.now() - started);
      if (text === '100,000 lines') break;
      await page.waitForTimeout(50);
    }
    expect(await page.getByTestId('log-count').textContent(), `log sockets: ${sockets.join('; ') || 'still open'}`).toBe('100,000 lines');
    expect(Math.max(...lags), `round trips into the page while loading (ms): ${lags.join(", ")}`).toBeLessThan(1500);
    await page.locator('.log-row[data-line="100000"]', { hasText: '100000' }).waitFor();
    expect(await page.locator('.log-row').count()).toBeLessThan(200);
    // scroll to the top: the first lines are there and the DOM stays small
    await page.getByRole('log').evaluate((el) => (el.scrollTop = 0));
    await page.locator('.log-row[data-line="1"]').waitFor();
    expect(await page.locator('.log-row[data-line="1"] .log-text').textContent()).toBe('1');
    expect(await page.locator('.log-row').count()).toBeLessThan(200);
  }, 240_000);

  it('shows a worker’s history and lets an admin drain and activate it', async () => {
    const admin = await ApiClient.admin(master.httpUrl);
    const page = await newPage({ token: admin.token! });
    await page.goto('/workers');
    const row = page.locator(`tr[data-worker="${worker.workerId}"]`);
    await row.waitFor();
    expect(await row.locator('.badge').textContent()).toBe('ready');
    expect(await row.locator('.rbar').count()).toBeGreaterThanOrEqual(2);
    await row.getByRole('link', { name: 'e2e-worker' }).click();
    await page.waitForURL(`**/workers/${worker.workerId}`);
    await page.getByRole('heading', { name: /e2e-worker/ }).waitFor();
    await expect.poll(async () => Number(await page.locator('figure.chart').first().getAttribute('data-samples')), { timeout: 20_000 }).toBeGreaterThan(1);
    expect(await page.locator('figure.chart').count()).toBe(2);

    await page.getByRole('button', { name: 'Drain' }).click();
    // a confirmation first (components/confirm-dialog.tsx)
    await page.getByRole('alertdialog', { name: 'Drain e2e-worker?' }).getByRole('button', { name: 'Drain' }).click();
    await expect.poll(() => headingBadge(page).textContent()).toBe('draining');
    expect((await admin.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`)).body.worker.status).toBe('draining');
    await page.getByRole('button', { name: 'Activate' }).click();
    await expect.poll(() => headingBadge(page).textContent()).toBe('ready');
    expect((await admin.request<{ worker: { status: string } }>('GET', `/api/workers/${worker.workerId}`)).body.worker.status).toBe('ready');

    // a plain user sees no Drain button
    const user = await userClient();
    const userPage = await newPage({ token: user.token! });
    await userPage.goto(`/workers/${worker.workerId}`);
    await userPage.getByRole('heading', { name: /e2e-worker/ }).waitFor();
    expect(await userPage.getByRole('button', { name: 'Drain' }).count()).toBe(0);
  });

  it('lets an admin copy the join line, make a join token whose secret shows once, and remove the worker that joined with it', async () => {
    const admin = await ApiClient.admin(master.httpUrl);
    const page = await newPage({ token: admin.token! });
    await page.goto('/workers');
    expect(await page.getByTestId('join-command').textContent()).toBe(
      `./runWorker.sh --master ${master.grpcAddress} --token-file <file with a join token> --ca-hash ${master.caHash}`,
    );
    await page.getByLabel('Description').fill('from the browser');
    await page.getByLabel('Expires in').fill('1h');
    await page.getByLabel('Uses').fill('1');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('new-token-secret').textContent()) ?? '';
    expect(secret).toMatch(/^wharf_[a-z0-9]{6}\.[a-z0-9]{32}$/);
    const joined = await startTestWorker({ ...master, joinToken: secret }, { name: 'joined-from-ui', runtimes: ['exec'] });
    try {
      await page.getByRole('button', { name: 'Done' }).click();
      expect(await page.getByTestId('new-token-secret').count()).toBe(0);
      await page.reload();
      const tokenRow = page.locator(`tr[data-token="${secret.split('.')[0]}"]`);
      expect(await tokenRow.locator('.badge').textContent()).toBe('used up');
      expect(await page.content()).not.toContain(secret.split('.')[1]);
      await page.locator(`tr[data-worker="${joined.workerId}"]`).getByRole('link', { name: 'joined-from-ui' }).click();
      await page.getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('button', { name: 'Remove worker' }).click();
      await page.waitForURL((url) => url.pathname === '/workers');
      const left = await admin.request<{ workers: { id: string }[] }>('GET', '/api/workers');
      expect(left.body.workers.map((w) => w.id)).not.toContain(joined.workerId);
      expect(left.body.workers.map((w) => w.id)).toContain(worker.workerId);
    } finally {
      await joined.stop();
    }
  });

  it('cancels a running task and resubmits it', async () => {
    const client = await userClient();
    const task = await submit(client, { image: TEST_IMAGE, name: 'to-cancel', command: 'echo started; sleep 60', resources: { memory: '32Mi' } });
    const page = await newPage({ token: client.token! });
    await page.goto(`/tasks/${task.id}`);
    await page.locator('.log-row', { hasText: 'started' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alertdialog', { name: 'Cancel to-cancel?' }).getByRole('button', { name: 'Cancel task' }).click();
    await expect.poll(() => headingBadge(page).textContent(), { timeout: 30_000 }).toBe('cancelled');
    expect((await taskOf(client, task.id)).status).toBe('cancelled');
    await page.getByRole('button', { name: 'Resubmit' }).click();
    await page.getByRole('alertdialog', { name: 'Resubmit to-cancel?' }).getByRole('button', { name: 'Resubmit' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/tasks/') && !url.pathname.endsWith(task.id));
    const copyId = decodeURIComponent(page.url().split('/').pop()!);
    const copy = await taskOf(client, copyId);
    expect(copy.id).not.toBe(task.id);
    expect((copy as unknown as { command: string[] }).command).toEqual(['sh', '-c', 'echo started; sleep 60']);
    await client.request('DELETE', `/api/tasks/${copyId}`);
  });

  it('lists a task whose retries ran out in the dead letters and re-queues it from there as the same task', async () => {
    const client = await userClient();
    const task = await submit(client, { image: TEST_IMAGE, name: 'dead-letter', command: 'echo no luck >&2; exit 3', maxRetries: 0, resources: { memory: '32Mi' } });
    await finished(client, task.id);
    const page = await newPage({ token: client.token! });
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dead letters' }).click();
    const row = page.locator(`tr[data-task="${task.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('last-error').textContent()).toBe('exit code 3');
    await row.getByLabel('Select dead-letter').check();
    await page.getByRole('button', { name: 'Re-queue selected (1)' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Re-queued 1 task.');
    await row.waitFor({ state: 'detached' });
    const again = await waitFor('the re-queued task to run again', async () => {
      const current = await taskOf(client, task.id);
      return current.attempts.length === 2 && current.status === 'failed' ? current : undefined;
    }, 60_000);
    expect(again.attempts.map((a) => a.number)).toEqual([1, 2]);
  });

  it('lets an admin invite someone who registers from the link; disabling them sends their open dashboard to login at once, and the Audit page shows it', async () => {
    const admin = await ApiClient.admin(master.httpUrl);
    const adminPage = await newPage({ token: admin.token! });
    await adminPage.goto('/users');
    const invited = uniqueEmail('invited');
    const invitePanel = adminPage.locator('form[aria-label="Invite"]');
    await invitePanel.getByLabel('Email').fill(invited);
    await adminPage.getByRole('button', { name: 'Invite' }).click();
    const link = (await adminPage.getByTestId('invite-link').textContent()) ?? '';
    expect(link).toMatch(new RegExp(`^${master.httpUrl}/register\\?invite=wharf_inv_[A-Za-z0-9_-]{43}$`));

    const invitee = await newPage();
    await invitee.goto(link.replace(master.httpUrl, ''));
    await invitee.getByText(`You were invited as a user: set a password for ${invited}.`).waitFor();
    await invitee.getByLabel('Password').fill('invited password');
    await invitee.getByRole('button', { name: 'Create account' }).click();
    await invitee.getByRole('heading', { name: 'Dashboard' }).waitFor();

    // the admin disables the account: the invitee's live dashboard is cut off (4401), its renewal refused
    await adminPage.reload();
    const row = adminPage.getByTestId(`user-${invited}`);
    await row.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('disabled');
    await invitee.waitForURL('**/login', { timeout: 15_000 });

    // delete asks first, then says what it did
    await row.getByRole('button', { name: `Delete ${invited}` }).click();
    await row.getByRole('button', { name: 'Delete', exact: true }).click();
    await adminPage.getByText(new RegExp(`^${invited.replace(/[.+]/g, '\\$&')} was deleted: 0 unfinished task`)).waitFor();
    await adminPage.goto('/audit');
    await adminPage.getByRole('table', { name: 'Audit entries' }).waitFor();
    const actions = await adminPage.locator('table[aria-label="Audit entries"] tbody tr td:nth-child(4)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['user.delete', 'user.disable', 'auth.register', 'invite.create']));
  });

  it('sends the person back to login when the session is no longer valid', async () => {
    const page = await newPage({ token: 'not-a-valid-token' });
    await page.goto('/tasks');
    await page.getByText('Your session has expired. Log in again to continue.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await page.evaluate(`localStorage.getItem('wharf.token')`)).toBeNull();
  });

  it('serves deep links to the dashboard and leaves API paths to the API', async () => {
    const html = await fetch(`${master.httpUrl}/tasks/some-id`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('<div id="root">');
    const api = await fetch(`${master.httpUrl}/api/nothing-here`, { headers: { accept: 'text/html' } });
    expect(api.headers.get('content-type')).toContain('application/json');
    expect(api.status).toBeGreaterThanOrEqual(400);
    const asset = await fetch(`${master.httpUrl}/assets/missing.js`);
    expect(asset.status).toBe(404);
    expect(((await asset.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('runs the example DAG from the editor twice, the second time from the cache, and shows a cycle at the editor', async () => {
    const client = await userClient();
    const page = await newPage({ token: client.token! });
    await page.goto('/dags');
    await page.getByText('No DAG runs yet.').waitFor();
    await page.getByRole('link', { name: 'New run' }).click();
    await page.waitForURL('**/dags/new');
    const editor = page.getByLabel('DAG file (YAML or JSON)');
    expect(await editor.inputValue()).toContain(`image: ${TEST_IMAGE}`);
    expect(await page.getByLabel('Use cache').isChecked()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'dag-editor-1280.png'), fullPage: true });

    // first run: the worker's cache is empty, so train-model downloads its input
    const startRun = async (): Promise<string> => {
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/dags\/(?!new$)[^/]+$/);
      return decodeURIComponent(page.url().split('/').pop()!);
    };
    const firstId = await startRun();
    await page.evaluate('window.notReloaded = true');
    const node = (name: string) => page.locator(`.dag-node[data-task="${name}"]`);
    await node('generate-data').waitFor();
    expect(await node('train-model').locator('.badge').textContent()).not.toBe('succeeded');
    await expect.poll(() => headingBadge(page).textContent(), { timeout: 90_000 }).toBe('succeeded');
    // the graph followed the run live (no reload), down to the cache result of the input
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(await node('generate-data').getAttribute('data-status')).toBe('succeeded');
    expect(await node('train-model').getAttribute('data-status')).toBe('succeeded');
    await expect.poll(() => node('train-model').locator('[data-input="data.txt"]').getAttribute('data-cache')).toBe('miss');
    expect(await node('train-model').locator('.dag-node-worker a').getAttribute('href')).toBe(`/workers/${worker.workerId}`);
    expect(await page.getByTestId('dag-tasks-done').textContent()).toBe('2/2');
    const first = await client.request<{ dag: { status: string } }>('GET', `/api/dags/${firstId}`);
    expect(first.body.dag.status).toBe('succeeded');

    // second run with the cache on: the same input bytes are served from the worker's cache
    await page.getByRole('link', { name: 'New run' }).click();
    await page.waitForURL('**/dags/new');
    expect(await page.getByLabel('Use cache').isChecked()).toBe(true);
    const secondId = await startRun();
    expect(secondId).not.toBe(firstId);
    await expect.poll(() => headingBadge(page).textContent(), { timeout: 90_000 }).toBe('succeeded');
    await expect.poll(() => node('train-model').locator('[data-input="data.txt"]').getAttribute('data-cache')).toBe('hit');
    const panel = page.locator('.dag-metrics');
    await expect.poll(() => panel.getByTestId('dag-runs-count').textContent(), { timeout: 20_000 }).toBe('2');
    await expect.poll(() => panel.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-run'), r.getAttribute('data-cache-hit')]))).toEqual([
      [secondId, 'Hit'],
      [firstId, 'Miss'],
    ]);
    expect(await panel.getByTestId('dag-last-run').textContent()).toContain('Hit');
    const metrics = await client.request<{ runs: { dagId: string; cacheHit: string; bytesFromCache: number }[] }>('GET', '/api/dags/train-pipeline/metrics');
    expect(metrics.body.runs.map((r) => [r.dagId, r.cacheHit])).toEqual([
      [secondId, 'Hit'],
      [firstId, 'Miss'],
    ]);
    expect(metrics.body.runs[0]!.bytesFromCache).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'dag-run-1280.png'), fullPage: true });

    // the list: newest first, both succeeded with their cache results
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'DAGs' }).click();
    await page.waitForURL('**/dags');
    const rows = page.locator('tr[data-dag]');
    await expect.poll(() => rows.evaluateAll((list) => list.map((r) => r.getAttribute('data-dag')))).toEqual([secondId, firstId]);
    await expect.poll(() => rows.first().locator('[data-cache-hit]').getAttribute('data-cache-hit')).toBe('Hit');
    expect(await rows.first().getByTestId('tasks-done').textContent()).toBe('2/2');
    await page.getByLabel('DAG', { exact: true }).selectOption('train-pipeline');
    await expect.poll(() => page.getByTestId('dag-runs-count').textContent()).toBe('2');
    await page.screenshot({ path: join(SHOTS, 'dag-list-1280.png'), fullPage: true });

    // a cycle: the master refuses it and the editor shows why, on the lines of the cycle
    await page.goto('/dags/new');
    await editor.fill(
      ['dagName: loop', 'tasks:', '  - name: a', `    image: ${TEST_IMAGE}`, '    depends_on: [b]', '  - name: b', `    image: ${TEST_IMAGE}`, '    depends_on: [a]', ''].join('\n'),
    );
    await page.getByRole('button', { name: 'Start run' }).click();
    const error = page.locator('.dag-error');
    await expect.poll(() => error.textContent()).toContain('cycle: a -> b -> a');
    expect(await error.getAttribute('data-lines')).toBe('3,6');
    expect(await page.locator('.code-line-no.code-marked').allTextContents()).toEqual(['3', '6']);
    expect(new URL(page.url()).pathname).toBe('/dags/new');
    expect((await client.request<{ dags: unknown[] }>('GET', '/api/dags')).body.dags).toHaveLength(2);
    await page.screenshot({ path: join(SHOTS, 'dag-editor-error-1280.png'), fullPage: true });

    // the same pages on a phone: nothing sticks out sideways (the graph scrolls inside its card)
    for (const [name, url, ready] of [
      ['dag-list', '/dags?name=train-pipeline', (p: Page) => p.getByTestId('dag-runs-count').waitFor()],
      ['dag-editor', '/dags/new', (p: Page) => p.getByLabel('DAG file (YAML or JSON)').waitFor()],
      ['dag-run', `/dags/${secondId}`, (p: Page) => p.getByTestId('dag-runs-count').waitFor()],
    ] as const) {
      const phone = await newPage({ width: 390, token: client.token! });
      await phone.goto(url);
      await ready(phone);
      await phone.waitForTimeout(300);
      const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, `${name} at 390px is wider than the screen`).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true });
      await phone.context().close();
    }
  }, 300_000);

  it('saves a screenshot of every page at 1280 and 390 px', async () => {
    const client = await userClient();
    const admin = await ApiClient.admin(master.httpUrl);
    const done = await submit(client, {
      image: TEST_IMAGE,
      name: 'report',
      command: 'for i in $(seq 1 40); do echo "step $i of 40: ok"; done; echo "warning: disk is 80% full" >&2; seq 1 100 > /output/numbers.txt; echo ok > /output/summary.txt',
      resources: { cpu: 0.25, memory: '64Mi' },
      env: { MODE: 'report' },
      labels: {},
    });
    await finished(client, done.id);
    await submit(client, { image: TEST_IMAGE, name: 'failing', command: 'echo oops >&2; exit 3', resources: { memory: '32Mi' } }).then((t) => finished(client, t.id));
    const pages: [string, string, (page: Page) => Promise<unknown>][] = [
      ['login', '/login', (p) => p.getByRole('heading', { name: 'Log in to Wharf' }).waitFor()],
      ['register', '/register', (p) => p.getByRole('heading', { name: 'Create your Wharf account' }).waitFor()],
      ['dashboard', '/', (p) => p.waitForFunction(CHART_HAS_SAMPLES, null, { timeout: 20_000 })],
      ['workers', '/workers', (p) => p.locator('tr[data-worker]').first().waitFor()],
      ['worker', `/workers/${worker.workerId}`, (p) => p.waitForFunction(CHART_HAS_SAMPLES, null, { timeout: 20_000 })],
      ['tasks', '/tasks', (p) => p.locator('tr[data-task]').nth(1).waitFor()],
      ['task', `/tasks/${done.id}`, (p) => p.locator('.log-row', { hasText: 'warning' }).waitFor()],
      ['submit', '/tasks/new', (p) => p.getByRole('heading', { name: 'Submit a task' }).waitFor()],
      ['dead-letters', '/dead-letters', (p) => p.locator('tr[data-task]').first().waitFor()],
      ['not-found', '/no/such/page', (p) => p.getByRole('heading', { name: 'Page not found' }).waitFor()],
      ['users', '/users', (p) => p.getByRole('table', { name: 'Users' }).waitFor()],
      ['audit', '/audit', (p) => p.getByRole('table', { name: 'Audit entries' }).waitFor()],
    ];
    for (const width of WIDTHS) {
      for (const [name, url, ready] of pages) {
        const token = name === 'login' || name === 'register' ? undefined : ['workers', 'worker', 'users', 'audit'].includes(name) ? admin.token! : client.token!;
        const page = await newPage({ width, ...(token ? { token } : {}) });
        await page.goto(url);
        await ready(page);
        await page.waitForTimeout(300);
        // nothing may stick out sideways at a phone's width (tables and logs scroll inside their box)
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${name} at ${width}px is wider than the screen`).toBeLessThanOrEqual(0);
        await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
        await page.context().close();
      }
    }
    const dark = await newPage({ token: client.token!, dark: true });
    await dark.goto('/');
    await dark.waitForFunction(CHART_HAS_SAMPLES, null, { timeout: 20_000 });
    expect(await dark.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(13, 17, 23)');
    await dark.screenshot({ path: join(SHOTS, 'dashboard-dark-1280.png'), fullPage: true });
    for (const width of WIDTHS) for (const [name] of pages) expect(existsSync(join(SHOTS, `${name}-${width}.png`))).toBe(true);
  }, 300_000);
});
