// The CLI's one way to the master: REST over http(s) with node:http/node:https (so a custom CA
// for the cluster's own certificate is just the `ca` option), and WebSockets with `ws` on the
// same settings. Every failure becomes a CliError: the API's own {error: {code, message}}, or a
// network problem said in words with what to do about it.
//
// Several masters: `server` may be a comma list of URLs (WHARF_URL, or a context saved with
// `wharf login URL1,URL2`). A request goes to the master that answered last (the first at
// start) and moves on to the next one when this one cannot have taken it: the connection was
// refused or the host is unknown or unreachable, it answered 503 `no_leader`, or — for a GET
// only — the connection broke or stalled (a log WebSocket that cannot open: useNextServer,
// called by log-follower.ts). Any master serves reads and forwards writes to the
// leader, so nothing more is needed; a 307/308 is followed only to a master of the same list
// (the same request to that master: the token goes to no server the user did not name).
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { CliError } from './errors.js';
import { CLI_VERSION } from './version.js';

export interface ApiClientOptions {
  /** the master's URL, or several masters' as a comma list */
  server: string;
  token?: string | undefined;
  caCert?: string | undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptionsIn {
  /** a JSON body */
  json?: unknown;
  /** a raw body with its content type */
  body?: string | Buffer;
  contentType?: string;
  query?: Query;
  /** give up when no byte arrives for this long (default 30 s; streams pass 0 = never) */
  idleTimeoutMs?: number;
}

const USER_AGENT = `wharf-cli/${CLI_VERSION}`;

/** Network errors in words, with the remedy. */
export function describeNetworkError(error: unknown, server: string): CliError {
  const err = error as NodeJS.ErrnoException & { code?: string };
  const code = err?.code ?? '';
  const message = err instanceof Error ? err.message : String(error);
  if (code === 'ECONNREFUSED') return new CliError('unreachable', `cannot reach ${server}: connection refused (is the master running there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CliError('unreachable', `cannot reach ${server}: unknown host`);
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new CliError('unreachable', `cannot reach ${server}: ${message}`);
  }
  if (code === 'WHARF_IDLE') return new CliError('unreachable', `${server} stopped answering (${message})`);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/.test(code) || /certificate/i.test(message)) {
    return new CliError(
      'tls',
      `${server}: its TLS certificate is not trusted (${message}); pass the cluster's CA with --cacert FILE (or WHARF_CACERT), ` +
        'e.g. the one the master serves at /api/cluster/ca.crt, checked out of band',
    );
  }
  if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(message)) {
    return new CliError('tls', `${server}: TLS handshake failed (${message}); is the server http:// rather than https://?`);
  }
  return new CliError('unreachable', `${server}: ${message}`);
}

/** The API's error body as a CliError, or a plain HTTP error when the body is not one. */
export function apiErrorFrom(status: number, body: string): CliError {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && typeof parsed.error.message === 'string') {
      return new CliError(typeof parsed.error.code === 'string' ? parsed.error.code : `http_${status}`, parsed.error.message, status);
    }
  } catch {
    // not JSON: said below
  }
  const text = body.trim().slice(0, 200);
  return new CliError(`http_${status}`, `the server answered HTTP ${status}${text ? `: ${text}` : ''} (is this a Wharf master?)`, status);
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

/** Network errors that mean the request never reached a master: safe to send to another one. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** ...and those after which a GET (no effect) may go to another one. */
const BROKEN = new Set(['ECONNRESET', 'ETIMEDOUT', 'WHARF_IDLE', 'EPIPE']);

/** One try on one master: the response, or where to go instead. */
type Try = { response: IncomingMessage } | { next: CliError } | { redirect: number };

export class ApiClient {
  private readonly servers: string[];
  /** the master that answered last */
  private current = 0;

  constructor(readonly options: ApiClientOptions) {
    this.servers = options.server
      .split(',')
      .map((server) => server.trim())
      .filter((server) => server !== '');
    if (this.servers.length === 0) this.servers = [options.server];
  }

  /** The master in use (the one that answered last). */
  get server(): string {
    return this.servers[this.current]!;
  }

  /** Several masters: the next one is used from now on (a WebSocket to this one failed). */
  useNextServer(): void {
    this.current = (this.current + 1) % this.servers.length;
  }

