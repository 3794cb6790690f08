// One JSON WebSocket to the master (/ws/…), authenticated with ?token= (a browser cannot set
// headers on an upgrade). Reconnects with backoff after a drop or a `lagged` close (4008); a
// socket that never opens makes the dashboard re-check the session (an expired token is refused
// at the upgrade with 401, which a browser only sees as a failed connection). A close with 4401
// (its token expired or was revoked) asks for a fresh token: the socket reopens with it, or the
// refusal ends the session and sends the person to login. A renewed token reopens the socket.
import { useEffect, useRef, useState } from 'react';
import { useAuth } from '../auth/auth.tsx';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface LiveSocketOptions<M> {
  /** e.g. /ws/telemetry; null = no socket */
  path: string | null;
  onMessage: (message: M) => void;
  /** called each time the socket (re)opens, before its first message */
  onOpen?: () => void;
  /** stop after a normal close (1000), e.g. the log socket once a task is complete */
  stopOnNormalClose?: boolean;
}

export function liveUrl(path: string, token: string, location: { protocol: string; host: string } = window.location): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const join = path.includes('?') ? '&' : '?';
  return `${scheme}://${location.host}${path}${join}token=${encodeURIComponent(token)}`;
}

export function useLiveSocket<M extends { type: string }>({ path, onMessage, onOpen, stopOnNormalClose }: LiveSocketOptions<M>): {
  state: LiveState;
  problem: string | null;
} {
  const { token, api, renew } = useAuth();
  const [state, setState] = useState<LiveState>('connecting');
  const [problem, setProblem] = useState<string | null>(null);
  const handlers = useRef({ onMessage, onOpen });
  handlers.current = { onMessage, onOpen };

  useEffect(() => {
    if (!path || !token) {
      setState('closed');
      return;
    }
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;

    const connect = () => {
      setState(attempt === 0 ? 'connecting' : 'reconnecting');
      let opened = false;
      const ws = new WebSocket(liveUrl(path, token));
      socket = ws;
      ws.onopen = () => {
        opened = true;
        attempt = 0;
        setState('open');
        setProblem(null);
        handlers.current.onOpen?.();
      };
      ws.onmessage = (event: MessageEvent) => {
        if (typeof event.data !== 'string') return;
        let message: M;
        try {
          message = JSON.parse(event.data) as M;
        } catch {
          return;
        }
        if (message.type === 'lagged') setProblem('The live feed fell behind and is reconnecting…');
        if (message.type === 'error') setProblem((message as unknown as { message?: string }).message ?? 'live feed error');
        handlers.current.onMessage(message);
      };
      ws.onclose = (event: CloseEvent) => {
        if (stopped || socket !== ws) return;
        if (event.code === 1000 && stopOnNormalClose) {
          setState('closed');
          return;
        }
        if (event.code === 4401) {
          // the token ended: a renewal brings a new token (and this effect reopens the socket with it)
          setState('reconnecting');
          void renew().then((renewed) => {
            // refused with 401: the session has ended; otherwise (the master unreachable) try again
            if (!renewed && !stopped) {
              attempt += 1;
              timer = setTimeout(connect, Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)));
            }
          });
          return;
        }
        if (!opened) {
          // refused at the upgrade: a 401 here means the session is over (the client logs out)
          api.get('/api/auth/me').catch(() => undefined);
        }
        if (event.code >= 4000 && event.code < 4008) {
          setState('closed');
          setProblem((current) => current ?? `live feed closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
          return;
        }
        attempt += 1;
        setState('reconnecting');
        if (event.code !== 4008 && attempt > 2) setProblem('Live updates are disconnected; retrying…');
        timer = setTimeout(connect, Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)));
      };
    };
    connect();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close(1000);
    };
  }, [path, token, api, renew, stopOnNormalClose]);

  return { state, problem };
}
