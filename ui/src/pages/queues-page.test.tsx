import { cleanup, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '../api/types.ts';
import { USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const GiB = 1024 ** 3;
const queue = (name: string, patch: Partial<Queue> = {}): Queue => ({
  name,
  description: null,
  maxConcurrency: null,
  maxTasks: null,
  maxCpu: null,
  maxMemory: null,
  maxGpus: null,
  defaultPriority: 50,
  preemptionPolicy: 'Never',
  strategy: 'round-robin',
  workerSelector: {},
  constraints: [],
  createdAt: '2025-01-01T10:00:00.000Z',
  updatedAt: '2025-01-01T10:00:00.000Z',
  usage: { queued: 0, running: 0, cpu: 0, memory: 0, gpu: 0 },
  users: [],
  ...patch,
});

describe('the queues page', () => {
  it('shows each queue\'s usage against its caps, how it places, and each user\'s fair share', async () => {
    const gpu = queue('gpu-train', {
      description: 'training',
      maxGpus: 64,
      maxConcurrency: 8,
      maxMemory: 64 * GiB,
      strategy: 'binpack',
      preemptionPolicy: 'PreemptLowerPriority',
      defaultPriority: 70,
      workerSelector: { pool: 'gpu' },
      constraints: [{ key: 'zone', op: 'in', values: ['a', 'b'] }],
      usage: { queued: 12, running: 8, cpu: 16, memory: 32 * GiB, gpu: 64 },
      users: [
        { userId: 'u1', user: 'ada@example.com', queued: 10, running: 2, cpu: 4, memory: 8 * GiB, gpu: 16, share: 0.25, weight: 1 },
        { userId: 'u2', user: 'bob@example.com', queued: 2, running: 6, cpu: 12, memory: 24 * GiB, gpu: 48, share: 0.75, weight: 3 },
      ],
    });
    renderApp('/queues', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/queues', body: { queues: [queue('default'), gpu] } },
    ]);
    const card = await waitFor(() => {
      const found = document.querySelector<HTMLElement>('[data-queue="gpu-train"]');
      if (!found) throw new Error('no gpu-train card yet');
      return found;
    });
    const view = within(card);
    expect(view.getByRole('meter', { name: 'GPU reserved' }).getAttribute('aria-valuenow')).toBe('64');
    expect(view.getByRole('meter', { name: 'GPU reserved' }).getAttribute('aria-valuemax')).toBe('64');
    expect(view.getByRole('meter', { name: 'Running reserved' }).getAttribute('aria-valuenow')).toBe('8');
    expect(view.getByTestId('queue-queued').textContent).toContain('12');
    expect(card.textContent).toContain('binpack');
    expect(card.textContent).toContain('PreemptLowerPriority');
    expect(card.textContent).toContain('70 by default');
    expect(card.textContent).toContain('pool=gpu; zone in a,b');
    const bob = card.querySelector('[data-user="bob@example.com"]')!;
    expect(bob.textContent).toContain('75.0%');
    expect(bob.textContent).toMatch(/3$/);
    // the default queue has no caps: its usage without bars
    const defaults = document.querySelector<HTMLElement>('[data-queue="default"]')!;
    expect(within(defaults).queryByRole('meter')).toBeNull();
    expect(defaults.textContent).toContain('No tasks in this queue.');
    expect(screen.getByRole('link', { name: 'Queues' }).getAttribute('href')).toBe('/queues');
  });
});
