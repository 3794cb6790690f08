// Fakes for component tests only (jsdom has no master): a scripted fetch and a WebSocket the
// test drives by hand. The browser e2e (test/ui-e2e.test.ts) runs against the real thing.

export interface FakeRoute {
  method?: string;
  path: string | RegExp;
  status?: number;
  body?: unknown;
}

export interface FakeFetch {
  fetch: typeof fetch;
  calls: { method: string; path: string; body: unknown; headers: Record<string, string> }[];
}

export function fakeFetch(routes: FakeRoute[]): FakeFetch {
  const calls: FakeFetch['calls'] = [];
  const impl = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = (init.headers ?? {}) as Record<string, string>;
    // JSON bodies are parsed for the test to compare; other text (a YAML file) is kept as is
    const body = typeof init.body === 'string' ? (/json/.test(headers['content-type'] ?? 'application/json') ? (JSON.parse(init.body) as unknown) : init.body) : undefined;
    calls.push({ method, path, body, headers });
    const route = routes.find(
      (r) => (r.method ?? 'GET') === method && (typeof r.path === 'string' ? r.path === path.split('?')[0] || r.path === path : r.path.test(path)),
    );
    if (!route) return new Response(JSON.stringify({ error: { code: 'not_found', message: `no fake for ${method} ${path}` } }), { status: 404, headers: { 'content-type': 'application/json' } });
    return new Response(JSON.stringify(route.body ?? {}), { status: route.status ?? 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch: impl as typeof fetch, calls };
}

export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }
  get path(): string {
    return new URL(this.url).pathname;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  send(message: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(message) }));
  }
  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.(new CloseEvent('close', { code }));
  }
  static install(): void {
    FakeWebSocket.instances = [];
    (globalThis as { WebSocket: unknown }).WebSocket = FakeWebSocket;
  }
  static find(path: string): FakeWebSocket | undefined {
    return FakeWebSocket.instances.find((s) => s.path === path && s.readyState !== 3);
  }
}

/** A JWT-shaped token whose payload says when it expires (the signature is not checked client-side). */
export function fakeToken(expSeconds = Math.floor(Date.now() / 1000) + 3600): string {
  const encode = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: 'u1', exp: expSeconds })}.signature`;
}

export const USER = { id: 'u1', email: 'ada@example.com', name: 'Ada', role: 'user' as const, createdAt: '2025-01-01T00:00:00.000Z' };
