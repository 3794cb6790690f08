// The log viewer, the submit form's server errors and "Will it fit?", and the confirmation before
// a cancel, end to end: Debian's Chromium (playwright-core) against a real master serving
// ui/dist and a real Docker worker. Screenshots at 1280 and 390 px go to ui/test-results/
// (ignored by git): task-log-search-*, submit-fit-*, confirm-cancel-*.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { launchChromium } from './support/browser.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

const SHOTS = join(REPO_ROOT, 'ui/test-results');
const WIDTHS = [1280, 390] as const;

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;
let browser: Browser;
let client: ApiClient;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build', '-w', '@wharf/ui'], { cwd: REPO_ROOT, stdio: 'pipe' });
  mkdirSync(SHOTS, { recursive: true });
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'logs-e2e-worker' });
  browser = await launchChromium();
  client = await ApiClient.registered(master.httpUrl, `logs-e2e-${Date.now().toString(36)}@example.com`);
}, 120_000);

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
  await removeTempDirs();
  expect(pageErrors).toEqual([]);
});

async function newPage(width: number = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, baseURL: master.httpUrl });
  contexts.push(context);
  await context.addInitScript(`localStorage.setItem('wharf.token', ${JSON.stringify(client.token!)})`);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function submit(body: Record<string, unknown>): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', body);
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function finished(id: string): Promise<TaskBody> {
  return waitFor(
    `task ${id} to finish`,
    async () => {
      const task = (await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
      return ['succeeded', 'failed', 'cancelled'].includes(task.status) ? task : undefined;
    },
    90_000,
    200,
  );
}

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow, `${what} is wider than the screen`).toBeLessThanOrEqual(0);
}

