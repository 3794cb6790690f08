import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeWebSocket, fakeToken, USER } from '../test-support/fakes.ts';
import { renderApp } from '../test-support/render-app.tsx';

afterEach(cleanup);

const fieldOf = (label: string) => screen.getByLabelText(label).closest('.field') as HTMLElement;

describe('register and login', () => {
  it('refuses a short password at the password field without asking the API', async () => {
    const app = renderApp('/register', [], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'short' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await within(fieldOf('Password')).findByText('must be at least 8 characters')).toBeTruthy();
    expect(app.calls.filter((c) => c.path === '/api/auth/register')).toEqual([]);
  });

  it('registers openly, then logs in; an address that does not open says so without telling whether it exists', async () => {
    const token = fakeToken();
    const accepted = { status: 'accepted', message: 'if this address could be registered, its account now exists with this password: log in.' };
    const app = renderApp('/register', [
      { path: '/api/auth/config', body: { registration: 'open', sessionMaxAgeSeconds: 604800 } },
      { method: 'POST', path: '/api/auth/register', status: 202, body: accepted },
      { method: 'POST', path: '/api/auth/login', body: { user: USER, token } },
    ], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    expect(app.calls.filter((c) => c.method === 'POST').map((c) => c.path)).toEqual(['/api/auth/register', '/api/auth/login']);
    expect(localStorage.getItem('wharf.token')).toBe(token);
    cleanup();
    renderApp('/register', [
      { method: 'POST', path: '/api/auth/register', status: 202, body: accepted },
      { method: 'POST', path: '/api/auth/login', status: 401, body: { error: { code: 'unauthenticated', message: 'wrong email or password' } } },
    ], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'taken@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText(/do not open an account\. If the address is already registered, log in with its own password/)).toBeTruthy();
  });

  it('registers with an invite link: shows the invited address, sends the code, and is in', async () => {
    const token = fakeToken();
    const code = `wharf_inv_${'A'.repeat(43)}`;
    const app = renderApp(`/register?invite=${code}`, [
      { path: `/api/auth/invites/${code}`, body: { invite: { email: 'bob@example.com', role: 'admin', expiresAt: '2030-01-01T00:00:00.000Z' } } },
      { method: 'POST', path: '/api/auth/register', status: 201, body: { user: { ...USER, email: 'bob@example.com', role: 'admin' }, token } },
    ], { token: null });
    expect(await screen.findByText('You were invited as an admin: set a password for bob@example.com.')).toBeTruthy();
    expect((screen.getByLabelText('Email') as HTMLInputElement).value).toBe('bob@example.com');
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    expect(app.calls.find((c) => c.path === '/api/auth/register')?.body).toEqual({ email: 'bob@example.com', password: 'correct horse', invite: code });
  });

  it('says when registration needs an invite, and shows a refused invite code', async () => {
    renderApp('/register', [{ path: '/api/auth/config', body: { registration: 'invite', sessionMaxAgeSeconds: 604800 } }], { token: null });
    expect(await screen.findByText('This Wharf registers people by invitation: ask an admin for an invite link.')).toBeTruthy();
    cleanup();
    renderApp('/register?invite=nope', [
      { path: '/api/auth/invites/nope', status: 403, body: { error: { code: 'forbidden', message: 'invite: this invite code cannot be used (unknown, already used, revoked or expired); ask an admin for a new one' } } },
    ], { token: null });
    expect(await screen.findByText(/^this invite code cannot be used/)).toBeTruthy();
  });

  it('puts each field the API names under that field', async () => {
    renderApp('/register', [{ method: 'POST', path: '/api/auth/register', status: 400, body: { error: { code: 'validation_failed', message: 'email: must be an email address; name: too long' } } }], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.c' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await within(fieldOf('Email')).findByText('must be an email address')).toBeTruthy();
    expect(within(fieldOf('Name (optional)')).getByText('too long')).toBeTruthy();
  });

  it('shows wrong credentials at the password field', async () => {
    const app = renderApp(
      '/login',
      [{ method: 'POST', path: '/api/auth/login', status: 401, body: { error: { code: 'unauthenticated', message: 'wrong email or password' } } }],
      { token: null },
    );
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await within(fieldOf('Password')).findByText('wrong email or password')).toBeTruthy();
    expect(app.calls[0]?.body).toEqual({ email: 'ada@example.com', password: 'nope' });
  });

  it('logs in, keeps the token and opens the dashboard', async () => {
    const token = fakeToken();
    const app = renderApp('/login', [{ method: 'POST', path: '/api/auth/login', body: { user: USER, token } }], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { name: 'Dashboard' })).toBeTruthy();
    expect(app.path()).toBe('/');
    expect(localStorage.getItem('wharf.token')).toBe(token);
    expect(screen.getByText('ada@example.com')).toBeTruthy();
  });
});

describe('the session', () => {
  it('renews the token before it expires and keeps the person in', async () => {
    const soon = fakeToken(Math.floor(Date.now() / 1000) + 2); // renewed at half its life
    const renewed = fakeToken(Math.floor(Date.now() / 1000) + 3600);
    const app = renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { method: 'POST', path: '/api/auth/refresh', body: { user: USER, token: renewed } },
    ], { token: soon });
    await waitFor(() => expect(localStorage.getItem('wharf.token')).toBe(renewed), { timeout: 4000 });
    expect(app.path()).toBe('/');
    expect(app.calls.find((c) => c.path === '/api/auth/refresh')?.headers.authorization).toBe(`Bearer ${soon}`);
  });

  it('Log out ends the session on the master too', async () => {
    const token = fakeToken();
    const app = renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { method: 'POST', path: '/api/auth/logout', status: 204 },
    ], { token });
    fireEvent.click(await screen.findByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(app.path()).toBe('/login'));
    expect(app.calls.find((c) => c.path === '/api/auth/logout')?.headers.authorization).toBe(`Bearer ${token}`);
    expect(localStorage.getItem('wharf.token')).toBeNull();
  });

  it('a live feed closed with 4401 renews the token and reopens with it; a refused renewal ends the session', async () => {
    const first = fakeToken();
    const renewed = fakeToken(Math.floor(Date.now() / 1000) + 7200);
    renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { method: 'POST', path: '/api/auth/refresh', body: { user: USER, token: renewed } },
    ], { token: first });
    const socket = await waitFor(() => {
      const found = FakeWebSocket.find('/ws/telemetry');
      if (!found) throw new Error('no telemetry socket yet');
      return found;
    });
    socket.open();
    socket.close(4401);
    await waitFor(() => expect(FakeWebSocket.instances.some((s) => s.path === '/ws/telemetry' && s.url.includes(encodeURIComponent(renewed)) && s.readyState !== 3)).toBe(true));
    cleanup();
    const app = renderApp('/', [
      { path: '/api/auth/me', body: { user: USER } },
      { method: 'POST', path: '/api/auth/refresh', status: 401, body: { error: { code: 'unauthenticated', message: 'this account is disabled; ask an admin' } } },
    ]);
    const revoked = await waitFor(() => {
      const found = FakeWebSocket.find('/ws/telemetry');
      if (!found) throw new Error('no telemetry socket yet');
      return found;
    });
    revoked.open();
    revoked.close(4401);
    await waitFor(() => expect(app.path()).toBe('/login'));
  });

  it('sends the person to login with a notice when the API says the token is no longer good', async () => {
    const app = renderApp('/tasks', [{ path: '/api/auth/me', status: 401, body: { error: { code: 'unauthenticated', message: 'token expired; log in again' } } }]);
    expect(await screen.findByText('Your session has expired. Log in again to continue.')).toBeTruthy();
    expect(app.path()).toBe('/login');
    expect(localStorage.getItem('wharf.token')).toBeNull();
  });

  it('ends a session whose token has already expired without waiting for a request', async () => {
    const app = renderApp('/', [{ path: '/api/auth/me', body: { user: USER } }], { token: fakeToken(Math.floor(Date.now() / 1000) - 5) });
    expect(await screen.findByText('Your session has expired. Log in again to continue.')).toBeTruthy();
    await waitFor(() => expect(app.path()).toBe('/login'));
  });
});