  get hasToken(): boolean {
    return Boolean(this.options.token);
  }

  private url(path: string, query?: Query, server = this.server): URL {
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'user-agent': USER_AGENT,
      ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      ...extra,
    };
  }

  /**
   * Sends a request and answers the response once its status is 2xx (its body unread). With
   * several masters, tries the next one when this one cannot have taken the request (above).
   */
  async open(method: string, path: string, options: RequestOptionsIn = {}): Promise<IncomingMessage> {
    let body: Buffer | undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['content-type'] = 'application/json';
    } else if (options.body !== undefined) {
      body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
    }
    if (body) headers['content-length'] = String(body.length);
    let index = this.current;
    let last: CliError | undefined;
    // each master once, plus a redirect or two
    for (let tries = 0; tries < this.servers.length + 2; tries += 1) {
      const answer = await this.tryOn(index, method, path, options, headers, body);
      if ('response' in answer) {
        this.current = index;
        return answer.response;
      }
      if ('redirect' in answer) {
        index = answer.redirect;
        continue;
      }
      last = answer.next;
      if (this.servers.length === 1 || tries + 1 >= this.servers.length) break;
      index = (index + 1) % this.servers.length;
    }
    throw last ?? new CliError('unreachable', `${method} ${path}: too many redirects between the masters`);
  }

  private async tryOn(index: number, method: string, path: string, options: RequestOptionsIn, headers: Record<string, string>, body: Buffer | undefined): Promise<Try> {
    const server = this.servers[index]!;
    const url = this.url(path, options.query, server);
    const requestOptions: RequestOptions & { ca?: string } = { method, headers: this.headers(headers) };
    if (url.protocol === 'https:' && this.options.caCert) requestOptions.ca = this.options.caCert;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const idleMs = options.idleTimeoutMs ?? 30_000;
    let response: IncomingMessage;
    try {
      response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = send(url, requestOptions, resolve);
        req.on('error', reject);
        if (idleMs > 0) {
          req.setTimeout(idleMs, () => {
            const error = Object.assign(new Error(`no answer for ${Math.round(idleMs / 1000)}s`), { code: 'WHARF_IDLE' });
            req.destroy(error);
          });
        }
        req.end(body);
      });
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
      const described = describeNetworkError(error, server);
      if (NOT_SENT.has(code) || (method === 'GET' && BROKEN.has(code))) return { next: described };
      throw described;
    }
    const status = response.statusCode ?? 0;
    if ((status === 307 || status === 308) && this.servers.length > 1) {
      const target = this.listedServerOf(response.headers.location, url);
      response.resume();
      if (target === undefined) throw new CliError(`http_${status}`, `${server} redirected ${method} ${path} to ${response.headers.location ?? '(nowhere)'}, which is not one of the masters given; not following it`, status);
      return { redirect: target };
    }
    if (status < 200 || status >= 300) {
      const error = apiErrorFrom(status, await readBody(response));
      if (status === 503 && error.code === 'no_leader') return { next: error };
      throw error;
    }
    return { response };
  }

  /** The index of the listed master a redirect points to (same origin and base path), if any. */
  private listedServerOf(location: string | undefined, from: URL): number | undefined {
    if (!location) return undefined;
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      return undefined;
    }
    const index = this.servers.findIndex((server) => {
      const base = new URL(server);
      return base.origin === target.origin && target.pathname.startsWith(base.pathname.replace(/\/$/, '') + '/');
    });
    return index >= 0 ? index : undefined;
  }

  /** A JSON request; answers the parsed body. */
  async request<T>(method: string, path: string, options: RequestOptionsIn = {}): Promise<T> {
    const response = await this.open(method, path, options);
    const text = await readBody(response);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError('bad_response', `${method} ${path}: the server's answer is not JSON (is ${this.server} a Wharf master?)`);
    }
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {});
  }

  /** A WebSocket on the same server, authenticated with the Authorization header. */
  webSocket(path: string): WebSocket {
    const url = this.url(path);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(url, {
      headers: this.headers(),
      ...(url.protocol === 'wss:' && this.options.caCert ? { ca: this.options.caCert } : {}),
      perMessageDeflate: false,
      handshakeTimeout: 30_000,
    });
  }
}

