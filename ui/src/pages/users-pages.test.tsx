import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry, Invite, User } from '../api/types.ts';
import { USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const ADMIN: User = { ...USER, id: 'a1', email: 'admin@wharf.local', role: 'admin', disabled: false };
const ADA: User = { ...USER, disabled: false };
const invite = (patch: Partial<Invite> = {}): Invite => ({
  id: 'i1',
  email: 'bob@example.com',
  role: 'user',
  createdBy: 'a1',
  createdAt: '2025-01-01T10:00:00.000Z',
  expiresAt: '2025-01-08T10:00:00.000Z',
  usedAt: null,
  usedBy: null,
  revokedAt: null,
  state: 'open',
  ...patch,
});

const adminRoutes = [
  { path: '/api/auth/me', body: { user: ADMIN } },
  { path: '/api/users', body: { users: [ADMIN, ADA] } },
  { path: '/api/users/invites', body: { invites: [invite()] } },
];

describe('the Users page', () => {
  it('is in the menu for admins only', async () => {
    renderApp('/', [{ path: '/api/auth/me', body: { user: ADA } }]);
    await screen.findByRole('heading', { name: 'Dashboard' });
    expect(screen.queryByRole('link', { name: 'Users' })).toBeNull();
    cleanup();
    renderApp('/', [{ path: '/api/auth/me', body: { user: ADMIN } }]);
    expect(await screen.findByRole('link', { name: 'Users' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Audit' })).toBeTruthy();
  });

  it('changes a role, disables, and deletes only after a confirmation that says what it cancels', async () => {
    const app = renderApp('/users', [
      ...adminRoutes,
      { method: 'PATCH', path: '/api/users/u1', body: { user: { ...ADA, disabled: true } } },
      { method: 'DELETE', path: '/api/users/u1', body: { user: ADA, cancelled: { tasks: 2, dags: 1 }, apiTokensRevoked: 3 } },
    ]);
    const row = await screen.findByTestId('user-ada@example.com');
    fireEvent.change(within(row).getByLabelText('Role of ada@example.com'), { target: { value: 'admin' } });
    await waitFor(() => expect(app.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ role: 'admin' }));
    fireEvent.click(within(row).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(app.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ role: 'admin' }, { disabled: true }]));
    fireEvent.click(within(row).getByRole('button', { name: 'Delete ada@example.com' }));
    expect(app.calls.some((c) => c.method === 'DELETE')).toBe(false);
    expect(within(row).getByText(/Their unfinished tasks and DAG runs are cancelled and their API tokens revoked/)).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText(/ada@example.com was deleted: 2 unfinished task\(s\) and 1 DAG run\(s\) cancelled, 3 API token\(s\) revoked/)).toBeTruthy();
  });

  it('shows the API refusal to demote the last admin', async () => {
    renderApp('/users', [
      ...adminRoutes,
      { method: 'PATCH', path: '/api/users/a1', status: 409, body: { error: { code: 'conflict', message: 'admin@wharf.local is the only enabled admin; make another admin first, then demote this one' } } },
    ]);
    const row = await screen.findByTestId('user-admin@wharf.local');
    fireEvent.change(within(row).getByLabelText('Role of admin@wharf.local'), { target: { value: 'user' } });
    expect(await screen.findByText(/is the only enabled admin/)).toBeTruthy();
  });

  it('invites an address and shows the link once; an open invite can be revoked', async () => {
    const link = `http://localhost/register?invite=wharf_inv_${'A'.repeat(43)}`;
    const app = renderApp('/users', [
      ...adminRoutes,
      { method: 'POST', path: '/api/users/invites', status: 201, body: { invite: invite({ id: 'i2', email: 'cy@example.com' }), code: `wharf_inv_${'A'.repeat(43)}`, link } },
      { method: 'DELETE', path: '/api/users/invites/i1', body: { invite: invite({ state: 'revoked' }) } },
    ]);
    const form = await screen.findByRole('form', { name: 'Invite' });
    fireEvent.change(within(form).getByLabelText('Email'), { target: { value: 'cy@example.com' } });
    fireEvent.change(within(form).getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Invite' }));
    expect((await screen.findByTestId('invite-link')).textContent).toBe(link);
    expect(app.calls.find((c) => c.method === 'POST' && c.path === '/api/users/invites')?.body).toEqual({ email: 'cy@example.com', role: 'admin', expiresIn: '7d' });
    fireEvent.click(screen.getByRole('button', { name: 'Revoke the invite for bob@example.com' }));
    await waitFor(() => expect(app.calls.some((c) => c.method === 'DELETE' && c.path === '/api/users/invites/i1')).toBe(true));
  });
});

describe('the Audit page', () => {
  const entry = (id: string, patch: Partial<AuditEntry> = {}): AuditEntry => ({
    id,
    at: '2025-01-01T10:00:00.000Z',
    userId: 'u1',
    userEmail: 'ada@example.com',
    address: '10.0.0.7',
    action: 'task.submit',
    object: `task:${id}`,
    outcome: 'ok',
    status: 201,
    ...patch,
  });

  it('lists entries, filters them, and loads the next page', async () => {
    const app = renderApp('/audit', [
      { path: '/api/auth/me', body: { user: ADMIN } },
      { path: /^\/api\/audit\?limit=50$/, body: { entries: [entry('e1'), entry('e2', { action: 'auth.login', userId: null, userEmail: null, outcome: 'unauthenticated', status: 401, object: 'email:x@example.com' })], nextCursor: 'c1' } },
      { path: /^\/api\/audit\?limit=50&cursor=c1$/, body: { entries: [entry('e3', { action: 'user.delete' })], nextCursor: null } },
      { path: /^\/api\/audit\?limit=50&user=ada%40example.com&action=task.submit&since=24h$/, body: { entries: [entry('e4')], nextCursor: null } },
    ]);
    const table = await screen.findByRole('table', { name: 'Audit entries' });
    expect(within(table).getByText('email:x@example.com')).toBeTruthy();
    expect(within(table).getByText('unauthenticated')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    expect(await within(table).findByText('user.delete')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    const filters = screen.getByRole('form', { name: 'Audit filters' });
    fireEvent.change(within(filters).getByLabelText('User'), { target: { value: 'ada@example.com' } });
    fireEvent.change(within(filters).getByLabelText('Action'), { target: { value: 'task.submit' } });
    fireEvent.change(within(filters).getByLabelText('Since'), { target: { value: '24h' } });
    fireEvent.click(within(filters).getByRole('button', { name: 'Filter' }));
    expect(await screen.findByText('task:e4')).toBeTruthy();
    expect(app.calls.map((c) => c.path)).toContain('/api/audit?limit=50&user=ada%40example.com&action=task.submit&since=24h');
  });
});
