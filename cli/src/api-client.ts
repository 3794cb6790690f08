// The CLI's one way to the master: REST over http(s) with node:http/node:https (so a custom CA
// for the cluster's own certificate is just the `ca` option), and WebSockets with `ws` on the
// same settings. Every failure becomes a CliError: the API's own {error: {code, message}}, or a
// network problem said in words with what to do about it.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { CliError } from './errors.js';
import { CLI_VERSION } from './version.js';

export interface ApiClientOptions {
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

export class ApiClient {
  constructor(readonly options: ApiClientOptions) {}

  get server(): string {
    return this.options.server;
  }

  get hasToken(): boolean {
    return Boolean(this.options.token);
  }

  private url(path: string, query?: Query): URL {
    const url = new URL(this.options.server + path);
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

  /** Sends a request and answers the response once its status is 2xx (its body unread). */
  async open(method: string, path: string, options: RequestOptionsIn = {}): Promise<IncomingMessage> {
    const url = this.url(path, options.query);
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
    const requestOptions: RequestOptions & { ca?: string } = { method, headers: this.headers(headers) };
    if (url.protocol === 'https:' && this.options.caCert) requestOptions.ca = this.options.caCert;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const idleMs = options.idleTimeoutMs ?? 30_000;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, requestOptions, resolve);
      req.on('error', (error) => reject(describeNetworkError(error, this.server)));
      if (idleMs > 0) {
        req.setTimeout(idleMs, () => {
          const error = Object.assign(new Error(`no answer for ${Math.round(idleMs / 1000)}s`), { code: 'WHARF_IDLE' });
          req.destroy(error);
        });
      }
      req.end(body);
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiErrorFrom(status, await readBody(response));
    return response;
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

