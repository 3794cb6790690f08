// Scenario h: what authentication costs. (1) Per request: sequential `GET /api/auth/me` with a
// login token (signature, account read, session and token-version check) and with an API token
// (sha256 look-up, account read), against `GET /health` (no authentication) on the same master,
// interleaved in rounds so that load from elsewhere hits all three alike. (2) A flood of
// parallel logins with random emails, as issue 14 measured it: a real login's latency during
// the flood, from one address and from many, with the master's default limits, against the
// same flood on a master whose unauthenticated limits are lifted (how it was before them).
// Each flood gets a fresh master, so no limiter state carries over.
import { request as httpRequest } from 'node:http';
import { ApiClient } from '../../test/support/api-client.js';
import { startMasterProcess, type MasterProcess } from '../support/master-process.js';
import { infoRow, median, percentile, round, sleep, type MetricRow, type ScenarioResult } from '../support/types.js';

export interface AuthOptions {
  /** sequential requests of each kind */
  requests: number;
  /** parallel random-email logins in each flood */
  flood: number;
}

/** The master's own defaults for the unauthenticated endpoints (master-process.ts raises them). */
const DEFAULT_LIMITS = { WHARF_AUTH_RATE_LIMIT: '60', WHARF_LOGIN_RATE_LIMIT: '10', WHARF_AUTH_GLOBAL_RATE_LIMIT: '300' };
/** No per-address and no master-wide limit: the per-address-and-email one only, as before issue 14. */
const LIFTED_LIMITS = { WHARF_AUTH_RATE_LIMIT: '1000000', WHARF_LOGIN_RATE_LIMIT: '10', WHARF_AUTH_GLOBAL_RATE_LIMIT: '1000000' };
const REAL = { email: 'real@example.com', password: 'real-password' };
const ROUNDS = 10;

interface Answer {
  status: number;
  ms: number;
}

/** One login over a fresh connection from `localAddress` (any 127.x.y.z is this host). */
function loginFrom(httpUrl: string, localAddress: string, email: string, password: string): Promise<Answer> {
  const url = new URL(`${httpUrl}/api/auth/login`);
  const body = JSON.stringify({ email, password });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Mean time of `n` sequential GETs of `path`, in microseconds; counts answers that are not 200. */
async function sequentialGets(m: MasterProcess, path: string, token: string | undefined, n: number, failures: { count: number }): Promise<number> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const start = performance.now();
  for (let i = 0; i < n; i += 1) {
    const response = await fetch(`${m.httpUrl}${path}`, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) failures.count += 1;
  }
  return ((performance.now() - start) * 1000) / n;
}

interface FloodResult {
  quietMs: number;
  duringMs: number;
  duringStatus: number;
  statuses: Record<string, number>;
  floodP50Ms: number;
  floodMaxMs: number;
}

async function flood(limits: Record<string, string>, source: (i: number) => string, size: number): Promise<FloodResult> {
  const m = await startMasterProcess(limits);
  try {
    await new ApiClient(m.httpUrl).request('POST', '/api/auth/register', REAL);
    const quiet: number[] = [];
    for (let i = 0; i < 3; i += 1) quiet.push((await loginFrom(m.httpUrl, '127.0.0.2', REAL.email, REAL.password)).ms);
    const answers = Array.from({ length: size }, (_, i) => loginFrom(m.httpUrl, source(i), `random-${i}-${Math.random()}@example.com`, 'guess-guess'));
    await sleep(20);
    const real = await loginFrom(m.httpUrl, '127.0.0.2', REAL.email, REAL.password);
    const done = await Promise.all(answers);
    const statuses: Record<string, number> = {};
    for (const a of done) statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
    const ms = done.map((a) => a.ms);
    return { quietMs: median(quiet), duringMs: real.ms, duringStatus: real.status, statuses, floodP50Ms: percentile(ms, 0.5), floodMaxMs: Math.max(...ms) };
  } finally {
    await m.stop();
  }
}

