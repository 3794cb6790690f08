import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerTelemetry } from '../api/types.ts';
import { FakeWebSocket, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const worker = (id: string, patch: Partial<WorkerTelemetry> = {}): WorkerTelemetry => ({
  id,
  name: `w-${id}`,
  hostname: 'host',
  status: 'ready',
  connected: true,
  runtimes: ['docker'],
  labels: {},
  capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 0 },
  reserved: { cpu: 1, memory: 1024 ** 3, gpu: 0, disk: 0 },
  usage: { cpuPercent: 12, memoryPercent: 40, diskPercent: 10 },
  runningTasks: 1,
  version: '0.1.0',
  registeredAt: '2025-01-01T10:00:00.000Z',
  lastHeartbeatAt: '2025-01-01T10:00:00.000Z',
  running: [],
  at: '2025-01-01T10:00:00.000Z',
  ...patch,
});

const countsOf = (counts: Partial<Record<string, number>>) => ({
  path: '/api/tasks/counts',
  body: { counts: { queued: 0, assigned: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, ...counts }, total: Object.values(counts).reduce((a, b) => a! + b!, 0) },
});

describe('the dashboard', () => {
  it('counts workers and tasks and draws live usage per worker', async () => {
    const app = renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [worker('a'), worker('b', { status: 'draining' })] } },
      { path: /^\/api\/workers\/\w+\/metrics$/, body: { workerId: 'a', intervalMs: 5000, samples: [] } },
      countsOf({ queued: 3, running: 1234 }),
    ]);
    const stat = (label: string) => screen.getByText(label, { selector: '.stat-label' }).previousElementSibling?.textContent;
    await waitFor(() => expect(stat('queue depth')).toBe('3'));
    // exact counts from one request, not a list per status
    expect(stat('running')).toBe('1234');
    expect(stat('succeeded')).toBe('0');
    const taskCalls = app.calls.filter((c) => c.path.startsWith('/api/tasks')).map((c) => c.path);
    expect(taskCalls.length).toBeGreaterThan(0);
    expect(taskCalls.every((path) => path === '/api/tasks/counts')).toBe(true);
    await waitFor(() => expect(stat('ready')).toBe('1'));
    expect(stat('draining')).toBe('1');
    expect(stat('lost')).toBe('0');

    const socket = await waitFor(() => {
      const s = FakeWebSocket.find('/ws/telemetry');
      if (!s) throw new Error('no telemetry socket');
      return s;
    });
    const samples = () => Number(document.querySelector('[data-worker="a"] figure')?.getAttribute('data-samples'));
    act(() => {
      socket.open();
      socket.send({ type: 'snapshot', workers: [worker('a', { at: '2025-01-01T10:00:05.000Z' }), worker('b', { status: 'draining' })] });
    });
    const before = samples();
    act(() => {
      socket.send({ type: 'telemetry', worker: worker('a', { at: '2025-01-01T10:00:10.000Z', usage: { cpuPercent: 80, memoryPercent: 41, diskPercent: 10 } }) });
      socket.send({ type: 'telemetry', worker: worker('b', { status: 'lost', at: '2025-01-01T10:00:10.000Z' }) });
    });
    // batched: React hears of telemetry at most every 250 ms
    await waitFor(() => expect(samples()).toBe(before + 1));
    expect(screen.getByText(/CPU 80%/)).toBeTruthy();
    expect(stat('lost')).toBe('1');
    expect(stat('draining')).toBe('0');
  });

  it('says when no worker has joined', async () => {
    renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [] } },
      countsOf({}),
    ]);
    expect(await screen.findByText(/No workers have joined yet/)).toBeTruthy();
  });
});
