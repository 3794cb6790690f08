// Watching the credential a long-lived connection was opened with (a WebSocket, a `?follow=true`
// log stream): `onEnd` is called once, with the reason, when the token expires (a timer) or is
// revoked (AuthService's announcement: logout, disable, deletion, role change, API token
// revoked). The one mechanism both transports use to end what outlives its token.
import type { AuthService, Principal, Revocation } from './auth-service.js';

/** setTimeout takes at most this (about 24.8 days); longer waits are made of several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface CredentialEnd {
  /** `expired` or `revoked` */
  kind: 'expired' | 'revoked';
  /** for people: "token expired", "logged out", "account disabled by …" */
  reason: string;
}

export function revocationMatches(revocation: Revocation, principal: Principal): boolean {
  const { credential } = principal;
  switch (revocation.kind) {
    case 'session':
      return credential.kind === 'session' && credential.sessionId === revocation.sessionId;
    case 'apiToken':
      return credential.kind === 'apiToken' && credential.tokenId === revocation.tokenId;
    case 'user':
      return credential.userId === revocation.userId && (revocation.scope === 'all' || credential.kind === 'session');
  }
}

/** Starts watching; answers a stop function (call it when the connection ends on its own). */
export function watchCredential(
  auth: Pick<AuthService, 'onRevoked'>,
  principal: Principal,
  onEnd: (end: CredentialEnd) => void,
  now: () => number = Date.now,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const finish = (end: CredentialEnd) => {
    if (stopped) return;
    stop();
    onEnd(end);
  };
  const unsubscribe = auth.onRevoked((revocation) => {
    if (revocationMatches(revocation, principal)) finish({ kind: 'revoked', reason: revocation.reason });
  });
  const expiresAt = principal.credential.expiresAt;
  const arm = () => {
    if (expiresAt === undefined || stopped) return;
    const left = expiresAt - now();
    if (left <= 0) {
      finish({ kind: 'expired', reason: principal.credential.kind === 'apiToken' ? 'API token expired' : 'token expired' });
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  function stop(): void {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
  }
  arm();
  return stop;
}
