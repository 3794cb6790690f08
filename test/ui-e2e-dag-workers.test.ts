// The DAG run page and the workers page in a real browser (Debian's Chromium via
// playwright-core) against a real master serving ui/dist and real exec workers: a failed run's
// task box clicked shows that task's log, durations on the boxes, Retry failed tasks makes a
// run that reuses the tasks that succeeded; a lost worker's usage is shown stale on the
// workers page, and its history says it was lost. Screenshots at 1280 and 390 px go to
// ui/test-results/ (ignored by git).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { launchChromium } from './support/browser.js';
import { ApiClient } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from './support/cluster.js';

const SHOTS = join(REPO_ROOT, 'ui/test-results');

let master: Awaited<ReturnType<typeof startTestMaster>>;
let worker: WorkerHandle;
let browser: Browser;
let admin: ApiClient;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  execFileSync('npm', ['run', '--silent', 'build', '-w', '@wharf/ui'], { cwd: REPO_ROOT, stdio: 'pipe' });
  mkdirSync(SHOTS, { recursive: true });
  master = await startTestMaster();
  worker = await startTestWorker(master, { name: 'e2e-exec', runtimes: ['exec'] });
  admin = await ApiClient.admin(master.httpUrl);
  browser = await launchChromium();
}, 120_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await master?.stop();
  removeTempDirs();
  expect(pageErrors).toEqual([]);
});

async function newPage(width = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 }, baseURL: master.httpUrl });
  contexts.push(context);
  await context.addInitScript(`localStorage.setItem('wharf.token', ${JSON.stringify(admin.token)})`);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function noSidewaysScroll(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow, `${name} at 390px is wider than the screen`).toBeLessThanOrEqual(0);
}

const sh = (script: string) => ({ runtime: 'exec', command: ['sh', '-c', script] });

