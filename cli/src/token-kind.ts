// What kind of bearer token a context holds, for `whoami` and `context ls`: an API token
// (wharf_pat_…, valid until revoked or its expiry, which only the master knows) or a login
// token (a JWT whose expiry can be read from its payload; the signature is the master's
// business, not checked here).

export type TokenKind = { kind: 'api' } | { kind: 'login'; expiresAt?: number } | { kind: 'none' };

export function tokenKind(token: string | undefined): TokenKind {
  if (!token) return { kind: 'none' };
  if (token.startsWith('wharf_pat_')) return { kind: 'api' };
  const payload = token.split('.')[1];
  if (payload) {
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
      if (typeof claims.exp === 'number') return { kind: 'login', expiresAt: claims.exp * 1000 };
    } catch {
      // not a JWT we can read: still a login token as far as the CLI knows
    }
  }
  return { kind: 'login' };
}

/** "API token", "login token, expires in 11h 20m", "login token, expired 2h ago", "none" */
export function describeToken(token: string | undefined, now: number, duration: (ms: number) => string): string {
  const kind = tokenKind(token);
  if (kind.kind === 'none') return 'none';
  if (kind.kind === 'api') return 'API token';
  if (kind.expiresAt === undefined) return 'login token';
  return kind.expiresAt > now
    ? `login token, expires in ${duration(kind.expiresAt - now)}`
    : `login token, expired ${duration(now - kind.expiresAt)} ago (wharf login)`;
}
