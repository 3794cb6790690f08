// A task's log as people use it, over REST on a real master and a real Docker worker: server-side
// search (substring and RE2 regular expressions) with line numbers, stream and attempt filters,
// paging, the raw download, timestamps; and "will it fit?" (POST /api/tasks/fit) against real
// workers with labels and capacity caps. Bad input is a 400 naming its field.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';

interface Line {
  n: number;
  attempt: number;
  stream: string;
  ts: string | null;
  text: string;
}
interface LinesAnswer {
  lines: Line[];
  next: string | null;
  scanned: number;
  partial: boolean;
}
interface FitAnswer {
  fits: boolean;
  workerId: string | null;
  workers: { id: string; name: string; fits: boolean; reasons: string[] }[];
  queue: { name: string; fits: boolean; reasons: string[] };
}

let master: Awaited<ReturnType<typeof startTestMaster>>;
const workers: WorkerHandle[] = [];
let user: ApiClient;
let admin: ApiClient;
/** a task of three attempts: each prints 3 stdout lines and 2 stderr lines, then exits 3 */
let retried: TaskBody;

function removeContainersOf(workerId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine is gone already: nothing to clean
  }
}

async function finished(id: string): Promise<TaskBody> {
  return waitFor(
    `task ${id} to finish`,
    async () => {
      const answer = await user.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
      return ['succeeded', 'failed'].includes(answer.body.task.status) ? answer.body.task : undefined;
    },
    90_000,
    100,
  );
}

