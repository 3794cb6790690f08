// Master configuration in three stages (Temporal's compileWorkerOptions habit):
//   1. raw: environment variables and command-line flags, merged (flags win);
//   2. validated: a zod schema with defaults; an unknown flag, a bad value or a conflict fails
//      with a message that names the variable or flag to set;
//   3. compiled: durations as `…Ms` numbers, sizes as bytes, paths absolute.
// Secrets that are not given (JWT secret, join token, admin password) are resolved later by
// secrets.ts, which generates them once and keeps them in the data dir with mode 0600.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseBytes, parseCpu } from '@wharf/proto';
import { z } from 'zod';
import { parseS3Config, type S3Config } from '../artifacts/s3-config.js';
import { JOIN_TOKEN_PATTERN } from '../cluster/join-tokens.js';
import type { TaskLimits } from '../records/resources.js';
import { parseDurationMs } from './durations.js';

/** flag name -> environment variable */
const FLAGS: Record<string, string> = {
  'data-dir': 'WHARF_DATA_DIR',
  host: 'WHARF_HOST',
  'http-host': 'WHARF_HTTP_HOST',
  'http-port': 'WHARF_HTTP_PORT',
  'grpc-host': 'WHARF_GRPC_HOST',
  'grpc-port': 'WHARF_GRPC_PORT',
  'public-grpc-address': 'WHARF_PUBLIC_GRPC_ADDRESS',
  'advertise-address': 'WHARF_ADVERTISE_ADDRESS',
  'lease-ttl': 'WHARF_LEASE_TTL',
  'lease-renew': 'WHARF_LEASE_RENEW',
  'jwt-secret': 'WHARF_JWT_SECRET',
  'jwt-ttl': 'WHARF_JWT_TTL',
  'join-token': 'WHARF_JOIN_TOKEN',
  'join-rate-limit': 'WHARF_JOIN_RATE_LIMIT',
  'join-rate-burst': 'WHARF_JOIN_RATE_BURST',
  // TLS (pki/cluster-pki.ts): the cluster CA and server certificate are generated unless given
  tls: 'WHARF_TLS',
  'tls-san': 'WHARF_TLS_SAN',
  'tls-ca-cert': 'WHARF_TLS_CA_CERT',
  'tls-ca-key': 'WHARF_TLS_CA_KEY',
  'tls-cert': 'WHARF_TLS_CERT',
  'tls-key': 'WHARF_TLS_KEY',
  'http-tls-cert': 'WHARF_HTTP_TLS_CERT',
  'http-tls-key': 'WHARF_HTTP_TLS_KEY',
  'worker-cert-ttl': 'WHARF_WORKER_CERT_TTL',
  'admin-email': 'WHARF_ADMIN_EMAIL',
  'admin-password': 'WHARF_ADMIN_PASSWORD',
  'heartbeat-interval': 'WHARF_HEARTBEAT_INTERVAL',
  'heartbeat-ttl': 'WHARF_HEARTBEAT_TTL',
  'reconnect-grace': 'WHARF_RECONNECT_GRACE',
  'max-stop-after': 'WHARF_MAX_STOP_AFTER',
  'retry-backoff': 'WHARF_RETRY_BACKOFF',
  'retry-backoff-max': 'WHARF_RETRY_BACKOFF_MAX',
  'cancel-grace': 'WHARF_CANCEL_GRACE',
  'reserve-after': 'WHARF_RESERVE_AFTER',
  'max-output-bytes': 'WHARF_MAX_OUTPUT_BYTES',
  'max-log-bytes': 'WHARF_MAX_LOG_BYTES',
  'allow-user-exec': 'WHARF_ALLOW_USER_EXEC',
  // what a task gets when it names no amount, and the bounds of a non-admin's request
  'task-min-cpu': 'WHARF_TASK_MIN_CPU',
  'task-default-cpu': 'WHARF_TASK_DEFAULT_CPU',
  'task-max-cpu': 'WHARF_TASK_MAX_CPU',
  'task-min-memory': 'WHARF_TASK_MIN_MEMORY',
  'task-default-memory': 'WHARF_TASK_DEFAULT_MEMORY',
  'task-max-memory': 'WHARF_TASK_MAX_MEMORY',
  'task-min-disk': 'WHARF_TASK_MIN_DISK',
  'task-default-disk': 'WHARF_TASK_DEFAULT_DISK',
  'task-max-disk': 'WHARF_TASK_MAX_DISK',
  'login-rate-limit': 'WHARF_LOGIN_RATE_LIMIT',
  // people: registration, sessions, the limits on unauthenticated endpoints, the audit trail
  registration: 'WHARF_REGISTRATION',
  'session-max-age': 'WHARF_SESSION_MAX_AGE',
  'auth-rate-limit': 'WHARF_AUTH_RATE_LIMIT',
  'auth-global-rate-limit': 'WHARF_AUTH_GLOBAL_RATE_LIMIT',
  'audit-retention': 'WHARF_AUDIT_RETENTION',
  // retention and garbage collection (gc/retention.ts), storage quota and the disk floor
  'retain-tasks': 'WHARF_RETAIN_TASKS',
  'retain-tasks-count': 'WHARF_RETAIN_TASKS_COUNT',
  'retain-dag-runs': 'WHARF_RETAIN_DAG_RUNS',
  'retain-dag-runs-count': 'WHARF_RETAIN_DAG_RUNS_COUNT',
  'retain-files': 'WHARF_RETAIN_FILES',
  'retain-artifacts': 'WHARF_RETAIN_ARTIFACTS',
  'retain-telemetry': 'WHARF_RETAIN_TELEMETRY',
  'gc-interval': 'WHARF_GC_INTERVAL',
  'gc-batch': 'WHARF_GC_BATCH',
  'user-storage-quota': 'WHARF_USER_STORAGE_QUOTA',
  'min-free-disk': 'WHARF_MIN_FREE_DISK',
  'log-level': 'WHARF_LOG_LEVEL',
  'ws-ping-interval': 'WHARF_WS_PING_INTERVAL',
  'ws-max-buffer': 'WHARF_WS_MAX_BUFFER',
  'telemetry-history': 'WHARF_TELEMETRY_HISTORY',
  'mongo-url': 'WHARF_MONGO_URL',
  'mongo-db': 'WHARF_MONGO_DB',
  'mongo-start-timeout': 'WHARF_MONGO_START_TIMEOUT',
  // DAG artifacts in S3/MinIO (artifacts/s3-config.ts); unset = on the master's disk
  's3-endpoint': 'WHARF_S3_ENDPOINT',
  's3-bucket': 'WHARF_S3_BUCKET',
  's3-access-key': 'WHARF_S3_ACCESS_KEY',
  's3-secret-key': 'WHARF_S3_SECRET_KEY',
  's3-region': 'WHARF_S3_REGION',
};

