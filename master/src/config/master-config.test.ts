import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './durations.js';
import { compileMasterConfig, ConfigError, loadMasterConfig } from './master-config.js';
import { resolveSecrets } from './secrets.js';

describe('master config', () => {
  it('has defaults that listen on localhost only', () => {
    const config = loadMasterConfig([], {});
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.grpc.port).toBe(50051);
    expect(config.heartbeatIntervalMs).toBe(5000);
    expect(config.heartbeatTtlMs).toBe(15000);
    expect(config.maxStopAfterMs).toBe(600_000);
    expect(config.maxLogBytesPerAttempt).toBe(64 * 1024 ** 2);
  });

  it('takes env and lets flags win', () => {
    const config = loadMasterConfig(['--http-port', '9090', '--heartbeat-ttl=30s', '--host', '0.0.0.0'], {
      WHARF_HTTP_PORT: '7070',
      WHARF_MAX_OUTPUT_BYTES: '2Gi',
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(config.grpc.host).toBe('0.0.0.0');
    expect(config.heartbeatTtlMs).toBe(30_000);
    expect(config.maxOutputBytesPerTask).toBe(2 * 1024 ** 3);
  });

  it('names the setting that is wrong', () => {
    expect(() => loadMasterConfig([], { WHARF_HTTP_PORT: 'eighty' })).toThrow(/WHARF_HTTP_PORT \(--http-port\) must be a port number/);
    expect(() => loadMasterConfig([], { WHARF_HEARTBEAT_TTL: 'soon' })).toThrow(/WHARF_HEARTBEAT_TTL \(--heartbeat-ttl\) must be a duration/);
    expect(() => loadMasterConfig([], { WHARF_JWT_SECRET: 'short' })).toThrow(/WHARF_JWT_SECRET \(--jwt-secret\) must be at least 32/);
    expect(() => loadMasterConfig(['--bogus', '1'], {})).toThrow(/unknown flag --bogus/);
    expect(() => loadMasterConfig(['--http-port'], {})).toThrow(ConfigError);
  });

  it('has task limits with a CPU quota and a memory limit for every task, and takes them from env and flags', () => {
    expect(loadMasterConfig([], {}).taskLimits).toEqual({
      cpu: { min: 0.01, default: 0.5, max: undefined },
      memory: { min: 6 * 1024 ** 2, default: 256 * 1024 ** 2, max: undefined },
      disk: { min: 0, default: 0, max: undefined },
    });
    const config = loadMasterConfig(['--task-max-cpu', '4', '--task-default-disk', '1Gi'], { WHARF_TASK_MIN_MEMORY: '32Mi', WHARF_TASK_MAX_MEMORY: '8Gi', WHARF_TASK_MIN_CPU: '100m' });
    expect(config.taskLimits).toEqual({
      cpu: { min: 0.1, default: 0.5, max: 4 },
      memory: { min: 32 * 1024 ** 2, default: 256 * 1024 ** 2, max: 8 * 1024 ** 3 },
      disk: { min: 0, default: 1024 ** 3, max: undefined },
    });
  });

  it('refuses task limits that contradict each other or allow a task without limits', () => {
    expect(() => loadMasterConfig([], { WHARF_TASK_MIN_CPU: '0' })).toThrow(/WHARF_TASK_MIN_CPU must be above 0/);
    expect(() => loadMasterConfig([], { WHARF_TASK_MIN_MEMORY: '1Mi' })).toThrow(/WHARF_TASK_MIN_MEMORY must be at least 6Mi/);
    expect(() => loadMasterConfig([], { WHARF_TASK_MAX_MEMORY: '128Mi' })).toThrow(/WHARF_TASK_DEFAULT_MEMORY must not be above WHARF_TASK_MAX_MEMORY/);
    expect(() => loadMasterConfig([], { WHARF_TASK_MIN_CPU: '1' })).toThrow(/WHARF_TASK_DEFAULT_CPU must not be below WHARF_TASK_MIN_CPU/);
    expect(() => loadMasterConfig([], { WHARF_TASK_MAX_CPU: 'lots' })).toThrow(/WHARF_TASK_MAX_CPU \(--task-max-cpu\) must be cores such as 0.5/);
  });

  it('refuses conflicting settings', () => {
    expect(() => loadMasterConfig([], { WHARF_HEARTBEAT_INTERVAL: '20s', WHARF_HEARTBEAT_TTL: '10s' })).toThrow(
      /must be longer than WHARF_HEARTBEAT_INTERVAL/,
    );
    expect(() => loadMasterConfig([], { WHARF_MONGO_DB: 'wharf' })).toThrow(/WHARF_MONGO_DB is set but WHARF_MONGO_URL is not/);
    expect(() => loadMasterConfig(['--max-stop-after', '10s'], {})).toThrow(
      /WHARF_MAX_STOP_AFTER \(--max-stop-after, 10000ms\) must not be shorter than WHARF_HEARTBEAT_TTL \(15000ms\)/,
    );
  });

  it('chooses MongoDB only when WHARF_MONGO_URL is given, with the database from WHARF_MONGO_DB', () => {
    expect(loadMasterConfig([], {}).mongo).toBeUndefined();
    expect(loadMasterConfig([], { WHARF_MONGO_URL: 'mongodb://db.example:27017/?replicaSet=rs0' }).mongo).toEqual({
      url: 'mongodb://db.example:27017/?replicaSet=rs0',
      database: 'wharf',
      startTimeoutMs: 5000,
    });
    expect(loadMasterConfig(['--mongo-url', 'mongodb://h', '--mongo-db', 'prod_1', '--mongo-start-timeout', '2s'], {}).mongo).toEqual({
      url: 'mongodb://h',
      database: 'prod_1',
      startTimeoutMs: 2000,
    });
    expect(() => loadMasterConfig([], { WHARF_MONGO_URL: 'postgres://u:secret@h/db' })).toThrow(/WHARF_MONGO_URL .*must be a MongoDB connection string/);
    expect(() => loadMasterConfig([], { WHARF_MONGO_URL: 'postgres://u:secret@h/db' })).not.toThrow(/secret/);
    expect(() => loadMasterConfig([], { WHARF_MONGO_URL: 'mongodb://h', WHARF_MONGO_DB: 'a.b' })).toThrow(/WHARF_MONGO_DB .*must be 1-63/);
  });

  it('takes TLS settings in pairs, and join tokens only in the <id>.<secret> form', () => {
    expect(loadMasterConfig([], {}).tls).toMatchObject({ http: 'auto', sans: [], workerCertValidityMs: 365 * 86_400_000 });
    expect(loadMasterConfig(['--tls'], {}).tls.http).toBe('on');
    expect(loadMasterConfig(['--tls', 'off', '--tls-san', 'a.example, 10.0.0.1'], {}).tls).toMatchObject({ http: 'off', sans: ['a.example', '10.0.0.1'] });
    expect(() => loadMasterConfig([], { WHARF_TLS_CA_CERT: '/x/ca.crt' })).toThrow(/WHARF_TLS_CA_CERT is set but WHARF_TLS_CA_KEY is not: give both/);
    expect(() => loadMasterConfig([], { WHARF_TLS_KEY: '/x/k' })).toThrow(/WHARF_TLS_KEY is set but WHARF_TLS_CERT is not/);
    expect(() => loadMasterConfig([], { WHARF_TLS: 'off', WHARF_HTTP_TLS_CERT: '/c', WHARF_HTTP_TLS_KEY: '/k' })).toThrow(/WHARF_TLS is off/);
    expect(() => loadMasterConfig([], { WHARF_TLS: 'maybe' })).toThrow(/WHARF_TLS \(--tls\) must be on, off or auto/);
    expect(() => loadMasterConfig([], { WHARF_JOIN_TOKEN: 'a-long-token-without-a-dot' })).toThrow(/WHARF_JOIN_TOKEN \(--join-token\) must look like <id>.<secret>/);
    expect(loadMasterConfig([], { WHARF_JOIN_TOKEN: 'wharf_abc123.0123456789abcdef0123' }).joinToken).toBe('wharf_abc123.0123456789abcdef0123');
    expect(loadMasterConfig([], {}).joinRateLimit).toEqual({ perMinute: 10, burst: 20 });
  });

  it('reads the settings for people: registration, session age, auth limits and audit retention, with defaults', () => {
    const defaults = compileMasterConfig({});
    expect(defaults).toMatchObject({ registration: undefined, sessionMaxAgeMs: 7 * 86_400_000, authRateLimitPerMinute: 60, authGlobalRateLimitPerMinute: 300, auditRetentionMs: 90 * 86_400_000 });
    const set = loadMasterConfig(['--registration', 'closed', '--session-max-age=2d', '--auth-rate-limit', '5'], { WHARF_AUTH_GLOBAL_RATE_LIMIT: '30', WHARF_AUDIT_RETENTION: '30d' });
    expect(set).toMatchObject({ registration: 'closed', sessionMaxAgeMs: 2 * 86_400_000, authRateLimitPerMinute: 5, authGlobalRateLimitPerMinute: 30, auditRetentionMs: 30 * 86_400_000 });
    expect(() => compileMasterConfig({ WHARF_REGISTRATION: 'anyone' })).toThrow(/WHARF_REGISTRATION \(--registration\) must be open, invite or closed/);
    expect(() => compileMasterConfig({ WHARF_SESSION_MAX_AGE: '1h' })).toThrow(/WHARF_SESSION_MAX_AGE \(--session-max-age, 3600000ms\) must not be shorter than WHARF_JWT_TTL/);
    expect(() => compileMasterConfig({ WHARF_AUDIT_RETENTION: '1h' })).toThrow(/WHARF_AUDIT_RETENTION \(--audit-retention\) must be at least 1d/);
    expect(() => compileMasterConfig({ WHARF_AUTH_RATE_LIMIT: '0' })).toThrow(/WHARF_AUTH_RATE_LIMIT/);
  });

  it('reads retention, the storage quota and the free-space floor, keeping a month by default', () => {
    const defaults = compileMasterConfig({});
    expect(defaults.retention).toEqual({ tasksMs: 30 * 86_400_000, dagRunsMs: 30 * 86_400_000, filesMs: 30 * 86_400_000, artifactsMs: 30 * 86_400_000, telemetryMs: 30 * 86_400_000 });
    expect(defaults).toMatchObject({ gcIntervalMs: 3_600_000, gcBatchSize: 500, userStorageQuotaBytes: undefined, minFreeDisk: { bytes: 1024 ** 3 } });
    const set = loadMasterConfig(['--retain-tasks', '0', '--retain-tasks-count=1000', '--gc-interval', '0', '--min-free-disk', '5%'], {
      WHARF_RETAIN_FILES: '7d',
      WHARF_RETAIN_DAG_RUNS_COUNT: '50',
      WHARF_USER_STORAGE_QUOTA: '10Gi',
    });
    expect(set.retention).toMatchObject({ tasksMs: undefined, tasksCount: 1000, filesMs: 7 * 86_400_000, dagRunsCount: 50 });
    expect(set).toMatchObject({ gcIntervalMs: undefined, userStorageQuotaBytes: 10 * 1024 ** 3, minFreeDisk: { percent: 5 } });
    expect(compileMasterConfig({ WHARF_MIN_FREE_DISK: '0' }).minFreeDisk).toBeUndefined();
    expect(() => compileMasterConfig({ WHARF_RETAIN_TASKS_COUNT: '0' })).toThrow(/WHARF_RETAIN_TASKS_COUNT \(--retain-tasks-count\) must be a whole number >= 1/);
    expect(() => compileMasterConfig({ WHARF_MIN_FREE_DISK: '120%' })).toThrow(/WHARF_MIN_FREE_DISK \(--min-free-disk\) must be a size such as 1Gi, a share such as 5%/);
    expect(() => compileMasterConfig({ WHARF_RETAIN_FILES: 'soon' })).toThrow(/WHARF_RETAIN_FILES/);
  });

  it('parses durations', () => {
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5m')).toBe(90_000);
    expect(parseDurationMs('2')).toBe(2);
    expect(parseDurationMs('two')).toBeUndefined();
  });
});

describe('secrets', () => {
  it('generates missing secrets once, keeps them with mode 0600 and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-secrets-'));
    const first = resolveSecrets(dir, {});
    expect(first.generated.sort()).toEqual(['admin-password', 'credentials-key', 'join-token', 'jwt-secret']);
    expect(first.joinToken).toMatch(/^wharf_[a-z0-9]{6}\.[a-z0-9]{32}$/);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'credentials-key')).mode & 0o777).toBe(0o600);
    expect(first.credentialsKey).toHaveLength(32);
    const second = resolveSecrets(dir, {});
    expect(second.generated).toEqual([]);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.joinToken).toBe(first.joinToken);
    expect(second.credentialsKey.equals(first.credentialsKey)).toBe(true);
    expect(resolveSecrets(dir, { joinToken: 'given-token-1234567' }).joinToken).toBe('given-token-1234567');
  });

  it('replaces a kept join token from before tokens had the <id>.<secret> form, and says it made one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-secrets-'));
    writeFileSync(join(dir, 'join-token'), 'wharf_oldstyletokenwithoutanydot1234\n');
    const resolved = resolveSecrets(dir, {});
    expect(resolved.joinToken).toMatch(/^wharf_[a-z0-9]{6}\./);
    expect(resolved.generated).toContain('join-token');
    expect(readFileSync(join(dir, 'join-token'), 'utf8').trim()).toBe(resolved.joinToken);
  });
});

