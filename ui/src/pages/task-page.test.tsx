import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskDetails } from '../api/types.ts';
import { FakeWebSocket, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const details: TaskDetails = {
  id: 't1',
  name: 'nightly',
  userId: 'u1',
  image: 'wharf/busybox',
  command: ['sh', '-c', 'echo hi'],
  env: { MODE: 'fast' },
  runtime: 'docker',
  status: 'running',
  priority: 50,
  resources: { cpu: 0.5, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
  labels: {},
  maxRetries: 1,
  retriesUsed: 1,
  timeoutSeconds: 0,
  createdAt: '2025-01-01T10:00:00.000Z',
  attempts: [
    { id: 'a1', number: 1, workerId: 'worker-one', status: 'failed', exitCode: 3, createdAt: '2025-01-01T10:00:00.000Z', startedAt: '2025-01-01T10:00:01.000Z', finishedAt: '2025-01-01T10:00:02.000Z', error: 'exit code 3' },
    { id: 'a2', number: 2, workerId: 'worker-two', status: 'running', exitCode: null, createdAt: '2025-01-01T10:00:03.000Z', startedAt: '2025-01-01T10:00:04.000Z', finishedAt: null, error: null },
  ],
  files: [{ taskId: 't1', path: 'out/report.csv', size: 2048, sha256: 'ab'.repeat(32), createdAt: '2025-01-01T10:00:02.000Z' }],
  events: [{ at: '2025-01-01T10:00:00.000Z', kind: 'submitted', message: 'submitted by ada' }],
};

async function socketFor(path: string): Promise<FakeWebSocket> {
  return waitFor(() => {
    const socket = FakeWebSocket.find(path);
    if (!socket) throw new Error(`no socket on ${path}`);
    return socket;
  });
}

describe('the task page', () => {
  it('shows each attempt with its worker, exit code and error', async () => {
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: details } }]);
    await screen.findByRole('heading', { name: /nightly/ });
    const attempts = [...document.querySelectorAll('.attempt')].map((a) => a.textContent ?? '');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toContain('#1');
    expect(attempts[0]).toContain('worker-one');
    expect(attempts[0]).toContain('exit 3');
    expect(attempts[0]).toContain('exit code 3');
    expect(attempts[1]).toContain('worker-two');
    expect(attempts[1]).toContain('running');
  });

  it('shows a preempted attempt with its badge and a link to the task that preempted it', async () => {
    const [first] = details.attempts;
    const preemptedBy = { taskId: 'high-priority-task', priority: 90, queue: 'urgent' };
    const task: TaskDetails = {
      ...details,
      attempts: [{ ...first!, status: 'preempted', exitCode: 143, error: 'preempted by task high-priority-task (priority 90, queue urgent)', preemptedBy }],
    };
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task } }]);
    await screen.findByRole('heading', { name: /nightly/ });
    const attempt = document.querySelector('.attempt')!;
    expect(attempt.querySelector('.badge-preempted')?.textContent).toBe('preempted');
    const line = screen.getByTestId('attempt-preempted-by');
    expect(line.textContent).toBe('preempted by task high-priorit (priority 90, queue urgent); re-queued without using a retry');
    expect(line.querySelector('a')?.getAttribute('href')).toBe('/tasks/high-priority-task');
  });

  it('shows the retry policy, the dead-letter mark, the deadline that ended it and the GPU ids of each attempt', async () => {
    const [first] = details.attempts;
    const task: TaskDetails = {
      ...details,
      status: 'failed',
      retryPolicy: { maxRetries: 1, backoffSeconds: 5, backoffMultiplier: 3, maxBackoffSeconds: 60, retryOn: { exitCodes: [75, 137], outcomes: ['timed_out'] } },
      deadLetteredAt: '2025-01-01T10:05:00.000Z',
      startDeadline: '2025-01-01T10:00:30.000Z',
      deadline: '2025-01-01T11:00:00.000Z',
      deadlineExceeded: 'deadline',
      attempts: [{ ...first!, gpuIds: ['1', '3'] }],
    };
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task } }]);
    await screen.findByRole('heading', { name: /nightly/ });
    const retries = screen.getByTestId('task-retries').textContent ?? '';
    expect(retries).toContain('1 of 1 used');
    expect(retries).toContain('backoff 5 s ×3 up to 60 s · retry on exit codes 75, 137; timed_out');
    expect(retries).toContain('In the dead letters since');
    const deadlines = screen.getByTestId('task-deadlines').textContent ?? '';
    expect(deadlines).toMatch(/start by .*end by .* · exceeded$/);
    expect(screen.getByTestId('attempt-gpus').textContent).toBe('GPU 1, 3');
  });

  it('says when log chunks the worker sent never arrived', async () => {
    const [first, second] = details.attempts;
    const task = { ...details, attempts: [{ ...first!, logChunksMissing: 2 }, { ...second!, logChunksMissing: 0 }] };
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task } }]);
    await screen.findByRole('heading', { name: /nightly/ });
    const attempts = [...document.querySelectorAll('.attempt')].map((a) => a.textContent ?? '');
    expect(attempts[0]).toContain('2 log chunks the worker sent never arrived');
    expect(attempts[1]).not.toContain('never arrived');
  });

  it('links a DAG task back to its run, at that task', async () => {
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: { ...details, dagId: 'dag-12345678-x', dagTask: 'train' } } }]);
    const link = within(await screen.findByTestId('task-dag')).getByRole('link');
    expect(link.textContent).toBe('task train of run dag-1234');
    expect(link.getAttribute('href')).toBe('/dags/dag-12345678-x?task=train');
  });

  it('shows a waiting task\'s queue, its position in it and why it waits', async () => {
    const task = { ...details, status: 'queued' as const, reason: 'queue gpu-train: 64/64 gpus in use', queue: 'gpu-train', queuePosition: 3, pinnedWorkerId: 'w-7', attempts: [], startedAt: undefined, finishedAt: undefined };
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task } }]);
    await screen.findByRole('heading', { name: /nightly/ });
    expect(screen.getByTestId('task-reason').textContent).toBe('queue gpu-train: 64/64 gpus in use · position 3 in queue gpu-train');
    expect(screen.getByTestId('task-queue').textContent).toBe('gpu-train · pinned to worker w-7');
  });

  it('streams the log live, pauses and resumes, and shows the end', async () => {
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: details } }]);
    const socket = await socketFor('/ws/tasks/t1/logs');
    act(() => {
      socket.open();
      socket.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'hello\n' });
      socket.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stderr', data: 'careful\n' });
    });
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('2 lines'));
    expect(document.querySelector('.log-stderr .log-text')?.textContent).toBe('careful');
    // every attempt starts with a separator naming its worker and how it ended
    expect(document.querySelector('.log-separator')?.textContent).toMatch(/^── attempt 2 \(worker .+, (exit \d+|\w+)\) ──$/);
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    act(() => socket.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'more\nand more\n' }));
    await screen.findByRole('button', { name: 'Resume (+2)' });
    expect(document.querySelector('[data-line="3"]')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Resume (+2)' }));
    await waitFor(() => expect(document.querySelector('[data-line="4"] .log-text')?.textContent).toBe('and more'));
    act(() => {
      socket.send({ type: 'complete', status: 'succeeded', exitCode: 0 });
      socket.close(1000);
    });
    expect(await screen.findByText('complete · succeeded · exit 0')).toBeTruthy();
  });

  it('downloads an output file with the bearer token', async () => {
    const saved: string[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation(() => 'blob:fake');
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    const app = renderApp('/tasks/t1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/tasks/t1', body: { task: details } },
      { path: '/api/files/t1/download/out/report.csv', body: 'a,b\n' },
    ]);
    fireEvent.click(await screen.findByRole('button', { name: 'out/report.csv' }));
    await waitFor(() => expect(saved).toEqual(['report.csv']));
    const call = app.calls.find((c) => c.path === '/api/files/t1/download/out/report.csv');
    expect(call?.headers.authorization).toMatch(/^Bearer /);
    expect(screen.getByText('2Ki')).toBeTruthy();
  });

  it('cancels, and says why when the API refuses', async () => {
    const app = renderApp('/tasks/t1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/tasks/t1', body: { task: details } },
      { method: 'DELETE', path: '/api/tasks/t1', status: 409, body: { error: { code: 'conflict', message: 'task t1 is already succeeded' } } },
    ]);
    const cancel = await screen.findByRole('button', { name: 'Cancel' });
    cancel.focus();
    fireEvent.click(cancel);
    // a confirmation first: Escape keeps the task, and the focus goes back to the button
    const dialog = await screen.findByRole('alertdialog', { name: 'Cancel nightly?' });
    expect(document.activeElement?.textContent).toBe('Keep running');
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(document.activeElement).toBe(cancel);
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(cancel);
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Cancel task' }));
    expect(await screen.findByText('task t1 is already succeeded')).toBeTruthy();
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(true);
  });

  it("shows the task's container settings and what the worker applied to its latest attempt", async () => {
    const hardened: TaskDetails = {
      ...details,
      network: 'none',
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      capAdd: [],
      pullPolicy: 'IfNotPresent',
      attempts: [
        {
          ...details.attempts[1]!,
          effective: {
            cpu: 0.5,
            memory: 64 * 1024 ** 2,
            disk: 0,
            pidsLimit: 1024,
            user: '1000:1000',
            readOnlyRootFilesystem: true,
            noNewPrivileges: true,
            capabilities: ['CHOWN', 'KILL'],
            network: 'none',
            pullPolicy: 'IfNotPresent',
          },
        },
      ],
    };
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: hardened } }]);
    expect((await screen.findByTestId('task-container')).textContent).toBe('network none · user 1000:1000 · read-only root · pull IfNotPresent');
    const applied = (await screen.findByTestId('attempt-effective')).textContent ?? '';
    for (const part of ['500m CPU', '64Mi', 'read-only root', 'no new privileges', 'none', 'CHOWN KILL']) expect(applied).toContain(part);
  });

  it('resubmits the same task and opens the copy', async () => {
    const app = renderApp('/tasks/t1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/tasks/t1', body: { task: details } },
      { method: 'POST', path: '/api/tasks', status: 201, body: { task: { ...details, id: 't2' } } },
      { path: '/api/tasks/t2', body: { task: { ...details, id: 't2', name: 'nightly-copy' } } },
    ]);
    fireEvent.click(await screen.findByRole('button', { name: 'Resubmit' }));
    expect(app.calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.click(within(await screen.findByRole('alertdialog', { name: 'Resubmit nightly?' })).getByRole('button', { name: 'Resubmit' }));
    await waitFor(() => expect(app.path()).toBe('/tasks/t2'));
    expect(app.calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'nightly',
      image: 'wharf/busybox',
      command: ['sh', '-c', 'echo hi'],
      env: { MODE: 'fast' },
      resources: { cpu: 0.5, memory: 64 * 1024 ** 2, gpu: 0, disk: 0 },
      priority: 50,
      maxRetries: 1,
      timeoutSeconds: 0,
      labels: {},
    });
  });

  it('says when the task does not exist', async () => {
    renderApp('/tasks/nope', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/nope', status: 404, body: { error: { code: 'not_found', message: 'task nope not found' } } }]);
    expect(await screen.findByText('No task with id nope (or it belongs to someone else).')).toBeTruthy();
  });
});

