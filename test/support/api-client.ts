// A small REST client for tests: what a user's curl would do.
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public token?: string,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
    return { status: response.status, body: parsed as T, text, headers: response.headers };
  }

  async bytes(path: string): Promise<{ status: number; data: Buffer; headers: Headers }> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    return { status: response.status, data: Buffer.from(await response.arrayBuffer()), headers: response.headers };
  }

  /** Registers (open registration answers 202 without a token) and logs in. */
  static async registered(baseUrl: string, email: string, password = 'password123'): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    const response = await client.request<{ token: string }>('POST', '/api/auth/register', { email, password });
    if (response.status === 201) {
      client.token = response.body.token;
      return client;
    }
    if (response.status !== 202) throw new Error(`register failed: ${response.status} ${response.text}`);
    const login = await client.request<{ token: string }>('POST', '/api/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login after registering failed (was ${email} taken?): ${login.status} ${login.text}`);
    client.token = login.body.token;
    return client;
  }

  static async admin(baseUrl: string, email = 'admin@wharf.local', password = 'admin-password'): Promise<ApiClient> {
    const client = new ApiClient(baseUrl);
    const response = await client.request<{ token: string }>('POST', '/api/auth/login', { email, password });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
    client.token = response.body.token;
    return client;
  }
}

export interface TaskBody {
  id: string;
  status: string;
  reason?: string;
  exitCode?: number;
  workerId?: string;
  retriesUsed?: number;
  attempts: { id: string; number: number; status: string; workerId: string; exitCode: number | null; error: string | null; startedAt?: string | null; finishedAt?: string | null; logChunksMissing?: number | null }[];
  files: { path: string; size: number; sha256: string }[];
  events: { kind: string; message: string; at?: string }[];
}