export async function runAuthScenario(options: AuthOptions): Promise<ScenarioResult> {
  const rows: MetricRow[] = [];
  const notes: string[] = [];
  const checks: Record<string, number | boolean | string> = {};

  // (1) per-request cost
  const m = await startMasterProcess(DEFAULT_LIMITS);
  const failures = { count: 0 };
  const perKind: Record<'health' | 'login' | 'api', number[]> = { health: [], login: [], api: [] };
  try {
    const jwt = m.admin.token ?? '';
    const created = await m.admin.request<{ secret: string }>('POST', '/api/tokens', { name: 'bench' });
    const pat = created.body.secret;
    const kinds: ['health' | 'login' | 'api', string, string | undefined][] = [
      ['health', '/health', undefined],
      ['login', '/api/auth/me', jwt],
      ['api', '/api/auth/me', pat],
    ];
    const warmUp = Math.min(300, options.requests);
    for (const [, path, token] of kinds) await sequentialGets(m, path, token, warmUp, failures);
    const perRound = Math.max(1, Math.floor(options.requests / ROUNDS));
    for (let r = 0; r < ROUNDS; r += 1) for (const [kind, path, token] of kinds) perKind[kind].push(await sequentialGets(m, path, token, perRound, failures));
    checks.requestsPerKind = perRound * ROUNDS;
    checks.requestsNot200 = failures.count;
    // the token still works afterwards and a logged-out one does not: the checks were live
    const logout = await m.admin.request('POST', '/api/auth/logout', {});
    const afterLogout = await m.admin.request('GET', '/api/auth/me');
    checks.loggedOutTokenRefused = logout.status === 204 && afterLogout.status === 401;
  } finally {
    await m.stop();
  }
  const health = median(perKind.health);
  const login = median(perKind.login);
  const api = median(perKind.api);
  rows.push(infoRow('h', 'GET /health (no auth) per request', round(health, 0), 'us'));
  rows.push({ scenario: 'h', metric: 'GET /api/auth/me, login token', value: round(login, 0), unit: 'us', baseline: round(health, 0), baselineLabel: 'GET /health, no auth', ratio: round(login / health), target: '', met: null });
  rows.push({ scenario: 'h', metric: 'GET /api/auth/me, API token', value: round(api, 0), unit: 'us', baseline: round(health, 0), baselineLabel: 'GET /health, no auth', ratio: round(api / health), target: '', met: null });
  notes.push(
    `per request: median of ${ROUNDS} interleaved rounds of ${checks.requestsPerKind as number / ROUNDS} sequential GETs each (fetch, keep-alive); ` +
      `rounds in us: health [${perKind.health.map((x) => Math.round(x)).join(' ')}], login [${perKind.login.map((x) => Math.round(x)).join(' ')}], api [${perKind.api.map((x) => Math.round(x)).join(' ')}]`,
  );

  // (2) login floods: lifted limits (before) and default limits, from one address and from many
  const sources: [string, (i: number) => string][] = [
    ['one address', () => '127.0.0.3'],
    [`${options.flood} addresses`, (i) => `127.0.1.${(i % 250) + 1}`],
  ];
  for (const [label, source] of sources) {
    const before = await flood(LIFTED_LIMITS, source, options.flood);
    const after = await flood(DEFAULT_LIMITS, source, options.flood);
    const key = label === 'one address' ? 'one' : 'many';
    rows.push({ scenario: 'h', metric: `real login during flood (${label})`, value: round(after.duringMs, 0), unit: 'ms', baseline: round(before.duringMs, 0), baselineLabel: 'same flood, limits lifted', ratio: round(after.duringMs / before.duringMs), target: '<= 1000 ms', met: after.duringMs <= 1000 });
    rows.push(infoRow('h', `real login when quiet (${label} run)`, round(after.quietMs, 0), 'ms'));
    notes.push(
      `flood of ${options.flood} random-email logins from ${label}: default limits: real login ${Math.round(after.quietMs)} ms quiet, ${Math.round(after.duringMs)} ms during (${after.duringStatus}); ` +
        `flood answers ${JSON.stringify(after.statuses)} p50 ${Math.round(after.floodP50Ms)} ms max ${Math.round(after.floodMaxMs)} ms. ` +
        `Limits lifted: ${Math.round(before.quietMs)} ms quiet, ${Math.round(before.duringMs)} ms during (${before.duringStatus}); flood ${JSON.stringify(before.statuses)} p50 ${Math.round(before.floodP50Ms)} ms max ${Math.round(before.floodMaxMs)} ms`,
    );
    checks[`${key}RealLoginStatus`] = after.duringStatus;
    checks[`${key}FloodAllRefused`] = Object.keys(after.statuses).every((s) => s === '401' || s === '429');
    checks[`${key}FloodAnswers`] = Object.values(after.statuses).reduce((a, b) => a + b, 0);
  }
  return { scenario: 'h', title: 'authentication: per-request cost and login floods', rows, checks, notes };
}
