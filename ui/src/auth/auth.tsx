// Who is logged in. The token lives in localStorage so a reload keeps the session; the session
// ends on Logout, on any 401 from the API (expired or revoked token) and at the token's own
// expiry time (read from the JWT's `exp`), and each of these sends the person back to login.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiClient } from '../api/client.ts';
import type { User } from '../api/types.ts';

const TOKEN_KEY = 'wharf.token';

export type SessionEnd = 'expired' | 'logged-out' | null;

interface AuthState {
  token: string | null;
  user: User | null;
  /** true while the stored token is being checked with GET /api/auth/me */
  checking: boolean;
  /** why the last session ended (shown on the login page) */
  ended: SessionEnd;
  api: ApiClient;
  login(token: string, user: User): void;
  logout(reason?: SessionEnd): void;
}

const AuthContext = createContext<AuthState | null>(null);

/** Seconds-since-epoch `exp` of a JWT, or undefined when it has none or cannot be read. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : undefined;
  } catch {
    return undefined;
  }
}

function readStoredToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function AuthProvider({ children, fetchImpl }: { children: ReactNode; fetchImpl?: typeof fetch }) {
  const [token, setToken] = useState<string | null>(readStoredToken);
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState<boolean>(() => readStoredToken() !== null);
  const [ended, setEnded] = useState<SessionEnd>(null);
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const logout = useCallback((reason: SessionEnd = 'logged-out') => {
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      /* storage unavailable: the session still ends in memory */
    }
    tokenRef.current = null;
    setToken(null);
    setUser(null);
    setChecking(false);
    setEnded(reason);
  }, []);

  const api = useMemo(
    () =>
      new ApiClient({
        getToken: () => tokenRef.current,
        onUnauthorized: () => logout('expired'),
        ...(fetchImpl ? { fetchImpl } : {}),
      }),
    [logout, fetchImpl],
  );

  const login = useCallback((next: string, who: User) => {
    try {
      localStorage.setItem(TOKEN_KEY, next);
    } catch {
      /* storage unavailable: the session lasts until the tab closes */
    }
    tokenRef.current = next;
    setToken(next);
    setUser(who);
    setChecking(false);
    setEnded(null);
  }, []);

  // a stored token: find out who it belongs to (a 401 ends the session through onUnauthorized)
  useEffect(() => {
    if (!token || user) return;
    let live = true;
    setChecking(true);
    api.get<{ user: User }>('/api/auth/me').then(
      (answer) => {
        if (live) {
          setUser(answer.user);
          setChecking(false);
        }
      },
      () => {
        if (live) setChecking(false);
      },
    );
    return () => {
      live = false;
    };
  }, [token, user, api]);

  // end the session when the token expires, even if the page makes no request
  useEffect(() => {
    if (!token) return;
    const exp = tokenExpiry(token);
    if (exp === undefined) return;
    const ms = exp * 1000 - Date.now();
    if (ms <= 0) {
      logout('expired');
      return;
    }
    const timer = setTimeout(() => logout('expired'), Math.min(ms, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [token, logout]);

  const value = useMemo<AuthState>(() => ({ token, user, checking, ended, api, login, logout }), [token, user, checking, ended, api, login, logout]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}