describe('logs, forms and confirmations in a real browser', () => {
  it('searches a multi-attempt log on the master and jumps to each match, in view', async () => {
    // two attempts of 3,001 lines; the one line searched for sits near the end of each
    const task = await submit({
      image: TEST_IMAGE,
      name: 'two-attempts',
      command: 'seq 1 2900 | sed "s/.*/step &: ok/"; sleep 0.3; echo "needle: checksum mismatch in part 7" >&2; sleep 0.3; seq 1 100 | sed "s/^/after /"; exit 3',
      maxRetries: 1,
      resources: { memory: '32Mi' },
    });
    expect((await finished(task.id)).status).toBe('failed');
    for (const width of WIDTHS) {
      const page = await newPage(width);
      await page.goto(`/tasks/${task.id}`);
      await expect.poll(() => page.getByTestId('log-count').textContent(), { timeout: 30_000 }).toBe('6,002 lines');

      await page.getByLabel('Search the log').fill('checksum mismatch');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await expect.poll(() => page.getByTestId('log-matches').textContent()).toBe('match 1 of 2 · line 2901 of attempt 1');
      const current = page.locator('.log-current');
      await current.waitFor();
      expect(await current.getAttribute('data-attempt')).toBe('1');
      expect(await current.getAttribute('data-line')).toBe('2901');
      expect(await current.locator('.log-text').textContent()).toBe('needle: checksum mismatch in part 7');
      // scrolled into view inside the log box
      const inView = async () => {
        const row = await current.boundingBox();
        const box = await page.getByRole('log').boundingBox();
        return Boolean(row && box && row.y >= box.y && row.y + row.height <= box.y + box.height);
      };
      expect(await inView()).toBe(true);
      if (width === 1280) {
        // the separator of attempt 1 names its worker and exit code too
        await page.getByRole('log').evaluate((el) => (el.scrollTop = 0));
        await expect.poll(() => page.locator('.log-separator').first().textContent()).toBe('── attempt 1 (worker logs-e2e-worker, exit 3) ──');
      }
      await page.getByRole('button', { name: 'Next match' }).click();
      await expect.poll(() => page.getByTestId('log-matches').textContent()).toBe('match 2 of 2 · line 2901 of attempt 2');
      await expect.poll(() => current.getAttribute('data-attempt')).toBe('2');
      expect(await inView()).toBe(true);
      if (width === 1280) {
        // one attempt alone: its separator first
        await page.getByLabel('Attempt', { exact: true }).selectOption('2');
        await page.getByRole('log').evaluate((el) => (el.scrollTop = 0));
        await expect.poll(() => page.locator('.log-separator').first().textContent()).toBe('── attempt 2 (worker logs-e2e-worker, exit 3) ──');
        expect(await page.locator('.log-separator').count()).toBe(1);
        await page.getByLabel('Attempt', { exact: true }).selectOption('all');
        await expect.poll(() => current.getAttribute('data-attempt')).toBe('2');
      }
      await page.getByLabel('Timestamps').check();
      expect(await current.locator('.log-ts').textContent()).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}$/);
      await noSidewaysScroll(page, `the task page at ${width}px`);
      await page.screenshot({ path: join(SHOTS, `task-log-search-${width}.png`), fullPage: true });
    }
  }, 240_000);

  it('focuses the field of an error only the master finds, and says whether the task would fit', async () => {
    for (const width of WIDTHS) {
      const page = await newPage(width);
      await page.goto('/tasks/new');
      await page.getByRole('heading', { name: 'Submit a task' }).waitFor();
      // exec is for admins: the form lets it through, the master refuses it naming the runtime
      await page.getByLabel('Runtime').selectOption('exec');
      await page.getByLabel('Command', { exact: true }).fill('uname -a');
      await page.getByRole('button', { name: 'Submit task' }).click();
      const runtimeError = page.locator('.field-invalid .field-error');
      await runtimeError.waitFor();
      expect(await runtimeError.textContent()).toMatch(/^runtime: exec tasks run on the worker host/);
      await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.getAttribute('name') ?? undefined")).toBe('runtime');

      await page.getByLabel('Runtime').selectOption('docker');
      await page.getByLabel('Image').fill('wharf/busybox');
      await page.getByLabel('Memory', { exact: true }).fill('lots');
      await page.getByRole('button', { name: 'Will it fit?' }).click();
      const memoryError = page.locator('.field-invalid .field-error');
      await memoryError.waitFor();
      expect(await memoryError.textContent()).toBe('must be a number of MiB such as 512, or a quantity such as 2Gi (got "lots")');
      await expect.poll(() => page.evaluate<string | undefined>("document.activeElement?.getAttribute('name') ?? undefined")).toBe('memory');

      await page.getByLabel('Memory', { exact: true }).fill('64');
      await page.getByLabel('CPU', { exact: true }).fill('512');
      await page.getByRole('button', { name: 'Will it fit?' }).click();
      const answer = page.getByTestId('fit-answer');
      await answer.waitFor();
      expect(await answer.locator('.fit-verdict').textContent()).toBe('It does not fit now.');
      expect(await answer.locator('li').first().textContent()).toMatch(/^logs-e2e-worker: cpu: asks 512, the worker has \d+ in all$/);
      await page.getByLabel('CPU', { exact: true }).fill('0.25');
      await page.getByRole('button', { name: 'Will it fit?' }).click();
      await expect.poll(() => answer.locator('.fit-verdict').textContent()).toBe('It fits now: the next scheduling pass would start it on logs-e2e-worker.');
      await noSidewaysScroll(page, `the submit page at ${width}px`);
      await page.screenshot({ path: join(SHOTS, `submit-fit-${width}.png`), fullPage: true });
    }
  }, 120_000);

  it('asks before cancelling a task, and Escape keeps it running', async () => {
    const task = await submit({ image: TEST_IMAGE, name: 'long-one', command: 'echo started; sleep 120', resources: { memory: '32Mi' } });
    for (const width of WIDTHS) {
      const page = await newPage(width);
      await page.goto(`/tasks/${task.id}`);
      await page.locator('.log-row', { hasText: 'started' }).waitFor({ timeout: 60_000 });
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      const dialog = page.getByRole('alertdialog', { name: 'Cancel long-one?' });
      await dialog.waitFor();
      expect(await page.evaluate<string | undefined>('document.activeElement?.textContent ?? undefined')).toBe('Keep running');
      await noSidewaysScroll(page, `the confirmation at ${width}px`);
      await page.screenshot({ path: join(SHOTS, `confirm-cancel-${width}.png`) });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect((await client.request<{ task: TaskBody }>('GET', `/api/tasks/${task.id}`)).body.task.status).toBe('running');
    }
    const page = await newPage();
    await page.goto(`/tasks/${task.id}`);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel task' }).click();
    expect((await finished(task.id)).status).toBe('cancelled');
  }, 180_000);
});
