import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeToken, USER } from '../test-support/fakes.ts';
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
    expect(app.calls).toEqual([]);
  });

  it('shows the API’s refusal of a taken email at the email field', async () => {
    renderApp('/register', [{ method: 'POST', path: '/api/auth/register', status: 409, body: { error: { code: 'conflict', message: 'a user with email ada@example.com already exists' } } }], { token: null });
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ada@example.com' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await within(fieldOf('Email')).findByText('a user with email ada@example.com already exists')).toBeTruthy();
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
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
