// Who is logged in. The token lives in localStorage so a reload keeps the session. Before the
// token expires (read from the JWT's `exp`) it is renewed with POST /api/auth/refresh, which
// works until WHARF_SESSION_MAX_AGE after the login; the live sockets reopen with the new one.
// The session ends on Log out (POST /api/auth/logout: the master refuses the token from then
// on), on any 401 from the API (expired or revoked: logged out elsewhere, account disabled or
// deleted, role changed), when a renewal is refused, and at the token's own expiry; each of
// these sends the person back to login.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiClient } from '../api/client.ts';
import type { User } from '../api/types.ts';

const TOKEN_KEY = 'wharf.token';

export type SessionEnd = 'expired' | 'logged-out' | null;

/** Renew this long before the token's expiry (or at half its life for short-lived tokens). */
const RENEW_AHEAD_MS = 2 * 60_000;

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
  /** Ends the session on the master too (POST /api/auth/logout), then here. */
  signOut(): Promise<void>;
  /** Asks for a fresh token now (a live socket was closed with 4401); false when refused. */
  renew(): Promise<boolean>;
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

  const renewing = useRef<Promise<boolean> | null>(null);
  const renew = useCallback((): Promise<boolean> => {
    if (!tokenRef.current) return Promise.resolve(false);
    // one renewal at a time: several sockets closing together share it
    renewing.current ??= api
      .post<{ token: string; user: User }>('/api/auth/refresh')
      .then(
        (answer) => {
          login(answer.token, answer.user);
          return true;
        },
        () => {
          // a 401 has already ended the session (onUnauthorized); anything else: try again later
          return false;
        },
      )
      .finally(() => {
        renewing.current = null;
      });
    return renewing.current;
  }, [api, login]);

  const signOut = useCallback(async () => {
    if (tokenRef.current) await api.post('/api/auth/logout').catch(() => undefined);
    logout('logged-out');
  }, [api, logout]);

  // renew the token before it expires; end the session when it expires anyway
  useEffect(() => {
    if (!token) return;
    const exp = tokenExpiry(token);
    if (exp === undefined) return;
    const ms = exp * 1000 - Date.now();
    if (ms <= 0) {
      logout('expired');
      return;
    }
    const ahead = Math.min(RENEW_AHEAD_MS, ms / 2);
    const renewTimer = setTimeout(() => void renew(), Math.min(ms - ahead, 2 ** 31 - 1));
    const endTimer = setTimeout(() => logout('expired'), Math.min(ms, 2 ** 31 - 1));
    return () => {
      clearTimeout(renewTimer);
      clearTimeout(endTimer);
    };
  }, [token, logout, renew]);

  const value = useMemo<AuthState>(
    () => ({ token, user, checking, ended, api, login, logout, signOut, renew }),
    [token, user, checking, ended, api, login, logout, signOut, renew],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error('useAuth outside AuthProvider');
  return state;
}
