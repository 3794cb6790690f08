// The task list in a real browser (issue 17 points 3 and 5): Debian's Chromium (playwright-core)
// against a real master serving ui/dist and a real Docker worker. Filters go to the API (the
// rows and the total are the API's), a failed row says why, workers show by name, and tasks
// selected together are cancelled only after the confirmation. Screenshots at 1280 and 390 px
// go to ui/test-results/ (ignored by git).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { launchChromium } from './support/browser.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

const SHOTS = join(REPO_ROOT, 'ui/test-results');
const WORKER_NAME = `list-box-${Date.now().toString(36)}`;

type Master = Awaited<ReturnType<typeof startTestMaster>>;
let master: Master;
let worker: WorkerHandle | undefined;
let browser: Browser;
let user: ApiClient;
const pageErrors: string[] = [];
const ids = { ok: '', broken: '', slow: '', hold1: '', hold2: '' };

async function submit(name: string, body: Record<string, unknown>): Promise<string> {
  const response = await user.request<{ task: TaskBody }>('POST', '/api/tasks', { name, image: TEST_IMAGE, resources: { cpu: 0.1, memory: '32Mi' }, ...body });
  expect(response.status, response.text).toBe(201);
  return response.body.task.id;
}

async function reaches(id: string, statuses: string[]): Promise<void> {
  await waitFor(`task ${id} to be ${statuses.join(' or ')}`, async () => {
    const response = await user.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
    return statuses.includes(response.body.task.status);
  }, 90_000, 200);
}

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build', '-w', '@wharf/ui'], { cwd: REPO_ROOT, stdio: 'pipe' });
  mkdirSync(SHOTS, { recursive: true });
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: WORKER_NAME });
  user = await ApiClient.registered(master.httpUrl, `lister-${Date.now().toString(36)}@example.com`);
  ids.ok = await submit('report-ok', { command: 'echo done' });
  ids.broken = await submit('report-broken', { command: 'exit 3' });
  ids.slow = await submit('report-slow', { command: 'sleep 30', timeoutSeconds: 1 });
  ids.hold1 = await submit('hold-one', { command: 'sleep 300' });
  ids.hold2 = await submit('hold-two', { command: 'sleep 300' });
  await Promise.all([reaches(ids.ok, ['succeeded']), reaches(ids.broken, ['failed']), reaches(ids.slow, ['failed']), reaches(ids.hold1, ['running']), reaches(ids.hold2, ['running'])]);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await master?.stop();
  await removeTempDirs();
  // an uncaught exception in the page is a bug even when every assertion passed
  expect(pageErrors).toEqual([]);
});

async function open(path: string, width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, baseURL: master.httpUrl });
  await context.addInitScript(`localStorage.setItem('wharf.token', ${JSON.stringify(user.token)})`);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  await page.goto(path);
  return page;
}

/** Ticks or clears a status box of the task list: the URL holds the filter, so the box follows a moment later (a router transition). */
async function toggle(page: Page, status: string, on: boolean): Promise<void> {
  const box = page.getByRole('checkbox', { name: status, exact: true });
  if ((await box.isChecked()) !== on) await box.click();
  await expect.poll(() => box.isChecked()).toBe(on);
}

const rowNames = (page: Page) => page.locator('tbody tr td:nth-child(2) a.strong').allTextContents();

describe('the task list in Chromium', () => {
  it('filters through the API, says why a task failed, names the worker, and cancels selected tasks after a confirmation', async () => {
    const page = await open('/tasks', 1280);
    await expect.poll(() => page.getByTestId('task-total').textContent()).toBe('5 tasks');

    // statuses: the API answers, the URL keeps them
    await toggle(page, 'failed', true);
    await expect.poll(() => page.getByTestId('task-total').textContent()).toBe('2 tasks match');
    expect(page.url()).toContain('status=failed');
    expect((await rowNames(page)).sort()).toEqual(['report-broken', 'report-slow']);
    const slow = page.locator(`tr[data-task="${ids.slow}"]`);
    await expect.poll(() => slow.locator('[data-reason]').textContent()).toMatch(/^timed out after 1s/);
    await expect.poll(() => page.locator(`tr[data-task="${ids.broken}"] [data-reason]`).textContent()).toMatch(/exit code 3/);
    // the worker by name, its id on hover
    const workerLink = slow.locator('.worker-name a');
    expect(await workerLink.textContent()).toBe(WORKER_NAME);
    expect(await workerLink.getAttribute('title')).toBe(`worker id ${worker!.workerId}`);
    await page.screenshot({ path: join(SHOTS, 'tasks-filtered-1280.png'), fullPage: true });

    // a part of the name, with the statuses cleared
    await toggle(page, 'failed', false);
    await page.getByLabel('Name contains').fill('HOLD');
    await page.getByLabel('Name contains').press('Enter');
    await expect.poll(() => page.getByTestId('task-total').textContent()).toBe('2 tasks match');
    expect((await rowNames(page)).sort()).toEqual(['hold-one', 'hold-two']);

    // select both, decline once, then confirm
    await page.getByLabel('Select every task on this page that can be cancelled').check();
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    await page.getByRole('button', { name: 'Keep them' }).click();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect((await user.request<{ task: TaskBody }>('GET', `/api/tasks/${ids.hold1}`)).body.task.status).toBe('running');
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    expect(await page.getByRole('alertdialog').textContent()).toContain('Cancel 2 tasks');
    await page.screenshot({ path: join(SHOTS, 'tasks-cancel-confirm-1280.png'), fullPage: true });
    await page.getByRole('button', { name: 'Cancel tasks' }).click();
    await page.getByText('Cancelled 2 tasks.').waitFor();
    await Promise.all([reaches(ids.hold1, ['cancelled']), reaches(ids.hold2, ['cancelled'])]);
    await expect.poll(async () => page.locator('tbody tr[data-status="cancelled"]').count(), { timeout: 20_000 }).toBe(2);
    await page.context().close();
  });

  it('fits a phone: the filters wrap and the rows keep name, status and duration (screenshot at 390 px)', async () => {
    const phone = await open('/tasks?status=failed,cancelled', 390);
    await expect.poll(() => phone.getByTestId('task-total').textContent()).toBe('4 tasks match');
    // no horizontal scroll of the page itself
    const overflow = await phone.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(SHOTS, 'tasks-filtered-390.png'), fullPage: true });
    await phone.context().close();
  });
});
