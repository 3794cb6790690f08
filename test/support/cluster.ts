// Test harness: a real master and real workers in this process (or a worker in a child
// process, for kill tests), each on its own ports (0) and temp dirs, talking gRPC over TLS on
// loopback. Workers join the way an operator's would: the join token and the CA hash of the
// master's join line.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { compileMasterConfig, type MasterConfig } from '../../master/src/config/master-config.js';
import { startMaster, type MasterHandle } from '../../master/src/main.js';
import type { WorkerConfig } from '../../worker/src/config/worker-config.js';
import { startWorker, type WorkerHandle } from '../../worker/src/main.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const TEST_IMAGE = 'wharf/busybox:latest';

/**
 * The Docker network the test workers put tasks on (a worker creates it when missing): one per
 * test file, since networks are machine-global, and removed by removeTempDirs.
 */
export const TEST_TASK_NETWORK = `wharf-test-${randomBytes(4).toString('hex')}`;

function removeTestNetworks(): void {
  try {
    const ids = execFileSync('docker', ['network', 'ls', '-q', '--filter', `name=^${TEST_TASK_NETWORK}$`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length > 0) execFileSync('docker', ['network', 'rm', ...ids], { stdio: 'ignore' });
  } catch {
    // no engine, or a container still on it: nothing more to do here
  }
}

const tempDirs: string[] = [];
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wharf-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
/** Removes the temp dirs and this file's tasks network at once, then drops the MongoDB databases of test masters (if any). */
export async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  removeTestNetworks();
  await dropTestDatabases([...testDatabases.splice(0)]);
}

/**
 * With WHARF_TEST_MONGO_URL set, test masters keep their state in MongoDB instead of SQLite:
 * one database per data dir, so a master restarted on the same data dir finds its state.
 * A master whose data dir the helper chose has its database dropped when it stops; one given
 * a data dir by the test (restart tests) keeps it until removeTempDirs.
 */