describe('master config: several masters', () => {
  it('defaults the lease to 5s/1s (failover within 6s, inside the 15s heartbeat TTL the workers stop after) and takes the advertised host', () => {
    const config = compileMasterConfig({});
    expect(config.leadership).toEqual({ leaseTtlMs: 5000, renewIntervalMs: 1000, advertiseHost: undefined });
    expect(config.leadership.leaseTtlMs + config.leadership.renewIntervalMs).toBeLessThan(config.heartbeatTtlMs);
    const set = compileMasterConfig({ WHARF_LEASE_TTL: '10s', WHARF_LEASE_RENEW: '2s', WHARF_ADVERTISE_ADDRESS: '[fd00::1]' });
    expect(set.leadership).toEqual({ leaseTtlMs: 10_000, renewIntervalMs: 2000, advertiseHost: 'fd00::1' });
    expect(loadMasterConfig(['--advertise-address', 'm2.example.com'], {}).leadership.advertiseHost).toBe('m2.example.com');
  });

  it('refuses a renew interval over half the TTL and an advertised address with a port', () => {
    expect(() => compileMasterConfig({ WHARF_LEASE_TTL: '2s', WHARF_LEASE_RENEW: '1500ms' })).toThrow(/WHARF_LEASE_RENEW \(--lease-renew, 1500ms\) must be at most half of WHARF_LEASE_TTL/);
    expect(() => compileMasterConfig({ WHARF_ADVERTISE_ADDRESS: 'm2:50051' })).toThrow(/WHARF_ADVERTISE_ADDRESS \(--advertise-address\) must be a host name or an IP address without a port/);
  });
});
