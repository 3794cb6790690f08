import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../api/types.ts';
import { USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';
import { describeBulk } from './dead-letters-page.tsx';

afterEach(cleanup);

const deadLetter = (id: string, patch: Partial<DeadLetter> = {}): DeadLetter => ({
  id,
  name: `job-${id}`,
  userId: 'u1',
  image: 'wharf/busybox',
  command: ['sh', '-c', 'exit 3'],
  env: {},
  runtime: 'docker',
  status: 'failed',
  reason: 'exit code 3',
  priority: 50,
  resources: { cpu: 0.5, memory: 256 * 1024 ** 2, gpu: 0, disk: 0 },
  labels: {},
  maxRetries: 1,
  retriesUsed: 1,
  timeoutSeconds: 0,
  createdAt: '2025-01-01T10:00:00.000Z',
  finishedAt: '2025-01-01T10:01:00.000Z',
  deadLetteredAt: '2025-01-01T10:01:00.000Z',
  exitCode: 3,
  lastError: 'out of memory (limit 32Mi); exit code 137',
  attempts: [
    { id: `${id}-1`, number: 1, workerId: 'w-1', status: 'failed', exitCode: 137, createdAt: '', startedAt: null, finishedAt: null, error: 'out of memory (limit 32Mi)' },
    { id: `${id}-2`, number: 2, workerId: 'w-1', status: 'failed', exitCode: 137, createdAt: '', startedAt: null, finishedAt: null, error: 'out of memory (limit 32Mi); exit code 137' },
  ],
  ...patch,
});

describe('the dead letters page', () => {
  it('lists each dead letter with its last error and attempts, and re-queues the selected ones together', async () => {
    const view = renderApp('/dead-letters', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/dead-letters\?limit=100$/, body: { deadLetters: [deadLetter('a'), deadLetter('b'), deadLetter('c')], nextCursor: null } },
      { method: 'POST', path: '/api/dead-letters/requeue', body: { requeued: ['a'], skipped: [{ taskId: 'c', code: 'conflict', message: 'task c is not a dead letter (it is queued)' }], more: false } },
    ]);
    await screen.findByText('job-a');
    expect(screen.getAllByTestId('last-error').map((e) => e.textContent)).toEqual(Array(3).fill('out of memory (limit 32Mi); exit code 137'));
    expect(screen.getAllByText('2 attempts')).toHaveLength(3);
    fireEvent.click(screen.getByLabelText('Select job-a'));
    fireEvent.click(screen.getByLabelText('Select job-c'));
    fireEvent.click(screen.getByRole('button', { name: 'Re-queue selected (2)' }));
    await screen.findByText('Re-queued 1 task; skipped 1: task c is not a dead letter (it is queued).');
    const posted = view.calls.find((c) => c.method === 'POST');
    expect(posted).toMatchObject({ path: '/api/dead-letters/requeue', body: { taskIds: ['a', 'c'] } });
  });

  it('dismisses one from its row', async () => {
    const view = renderApp('/dead-letters', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/dead-letters\?limit=100$/, body: { deadLetters: [deadLetter('a'), deadLetter('b')], nextCursor: null } },
      { method: 'POST', path: '/api/dead-letters/dismiss', body: { dismissed: ['b'], skipped: [], more: false } },
    ]);
    await screen.findByText('job-b');
    const row = document.querySelector('tr[data-task="b"]')!;
    fireEvent.click(row.querySelector('button.btn-ghost')!);
    await screen.findByText('Dismissed 1 task.');
    await waitFor(() => expect(view.calls.find((c) => c.method === 'POST')).toMatchObject({ path: '/api/dead-letters/dismiss', body: { taskIds: ['b'] } }));
  });

  it('says when there are none', async () => {
    renderApp('/dead-letters', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: /^\/api\/dead-letters/, body: { deadLetters: [], nextCursor: null } },
    ]);
    await screen.findByText(/No dead letters/);
  });
});

describe('describeBulk', () => {
  it('names what was done, what was skipped and whether more match', () => {
    expect(describeBulk('dismiss', { dismissed: ['a', 'b'], skipped: [], more: true })).toBe('Dismissed 2 tasks; more match: run it again.');
  });
});
