// The master's one composition root: builds every component and passes collaborators
// explicitly, so a test can start a master (and workers) in one process. No globals.
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { ArtifactBackend } from './artifacts/artifact-backend.js';
import { DiskArtifactBackend } from './artifacts/disk-artifact-backend.js';
import { S3ArtifactBackend } from './artifacts/s3-artifact-backend.js';
import { AuthService } from './auth/auth-service.js';
import { HeartbeatStats } from './cluster/heartbeat-stats.js';
import { WorkerRegistry } from './cluster/worker-registry.js';
import type { MasterConfig } from './config/master-config.js';
import { resolveSecrets } from './config/secrets.js';
import { FileStore } from './files/file-store.js';
import { WorkerGateway } from './grpc/worker-gateway.js';
import { createHttpApp } from './http/http-app.js';
import { createLogger, type Logger } from './logger.js';
import { LiveServer } from './live/live-server.js';
import { LogStore } from './logs/log-store.js';
import { MasterMetrics } from './metrics/master-metrics.js';
import { timeStoreOperations } from './metrics/timed-store.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { DagService } from './dags/dag-service.js';
import { RegistryCredentialService } from './registries/registry-credential-service.js';
import { SecretBox } from './registries/secret-box.js';
import { TaskService } from './tasks/task-service.js';
import { TelemetryService } from './telemetry/telemetry-service.js';

export interface MasterHandle {
  httpPort: number;
  grpcPort: number;
  httpUrl: string;
  grpcAddress: string;
  joinToken: string;
  admin: { email: string; password: string };
  /** secrets generated on this start (first start of this data dir) */
  generatedSecrets: string[];
  store: Store;
  tasks: TaskService;
  registry: WorkerRegistry;
  auth: AuthService;
  /** task logs on disk (the REPL reads and follows them like REST does) */
  logs: LogStore;
  /** task outputs on disk (the REPL's `download`) */
  files: FileStore;
  logger: Logger;
  /** worker telemetry and history (GET /telemetry, /ws/telemetry, GET /api/workers/:id/metrics) */
  telemetry: TelemetryService;
  /** Prometheus metrics (GET /metrics) */
  metrics: MasterMetrics;
  /** DAG runs (docs/DAGS.md) */
  dags: DagService;
  /** where DAG artifacts live (disk, or S3 with WHARF_S3_ENDPOINT) */
  artifacts: ArtifactBackend;
  /** Orderly stop: closes listeners and the store. */
  stop(): Promise<void>;
}