const testMongoUrl = process.env.WHARF_TEST_MONGO_URL || undefined;
const testDatabases: string[] = [];
function testDatabaseFor(dataDir: string): string {
  return `wharf_test_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
}
async function dropTestDatabases(names: string[]): Promise<void> {
  if (!testMongoUrl || names.length === 0) return;
  const client = new MongoClient(testMongoUrl);
  try {
    for (const name of names) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

/** Logs go nowhere unless WHARF_TEST_LOG=debug (or another level) is set. */
export function testLogger(name: string): pino.Logger {
  return pino({ name, level: process.env.WHARF_TEST_LOG ?? 'silent' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
    server.once('error', reject);
  });
}

export async function startTestMaster(
  env: Record<string, string> = {},
  givenDataDir?: string,
  /**
   * `store: 'sqlite'`: the embedded store even when WHARF_TEST_MONGO_URL is set (a test of the
   * data dir's disk); `joinKitDir`: where the master finds join.sh and the worker bundle;
   * `uiDir`: the dashboard build the master serves
   */
  options: { logger?: pino.Logger; store?: 'sqlite'; joinKitDir?: string; uiDir?: string } = {},
): Promise<MasterHandle & { dataDir: string; config: MasterConfig }> {
  const dataDir = givenDataDir ?? tempDir('master');
  const database = testMongoUrl && env.WHARF_MONGO_URL === undefined && options.store !== 'sqlite' ? testDatabaseFor(dataDir) : undefined;
  if (database && !testDatabases.includes(database)) testDatabases.push(database);
  const config = compileMasterConfig({
    ...(database ? { WHARF_MONGO_URL: testMongoUrl!, WHARF_MONGO_DB: database } : {}),
    WHARF_DATA_DIR: dataDir,
    WHARF_HTTP_PORT: '0',
    WHARF_GRPC_PORT: '0',
    WHARF_HEARTBEAT_INTERVAL: '300ms',
    WHARF_HEARTBEAT_TTL: '1500ms',
    WHARF_RECONNECT_GRACE: '5s',
    WHARF_RETRY_BACKOFF: '200ms',
    WHARF_RETRY_BACKOFF_MAX: '1s',
    WHARF_CANCEL_GRACE: '2s',
    WHARF_ADMIN_PASSWORD: 'admin-password',
    WHARF_LOGIN_RATE_LIMIT: '1000',
    // every suite logs in from 127.0.0.1; the per-address limit has its own test (test/security/users-sessions.test.ts)
    WHARF_AUTH_RATE_LIMIT: '100000',
    // many workers join from 127.0.0.1 in the suites; the limit has its own test
    WHARF_JOIN_RATE_LIMIT: '10000',
    WHARF_JOIN_RATE_BURST: '10000',
    ...env,
  });
  const master = await startMaster(config, {
    logger: options.logger ?? testLogger('master'),
    ...(options.joinKitDir ? { joinKitDir: options.joinKitDir } : {}),
    ...(options.uiDir ? { uiDir: options.uiDir } : {}),
  });
  if (database && givenDataDir === undefined) {
    const stop = master.stop.bind(master);
    master.stop = async () => {
      await stop();
      await dropTestDatabases([database]);
    };
  }
  return Object.assign(master, { dataDir, config });
}

/** What a worker needs to join a master: its join line. */
export interface JoinLine {
  grpcAddress: string;
  joinToken: string;
  caHash: string;
}

export function workerConfig(master: JoinLine, overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    masterAddress: master.grpcAddress,
    joinToken: master.joinToken,
    caHash: master.caHash,
    name: 'test-worker',
    dataDir: tempDir('worker'),
    runtimes: ['docker'],
    capacityCaps: {},
    labels: {},
    heartbeatIntervalMs: 300,
    cancelGraceSeconds: 2,
    logBatchMs: 20,
    logBatchBytes: 64 * 1024,
    reconnectBaseMs: 50,
    reconnectMaxMs: 500,
    pidsLimit: 256,
    logLevel: 'silent',
    // test masters use a 1.5 s heartbeat TTL, the default --stop-after: in-process workers ride
    // through the master restarts the suites make (fencing has suites of its own)
    stopAfterMs: 10_000,
    taskNetwork: TEST_TASK_NETWORK,
    ...overrides,
  };
}

export async function startTestWorker(
  master: JoinLine,
  overrides: Partial<WorkerConfig> = {},
  options: { logger?: pino.Logger } = {},
): Promise<WorkerHandle> {
  const worker = await startWorker(workerConfig(master, overrides), { logger: options.logger ?? testLogger('worker') });
  await worker.registered;
  return worker;
}

/** A worker in its own process (built dist), so a test can SIGKILL it; `dataDir` to restart one on the same data. The join token goes in its environment, not its argv. */
export function spawnWorkerProcess(
  master: JoinLine,
  args: string[] = [],
  options: { dataDir?: string } = {},
): { child: ChildProcess; dataDir: string; output: () => string } {
  const dataDir = options.dataDir ?? tempDir('worker-proc');
  let output = '';
  const child = spawn(
    process.execPath,
    [
      // WHARF_BENCH_PROFILE=<dir>: a V8 CPU profile of the worker, written when it stops
      ...(process.env.WHARF_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WHARF_BENCH_PROFILE}`] : []),
      join(REPO_ROOT, 'worker/dist/cli.js'),
      '--master', master.grpcAddress, '--ca-hash', master.caHash, '--heartbeat-ms', '300', '--task-network', TEST_TASK_NETWORK, ...args],
    {
      env: { ...process.env, WHARF_DATA_DIR: dataDir, WHARF_LOG_LEVEL: 'info', WHARF_JOIN_TOKEN: master.joinToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, dataDir, output: () => output };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error: unknown) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** A logger that keeps its JSON lines (for tests that check what the master logged). */
export function capturingLogger(level = 'info'): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const kept: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void kept.push(line) });
  return { logger, lines: () => kept.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
