import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { JoinToken, WorkerTelemetry } from '../api/types.ts';
import { USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const ADMIN = { ...USER, email: 'admin@wharf.local', role: 'admin' as const };
const HASH = `sha256:${'ab'.repeat(32)}`;
const COMMAND = `./runWorker.sh --master m.example:50051 --token-file <file with a join token> --ca-hash ${HASH}`;
const PIN = 'sha256//3C/apsqZOCikAt7LjCSwlG3O9RcrC83Hkz8aK9VhcPQ=';
const ONE_LINE = `curl -fsSL --pinnedpubkey '${PIN}' -k https://m.example:8080/join.sh | sh -s -- --token <join token> --ca-hash ${HASH}`;
const oneLine = {
  available: true,
  command: ONE_LINE,
  scriptUrl: 'https://m.example:8080/join.sh',
  pinnedPublicKey: PIN,
  bundleSha256: 'cd'.repeat(32),
  bundleVersion: '0.1.0',
  warning: null,
};

const worker: WorkerTelemetry = {
  id: 'w-1',
  name: 'rack-4',
  hostname: 'host',
  status: 'ready',
  connected: true,
  runtimes: ['docker'],
  labels: {},
  capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 0 },
  reserved: { cpu: 1, memory: 1024 ** 3, gpu: 0, disk: 0 },
  usage: null,
  runningTasks: 2,
  version: '0.1.0',
  registeredAt: '2025-01-01T10:00:00.000Z',
  lastHeartbeatAt: '2025-01-01T10:00:00.000Z',
  running: [],
  at: '2025-01-01T10:00:00.000Z',
};

const token = (id: string, patch: Partial<JoinToken> = {}): JoinToken => ({
  id,
  description: '',
  createdBy: 'admin@wharf.local',
  createdAt: '2025-01-01T10:00:00.000Z',
  expiresAt: null,
  usageLimit: null,
  uses: 0,
  lastUsedAt: null,
  revokedAt: null,
  startToken: false,
  state: 'active',
  ...patch,
});

const common = [
  { path: '/api/workers', body: { workers: [worker] } },
  { path: '/api/workers/w-1', body: { worker } },
  { path: /^\/api\/workers\/w-1\/metrics$/, body: { workerId: 'w-1', intervalMs: 5000, samples: [] } },
  { path: /^\/api\/workers\/w-1\/history/, body: { events: [], recentTasks: [] } },
  { path: '/api/cluster/join', body: { grpcAddress: 'm.example:50051', caHash: HASH, command: COMMAND, oneLine } },
];

