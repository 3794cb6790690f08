// The dashboard's REST client: JSON in and out, the bearer token on every call, and the API's
// `{error: {code, message}}` turned into an ApiError. A 401 on an authenticated call means the
// session is over: the client tells its owner (AuthProvider), which sends the person to login.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  baseUrl?: string;
  getToken: () => string | null;
  /** called when an authenticated request answers 401 (expired or revoked session) */
  onUnauthorized?: () => void;
  fetchImpl?: typeof fetch;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  private get fetch(): typeof fetch {
    return this.options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = this.options.getToken();
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
  }

  /** `init.text`: send this text as is with its content type (e.g. a YAML file) instead of `body` as JSON. */
  async request<T>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal; text?: { contentType: string; data: string } } = {}): Promise<T> {
    const hadToken = Boolean(this.options.getToken());
    let response: Response;
    try {
      response = await this.fetch(`${this.options.baseUrl ?? ''}${path}`, {
        method,
        headers: this.headers(init.text ? { 'content-type': init.text.contentType } : body === undefined ? {} : { 'content-type': 'application/json' }),
        body: init.text ? init.text.data : body === undefined ? undefined : JSON.stringify(body),
        signal: init.signal,
      });
    } catch (error: unknown) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'network', 'Cannot reach the Wharf master. Check that it is running.');
    }
    return this.parse<T>(response, hadToken);
  }

  private async parse<T>(response: Response, hadToken: boolean): Promise<T> {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed as T;
    const error = errorFrom(response.status, parsed, text);
    if (response.status === 401 && hadToken) this.options.onUnauthorized?.();
    throw error;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal ? { signal } : {});
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  /** POSTs text with its own content type (a DAG file as application/yaml). */
  postText<T>(path: string, data: string, contentType: string): Promise<T> {
    return this.request<T>('POST', path, undefined, { text: { contentType, data } });
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** Downloads bytes with the bearer token (a plain link cannot carry the header). */
  async download(path: string): Promise<Blob> {
    const hadToken = Boolean(this.options.getToken());
    let response: Response;
    try {
      response = await this.fetch(`${this.options.baseUrl ?? ''}${path}`, { headers: this.headers() });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the Wharf master. Check that it is running.');
    }
    if (!response.ok) return this.parse<never>(response, hadToken);
    return response.blob();
  }
}

function errorFrom(status: number, body: unknown, text: string): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'object' && error !== null) {
      const { code, message, ...details } = error as Record<string, unknown>;
      return new ApiError(status, typeof code === 'string' ? code : 'error', typeof message === 'string' ? message : `HTTP ${status}`, details);
    }
  }
  return new ApiError(status, 'http_error', text.trim().slice(0, 200) || `The master answered HTTP ${status}`);
}

/** Splits an API message such as "resources.memory: must be …; priority: …" into field → message. */
export function fieldErrors(message: string): { fields: Record<string, string>; rest: string[] } {
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of message.split(/;\s+(?=[A-Za-z_][\w.[\]]*: )/)) {
    const match = /^([A-Za-z_][\w.[\]]*): (.*)$/s.exec(part.trim());
    if (match?.[1] && match[2] !== undefined) {
      const key = match[1];
      fields[key] = fields[key] ? `${fields[key]}; ${match[2]}` : match[2];
    } else if (part.trim()) rest.push(part.trim());
  }
  return { fields, rest };
}
