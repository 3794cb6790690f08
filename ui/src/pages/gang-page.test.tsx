import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { GangDetails } from '../api/types.ts';
import { FakeWebSocket, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const me = { path: '/api/auth/me', body: { user: USER } };

const pending: GangDetails = {
  id: 'g1', name: 'ddp', userId: 'u1', status: 'pending', size: 2, policy: 'restartGang', gangTimeoutSeconds: 60, maxRestarts: 3, restartsUsed: 0, port: 29500,
  reason: 'gang g1: 1 of 2 members fit (member 1: no matching worker has room left: w-2 lacks memory)',
  createdAt: '2025-01-01T10:00:00.000Z', placedAt: null, finishedAt: null, memberIds: ['t0', 't1'],
  members: [
    { rank: 0, taskId: 't0', name: 'ddp-0', status: 'queued', workerId: null, reason: 'gang g1: 1 of 2 members fit', attemptCount: 0 },
    { rank: 1, taskId: 't1', name: 'ddp-1', status: 'queued', workerId: null, reason: 'gang g1: 1 of 2 members fit', attemptCount: 0 },
  ],
};

const rows = () => [...document.querySelectorAll('.gang-members tbody tr')].map((row) => (row as HTMLElement).dataset);

describe('the gang page', () => {
  it('shows the members together in rank order with why the gang waits, and follows their changes', async () => {
    const route = { path: '/api/gangs/g1', body: { gang: pending } };
    renderApp('/gangs/g1', [me, route]);
    await screen.findByRole('heading', { level: 1, name: /ddp/ });
    expect(screen.getByTestId('gang-reason').textContent).toContain('1 of 2 members fit');
    expect(rows().map((r) => [r.rank, r.status])).toEqual([['0', 'queued'], ['1', 'queued']]);
    expect(screen.getByRole('link', { name: 'ddp-1' }).getAttribute('href')).toBe('/tasks/t1');

    const socket = await waitFor(() => {
      const found = FakeWebSocket.find('/ws/events');
      if (!found) throw new Error('no events socket');
      return found;
    });
    act(() => socket.open());
    route.body = { gang: { ...pending, status: 'running', reason: null, members: pending.members.map((m, i) => ({ ...m, status: 'running' as const, workerId: `w-${i + 1}`, reason: null, attemptCount: 1 })) } };
    act(() => socket.send({ type: 'task', task: { id: 't0', gangId: 'g1', status: 'running' } }));
    await waitFor(() => expect(rows().map((r) => r.status)).toEqual(['running', 'running']));
    expect(screen.getByRole('link', { name: 'w-2' }).getAttribute('href')).toBe('/workers/w-2');
  });

  it('cancels a pending gang', async () => {
    const app = renderApp('/gangs/g1', [
      me,
      { path: '/api/gangs/g1', body: { gang: pending } },
      { method: 'DELETE', path: '/api/gangs/g1', status: 202, body: { gang: { ...pending, status: 'cancelled', members: pending.members.map((m) => ({ ...m, status: 'cancelled' as const })) } } },
    ]);
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel gang' }));
    await waitFor(() => expect(app.calls.some((c) => c.method === 'DELETE' && c.path === '/api/gangs/g1')).toBe(true));
    await waitFor(() => expect(rows().map((r) => r.status)).toEqual(['cancelled', 'cancelled']));
  });

  it('links a member task to its gang', async () => {
    const task = { id: 't1', name: 'ddp-1', userId: 'u1', image: 'img', command: [], env: {}, runtime: 'docker', status: 'queued', priority: 50, resources: { cpu: 1, memory: 0, gpu: 0, disk: 0 }, labels: {}, maxRetries: 0, retriesUsed: 0, timeoutSeconds: 0, createdAt: '2025-01-01T10:00:00.000Z', gangId: 'g1-aaaaaaaa', gangRank: 1, attempts: [], files: [], events: [] };
    renderApp('/tasks/t1', [me, { path: '/api/tasks/t1', body: { task } }, { path: /\/api\/tasks\/t1\/logs/, body: '' }]);
    const gang = await screen.findByTestId('task-gang');
    expect(gang.textContent).toBe('gang g1-aaaaa · rank 1');
    expect(gang.querySelector('a')?.getAttribute('href')).toBe('/gangs/g1-aaaaaaaa');
  });
});
