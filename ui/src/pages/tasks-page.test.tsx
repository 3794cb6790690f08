import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../api/types.ts';
import { FakeWebSocket, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';
import { applyTaskChange, statusesOf, taskReason } from './tasks-page.tsx';

afterEach(cleanup);

const task = (id: string, patch: Partial<Task> = {}): Task => ({
  id,
  name: `task-${id}`,
  userId: 'u1',
  image: 'wharf/busybox',
  command: ['sh', '-c', 'true'],
  env: {},
  runtime: 'docker',
  status: 'queued',
  priority: 50,
  resources: { cpu: 0.5, memory: 256 * 1024 ** 2, gpu: 0, disk: 0 },
  labels: {},
  maxRetries: 0,
  retriesUsed: 0,
  timeoutSeconds: 0,
  createdAt: '2025-01-01T10:00:00.000Z',
  ...patch,
});

describe('applyTaskChange', () => {
  const page = { tasks: [task('b', { createdAt: '2025-01-01T10:00:02.000Z' }), task('a')], nextCursor: 'c1', total: 2 };
  const live = { statuses: [], firstPage: true, addNew: true };
  it('replaces a row in place', () => {
    const next = applyTaskChange(page, task('a', { status: 'running' }), live);
    expect(next.tasks.map((t) => `${t.id}:${t.status}`)).toEqual(['b:queued', 'a:running']);
  });
  it('puts a new task on top of the first page only, and counts it', () => {
    const fresh = task('c', { createdAt: '2025-01-01T10:00:05.000Z' });
    const next = applyTaskChange(page, fresh, live);
    expect(next.tasks[0]?.id).toBe('c');
    expect(next.total).toBe(3);
    expect(applyTaskChange(page, fresh, { ...live, firstPage: false }).tasks).toHaveLength(2);
    // other filters than statuses: the API decides what matches, the page does not guess
    expect(applyTaskChange(page, fresh, { ...live, addNew: false }).tasks).toHaveLength(2);
  });
  it('drops a row that no longer matches the statuses, and counts one less', () => {
    const next = applyTaskChange({ tasks: [task('a')], nextCursor: null, total: 1 }, task('a', { status: 'running' }), { ...live, statuses: ['queued'] });
    expect(next.tasks).toEqual([]);
    expect(next.total).toBe(0);
    const kept = applyTaskChange({ tasks: [task('a')], nextCursor: null }, task('a', { status: 'running' }), { ...live, statuses: ['queued', 'running'] });
    expect(kept.tasks[0]?.status).toBe('running');
  });
});

describe('statusesOf and taskReason', () => {
  it('reads a comma list of statuses, in the API\'s order, ignoring what is not a status', () => {
    expect(statusesOf('failed,queued,bogus')).toEqual(['queued', 'failed']);
    expect(statusesOf(null)).toEqual([]);
  });
  it('says why a task failed: the reason, else its exit code; nothing for a running or succeeded task', () => {
    expect(taskReason(task('a', { status: 'failed', exitCode: 137, reason: 'timed out after 5s' }))).toBe('timed out after 5s');
    expect(taskReason(task('a', { status: 'failed', exitCode: 2 }))).toBe('exit code 2');
    expect(taskReason(task('a', { status: 'succeeded', exitCode: 0, reason: 'exit code 0' }))).toBeUndefined();
  });
});

const ADMIN = { ...USER, id: 'admin-1', email: 'root@example.com', role: 'admin' as const };

describe('the tasks page', () => {
  it('lists tasks newest first with the total, and changes a row when /ws/events reports it', async () => {
    renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      { path: /^\/api\/tasks\?limit=25$/, body: { tasks: [task('b', { createdAt: '2025-01-01T10:00:02.000Z' }), task('a')], nextCursor: null, total: 2 } },
    ]);
    await screen.findByText('task-b');
    expect(screen.getByTestId('task-total').textContent).toBe('2 tasks');
    const rows = () => [...document.querySelectorAll('tbody tr')].map((r) => `${r.getAttribute('data-task')}:${r.getAttribute('data-status')}`);
    expect(rows()).toEqual(['b:queued', 'a:queued']);
    const socket = await waitFor(() => {
      const s = FakeWebSocket.find('/ws/events');
      if (!s) throw new Error('no events socket');
      return s;
    });
    expect(new URL(socket.url).searchParams.get('token')).toBeTruthy();
    act(() => {
      socket.open();
      socket.send({ type: 'task', task: task('a', { status: 'succeeded', exitCode: 0 }) });
      socket.send({ type: 'task', task: task('c', { name: 'brand-new', createdAt: '2025-01-01T10:00:09.000Z' }) });
    });
    expect(rows()).toEqual(['c:queued', 'b:queued', 'a:succeeded']);
    expect(screen.getByText('brand-new')).toBeTruthy();
    expect(screen.getByTestId('task-total').textContent).toBe('3 tasks');
  });

  it('shows the worker by name (id on hover, a copy button), attempts, duration, the DAG run and why a task failed', async () => {
    renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      {
        path: /^\/api\/tasks\?limit=25$/,
        body: {
          tasks: [
            task('t1', { name: 'slow', status: 'failed', exitCode: 137, reason: 'timed out after 5s', workerId: 'w-1234567890abcdef', workerName: 'gpu-box', attemptCount: 2, maxRetries: 1, startedAt: '2025-01-01T10:00:00.000Z', finishedAt: '2025-01-01T10:00:05.000Z', dagId: 'run-9', dagTask: 'train' }),
            task('t2', { name: 'pull', status: 'failed', reason: 'pull of image "nope:1" failed (pullPolicy Always): not found', workerId: 'w-2', workerName: null, attemptCount: 1 }),
          ],
          nextCursor: null,
          total: 2,
        },
      },
    ]);
    await screen.findByText('slow');
    const slow = document.querySelector('tr[data-task="t1"]')!;
    expect(slow.querySelector('[data-reason]')?.textContent).toBe('timed out after 5s');
    const worker = slow.querySelector('.worker-name a')!;
    expect(worker.textContent).toBe('gpu-box');
    expect(worker.getAttribute('title')).toBe('worker id w-1234567890abcdef');
    expect(slow.querySelector('button[aria-label="Copy id of worker gpu-box"]')).toBeTruthy();
    expect(slow.textContent).toContain('5.0 s');
    expect(slow.textContent).toContain('2 / 2');
    expect(slow.querySelector('a[href="/dags/run-9"]')?.textContent).toBe('DAG run · train');
    const pull = document.querySelector('tr[data-task="t2"]')!;
    expect(pull.querySelector('[data-reason]')?.textContent).toMatch(/^pull of image "nope:1" failed/);
    // no name known: the id stands in
    expect(pull.querySelector('.worker-name a')?.textContent).toBe('w-2');
    // a user sees no owner column
    expect(screen.queryByRole('columnheader', { name: 'Owner' })).toBeNull();
  });

  it('asks the API with every filter, pages with its cursor, and shows the owner to an admin', async () => {
    const app = renderApp('/tasks?status=failed,running', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      { path: '/api/workers', body: { workers: [{ id: 'w-1', name: 'gpu-box' }] } },
      { path: '/api/users', body: { users: [{ ...USER }] } },
      { path: /^\/api\/tasks\?limit=25&status=running%2Cfailed$/, body: { tasks: [task('x', { name: 'nightly-report', status: 'failed' })], nextCursor: null, total: 1 } },
      {
        path: /^\/api\/tasks\?limit=25&status=running%2Cfailed&name=night&worker=gpu-box&user=ada%40example.com&since=24h&sort=-duration$/,
        body: { tasks: [task('x', { name: 'nightly-report', status: 'failed' })], nextCursor: 'next-1', total: 30 },
      },
      {
        path: /^\/api\/tasks\?limit=25&status=running%2Cfailed&name=night&worker=gpu-box&user=ada%40example.com&since=24h&sort=-duration&cursor=next-1$/,
        body: { tasks: [task('z', { name: 'older', status: 'failed' })], nextCursor: null, total: 30 },
      },
    ]);
    await screen.findByText('nightly-report');
    expect(screen.getByRole('columnheader', { name: 'Owner' })).toBeTruthy();
    expect(document.querySelector('tr[data-task="x"]')?.textContent).toContain('ada@example.com');
    expect((screen.getByLabelText('failed') as HTMLInputElement).checked).toBe(true);
    fireEvent.change(screen.getByLabelText('Name contains'), { target: { value: 'night' } });
    fireEvent.change(screen.getByLabelText('Worker'), { target: { value: 'gpu-box' } });
    fireEvent.change(screen.getByLabelText('Owner'), { target: { value: 'ada@example.com' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    fireEvent.change(screen.getByLabelText('Created'), { target: { value: '24h' } });
    fireEvent.change(screen.getByLabelText('Sort'), { target: { value: '-duration' } });
    await waitFor(() => expect(screen.getByTestId('task-total').textContent).toBe('30 tasks match'));
    expect(screen.getByText('Page 1 of 2')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await screen.findByText('older');
    expect(app.calls.some((c) => c.path.endsWith('&sort=-duration&cursor=next-1'))).toBe(true);
    expect((screen.getByRole('button', { name: 'Next →' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: '← Previous' }));
    await screen.findByText('nightly-report');
  });

  it('cancels the selected tasks after a confirmation, and says which could not be', async () => {
    const app = renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      {
        path: /^\/api\/tasks\?limit=25$/,
        body: { tasks: [task('q1', { name: 'one' }), task('r1', { name: 'two', status: 'running' }), task('d1', { name: 'done', status: 'succeeded' })], nextCursor: null, total: 3 },
      },
      { method: 'DELETE', path: '/api/tasks/q1', status: 202, body: { task: task('q1', { status: 'cancelled' }) } },
      { method: 'DELETE', path: '/api/tasks/r1', status: 409, body: { error: { code: 'conflict', message: 'task r1 has already finished' } } },
    ]);
    await screen.findByText('one');
    // a finished task cannot be selected
    expect(screen.queryByLabelText('Select done')).toBeNull();
    const cancel = () => screen.getByRole('button', { name: /^Cancel selected/ }) as HTMLButtonElement;
    expect(cancel().disabled).toBe(true);
    fireEvent.click(screen.getByLabelText('Select every task on this page that can be cancelled'));
    expect(cancel().textContent).toBe('Cancel selected (2)');
    fireEvent.click(cancel());
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toContain('Cancel 2 tasks (one, two)?');
    // nothing is cancelled before the confirmation
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel tasks' }));
    expect(await screen.findByText('Cancelled 1 of 2; not cancelled: two: task r1 has already finished')).toBeTruthy();
    expect(app.calls.filter((c) => c.method === 'DELETE').map((c) => c.path).sort()).toEqual(['/api/tasks/q1', '/api/tasks/r1']);
  });

  it('keeps the tasks when the confirmation is declined', async () => {
    const app = renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      { path: /^\/api\/tasks\?limit=25$/, body: { tasks: [task('q1', { name: 'one' })], nextCursor: null, total: 1 } },
    ]);
    await screen.findByText('one');
    fireEvent.click(screen.getByLabelText('Select one'));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel selected (1)' }));
    fireEvent.click(screen.getByRole('button', { name: 'Keep them' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(false);
  });

  it('says so when no task matches, and shows the API\'s error with a retry', async () => {
    renderApp('/tasks?name=zzz', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      { path: /^\/api\/tasks\?limit=25&name=zzz$/, body: { tasks: [], nextCursor: null, total: 0 } },
    ]);
    expect(await screen.findByText('No tasks match these filters.')).toBeTruthy();
    cleanup();
    renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      { path: /^\/api\/tasks\?limit=25$/, status: 400, body: { error: { code: 'validation_failed', message: 'cursor: invalid' } } },
    ]);
    expect(await screen.findByText('cursor: invalid')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