/** Retention by age (ms; undefined = no age bound) and by count (undefined = no count bound), per kind. */
export interface RetentionPolicy {
  /** finished tasks outside DAG runs, with their attempts, events, logs and files */
  tasksMs?: number | undefined;
  tasksCount?: number | undefined;
  /** finished DAG runs, with their tasks */
  dagRunsMs?: number | undefined;
  dagRunsCount?: number | undefined;
  /** logs and output files of finished tasks (the task record stays, marked filesRemovedAt) */
  filesMs?: number | undefined;
  /** artifacts no DAG run references, by their age */
  artifactsMs?: number | undefined;
  /** a worker's telemetry history once it has sent nothing for this long */
  telemetryMs?: number | undefined;
}

/** A free-space floor: a size or a share of the filesystem. */
export type FreeSpaceFloor = { bytes: number } | { percent: number };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Stage 1: env + flags into one record keyed by env name. */
export function readRawConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const name of Object.values(FLAGS)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (flags look like --http-port 8080)`);
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === 'repl' || flag === 'no-repl') continue; // handled by the entry point
    const name = FLAGS[flag];
    if (!name) throw new ConfigError(`unknown flag --${flag}; known flags: ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')}`);
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (name === 'WHARF_ALLOW_USER_EXEC' && (next === undefined || next.startsWith('--'))) value = 'true';
      else if (name === 'WHARF_TLS' && (next === undefined || next.startsWith('--'))) value = 'on';
      else if (next === undefined) throw new ConfigError(`flag --${flag} needs a value`);
      else {
        value = next;
        i += 1;
      }
    }
    raw[name] = value;
  }
  return raw;
}

