// Renders the whole dashboard at a URL with a fake fetch (component tests only).
import { render } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { App } from '../App.tsx';
import { AuthProvider } from '../auth/auth.tsx';
import { fakeFetch, fakeToken, FakeWebSocket, type FakeRoute } from './fakes.ts';

let currentPath = '';
function WhereAmI() {
  const location = useLocation();
  currentPath = `${location.pathname}${location.search}`;
  return null;
}

export function renderApp(url: string, routes: FakeRoute[], options: { token?: string | null } = {}) {
  localStorage.clear();
  const token = options.token === undefined ? fakeToken() : options.token;
  if (token) localStorage.setItem('wharf.token', token);
  FakeWebSocket.install();
  const fake = fakeFetch(routes);
  const view = render(
    <MemoryRouter initialEntries={[url]}>
      <AuthProvider fetchImpl={fake.fetch}>
        <App />
        <WhereAmI />
      </AuthProvider>
    </MemoryRouter>,
  );
  return { ...view, calls: fake.calls, path: () => currentPath };
}