export async function startMaster(config: MasterConfig, options: { logger?: Logger } = {}): Promise<MasterHandle> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const secrets = resolveSecrets(config.dataDir, {
    jwtSecret: config.jwtSecret,
    joinToken: config.joinToken,
    adminPassword: config.admin.password,
  });
  const metrics = new MasterMetrics();
  // every store operation is timed for wharf_store_operation_seconds
  const store = timeStoreOperations(await openStore(config, logger.child({ component: 'store' })), (operation, seconds, ok) =>
    metrics.observeStoreOperation(operation, seconds, ok),
  );
  const auth = new AuthService(store, {
    jwtSecret: secrets.jwtSecret,
    jwtTtlMs: config.jwtTtlMs,
    loginRateLimitPerMinute: config.loginRateLimitPerMinute,
  });
  await auth.ensureAdmin(config.admin.email, secrets.adminPassword);

  const registry = new WorkerRegistry(store, logger.child({ component: 'cluster' }), {
    heartbeatTtlMs: config.heartbeatTtlMs,
    reconnectGraceMs: config.reconnectGraceMs,
  });
  const logs = new LogStore(config.dataDir, config.maxLogBytesPerAttempt);
  const files = new FileStore(config.dataDir, config.maxOutputBytesPerTask);
  await files.init();
  // DAG artifacts: S3/MinIO when configured (workers get presigned URLs), else the data dir
  const artifacts: ArtifactBackend = config.s3
    ? new S3ArtifactBackend(config.s3, join(config.dataDir, 'artifacts-staging'))
    : new DiskArtifactBackend(config.dataDir);
  await artifacts.init();
  const presign = artifacts.presignedGetUrl?.bind(artifacts);
  const tasks = new TaskService(store, registry, logs, files, logger.child({ component: 'tasks' }), {
    retryBackoffMs: config.retryBackoffMs,
    retryBackoffMaxMs: config.retryBackoffMaxMs,
    cancelGraceMs: config.cancelGraceMs,
    allowUserExec: config.allowUserExec,
    limits: config.taskLimits,
    inputUrl: presign ? (sha256) => presign(sha256, 6 * 3600) : undefined,
  });
  // users' registry credentials, sealed with the data dir's key; assignments carry them when needed
  const registryCredentials = new RegistryCredentialService(store, new SecretBox(secrets.credentialsKey), logger.child({ component: 'registries' }));
  await registryCredentials.load();
  tasks.useRegistryCredentials(registryCredentials);
  const dags = new DagService(store, tasks, files, artifacts, logger.child({ component: 'dags' }));
  registry.setListener({
    workerLost: (workerId) => {
      tasks.workerLost(workerId).catch((error: unknown) => logger.error({ err: error, workerId }, 'requeue of a lost worker failed'));
    },
    workerReady: () => tasks.scheduleSoon(),
  });
  const telemetry = new TelemetryService(registry, tasks, {
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    historyMs: config.telemetryHistoryMs,
  });
  metrics.bind({ tasks, registry });
  await registry.load();
  await tasks.recover();
  await dags.recover();
  telemetry.seed(await store.listUnfinishedTasks());

  const heartbeatStats = new HeartbeatStats();
  const gateway = new WorkerGateway({
    registry,
    tasks,
    auth,
    logs,
    files,
    logger: logger.child({ component: 'grpc' }),
    joinToken: secrets.joinToken,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatStats,
    metrics,
    artifacts,
  });
  const grpcPort = await gateway.listen(config.grpc.host, config.grpc.port);

  const app = createHttpApp({
    auth,
    tasks,
    registry,
    logs,
    files,
    heartbeatStats,
    telemetry,
    metrics,
    dags,
    registryCredentials,
    logger: logger.child({ component: 'http' }),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.http.port, config.http.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.http.port;
  const live = new LiveServer(
    { auth, tasks, registry, logs, telemetry, metrics, logger: logger.child({ component: 'live' }) },
    config.ws,
  );
  live.attach(server);

  const livenessTimer = setInterval(
    () => {
      registry.checkLiveness().catch((error: unknown) => logger.error({ err: error }, 'liveness check failed'));
    },
    Math.max(100, Math.min(1000, Math.floor(config.heartbeatTtlMs / 5))),
  );

  const displayHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
  const grpcHost = config.grpc.host === '0.0.0.0' || config.grpc.host === '::' ? 'localhost' : config.grpc.host;
  logger.info({ httpPort, grpcPort, dataDir: config.dataDir }, 'master started');

  let stopped = false;
  return {
    httpPort,
    grpcPort,
    httpUrl: `http://${displayHost}:${httpPort}`,
    grpcAddress: config.grpc.publicAddress ?? `${grpcHost}:${grpcPort}`,
    joinToken: secrets.joinToken,
    admin: { email: config.admin.email, password: secrets.adminPassword },
    generatedSecrets: secrets.generated,
    store,
    tasks,
    registry,
    auth,
    logs,
    files,
    logger,
    telemetry,
    metrics,
    dags,
    artifacts,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(livenessTimer);
      tasks.stop();
      dags.stop();
      registry.closeAll();
      await live.close();
      telemetry.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await tasks.idle();
      await dags.idle();
      logs.close();
      await store.close();
      metrics.close();
      logger.info('master stopped');
    },
  };
}