const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDurationMs(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 500ms, 5s, 2m or 12h (got "${value}")` });
        return z.NEVER;
      }
      return ms;
    });

const bytes = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const n = parseBytes(value);
      if (n === undefined || n <= 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a size such as 512Mi or 10Gi (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

/** A task limit: a size (0 allowed) or cores; `fallback` undefined = unset (no maximum). */
const amount = (name: string, kind: 'bytes' | 'cpu', fallback?: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const given = value ?? fallback;
      if (given === undefined) return undefined;
      const n = kind === 'bytes' ? parseBytes(given) : parseCpu(given);
      if (n === undefined) {
        const example = kind === 'bytes' ? 'a size such as 512Mi or 10Gi' : 'cores such as 0.5, 2 or 500m';
        ctx.addIssue({ code: 'custom', message: `${name} must be ${example} (got "${given}")` });
        return z.NEVER;
      }
      return n;
    });

const port = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a port number 0-65535 (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

const boolean = (name: string) =>
  z
    .string()
    .default('false')
    .transform((value, ctx) => {
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false (got "${value}")` });
      return z.NEVER;
    });

const wholeNumber = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number >= 1 (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

const optionalCount = (name: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number >= 1 (got "${value}")` });
        return z.NEVER;
      }
      return n;
    });

/** A free-space floor: a size (1Gi) or a share of the filesystem (5%); 0 = none. */
const freeSpaceFloor = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx): FreeSpaceFloor | undefined => {
      const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
      if (percent) {
        const n = Number(percent[1]);
        if (n < 100) return n === 0 ? undefined : { percent: n };
      } else {
        const n = value.trim() === '0' ? 0 : parseBytes(value);
        if (n !== undefined) return n === 0 ? undefined : { bytes: n };
      }
      ctx.addIssue({ code: 'custom', message: `${name} must be a size such as 1Gi, a share such as 5%, or 0 for none (got "${value}")` });
      return z.NEVER;
    });

const optionalSecret = (name: string, minLength: number) =>
  z
    .string()
    .min(minLength, `${name} must be at least ${minLength} characters`)
    .optional();

/** Stage 2: validation with defaults. */
const schema = z.object({
  WHARF_DATA_DIR: z.string().default(resolve(homedir(), '.wharf', 'master')),
  WHARF_HOST: z.string().optional(),
  WHARF_HTTP_HOST: z.string().optional(),
  WHARF_HTTP_PORT: port('WHARF_HTTP_PORT', '8080'),
  WHARF_GRPC_HOST: z.string().optional(),
  WHARF_GRPC_PORT: port('WHARF_GRPC_PORT', '50051'),
  WHARF_PUBLIC_GRPC_ADDRESS: z.string().optional(),
  WHARF_ADVERTISE_ADDRESS: z.string().optional(),
  WHARF_LEASE_TTL: duration('WHARF_LEASE_TTL', '5s'),
  WHARF_LEASE_RENEW: duration('WHARF_LEASE_RENEW', '1s'),
  WHARF_JWT_SECRET: optionalSecret('WHARF_JWT_SECRET', 32),
  WHARF_JWT_TTL: duration('WHARF_JWT_TTL', '12h'),
  WHARF_JOIN_TOKEN: z
    .string()
    .regex(
      JOIN_TOKEN_PATTERN,
      'WHARF_JOIN_TOKEN must look like <id>.<secret>: an id of 3-40 lower-case letters, digits or "_", a dot, and a secret of 16-128 letters, digits, "-" or "_" (e.g. wharf_ab12cd.<32 random characters>); leave it unset to have one generated',
    )
    .optional(),
  WHARF_JOIN_RATE_LIMIT: wholeNumber('WHARF_JOIN_RATE_LIMIT', '10'),
  WHARF_JOIN_RATE_BURST: wholeNumber('WHARF_JOIN_RATE_BURST', '20'),
  WHARF_TLS: z.enum(['on', 'off', 'auto'], 'WHARF_TLS must be on, off or auto').default('auto'),
  WHARF_TLS_SAN: z.string().optional(),
  WHARF_TLS_CA_CERT: z.string().optional(),
  WHARF_TLS_CA_KEY: z.string().optional(),
  WHARF_TLS_CERT: z.string().optional(),
  WHARF_TLS_KEY: z.string().optional(),
  WHARF_HTTP_TLS_CERT: z.string().optional(),
  WHARF_HTTP_TLS_KEY: z.string().optional(),
  WHARF_WORKER_CERT_TTL: duration('WHARF_WORKER_CERT_TTL', '365d'),
  WHARF_ADMIN_EMAIL: z.email('WHARF_ADMIN_EMAIL must be an email address').default('admin@wharf.local'),
  WHARF_ADMIN_PASSWORD: optionalSecret('WHARF_ADMIN_PASSWORD', 8),
  WHARF_HEARTBEAT_INTERVAL: duration('WHARF_HEARTBEAT_INTERVAL', '5s'),
  WHARF_HEARTBEAT_TTL: duration('WHARF_HEARTBEAT_TTL', '15s'),
  WHARF_RECONNECT_GRACE: duration('WHARF_RECONNECT_GRACE', '30s'),
  WHARF_MAX_STOP_AFTER: duration('WHARF_MAX_STOP_AFTER', '10m'),
  WHARF_RETRY_BACKOFF: duration('WHARF_RETRY_BACKOFF', '1s'),
  WHARF_RETRY_BACKOFF_MAX: duration('WHARF_RETRY_BACKOFF_MAX', '5m'),
  // a task waiting this long for room gets a reservation on a worker (0 = never)
  WHARF_RESERVE_AFTER: duration('WHARF_RESERVE_AFTER', '5m'),
  WHARF_CANCEL_GRACE: duration('WHARF_CANCEL_GRACE', '10s'),
  WHARF_MAX_OUTPUT_BYTES: bytes('WHARF_MAX_OUTPUT_BYTES', '10Gi'),
  WHARF_MAX_LOG_BYTES: bytes('WHARF_MAX_LOG_BYTES', '64Mi'),
  WHARF_ALLOW_USER_EXEC: boolean('WHARF_ALLOW_USER_EXEC'),
  WHARF_TASK_MIN_CPU: amount('WHARF_TASK_MIN_CPU', 'cpu', '10m'),
  WHARF_TASK_DEFAULT_CPU: amount('WHARF_TASK_DEFAULT_CPU', 'cpu', '0.5'),
  WHARF_TASK_MAX_CPU: amount('WHARF_TASK_MAX_CPU', 'cpu'),
  WHARF_TASK_MIN_MEMORY: amount('WHARF_TASK_MIN_MEMORY', 'bytes', '6Mi'),
  WHARF_TASK_DEFAULT_MEMORY: amount('WHARF_TASK_DEFAULT_MEMORY', 'bytes', '256Mi'),
  WHARF_TASK_MAX_MEMORY: amount('WHARF_TASK_MAX_MEMORY', 'bytes'),
  WHARF_TASK_MIN_DISK: amount('WHARF_TASK_MIN_DISK', 'bytes', '0'),
  WHARF_TASK_DEFAULT_DISK: amount('WHARF_TASK_DEFAULT_DISK', 'bytes', '0'),
  WHARF_TASK_MAX_DISK: amount('WHARF_TASK_MAX_DISK', 'bytes'),
  WHARF_LOGIN_RATE_LIMIT: wholeNumber('WHARF_LOGIN_RATE_LIMIT', '10'),
  WHARF_REGISTRATION: z.enum(['open', 'invite', 'closed'], 'WHARF_REGISTRATION must be open, invite or closed').optional(),
  WHARF_SESSION_MAX_AGE: duration('WHARF_SESSION_MAX_AGE', '7d'),
  WHARF_AUTH_RATE_LIMIT: wholeNumber('WHARF_AUTH_RATE_LIMIT', '60'),
  WHARF_AUTH_GLOBAL_RATE_LIMIT: wholeNumber('WHARF_AUTH_GLOBAL_RATE_LIMIT', '300'),
  WHARF_AUDIT_RETENTION: duration('WHARF_AUDIT_RETENTION', '90d'),
  WHARF_RETAIN_TASKS: duration('WHARF_RETAIN_TASKS', '30d'),
  WHARF_RETAIN_TASKS_COUNT: optionalCount('WHARF_RETAIN_TASKS_COUNT'),
  WHARF_RETAIN_DAG_RUNS: duration('WHARF_RETAIN_DAG_RUNS', '30d'),
  WHARF_RETAIN_DAG_RUNS_COUNT: optionalCount('WHARF_RETAIN_DAG_RUNS_COUNT'),
  WHARF_RETAIN_FILES: duration('WHARF_RETAIN_FILES', '30d'),
  WHARF_RETAIN_ARTIFACTS: duration('WHARF_RETAIN_ARTIFACTS', '30d'),
  WHARF_RETAIN_TELEMETRY: duration('WHARF_RETAIN_TELEMETRY', '30d'),
  WHARF_GC_INTERVAL: duration('WHARF_GC_INTERVAL', '1h'),
  WHARF_GC_BATCH: wholeNumber('WHARF_GC_BATCH', '500'),
  WHARF_USER_STORAGE_QUOTA: amount('WHARF_USER_STORAGE_QUOTA', 'bytes'),
  WHARF_MIN_FREE_DISK: freeSpaceFloor('WHARF_MIN_FREE_DISK', '1Gi'),
  WHARF_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  WHARF_WS_PING_INTERVAL: duration('WHARF_WS_PING_INTERVAL', '30s'),
  WHARF_WS_MAX_BUFFER: bytes('WHARF_WS_MAX_BUFFER', '4Mi'),
  WHARF_TELEMETRY_HISTORY: duration('WHARF_TELEMETRY_HISTORY', '15m'),
  WHARF_MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'WHARF_MONGO_URL must be a MongoDB connection string (mongodb://… or mongodb+srv://…)')
    .optional(),
  // MongoDB database names: no /\. "$ space or NUL, at most 63 bytes
  WHARF_MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'WHARF_MONGO_DB must be 1-63 letters, digits, "_" or "-"')
    .optional(),
  WHARF_MONGO_START_TIMEOUT: duration('WHARF_MONGO_START_TIMEOUT', '5s'),
});

export interface MasterConfig {
  dataDir: string;
  http: { host: string; port: number };
  grpc: { host: string; port: number; publicAddress?: string | undefined };
  jwtSecret?: string | undefined;
  jwtTtlMs: number;
  joinToken?: string | undefined;
  /** Register calls without a client certificate (joins), per source address: a token bucket */
  joinRateLimit: { perMinute: number; burst: number };
  /**
   * TLS. gRPC is always TLS; the cluster CA and the server certificate are generated into
   * <dataDir>/tls unless the operator's files are given. `http`: HTTPS for REST and the
   * dashboard (`auto` = HTTPS unless the HTTP listener is loopback-only).
   */
  tls: {
    caCertFile?: string | undefined;
    caKeyFile?: string | undefined;
    certFile?: string | undefined;
    keyFile?: string | undefined;
    /** extra names and addresses for the generated server certificate */
    sans: string[];
    workerCertValidityMs: number;
    http: 'on' | 'off' | 'auto';
    httpCertFile?: string | undefined;
    httpKeyFile?: string | undefined;
  };
  admin: { email: string; password?: string | undefined };
  /**
   * Several masters on one store (leadership/): the lease's TTL and renew interval, and the host
   * other masters, workers and people reach this one at (WHARF_ADVERTISE_ADDRESS; the gRPC
   * address is <host>:<gRPC port> unless WHARF_PUBLIC_GRPC_ADDRESS names it, the HTTP one
   * <scheme>://<host>:<HTTP port>). Absent: the gRPC listen host (localhost for a wildcard).
   */
  leadership: { leaseTtlMs: number; renewIntervalMs: number; advertiseHost?: string | undefined };
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  reconnectGraceMs: number;
  /** the longest fencing bound (stop-after + stop grace) a worker may declare: how long a lost worker's tasks may be held */
  maxStopAfterMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** a task waiting this long for room gets a reservation (scheduler/placement.ts); undefined = never */
  reserveAfterMs: number | undefined;
  cancelGraceMs: number;
  maxOutputBytesPerTask: number;
  maxLogBytesPerAttempt: number;
  allowUserExec: boolean;
  /** min/default/max cpu, memory and disk of a task (tasks/task-limits.ts) */
  taskLimits: TaskLimits;
  /** login attempts per minute per client address and email */
  loginRateLimitPerMinute: number;
  /** who may register: undefined = `invite` when the HTTP listener is beyond loopback, else `open` (main.ts decides) */
  registration?: 'open' | 'invite' | 'closed' | undefined;
  /** how long after a login its session may be renewed (POST /api/auth/refresh) */
  sessionMaxAgeMs: number;
  /** requests per minute per client address to login, register and invite look-up/acceptance */
  authRateLimitPerMinute: number;
  /** password hashings per minute, master-wide, for identities that are not accounts (unknown-email logins, registrations) */
  authGlobalRateLimitPerMinute: number;
  /** audit entries older than this are pruned */
  auditRetentionMs: number;
  /** what the garbage collector removes, and how often it runs (gc/retention.ts) */
  retention: RetentionPolicy;
  /** the garbage collector's period; undefined = only on demand */
  gcIntervalMs: number | undefined;
  /** records per batch; the collector yields to other work between batches */
  gcBatchSize: number;
  /** bytes of logs, outputs and artifacts a user may keep before submissions are refused (an admin may set a user's own); undefined = no quota */
  userStorageQuotaBytes: number | undefined;
  /** below this much free space in the data dir uploads are refused; undefined = no floor */
  minFreeDisk: FreeSpaceFloor | undefined;
  logLevel: string;
  /** WebSockets: ping period, and the unsent bytes a client may have before it is cut off as lagged */
  ws: { pingIntervalMs: number; maxBufferedBytes: number };
  /** how far back each worker's telemetry history reaches (GET /api/workers/:id/metrics) */
  telemetryHistoryMs: number;
  /** MongoDB store (WHARF_MONGO_URL); absent = the embedded SQLite store in the data dir */
  mongo?: { url: string; database: string; startTimeoutMs: number } | undefined;
  /** DAG artifacts in S3/MinIO (WHARF_S3_*); absent = on the master's disk */
  s3?: S3Config | undefined;
}

/** Stages 2 and 3: validate and compile. Throws ConfigError with every problem listed. */
export function compileMasterConfig(raw: Record<string, string>): MasterConfig {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return issue.message.includes(key) ? issue.message : `${key}: ${issue.message}`;
    });
    // name the flag too: "WHARF_HTTP_PORT (--http-port) must be ..."
    const flagOf = new Map(Object.entries(FLAGS).map(([flag, env]) => [env, flag]));
    const named = problems.map((p) => p.replace(/^(WHARF_[A-Z_]+)/, (env) => (flagOf.has(env) ? `${env} (--${flagOf.get(env)})` : env)));
    throw new ConfigError(`invalid configuration: ${named.join('; ')}`);
  }
  const v = parsed.data;
  if (v.WHARF_MONGO_URL === undefined && v.WHARF_MONGO_DB !== undefined) {
    throw new ConfigError('WHARF_MONGO_DB is set but WHARF_MONGO_URL is not; set WHARF_MONGO_URL too, or unset WHARF_MONGO_DB to use SQLite');
  }
  if (v.WHARF_WS_PING_INTERVAL < 1000) {
    throw new ConfigError(`WHARF_WS_PING_INTERVAL (--ws-ping-interval) must be at least 1s (got ${v.WHARF_WS_PING_INTERVAL}ms)`);
  }
  if (v.WHARF_WS_MAX_BUFFER < 64 * 1024) {
    throw new ConfigError(`WHARF_WS_MAX_BUFFER (--ws-max-buffer) must be at least 64Ki (got ${v.WHARF_WS_MAX_BUFFER} bytes)`);
  }
  if (v.WHARF_TELEMETRY_HISTORY < 15 * 60_000) {
    throw new ConfigError(`WHARF_TELEMETRY_HISTORY (--telemetry-history) must be at least 15m (got ${v.WHARF_TELEMETRY_HISTORY}ms)`);
  }
  if (v.WHARF_HEARTBEAT_TTL <= v.WHARF_HEARTBEAT_INTERVAL) {
    throw new ConfigError(
      `WHARF_HEARTBEAT_TTL (${v.WHARF_HEARTBEAT_TTL}ms) must be longer than WHARF_HEARTBEAT_INTERVAL (${v.WHARF_HEARTBEAT_INTERVAL}ms)`,
    );
  }
  if (v.WHARF_MAX_STOP_AFTER < v.WHARF_HEARTBEAT_TTL) {
    throw new ConfigError(
      `WHARF_MAX_STOP_AFTER (--max-stop-after, ${v.WHARF_MAX_STOP_AFTER}ms) must not be shorter than WHARF_HEARTBEAT_TTL (${v.WHARF_HEARTBEAT_TTL}ms), the workers' default --stop-after`,
    );
  }
  if (v.WHARF_LEASE_RENEW * 2 > v.WHARF_LEASE_TTL) {
    throw new ConfigError(
      `WHARF_LEASE_RENEW (--lease-renew, ${v.WHARF_LEASE_RENEW}ms) must be at most half of WHARF_LEASE_TTL (--lease-ttl, ${v.WHARF_LEASE_TTL}ms): a leader must get a renewal in before its lease runs out`,
    );
  }
  if (v.WHARF_ADVERTISE_ADDRESS !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+|[0-9a-fA-F:]+)$/.test(v.WHARF_ADVERTISE_ADDRESS)) {
    throw new ConfigError(`WHARF_ADVERTISE_ADDRESS (--advertise-address) must be a host name or an IP address without a port (got "${v.WHARF_ADVERTISE_ADDRESS}")`);
  }
  if (v.WHARF_RETRY_BACKOFF_MAX < v.WHARF_RETRY_BACKOFF) {
    throw new ConfigError('WHARF_RETRY_BACKOFF_MAX must not be shorter than WHARF_RETRY_BACKOFF');
  }
  for (const [a, b] of [
    ['WHARF_TLS_CA_CERT', 'WHARF_TLS_CA_KEY'],
    ['WHARF_TLS_CERT', 'WHARF_TLS_KEY'],
    ['WHARF_HTTP_TLS_CERT', 'WHARF_HTTP_TLS_KEY'],
  ] as const) {
    if ((v[a] === undefined) !== (v[b] === undefined)) {
      const [given, missing] = v[a] === undefined ? [b, a] : [a, b];
      throw new ConfigError(`${given} is set but ${missing} is not: give both (a certificate and its key), or neither`);
    }
  }
  if (v.WHARF_TLS === 'off' && v.WHARF_HTTP_TLS_CERT !== undefined) {
    throw new ConfigError('WHARF_HTTP_TLS_CERT is set but WHARF_TLS is off: unset WHARF_TLS (or set it to on) to serve HTTPS with that certificate');
  }
  if (v.WHARF_SESSION_MAX_AGE < v.WHARF_JWT_TTL) {
    throw new ConfigError(
      `WHARF_SESSION_MAX_AGE (--session-max-age, ${v.WHARF_SESSION_MAX_AGE}ms) must not be shorter than WHARF_JWT_TTL (--jwt-ttl, ${v.WHARF_JWT_TTL}ms)`,
    );
  }
  if (v.WHARF_AUDIT_RETENTION < 86_400_000) {
    throw new ConfigError(`WHARF_AUDIT_RETENTION (--audit-retention) must be at least 1d (got ${v.WHARF_AUDIT_RETENTION}ms)`);
  }
  if (v.WHARF_WORKER_CERT_TTL < 1000) {
    throw new ConfigError(`WHARF_WORKER_CERT_TTL (--worker-cert-ttl) must be at least 1s (got ${v.WHARF_WORKER_CERT_TTL}ms)`);
  }
  const taskLimits: TaskLimits = {
    cpu: { min: v.WHARF_TASK_MIN_CPU ?? 0, default: v.WHARF_TASK_DEFAULT_CPU ?? 0, max: v.WHARF_TASK_MAX_CPU },
    memory: { min: v.WHARF_TASK_MIN_MEMORY ?? 0, default: v.WHARF_TASK_DEFAULT_MEMORY ?? 0, max: v.WHARF_TASK_MAX_MEMORY },
    disk: { min: v.WHARF_TASK_MIN_DISK ?? 0, default: v.WHARF_TASK_DEFAULT_DISK ?? 0, max: v.WHARF_TASK_MAX_DISK },
  };
  const limitIssues: string[] = [];
  for (const [key, limit] of Object.entries(taskLimits)) {
    const kind = key.toUpperCase();
    if (limit.default < limit.min) limitIssues.push(`WHARF_TASK_DEFAULT_${kind} must not be below WHARF_TASK_MIN_${kind}`);
    if (limit.max !== undefined && limit.default > limit.max) limitIssues.push(`WHARF_TASK_DEFAULT_${kind} must not be above WHARF_TASK_MAX_${kind}`);
  }
  // a task below these could never get a quota or a limit: the point of the minimums
  if (taskLimits.cpu.min <= 0) limitIssues.push('WHARF_TASK_MIN_CPU must be above 0 (every non-admin task gets a CPU quota)');
  if (taskLimits.memory.min < 6 * 1024 * 1024) limitIssues.push('WHARF_TASK_MIN_MEMORY must be at least 6Mi (every non-admin task gets a memory limit; Docker refuses less)');
  if (limitIssues.length > 0) throw new ConfigError(`invalid configuration: ${limitIssues.join('; ')}`);
  const s3 = parseS3Config(raw);
  if (s3.problems.length > 0) throw new ConfigError(`invalid configuration: ${s3.problems.join('; ')}`);
  const host = v.WHARF_HOST ?? '127.0.0.1';
  return {
    ...(s3.config ? { s3: s3.config } : {}),
    dataDir: resolve(v.WHARF_DATA_DIR),
    http: { host: v.WHARF_HTTP_HOST ?? host, port: v.WHARF_HTTP_PORT },
    grpc: { host: v.WHARF_GRPC_HOST ?? host, port: v.WHARF_GRPC_PORT, publicAddress: v.WHARF_PUBLIC_GRPC_ADDRESS },
    jwtSecret: v.WHARF_JWT_SECRET,
    jwtTtlMs: v.WHARF_JWT_TTL,
    joinToken: v.WHARF_JOIN_TOKEN,
    joinRateLimit: { perMinute: v.WHARF_JOIN_RATE_LIMIT, burst: v.WHARF_JOIN_RATE_BURST },
    tls: {
      caCertFile: absolute(v.WHARF_TLS_CA_CERT),
      caKeyFile: absolute(v.WHARF_TLS_CA_KEY),
      certFile: absolute(v.WHARF_TLS_CERT),
      keyFile: absolute(v.WHARF_TLS_KEY),
      sans: (v.WHARF_TLS_SAN ?? '').split(',').map((name) => name.trim()).filter((name) => name !== ''),
      workerCertValidityMs: v.WHARF_WORKER_CERT_TTL,
      http: v.WHARF_TLS,
      httpCertFile: absolute(v.WHARF_HTTP_TLS_CERT),
      httpKeyFile: absolute(v.WHARF_HTTP_TLS_KEY),
    },
    admin: { email: v.WHARF_ADMIN_EMAIL, password: v.WHARF_ADMIN_PASSWORD },
    leadership: {
      leaseTtlMs: v.WHARF_LEASE_TTL,
      renewIntervalMs: v.WHARF_LEASE_RENEW,
      advertiseHost: v.WHARF_ADVERTISE_ADDRESS?.replace(/^\[(.*)\]$/, '$1'),
    },
    heartbeatIntervalMs: v.WHARF_HEARTBEAT_INTERVAL,
    heartbeatTtlMs: v.WHARF_HEARTBEAT_TTL,
    reconnectGraceMs: v.WHARF_RECONNECT_GRACE,
    maxStopAfterMs: v.WHARF_MAX_STOP_AFTER,
    retryBackoffMs: v.WHARF_RETRY_BACKOFF,
    retryBackoffMaxMs: v.WHARF_RETRY_BACKOFF_MAX,
    reserveAfterMs: v.WHARF_RESERVE_AFTER > 0 ? v.WHARF_RESERVE_AFTER : undefined,
    cancelGraceMs: v.WHARF_CANCEL_GRACE,
    maxOutputBytesPerTask: v.WHARF_MAX_OUTPUT_BYTES,
    maxLogBytesPerAttempt: v.WHARF_MAX_LOG_BYTES,
    allowUserExec: v.WHARF_ALLOW_USER_EXEC,
    taskLimits,
    loginRateLimitPerMinute: v.WHARF_LOGIN_RATE_LIMIT,
    registration: v.WHARF_REGISTRATION,
    sessionMaxAgeMs: v.WHARF_SESSION_MAX_AGE,
    authRateLimitPerMinute: v.WHARF_AUTH_RATE_LIMIT,
    authGlobalRateLimitPerMinute: v.WHARF_AUTH_GLOBAL_RATE_LIMIT,
    auditRetentionMs: v.WHARF_AUDIT_RETENTION,
    retention: {
      tasksMs: v.WHARF_RETAIN_TASKS || undefined,
      tasksCount: v.WHARF_RETAIN_TASKS_COUNT,
      dagRunsMs: v.WHARF_RETAIN_DAG_RUNS || undefined,
      dagRunsCount: v.WHARF_RETAIN_DAG_RUNS_COUNT,
      filesMs: v.WHARF_RETAIN_FILES || undefined,
      artifactsMs: v.WHARF_RETAIN_ARTIFACTS || undefined,
      telemetryMs: v.WHARF_RETAIN_TELEMETRY || undefined,
    },
    gcIntervalMs: v.WHARF_GC_INTERVAL || undefined,
    gcBatchSize: v.WHARF_GC_BATCH,
    userStorageQuotaBytes: v.WHARF_USER_STORAGE_QUOTA || undefined,
    minFreeDisk: v.WHARF_MIN_FREE_DISK,
    logLevel: v.WHARF_LOG_LEVEL,
    ws: { pingIntervalMs: v.WHARF_WS_PING_INTERVAL, maxBufferedBytes: v.WHARF_WS_MAX_BUFFER },
    telemetryHistoryMs: v.WHARF_TELEMETRY_HISTORY,
    mongo:
      v.WHARF_MONGO_URL === undefined
        ? undefined
        : { url: v.WHARF_MONGO_URL, database: v.WHARF_MONGO_DB ?? 'wharf', startTimeoutMs: v.WHARF_MONGO_START_TIMEOUT },
  };
}

function absolute(file: string | undefined): string | undefined {
  return file === undefined ? undefined : resolve(file);
}

export function loadMasterConfig(argv: readonly string[], env: NodeJS.ProcessEnv): MasterConfig {
  return compileMasterConfig(readRawConfig(argv, env));
}