describe('the log after a reconnection', () => {
  it('resumes where it was instead of showing the replayed lines twice', async () => {
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: details } }]);
    const first = await socketFor('/ws/tasks/t1/logs');
    act(() => {
      first.open();
      first.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'one\ntwo\n' });
      first.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stderr', data: 'warn\n' });
      first.send({ type: 'lagged', message: 'too slow' });
      first.close(4008);
    });
    // the client reconnects; the server replays everything from the start, then goes on
    const second = await waitFor(
      () => {
        const socket = FakeWebSocket.find('/ws/tasks/t1/logs');
        if (!socket || socket === first) throw new Error('not reconnected yet');
        return socket;
      },
      { timeout: 3000 },
    );
    act(() => {
      second.open();
      second.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'one\ntw' });
      second.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'o\nthree\n' });
      second.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stderr', data: 'warn\nagain\n' });
    });
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('5 lines'));
    const texts = [...document.querySelectorAll('.log-row .log-text')].map((row) => row.textContent);
    expect(texts).toEqual(['one', 'two', 'warn', 'three', 'again']);
    expect(document.querySelectorAll('.log-separator')).toHaveLength(1);
  });
});

describe('the log viewer', () => {
  const twoAttempts = (socket: FakeWebSocket) =>
    act(() => {
      socket.open();
      socket.send({ type: 'log', attemptId: 'a1', attempt: 1, stream: 'stdout', data: 'start\nerror: disk full\n', ts: '2025-01-01T10:00:01.250Z' });
      socket.send({ type: 'log', attemptId: 'a1', attempt: 1, stream: 'stderr', data: 'warning\n', ts: '2025-01-01T10:00:01.500Z' });
      socket.send({ type: 'log', attemptId: 'a2', attempt: 2, stream: 'stdout', data: 'start\nfine\nerror: disk full again\n', ts: '2025-01-01T10:00:04.000Z' });
    });

  it('separates every attempt (attempt 1 too), filters streams and attempts, shows times on demand', async () => {
    renderApp('/tasks/t1', [{ path: '/api/auth/me', body: { user: USER } }, { path: '/api/tasks/t1', body: { task: details } }, { path: '/api/workers', body: { workers: [{ id: 'worker-one', name: 'alpha' }] } }]);
    twoAttempts(await socketFor('/ws/tasks/t1/logs'));
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('6 lines'));
    await waitFor(() =>
      expect([...document.querySelectorAll('.log-separator')].map((row) => row.textContent)).toEqual([
        '── attempt 1 (worker alpha, exit 3) ──',
        '── attempt 2 (worker worker-two, running) ──',
      ]),
    );
    fireEvent.change(screen.getByLabelText('Streams'), { target: { value: 'stderr' } });
    expect([...document.querySelectorAll('.log-row .log-text')].map((row) => row.textContent)).toEqual(['warning']);
    fireEvent.change(screen.getByLabelText('Streams'), { target: { value: 'all' } });
    fireEvent.change(screen.getByLabelText('Attempt'), { target: { value: '2' } });
    expect([...document.querySelectorAll('.log-row .log-text')].map((row) => row.textContent)).toEqual(['start', 'fine', 'error: disk full again']);
    expect(document.querySelectorAll('.log-separator')).toHaveLength(1);
    expect(document.querySelector('.log-ts')).toBeNull();
    fireEvent.click(screen.getByLabelText('Timestamps'));
    expect(document.querySelector('.log-ts')?.textContent).toBe('10:00:04.000');
    fireEvent.click(screen.getByLabelText('Wrap'));
    expect(document.querySelector('.log-view')?.classList.contains('log-wrap')).toBe(true);
  });

  it('searches the whole log on the master and jumps from match to match', async () => {
    const app = renderApp('/tasks/t1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/tasks/t1', body: { task: details } },
      {
        path: /^\/api\/tasks\/t1\/logs\?/,
        body: {
          lines: [
            { n: 2, attempt: 1, stream: 'stdout', ts: null, text: 'error: disk full' },
            { n: 3, attempt: 2, stream: 'stdout', ts: null, text: 'error: disk full again' },
          ],
          next: null,
          scanned: 6,
          partial: false,
        },
      },
    ]);
    twoAttempts(await socketFor('/ws/tasks/t1/logs'));
    await waitFor(() => expect(screen.getByTestId('log-count').textContent).toBe('6 lines'));
    fireEvent.change(screen.getByLabelText('Search the log'), { target: { value: 'disk full' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    await waitFor(() => expect(screen.getByTestId('log-matches').textContent).toBe('match 1 of 2 · line 2 of attempt 1'));
    const asked = app.calls.find((c) => c.path.startsWith('/api/tasks/t1/logs?'))!.path;
    expect(new URLSearchParams(asked.split('?')[1]).get('grep')).toBe('disk full');
    expect(new URLSearchParams(asked.split('?')[1]).get('ignoreCase')).toBe('1');
    const current = () => document.querySelector('.log-current');
    expect(current()?.getAttribute('data-attempt')).toBe('1');
    expect(current()?.querySelector('.log-text')?.textContent).toBe('error: disk full');
    expect(document.querySelectorAll('.log-match')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Next match' }));
    expect(screen.getByTestId('log-matches').textContent).toBe('match 2 of 2 · line 3 of attempt 2');
    expect(current()?.querySelector('.log-text')?.textContent).toBe('error: disk full again');
    fireEvent.click(screen.getByRole('button', { name: 'Next match' }));
    expect(current()?.getAttribute('data-attempt')).toBe('1');
  });

  it("shows the master's refusal of a search (a bad regular expression)", async () => {
    renderApp('/tasks/t1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/tasks/t1', body: { task: details } },
      { path: /^\/api\/tasks\/t1\/logs\?/, status: 400, body: { error: { code: 'validation_failed', message: 'grep: not a regular expression this search takes' } } },
    ]);
    twoAttempts(await socketFor('/ws/tasks/t1/logs'));
    fireEvent.change(screen.getByLabelText('Search the log'), { target: { value: '(a' } });
    fireEvent.click(screen.getByLabelText('Regex'));
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    expect((await screen.findByRole('alert')).textContent).toBe('grep: not a regular expression this search takes');
  });
});