describe('DAG runs and workers in a real browser', () => {
  it('shows a task\'s log when its box is clicked, durations on the boxes, and retries the run from its failed task', async () => {
    const marks = tempDir('e2e-dag');
    const env = { MARKS: marks };
    const submitted = await admin.request<{ dag: { id: string } }>('POST', '/api/dags', {
      apiVersion: 'helios.io/v1alpha1',
      dagName: 'e2e-retry',
      tasks: [
        { name: 'fetch', type: 'container', ...sh('echo fetched > "$WHARF_OUTPUT_DIR/raw.txt"'), env, outputs: ['raw.txt'] },
        { name: 'train', ...sh('cat "$WHARF_INPUT_DIR/raw.txt" > "$WHARF_OUTPUT_DIR/model.txt"'), env, depends_on: ['fetch'], inputs: [{ fromTask: 'fetch', name: 'raw.txt' }], outputs: ['model.txt'] },
        { name: 'report', ...sh('if [ -e "$MARKS/once" ]; then echo report ok; else touch "$MARKS/once"; echo "report broke on purpose" >&2; exit 2; fi'), env: [{ name: 'MARKS', value: marks }], depends_on: ['train'], inputs: [{ fromTask: 'train', name: 'model.txt' }] },
        { name: 'publish', ...sh('true'), depends_on: ['report', 'fetch'] },
      ],
    });
    expect(submitted.status, submitted.text).toBe(201);
    const id = submitted.body.dag.id;
    await waitFor('run failed', async () => ((await admin.request<{ dag: { status: string } }>('GET', `/api/dags/${id}`)).body.dag.status === 'failed' ? true : undefined), 60_000, 200);

    const page = await newPage();
    await page.goto(`/dags/${id}`);
    const box = (name: string) => page.locator(`.dag-node[data-task="${name}"]`);
    await box('report').waitFor();
    expect(await box('report').getAttribute('data-status')).toBe('failed');
    expect(await box('publish').getAttribute('data-status')).toBe('upstream_failed');
    // every task that ran shows how long it took
    for (const name of ['fetch', 'train', 'report']) expect(await box(name).getByTestId('dag-duration').textContent()).toMatch(/\d/);
    // the arrow from fetch to publish skips two columns; in the page it passes no box either
    const crossings = await page.evaluate<string[]>(`(() => {
      const boxes = [...document.querySelectorAll('.dag-node')].map((n) => ({ name: n.dataset.task, x: n.offsetLeft, y: n.offsetTop, w: n.offsetWidth, h: n.offsetHeight }));
      const found = [];
      for (const edge of document.querySelectorAll('.dag-edge')) {
        const points = edge.getAttribute('d').split(/[ML ]+/).filter(Boolean).map((p) => p.split(',').map(Number));
        for (let i = 1; i < points.length; i++) {
          const [x1, y1] = points[i - 1], [x2, y2] = points[i];
          for (const b of boxes) {
            const inX = Math.max(x1, x2) > b.x + 1 && Math.min(x1, x2) < b.x + b.w - 1;
            const inY = Math.max(y1, y2) > b.y + 1 && Math.min(y1, y2) < b.y + b.h - 1;
            if (inX && inY) found.push(edge.dataset.edge + ' crosses ' + b.name);
          }
        }
      }
      return found;
    })()`);
    expect(crossings).toEqual([]);

    // click the failed box: its log shows under the graph
    await box('report').click({ position: { x: 120, y: 85 } }); // on its input line: no link there
    const panel = page.getByTestId('dag-task-log');
    await panel.getByText('report broke on purpose').waitFor({ timeout: 15_000 });
    expect(page.url()).toContain('?task=report');
    await page.screenshot({ path: join(SHOTS, 'dag-run-log-1280.png'), fullPage: true });

    const phone = await newPage(390);
    await phone.goto(`/dags/${id}?task=report`);
    await phone.getByTestId('dag-task-log').getByText('report broke on purpose').waitFor({ timeout: 15_000 });
    await noSidewaysScroll(phone, 'dag-run-log');
    await phone.screenshot({ path: join(SHOTS, 'dag-run-log-390.png'), fullPage: true });

    // retry from the failed task: a new run; fetch and train are reused, not run again
    await page.getByRole('button', { name: 'Retry failed tasks' }).click();
    await page.waitForURL((url) => url.pathname.startsWith('/dags/') && !url.pathname.endsWith(id));
    await page.getByTestId('dag-origin').waitFor();
    await page.locator('h1 .badge', { hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    expect(await box('fetch').getByTestId('dag-reused').textContent()).toBe(`reused from run ${id.slice(0, 8)}`);
    expect(await box('train').getByTestId('dag-reused').textContent()).toBe(`reused from run ${id.slice(0, 8)}`);
    expect(await box('report').getByTestId('dag-reused').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'dag-run-retried-1280.png'), fullPage: true });
  }, 180_000);

  it('shows a lost worker\'s usage as stale on the workers page, and its history on its page', async () => {
    const doomed = await startTestWorker(master, { name: 'e2e-doomed', runtimes: ['exec'] });
    const doomedId = doomed.workerId;
    // let it report usage once, then stop it: lost once its heartbeats stop
    await waitFor('a usage sample', async () => {
      const w = (await admin.request<{ worker: { usage: unknown } }>('GET', `/api/workers/${doomedId}`)).body.worker;
      return w.usage ? true : undefined;
    }, 15_000, 150);
    await doomed.stop();
    await waitFor('worker lost', async () => ((await admin.request<{ worker: { status: string } }>('GET', `/api/workers/${doomedId}`)).body.worker.status === 'lost' ? true : undefined), 20_000, 150);

    for (const width of [1280, 390]) {
      const page = await newPage(width);
      await page.goto('/workers');
      const row = page.locator(`tr[data-worker="${doomedId}"]`);
      await row.waitFor();
      const stale = row.getByTestId('usage-stale').first();
      expect(await stale.textContent()).toContain('last seen');
      // greyed: its colour is the muted one, not the live text's
      const [staleColour, liveColour] = await page.evaluate<[string, string]>(
        `[getComputedStyle(document.querySelector('tr[data-worker="${doomedId}"] .stale')).color, getComputedStyle(document.querySelector('tr[data-worker="${worker.workerId}"] td')).color]`,
      );
      expect(staleColour).not.toBe(liveColour);
      if (width === 390) await noSidewaysScroll(page, 'workers');
      await page.screenshot({ path: join(SHOTS, `workers-stale-${width}.png`), fullPage: true });
    }

    const page = await newPage();
    await page.goto(`/workers/${doomedId}`);
    const history = page.getByTestId('worker-history');
    await history.locator('li[data-kind="lost"]').waitFor({ timeout: 15_000 });
    expect(await history.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')))).toEqual(['lost', 'disconnected', 'joined']);
    await page.screenshot({ path: join(SHOTS, 'worker-history-1280.png'), fullPage: true });
  }, 120_000);
});