describe('joining workers (admins)', () => {
  it('shows the join line, lists tokens, creates one whose secret shows once, and revokes one', async () => {
    const listed = [token('wharf_start1', { startToken: true, uses: 3 }), token('wharf_rack04', { description: 'rack 4', usageLimit: 2, uses: 2, state: 'used_up' })];
    const { calls } = renderApp('/workers', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      ...common,
      { path: '/api/join-tokens', body: { tokens: listed } },
      {
        method: 'POST',
        path: '/api/join-tokens',
        status: 201,
        body: {
          token: token('wharf_new001', { description: 'rack 5', usageLimit: 3 }),
          secret: 'wharf_new001.0123456789abcdefghijklmnopqrstuv',
          command: COMMAND,
          oneLineCommand: ONE_LINE.replace('<join token>', 'wharf_new001.0123456789abcdefghijklmnopqrstuv'),
        },
      },
      { method: 'DELETE', path: '/api/join-tokens/wharf_rack04', body: { token: token('wharf_rack04', { state: 'revoked' }) } },
    ]);
    expect((await screen.findByTestId('join-command')).textContent).toBe(COMMAND);
    // the one-line join first, with its copy button
    const line = screen.getByTestId('one-line-command');
    expect(line.textContent).toBe(ONE_LINE);
    expect(within(line.parentElement!).getByRole('button', { name: 'Copy' })).toBeTruthy();
    expect(screen.getByText(HASH)).toBeTruthy();
    const startRow = await waitFor(() => {
      const row = document.querySelector('[data-token="wharf_start1"]');
      if (!row) throw new Error('no token rows yet');
      return row as HTMLElement;
    });
    expect(within(startRow).getByText('start token')).toBeTruthy();
    const rackRow = document.querySelector('[data-token="wharf_rack04"]') as HTMLElement;
    expect(within(rackRow).getByText('used up')).toBeTruthy();
    expect(within(rackRow).getByText('2 / 2')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Description'), { target: { value: 'rack 5' } });
    fireEvent.change(screen.getByLabelText('Expires in'), { target: { value: '2h' } });
    fireEvent.change(screen.getByLabelText('Uses'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect((await screen.findByTestId('new-token-secret')).textContent).toBe('wharf_new001.0123456789abcdefghijklmnopqrstuv');
    // the one-line join with the new secret in it, ready to paste
    expect(screen.getByTestId('new-token-one-line').textContent).toBe(`curl -fsSL --pinnedpubkey '${PIN}' -k https://m.example:8080/join.sh | sh -s -- --token wharf_new001.0123456789abcdefghijklmnopqrstuv --ca-hash ${HASH}`);
    expect(calls.find((c) => c.method === 'POST' && c.path === '/api/join-tokens')?.body).toEqual({ description: 'rack 5', expiresIn: '2h', usageLimit: 3 });
    // shown once: Done takes it away for good
    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('new-token-secret')).toBeNull();

    fireEvent.click(within(rackRow).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.path === '/api/join-tokens/wharf_rack04')).toBe(true));
  });

  it('says why there is no one-line join when the master cannot serve one', async () => {
    renderApp('/workers', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      ...common.filter((route) => route.path !== '/api/cluster/join'),
      {
        path: '/api/cluster/join',
        body: {
          grpcAddress: 'm.example:50051',
          caHash: HASH,
          command: COMMAND,
          oneLine: { ...oneLine, available: false, command: null, bundleSha256: null, bundleVersion: null, warning: 'this master has no worker bundle to serve: build it on the master with make build' },
        },
      },
      { path: '/api/join-tokens', body: { tokens: [] } },
    ]);
    expect((await screen.findByTestId('one-line-unavailable')).textContent).toContain('build it on the master with make build');
    expect(screen.queryByTestId('one-line-command')).toBeNull();
    expect(screen.getByTestId('join-command').textContent).toBe(COMMAND);
  });

  it('shows the API\'s field errors at the field', async () => {
    renderApp('/workers', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      ...common,
      { path: '/api/join-tokens', body: { tokens: [] } },
      {
        method: 'POST',
        path: '/api/join-tokens',
        status: 400,
        body: { error: { code: 'validation_failed', message: 'expiresIn: must be a duration from 1s to 365d, such as 30m, 24h or 7d' } },
      },
    ]);
    fireEvent.change(await screen.findByLabelText('Expires in'), { target: { value: 'soon' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByText('must be a duration from 1s to 365d, such as 30m, 24h or 7d')).toBeTruthy();
    expect(screen.getByLabelText('Expires in').getAttribute('aria-invalid')).toBe('true');
  });

  it('shows users neither the join line nor the tokens', async () => {
    const { calls } = renderApp('/workers', [{ path: '/api/auth/me', body: { user: USER } }, ...common]);
    await screen.findByText('rack-4');
    expect(screen.queryByText('Join tokens')).toBeNull();
    expect(calls.some((c) => c.path.startsWith('/api/join-tokens') || c.path === '/api/cluster/join')).toBe(false);
  });

  it('removes a worker after a confirmation, then shows the workers', async () => {
    const { calls, path } = renderApp('/workers/w-1', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      ...common,
      { path: '/api/join-tokens', body: { tokens: [] } },
      { method: 'DELETE', path: '/api/workers/w-1', body: { worker: { id: 'w-1', name: 'rack-4', removed: true } } },
    ]);
    fireEvent.click(await screen.findByRole('button', { name: 'Remove' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove rack-4?' });
    expect(dialog.textContent).toContain('its 2 tasks run elsewhere');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove worker' }));
    await waitFor(() => expect(path()).toBe('/workers'));
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/workers/w-1']);
  });
});

describe('the workers list', () => {
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  const lost: WorkerTelemetry = {
    ...worker,
    id: 'w-2',
    name: 'old-box',
    hostname: 'attic',
    status: 'lost',
    connected: false,
    labels: { zone: 'b', gpu: 'a100' },
    usage: { cpuPercent: 87, memoryPercent: 55, diskPercent: 10 },
    runningTasks: 0,
    lastHeartbeatAt: minutesAgo(3),
  };
  const live: WorkerTelemetry = { ...worker, labels: { zone: 'a' }, usage: { cpuPercent: 12, memoryPercent: 30, diskPercent: 5 }, lastHeartbeatAt: minutesAgo(0) };
  const routes = (role: 'admin' | 'user') => [
    { path: '/api/auth/me', body: { user: role === 'admin' ? ADMIN : USER } },
    { path: '/api/workers', body: { workers: [live, lost] } },
    { path: '/api/cluster/join', body: { grpcAddress: 'm.example:50051', caHash: HASH, command: COMMAND, oneLine } },
    { path: '/api/join-tokens', body: { tokens: [] } },
  ];
  const row = (id: string) => document.querySelector(`tr[data-worker="${id}"]`) as HTMLElement;
  const order = () => [...document.querySelectorAll('tr[data-worker]')].map((r) => r.getAttribute('data-worker'));

  it('shows a lost worker\'s usage as stale (greyed, last seen), not as live numbers, and its labels', async () => {
    renderApp('/workers', routes('user'));
    await screen.findByText('old-box');
    const stale = within(row('w-2')).getAllByTestId('usage-stale');
    expect(stale[0]!.textContent).toContain('last seen 3 min ago');
    expect(stale[0]!.className).toBe('stale');
    expect(within(row('w-2')).queryByText('CPU 87%')).toBeNull();
    expect(row('w-2').className).toContain('row-stale');
    // the live worker's numbers stay live
    expect(within(row('w-1')).queryAllByTestId('usage-stale')).toHaveLength(0);
    expect(within(row('w-1')).getByText('CPU 12%')).toBeTruthy();
    expect(within(row('w-2')).getByTestId('worker-labels').textContent).toBe('zone=bgpu=a100');
    // a user cannot remove workers
    expect(screen.queryByRole('button', { name: 'Remove old-box' })).toBeNull();
  });

  it('filters by text (name, host, label key=value) and status, and sorts', async () => {
    const { path } = renderApp('/workers', routes('user'));
    await screen.findByText('old-box');
    expect(order()).toEqual(['w-2', 'w-1']); // by name: old-box, rack-4
    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'status' } });
    expect(order()).toEqual(['w-2', 'w-1']);
    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'heartbeat' } });
    expect(order()).toEqual(['w-2', 'w-1']);
    fireEvent.change(screen.getByLabelText('Sort by'), { target: { value: 'tasks' } });
    expect(order()).toEqual(['w-1', 'w-2']);
    fireEvent.change(screen.getByLabelText('Filter'), { target: { value: 'zone=a' } });
    expect(order()).toEqual(['w-1']);
    expect(screen.getByTestId('workers-count').textContent).toBe('1 of 2');
    fireEvent.change(screen.getByLabelText('Filter'), { target: { value: 'attic' } });
    expect(order()).toEqual(['w-2']);
    fireEvent.change(screen.getByLabelText('Filter'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'ready' } });
    expect(order()).toEqual(['w-1']);
    await waitFor(() => expect(path()).toBe('/workers?sort=tasks&status=ready'));
  });

  it('lets an admin remove a lost worker after a confirmation', async () => {
    const { calls } = renderApp('/workers', [...routes('admin'), { method: 'DELETE', path: '/api/workers/w-2', body: { worker: { id: 'w-2', name: 'old-box', removed: true } } }]);
    await screen.findByText('old-box');
    // only lost workers have the button here
    expect(screen.queryByRole('button', { name: 'Remove rack-4' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Remove old-box' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove old-box?' });
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove worker' }));
    await waitFor(() => expect(row('w-2')).toBeNull());
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.path)).toEqual(['/api/workers/w-2']);
  });
});