async function lines(id: string, query: string): Promise<LinesAnswer> {
  const answer = await user.request<LinesAnswer>('GET', `/api/tasks/${id}/logs?${query}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  master = await startTestMaster();
  workers.push(await startTestWorker(master, { name: 'big-gpu-less', labels: { zone: 'a' } }));
  workers.push(await startTestWorker(master, { name: 'small', labels: { zone: 'b' }, capacityCaps: { cpu: 1, memory: 256 * 1024 ** 2 } }));
  user = await ApiClient.registered(master.httpUrl, `logs-${Math.random().toString(36).slice(2)}@example.com`);
  admin = await ApiClient.admin(master.httpUrl);
  // stdout and stderr are separate pipes: the pause makes the order they reach the master in certain
  const script = 'for i in 1 2 3; do echo "out line $i"; done; sleep 0.3; echo "err: boom (a+)" >&2; echo "err: second" >&2; exit 3';
  const created = await user.request<{ task: TaskBody }>('POST', '/api/tasks', { image: TEST_IMAGE, command: script, maxRetries: 2 });
  expect(created.status, created.text).toBe(201);
  retried = await finished(created.body.task.id);
}, 180_000);

afterAll(async () => {
  for (const worker of workers) {
    await worker.stop();
    removeContainersOf(worker.workerId);
  }
  await master?.stop();
  await removeTempDirs();
});

describe('GET /api/tasks/:id/logs with search parameters', () => {
  it('answers every line of every attempt, numbered within its attempt, with its stream and time', async () => {
    expect(retried.attempts).toHaveLength(3);
    const all = await lines(retried.id, 'format=lines');
    expect(all.next).toBeNull();
    expect(all.lines.filter((l) => l.stream !== 'system').map((l) => [l.attempt, l.stream, l.text])).toEqual(
      [1, 2, 3].flatMap((attempt) => [
        [attempt, 'stdout', 'out line 1'],
        [attempt, 'stdout', 'out line 2'],
        [attempt, 'stdout', 'out line 3'],
        [attempt, 'stderr', 'err: boom (a+)'],
        [attempt, 'stderr', 'err: second'],
      ]),
    );
    for (const attempt of [1, 2, 3]) {
      const numbers = all.lines.filter((l) => l.attempt === attempt).map((l) => l.n);
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    }
    // the worker's read time, close to when the task ran
    for (const line of all.lines) {
      expect(line.ts).not.toBeNull();
      expect(Math.abs(Date.parse(line.ts!) - Date.parse((retried as unknown as { createdAt: string }).createdAt))).toBeLessThan(120_000);
    }
  });

  it('searches: a substring, case-insensitively, a regular expression; the numbers are those of the whole log', async () => {
    const found = await lines(retried.id, 'grep=line%202');
    expect(found.lines.map((l) => [l.attempt, l.n, l.text])).toEqual([
      [1, 2, 'out line 2'],
      [2, 2, 'out line 2'],
      [3, 2, 'out line 2'],
    ]);
    // a substring is plain text: "(a+)" is not a pattern
    expect((await lines(retried.id, `grep=${encodeURIComponent('boom (a+)')}`)).lines).toHaveLength(3);
    expect((await lines(retried.id, 'grep=OUT%20LINE')).lines).toHaveLength(0);
    expect((await lines(retried.id, 'grep=OUT%20LINE&ignoreCase=1')).lines).toHaveLength(9);
    const regex = await lines(retried.id, `grep=${encodeURIComponent('^out line [13]$')}&regex=1&attempt=2`);
    expect(regex.lines.map((l) => [l.attempt, l.n, l.text])).toEqual([
      [2, 1, 'out line 1'],
      [2, 3, 'out line 3'],
    ]);
  });

  it('filters by stream and attempt, and pages with after/limit until next is null', async () => {
    const stderr = await lines(retried.id, 'stream=stderr&attempt=3');
    expect(stderr.lines.map((l) => [l.n, l.text])).toEqual([
      [4, 'err: boom (a+)'],
      [5, 'err: second'],
    ]);
    const seen: string[] = [];
    let after: string | null = '';
    let pages = 0;
    while (after !== null) {
      const page: LinesAnswer = await lines(retried.id, `stream=stdout&limit=2${after ? `&after=${after}` : ''}`);
      expect(page.lines.length).toBeLessThanOrEqual(2);
      seen.push(...page.lines.map((l) => `${l.attempt}:${l.n}`));
      after = page.next;
      pages += 1;
    }
    expect(seen).toEqual(['1:1', '1:2', '1:3', '2:1', '2:2', '2:3', '3:1', '3:2', '3:3']);
    expect(pages).toBeGreaterThanOrEqual(5);
  });

  it('keeps the plain text answer without search parameters', async () => {
    const text = await user.request('GET', `/api/tasks/${retried.id}/logs`);
    expect(text.headers.get('content-type')).toContain('text/plain');
    expect(text.text).toContain('--- attempt 2 on worker');
  });

  it('refuses bad parameters with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['grep=(a&regex=1', 'grep'],
      [`grep=${encodeURIComponent('(a)\\1')}&regex=1`, 'grep'],
      [`grep=${'x'.repeat(501)}`, 'grep'],
      ['grep=', 'grep'],
      ['grep=a&grep=b', 'grep'],
      ['stream=stdin', 'stream'],
      ['attempt=9', 'attempt'],
      ['attempt=zero', 'attempt'],
      ['after=12', 'after'],
      ['limit=0', 'limit'],
      ['limit=100000', 'limit'],
      ['regex=1', 'regex'],
      ['grep=a&follow=true', 'follow'],
    ];
    for (const [query, field] of cases) {
      const answer = await user.request<{ error: { code: string; message: string } }>('GET', `/api/tasks/${retried.id}/logs?${query}`);
      expect(answer.status, `${query}: ${answer.text}`).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.message, query).toMatch(new RegExp(`^${field}: `));
    }
  });

  it('runs a pattern that backtracking engines take exponential time over in linear time', async () => {
    const created = await user.request<{ task: TaskBody }>('POST', '/api/tasks', {
      image: TEST_IMAGE,
      command: 'for i in $(seq 1 200); do printf "a%.0s" $(seq 1 40); echo "!"; done',
    });
    const task = await finished(created.body.task.id);
    const answer = await lines(task.id, `grep=${encodeURIComponent('^(a+)+$')}&regex=1`);
    expect(answer.lines).toHaveLength(0);
    expect(answer.scanned).toBe(200);
    expect(answer.next).toBeNull();
  });

  it('another user sees neither the lines nor the download', async () => {
    const other = await ApiClient.registered(master.httpUrl, `other-${Math.random().toString(36).slice(2)}@example.com`);
    expect((await other.request('GET', `/api/tasks/${retried.id}/logs?grep=out`)).status).toBe(404);
    expect((await other.request('GET', `/api/tasks/${retried.id}/logs/raw`)).status).toBe(404);
  });
});

describe('GET /api/tasks/:id/logs/raw', () => {
  it('downloads one attempt as a file, or all with a separator per attempt', async () => {
    const one = await user.bytes(`/api/tasks/${retried.id}/logs/raw?attempt=2`);
    expect(one.status).toBe(200);
    expect(one.headers.get('content-disposition')).toBe(`attachment; filename="task-${retried.id.slice(0, 8)}-attempt-2.log"`);
    expect(one.data.toString()).toContain('out line 1\nout line 2\nout line 3\n');
    expect(one.data.toString()).not.toContain('--- attempt');
    const all = await user.bytes(`/api/tasks/${retried.id}/logs/raw`);
    expect(all.headers.get('content-disposition')).toBe(`attachment; filename="task-${retried.id.slice(0, 8)}.log"`);
    expect(all.data.toString().match(/^--- attempt \d on worker .+ ---$/gm)).toHaveLength(3);
    expect(all.data.toString().match(/^out line 3$/gm)).toHaveLength(3);
    const bad = await user.request<{ error: { message: string } }>('GET', `/api/tasks/${retried.id}/logs/raw?attempt=7`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^attempt: /);
  });
});

describe('POST /api/tasks/fit', () => {
  it('answers which workers could take the task now, and why not the others', async () => {
    const small = workers[1]!.workerId;
    const fit = await user.request<FitAnswer>('POST', '/api/tasks/fit', { image: TEST_IMAGE, resources: { cpu: 2, memory: '512Mi' } });
    expect(fit.status, fit.text).toBe(200);
    expect(fit.body.fits).toBe(true);
    expect(fit.body.workerId).toBe(workers[0]!.workerId);
    const smallAnswer = fit.body.workers.find((w) => w.id === small)!;
    expect(smallAnswer.name).toBe('small');
    expect(smallAnswer.fits).toBe(false);
    expect(smallAnswer.reasons).toEqual(['cpu: asks 2, the worker has 1 in all', 'memory: asks 512Mi, the worker has 256Mi in all']);
    expect(fit.body.workers.find((w) => w.name === 'big-gpu-less')).toMatchObject({ fits: true, reasons: [] });

    const labelled = await user.request<FitAnswer>('POST', '/api/tasks/fit', { image: TEST_IMAGE, labels: { zone: 'c' }, resources: { gpu: 1 } });
    expect(labelled.body.fits).toBe(false);
    expect(labelled.body.workerId).toBeNull();
    for (const worker of labelled.body.workers) {
      expect(worker.reasons[0]).toMatch(/^lacks label zone=c \(has zone=[ab]\)$/);
      expect(worker.reasons).toContain('gpu: asks 1, the worker has 0 in all');
    }
  });

  it('says a draining worker takes no new task, and names a queue that does not exist as a 400', async () => {
    const big = workers[0]!.workerId;
    expect((await admin.request('POST', `/api/workers/${big}/drain`)).status).toBe(202);
    try {
      const fit = await user.request<FitAnswer>('POST', '/api/tasks/fit', { image: TEST_IMAGE, resources: { cpu: 0.5, memory: '64Mi' } });
      expect(fit.body.workers.find((w) => w.id === big)!.reasons).toEqual(['draining: takes no new tasks']);
      expect(fit.body.workerId).toBe(workers[1]!.workerId);
    } finally {
      await admin.request('POST', `/api/workers/${big}/activate`);
    }
    const noQueue = await user.request<{ error: { message: string } }>('POST', '/api/tasks/fit', { image: TEST_IMAGE, queue: 'nope' });
    expect(noQueue.status).toBe(400);
    expect(noQueue.body.error.message).toMatch(/^queue: /);
  });

  it('validates the body as a submission: a 400 naming the field, and the value as typed', async () => {
    const answer = await user.request<{ error: { code: string; message: string } }>('POST', '/api/tasks/fit', { image: TEST_IMAGE, resources: { memory: 'lots' } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe('resources.memory: must be a quantity such as 512Mi or 2Gi (got "lots")');
    const image = await user.request<{ error: { message: string } }>('POST', '/api/tasks/fit', { image: 'Not An Image!' });
    expect(image.status).toBe(400);
    expect(image.body.error.message).toMatch(/^image: /);
    const pin = await user.request<{ error: { code: string; message: string } }>('POST', '/api/tasks/fit', { image: TEST_IMAGE, workerId: workers[0]!.workerId });
    expect(pin.status).toBe(403);
    expect(pin.body.error.message).toMatch(/^workerId: /);
  });
});
