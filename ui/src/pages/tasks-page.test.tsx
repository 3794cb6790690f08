import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../api/types.ts';
import { FakeWebSocket, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';
import { applyTaskChange } from './tasks-page.tsx';

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
  const page = { tasks: [task('b', { createdAt: '2025-01-01T10:00:02.000Z' }), task('a')], nextCursor: 'c1' };
  it('replaces a row in place', () => {
    const next = applyTaskChange(page, task('a', { status: 'running' }), { status: '', firstPage: true });
    expect(next.tasks.map((t) => `${t.id}:${t.status}`)).toEqual(['b:queued', 'a:running']);
  });
  it('puts a new task on top of the first page only', () => {
    const fresh = task('c', { createdAt: '2025-01-01T10:00:05.000Z' });
    expect(applyTaskChange(page, fresh, { status: '', firstPage: true }).tasks[0]?.id).toBe('c');
    expect(applyTaskChange(page, fresh, { status: '', firstPage: false }).tasks).toHaveLength(2);
  });
  it('drops a row that no longer matches the status filter', () => {
    const next = applyTaskChange({ tasks: [task('a')], nextCursor: null }, task('a', { status: 'running' }), { status: 'queued', firstPage: true });
    expect(next.tasks).toEqual([]);
  });
});

describe('the tasks page', () => {
  it('lists tasks newest first and changes a row when /ws/events reports it', async () => {
    renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/tasks\?limit=25$/, body: { tasks: [task('b', { createdAt: '2025-01-01T10:00:02.000Z' }), task('a')], nextCursor: null } },
    ]);
    await screen.findByText('task-b');
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
  });

  it('asks the API for one status, pages with its cursor and searches names on the page', async () => {
    const app = renderApp('/tasks?status=failed', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/tasks\?limit=25&status=failed$/, body: { tasks: [task('x', { name: 'nightly-report', status: 'failed' }), task('y', { name: 'backup', status: 'failed' })], nextCursor: 'next-1' } },
      { path: /^\/api\/tasks\?limit=25&status=failed&cursor=next-1$/, body: { tasks: [task('z', { name: 'older', status: 'failed' })], nextCursor: null } },
    ]);
    await screen.findByText('nightly-report');
    fireEvent.change(screen.getByLabelText('Search by name'), { target: { value: 'NIGHT' } });
    expect(document.querySelectorAll('tbody tr')).toHaveLength(1);
    expect(screen.getByText('Searched the 2 tasks on this page.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Search by name'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Older →' }));
    await screen.findByText('older');
    expect(app.calls.some((c) => c.path === '/api/tasks?limit=25&status=failed&cursor=next-1')).toBe(true);
    expect((screen.getByRole('button', { name: 'Older →' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: '← Newer' }));
    await screen.findByText('nightly-report');
  });

  it('says so when there are no tasks, and shows the API’s error with a retry', async () => {
    renderApp('/tasks', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/tasks\?limit=25$/, status: 400, body: { error: { code: 'validation_failed', message: 'cursor: invalid' } } },
    ]);
    expect(await screen.findByText('cursor: invalid')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