describe('a worker\'s page', () => {
  it('shows its recent tasks and what happened to it, and a lost worker\'s usage as stale', async () => {
    const gone: WorkerTelemetry = { ...worker, status: 'lost', connected: false, usage: { cpuPercent: 87, memoryPercent: 55, diskPercent: 10 }, lastHeartbeatAt: new Date(Date.now() - 120_000).toISOString() };
    renderApp('/workers/w-1', [
      { path: '/api/auth/me', body: { user: USER } },
      { path: '/api/workers', body: { workers: [gone] } },
      { path: '/api/workers/w-1', body: { worker: gone } },
      { path: /^\/api\/workers\/w-1\/metrics$/, body: { workerId: 'w-1', intervalMs: 5000, samples: [] } },
      {
        path: /^\/api\/workers\/w-1\/history/,
        body: {
          events: [
            { at: '2025-01-01T10:05:00.000Z', kind: 'lost', detail: 'no heartbeat within the TTL' },
            { at: '2025-01-01T10:01:00.000Z', kind: 'drained', detail: null },
            { at: '2025-01-01T10:00:00.000Z', kind: 'joined', detail: null },
          ],
          recentTasks: [{ taskId: 't-9', name: 'nightly', taskStatus: 'succeeded', attempt: 2, attemptStatus: 'succeeded', createdAt: '2025-01-01T10:02:00.000Z', startedAt: '2025-01-01T10:02:01.000Z', finishedAt: '2025-01-01T10:03:00.000Z' }],
        },
      },
    ]);
    const events = await screen.findByTestId('worker-history');
    expect([...events.querySelectorAll('li')].map((li) => li.getAttribute('data-kind'))).toEqual(['lost', 'drained', 'joined']);
    expect(events.textContent).toContain('no heartbeat within the TTL');
    const tasks = screen.getByTestId('worker-recent-tasks');
    expect(within(tasks).getByRole('link', { name: 'nightly' }).getAttribute('href')).toBe('/tasks/t-9');
    expect(tasks.textContent).toContain('attempt 2');
    const usage = screen.getByTestId('worker-usage');
    expect(usage.className).toBe('stale');
    expect(usage.textContent).toMatch(/^last seen 2 min ago · was CPU 87%/);
  });
});
