// The master's one composition root: builds every component and passes collaborators
// explicitly, so a test can start a master (and workers) in one process. No globals.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import type { ArtifactBackend } from './artifacts/artifact-backend.js';
import { DiskFloor } from './files/disk-floor.js';
import { GarbageCollector } from './gc/garbage-collector.js';
import { StorageUsage } from './gc/storage-usage.js';
import { DiskArtifactBackend } from './artifacts/disk-artifact-backend.js';
import { AuditTrail } from './audit/audit-trail.js';
import { AuthService, type RegistrationMode } from './auth/auth-service.js';
import { UserAdmin, type CancelledWork } from './auth/user-admin.js';
import { WharfError } from './errors.js';
import { TokenBucketLimiter } from './auth/rate-limiter.js';
import { HeartbeatStats } from './cluster/heartbeat-stats.js';
import { JoinKit, oneLineJoinCommand, publicKeyPin } from './cluster/join-kit.js';
import { JoinTokens } from './cluster/join-tokens.js';
import { fenceCommits } from './leadership/fenced-store.js';
import { LeaderProxy } from './leadership/leader-proxy.js';
import { LEASE_NAME, Leadership } from './leadership/leadership.js';
import { WorkerIdentity } from './cluster/worker-identity.js';
import { WorkerRegistry } from './cluster/worker-registry.js';
import type { MasterConfig } from './config/master-config.js';
import { regenerateJoinToken, resolveSecrets } from './config/secrets.js';
import { ClusterPki, loadHttpsCertificate } from './pki/cluster-pki.js';
import { FileStore } from './files/file-store.js';
import { WorkerGateway } from './grpc/worker-gateway.js';
import { createHttpApp } from './http/http-app.js';
import { isLoopbackHost, listenHttp } from './http/http-listener.js';
import type { OneLineJoin } from './http/join-routes.js';
import { createLogger, type Logger } from './logger.js';
import { LiveServer } from './live/live-server.js';
import { LogStore } from './logs/log-store.js';
import { MasterMetrics } from './metrics/master-metrics.js';
import { timeStoreOperations } from './metrics/timed-store.js';
import { openStore } from './store/open-store.js';
import { StorageAlarm, watchStorage } from './store/storage-alarm.js';
import type { Store } from './store/store.js';
import type { User } from './records/user.js';
import { DagService } from './dags/dag-service.js';
import { GangService } from './gangs/gang-service.js';
import { RegistryCredentialService } from './registries/registry-credential-service.js';
import { QueueCatalog } from './queues/queue-catalog.js';
import { QueueService } from './queues/queue-service.js';
import { SecretBox } from './registries/secret-box.js';
import { TaskService } from './tasks/task-service.js';
import { TelemetryService } from './telemetry/telemetry-service.js';

export interface MasterHandle {
  httpPort: number;
  grpcPort: number;
  httpUrl: string;
  /** the REST app (its routes are listed against the OpenAPI document by test/openapi.test.ts) */
  httpApp: Express;
  grpcAddress: string;
  /** the start join token (one of the join tokens; see cluster/join-tokens.ts) */
  joinToken: string;
  /** where the start token is kept, when the master keeps it (<dataDir>/join-token) */
  joinTokenFile?: string | undefined;
  /** `sha256:…` of the serving CA: what workers pin with --ca-hash */
  caHash: string;
  /** the serving CA (PEM): GET /api/cluster/ca.crt, and what a worker may pass with --ca-file */
  caCertificatePem: string;
  /** the line that joins a worker (the token inline only when it was generated on this start) */
  joinCommand: string;
  /**
   * the one-line join for a machine with no clone (curl … /join.sh | sh), the token as in
   * joinCommand; undefined when this master has no worker bundle to serve (not built)
   */
  oneLineJoinCommand: string | undefined;
  /** what the one-line join does not protect against (plain HTTP beyond loopback), or why it is unavailable */
  oneLineJoinWarning: string | undefined;
  /** curl's `sha256//…` pin of the HTTPS key (what the one-line join pins); undefined over plain HTTP */
  httpsKeyPin: string | undefined;
  /** the one-line join with `token` in it, as the bundle is now; undefined while there is none */
  oneLineJoinFor(token: string): Promise<string | undefined>;
  admin: { email: string; password: string };
  /** secrets generated on this start (first start of this data dir) */
  generatedSecrets: string[];
  store: Store;
  tasks: TaskService;
  registry: WorkerRegistry;
  auth: AuthService;
  /** join tokens (REST /api/join-tokens, the REPL) */
  joinTokens: JoinTokens;
  /** worker certificates: enrolment, checks, removal */
  identity: WorkerIdentity;
  /** queues and user limits (REST /api/queues, the REPL) */
  queues: QueueService;
  /** task logs on disk (the REPL reads and follows them like REST does) */
  logs: LogStore;
  /** task outputs on disk (the REPL's `download`) */
  files: FileStore;
  logger: Logger;
  /** worker telemetry and history (GET /telemetry, /ws/telemetry, GET /api/workers/:id/metrics) */
  telemetry: TelemetryService;
  /** user administration (REST /api/users, the REPL's users/user/invite) */
  users: UserAdmin;
  /** the audit trail (GET /api/audit, the REPL's audit; the REPL records its changes in it) */
  audit: AuditTrail;
  /** who may register (WHARF_REGISTRATION, or the default for the listen address) */
  registration: RegistrationMode;
  /** Prometheus metrics (GET /metrics) */
  metrics: MasterMetrics;
  /** DAG runs (docs/DAGS.md) */
  dags: DagService;
  gangs: GangService;
  /** where DAG artifacts live (disk, or S3 with WHARF_S3_ENDPOINT) */
  artifacts: ArtifactBackend;
  /** retention: the garbage collector (POST /api/admin/gc, the REPL's gc) */
  gc: GarbageCollector;
  /** per-user storage usage and quota (GET /api/usage) */
  usage: StorageUsage;
  /** several masters on one store: this master's part (role, epoch, the leader it knows) */
  leadership: Leadership;
  /**
   * Called once when this master stops leading (its lease was taken over, or a commit was refused
   * for its epoch): its systems are stopped and its worker streams closed already; it stays up as
   * a standby that no longer tries to lead. The CLI then stops and exits (code 75) so that a
   * supervisor restarts it as a fresh standby.
   */
  onSteppedDown(listener: (reason: string) => void): void;
  /** Orderly stop: closes listeners and the store (a leader releases its lease first). */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** the dashboard's build to serve; default: ui/dist of this checkout */
  uiDir?: string;
  /** where the one-line join's worker bundle and join.sh template are (default: worker/dist of this checkout) */
  joinKitDir?: string;
}

export async function startMaster(config: MasterConfig, options: StartOptions = {}): Promise<MasterHandle> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const secrets = resolveSecrets(config.dataDir, {
    jwtSecret: config.jwtSecret,
    joinToken: config.joinToken,
    adminPassword: config.admin.password,
  });
  const metrics = new MasterMetrics();
  // a full data dir is logged once per episode, whoever's write found it (store/storage-alarm.ts)
  const storageAlarm = new StorageAlarm(logger.child({ component: 'storage' }));
  // every store operation is timed for wharf_store_operation_seconds
  const rawStore = watchStorage(
    timeStoreOperations(await openStore(config, logger.child({ component: 'store' })), (operation, seconds, ok) =>
      metrics.observeStoreOperation(operation, seconds, ok),
    ),
    storageAlarm,
  );
  // several masters: every commit carries this master's lease epoch (leadership/fenced-store.ts);
  // the leadership itself is made once the advertised addresses are known (after the listens)
  let leadership: Leadership | undefined;
  const store = fenceCommits(rawStore, {
    leaseName: LEASE_NAME,
    epoch: () => leadership?.epoch(),
    refused: (error) => leadership?.refused(error),
  });
  const leads = (): boolean => leadership?.isLeader() ?? false;
  // registration: invite-only by default once the API is reachable beyond this machine
  const registration: RegistrationMode = config.registration ?? (isLoopbackHost(config.http.host) ? 'open' : 'invite');
  const auth = new AuthService(store, {
    jwtSecret: secrets.jwtSecret,
    jwtTtlMs: config.jwtTtlMs,
    loginRateLimitPerMinute: config.loginRateLimitPerMinute,
    registration,
    sessionMaxAgeMs: config.sessionMaxAgeMs,
    authRateLimitPerMinute: config.authRateLimitPerMinute,
    authGlobalRateLimitPerMinute: config.authGlobalRateLimitPerMinute,
  });
  await auth.load();
  await auth.ensureAdmin(config.admin.email, secrets.adminPassword);
  const audit = new AuditTrail(store, logger.child({ component: 'audit' }), { retentionMs: config.auditRetentionMs });
  const pki = await ClusterPki.load(
    {
      dataDir: config.dataDir,
      caCertFile: config.tls.caCertFile,
      caKeyFile: config.tls.caKeyFile,
      certFile: config.tls.certFile,
      keyFile: config.tls.keyFile,
      extraNames: config.tls.sans,
      hosts: [
        config.grpc.host,
        config.http.host,
        ...(config.grpc.publicAddress ? [hostOf(config.grpc.publicAddress)] : []),
        ...(config.leadership.advertiseHost ? [config.leadership.advertiseHost] : []),
      ],
      workerCertValidityMs: config.tls.workerCertValidityMs,
    },
    logger.child({ component: 'pki' }),
  );
  // the start token is one of the join tokens; a generated one an admin revoked is replaced
  const joinTokens = new JoinTokens(store, logger.child({ component: 'join-tokens' }));
  let joinToken = secrets.joinToken;
  const tokenSource = config.joinToken ? 'config' : 'generated';
  if (!(await joinTokens.ensureStartToken(joinToken, tokenSource)).usable && tokenSource === 'generated') {
    joinToken = regenerateJoinToken(config.dataDir);
    secrets.generated.push('join-token');
    await joinTokens.ensureStartToken(joinToken, tokenSource);
  }

  const registry = new WorkerRegistry(store, logger.child({ component: 'cluster' }), {
    heartbeatTtlMs: config.heartbeatTtlMs,
    reconnectGraceMs: config.reconnectGraceMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxStopAfterMs: config.maxStopAfterMs,
  });
  const logs = new LogStore(config.dataDir, config.maxLogBytesPerAttempt);
  // below the free-space floor uploads are refused as storage_full (files/disk-floor.ts)
  const diskFloor = new DiskFloor(config.dataDir, config.minFreeDisk);
  const files = new FileStore(config.dataDir, config.maxOutputBytesPerTask, diskFloor);
  await files.init();
  // DAG artifacts: S3/MinIO when configured (workers get presigned URLs), else the data dir
  // (the S3 client is loaded only when configured: it takes a noticeable part of a master's start)
  const artifacts: ArtifactBackend = config.s3
    ? new (await import('./artifacts/s3-artifact-backend.js')).S3ArtifactBackend(config.s3, join(config.dataDir, 'artifacts-staging'))
    : new DiskArtifactBackend(config.dataDir);
  await artifacts.init();
  const presign = artifacts.presignedGetUrl?.bind(artifacts);
  // the queues and user limits the scheduler reads (the default queue created on a new store)
  const queueCatalog = new QueueCatalog();
  await queueCatalog.load(store, Date.now());
  const tasks = new TaskService(store, registry, logs, files, logger.child({ component: 'tasks' }), {
    queues: queueCatalog,
    reserveAfterMs: config.reserveAfterMs,
    retryBackoffMs: config.retryBackoffMs,
    retryBackoffMaxMs: config.retryBackoffMaxMs,
    cancelGraceMs: config.cancelGraceMs,
    allowUserExec: config.allowUserExec,
    limits: config.taskLimits,
    inputUrl: presign ? (sha256) => presign(sha256, 6 * 3600) : undefined,
    // the leadership gate: from taking the lease (the recovery commits with its epoch) until stepping down
    leading: () => leadership?.epoch() !== undefined,
  });
  // users' registry credentials, sealed with the data dir's key; assignments carry them when needed
  const registryCredentials = new RegistryCredentialService(store, new SecretBox(secrets.credentialsKey), logger.child({ component: 'registries' }));
  await registryCredentials.load();
  tasks.useRegistryCredentials(registryCredentials);
  const queues = new QueueService(store, queueCatalog, tasks);
  // per-user storage usage and the storage quota on submissions (gc/storage-usage.ts)
  const usage = new StorageUsage({ store, logs, defaultQuotaBytes: config.userStorageQuotaBytes });
  tasks.useStorageQuota((user) => usage.check(user));
  const dags = new DagService(store, tasks, files, artifacts, logger.child({ component: 'dags' }));
  const gangs = new GangService(store, tasks, { clock: tasks.clock, logger: logger.child({ component: 'gangs' }) });
  const users = new UserAdmin({ store, auth, cancelWorkOf: (user, by) => cancelWorkOf(user, by) });
  // a deleted account's unfinished DAG runs, then its other unfinished tasks, are cancelled as the admin
  const cancelWorkOf = async (user: User, by: User): Promise<CancelledWork> => {
    const cancelled: CancelledWork = { tasks: 0, dags: 0 };
    const ignoreConflict = (error: unknown) => {
      if (!(error instanceof WharfError && (error.code === 'conflict' || error.code === 'not_found'))) throw error;
    };
    for (const run of await store.listUnfinishedDags()) {
      if (run.userId !== user.id) continue;
      await dags.cancel(by, run.id).then(() => void (cancelled.dags += 1), ignoreConflict);
    }
    for (const task of await store.listUnfinishedTasks()) {
      if (task.userId !== user.id) continue;
      await tasks.cancel(by, task.id).then(() => void (cancelled.tasks += 1), ignoreConflict);
    }
    return cancelled;
  };
  registry.setListener({
    // its attempts are held until it must have stopped them (fencing), then re-queued
    workerLost: (workerId) => {
      tasks.workerLost(workerId).catch((error: unknown) => logger.error({ err: error, workerId }, 'requeue of a lost worker failed'));
    },
    // removed by an admin (cluster/worker-identity.ts): held the same way, from its last contact
    workerRemoved: (worker) => {
      tasks.workerRemoved(worker).catch((error: unknown) => logger.error({ err: error, workerId: worker.record.id }, 'requeue of a removed worker failed'));
    },
    workerReady: () => tasks.scheduleSoon(),
  });
  const telemetry = new TelemetryService(registry, tasks, {
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    historyMs: config.telemetryHistoryMs,
  });
  metrics.bind({
    tasks,
    registry,
    gangs,
    dataDir: config.dataDir,
    queueNames: () => queueCatalog.list().map((q) => q.name),
    minFreeBytes: config.minFreeDisk ? () => diskFloor.bytes() : undefined,
    leadership: {
      isLeader: leads,
      get changes() {
        return leadership?.changes ?? 0;
      },
      get knownEpoch() {
        return leadership?.knownEpoch;
      },
    },
  });
  // retention (gc/garbage-collector.ts): every WHARF_GC_INTERVAL, and on demand
  const gc = new GarbageCollector({
    store,
    logs,
    files,
    artifacts,
    telemetry,
    isActive: (taskId) => tasks.isActive(taskId),
    retention: config.retention,
    batchSize: config.gcBatchSize,
    logger: logger.child({ component: 'gc' }),
    onReport: (report) => {
      metrics.countGcRun(report);
      if (!report.dryRun) usage.invalidate();
    },
  });

  const identity = new WorkerIdentity({
    registry,
    store,
    joinTokens,
    signer: pki,
    logger: logger.child({ component: 'identity' }),
    onRefused: (reason, rpc) => metrics.countWorkerRefusal(rpc, reason),
  });
  await identity.load();

  const grpcHost = config.grpc.host === '0.0.0.0' || config.grpc.host === '::' ? 'localhost' : config.grpc.host;
  const heartbeatStats = new HeartbeatStats();
  // with port 0 the address is known once the port is bound: the refusal reads it when used
  let grpcAddress = config.grpc.publicAddress ?? `${grpcHost}:${config.grpc.port}`;
  const joinTokenFile = tokenSource === 'generated' ? join(config.dataDir, 'join-token') : undefined;
  const joinCommand = (): string =>
    `./runWorker.sh --master ${grpcAddress} ${
      secrets.generated.includes('join-token') ? `--token ${joinToken}` : joinTokenFile ? `--token-file ${joinTokenFile}` : '--token-file <file with the join token>'
    } --ca-hash ${pki.caHash}`;
  const gateway = new WorkerGateway({
    registry,
    tasks,
    identity,
    tls: { clientCaPem: pki.clientCaPem, certChainPem: pki.serverCertChainPem, keyPem: pki.serverKeyPem, servingCaPem: pki.servingCaPem },
    cleartextRefusal: () =>
      `this master serves gRPC over TLS; join with --ca-hash ${pki.caHash} (see the join line the master prints: ./runWorker.sh --master ${grpcAddress} --token-file <file> --ca-hash ${pki.caHash})`,
    enrolmentLimiter: new TokenBucketLimiter(config.joinRateLimit.perMinute, config.joinRateLimit.burst),
    logs,
    files,
    storageAlarm,
    logger: logger.child({ component: 'grpc' }),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    heartbeatTtlMs: config.heartbeatTtlMs,
    heartbeatStats,
    metrics,
    artifacts,
    notLeader: () => {
      if (leads()) return undefined;
      const leader = leadership?.leader();
      return new WharfError('not_leader', leader ? `not the leader; the leader is ${leader.address}` : 'not the leader; no leader is known yet', {
        details: { leader: leader?.address ?? '' },
      });
    },
  });
  identity.onRemoved((workerId) => gateway.disconnectWorker(workerId));
  const grpcPort = await gateway.listen(config.grpc.host, config.grpc.port);
  grpcAddress = config.grpc.publicAddress ?? `${grpcHost}:${grpcPort}`;

  // HTTPS: always with --tls on; with auto (the default) when given a certificate for it, or
  // when the API listens beyond loopback
  const https =
    config.tls.http === 'on' || (config.tls.http === 'auto' && (config.tls.httpCertFile !== undefined || !isLoopbackHost(config.http.host)));
  const httpTls = !https
    ? undefined
    : config.tls.httpCertFile && config.tls.httpKeyFile
      ? loadHttpsCertificate(config.tls.httpCertFile, config.tls.httpKeyFile)
      : { certPem: pki.serverCertChainPem, keyPem: pki.serverKeyPem };

  // the one-line join: other machines fetch join.sh and the worker bundle over HTTPS pinned to
  // this key (the generated server key is kept across restarts, so printed lines stay valid)
  const httpsKeyPin = httpTls ? publicKeyPin(httpTls.certPem) : undefined;
  const joinKit = new JoinKit(options.joinKitDir);
  let httpPort = config.http.port;
  const joinHost = !isWildcardHost(config.http.host)
    ? config.http.host
    : config.grpc.publicAddress
      ? hostOf(config.grpc.publicAddress)
      : hostname();
  const oneLine: OneLineJoin = {
    kit: joinKit,
    url: () => `${httpTls ? 'https' : 'http'}://${urlHost(joinHost)}:${httpPort}`,
    pin: httpsKeyPin,
    grpcAddressFor: (host) =>
      config.grpc.publicAddress ?? (isWildcardHost(config.grpc.host) ? `${urlHost(host)}:${grpcPort}` : grpcAddress),
    warning:
      !httpTls && !isLoopbackHost(config.http.host)
        ? 'the API is plain HTTP beyond loopback (WHARF_TLS=off): anyone on the network path can replace join.sh; serve HTTPS (WHARF_TLS=auto or on) before using the one-line join across a network'
        : undefined,
  };

  let advertisedHttpUrl = '';
  const leaderProxy = new LeaderProxy({
    gate: { isLeader: leads, leader: () => leadership?.leader() },
    self: () => advertisedHttpUrl,
    ca: [pki.servingCaPem],
    logger: logger.child({ component: 'leader-proxy' }),
  });
  const app = createHttpApp({
    leaderProxy,
    leadership: () => {
      const leader = leadership?.leader();
      return {
        role: leads() ? 'leader' : 'standby',
        epoch: leadership?.knownEpoch ?? null,
        leader: leader?.address ?? null,
        leaderUrl: leader?.httpUrl ?? null,
      };
    },
    auth,
    tasks,
    registry,
    logs,
    files,
    heartbeatStats,
    telemetry,
    metrics,
    dags,
    gangs,
    joinTokens,
    identity,
    cluster: { grpcAddress: () => grpcAddress, caHash: pki.caHash, caCertificatePem: pki.servingCaPem, oneLine },
    registryCredentials,
    users,
    audit,
    store,
    queues,
    gc,
    usage,
    logger: logger.child({ component: 'http' }),
    uiDir: options.uiDir,
  });
  const listener = await listenHttp(app, { host: config.http.host, port: config.http.port, tls: httpTls, logger: logger.child({ component: 'http' }) });
  const server = listener.server;
  httpPort = listener.port;
  const live = new LiveServer(
    { auth, tasks, registry, logs, telemetry, metrics, gangs, logger: logger.child({ component: 'live' }) },
    config.ws,
  );
  // a standby relays WebSocket upgrades to the leader (the live feeds come from its systems)
  const upgradeListeners = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  live.attach(server);
  const liveUpgrade = server.listeners('upgrade') as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (leaderProxy.upgrade(req, socket, head)) return;
    for (const listener of liveUpgrade) listener(req, socket, head);
  });
  for (const listener of upgradeListeners) server.on('upgrade', listener);

  // housekeeping: the audit trail's age bound and ended sessions whose tokens have all expired
  const housekeeping = () => {
    audit.prune().then(
      (n) => n > 0 && logger.info({ entries: n, retentionMs: config.auditRetentionMs }, 'pruned old audit entries'),
      (error: unknown) => logger.error({ err: error }, 'audit pruning failed'),
    );
    auth.pruneEndedSessions().catch((error: unknown) => logger.error({ err: error }, 'pruning ended sessions failed'));
  };
  let housekeepingTimer: NodeJS.Timeout | undefined;
  let livenessTimer: NodeJS.Timeout | undefined;

  // several masters: the advertised addresses, then the lease (a master alone takes it at once)
  const advertiseHost = config.leadership.advertiseHost ?? (isWildcardHost(config.grpc.host) ? 'localhost' : config.grpc.host);
  const advertisedGrpc = config.grpc.publicAddress ?? `${urlHost(advertiseHost)}:${grpcPort}`;
  advertisedHttpUrl = `${listener.scheme}://${urlHost(config.leadership.advertiseHost ?? (isWildcardHost(config.http.host) ? 'localhost' : config.http.host))}:${httpPort}`;
  const steppedDownListeners: ((reason: string) => void)[] = [];
  // a standby serves stored reads: it re-reads the ended sessions (logouts on the leader) every 5 s
  const standbyRefresh = setInterval(() => {
    if (!leads()) auth.load().catch((error: unknown) => logger.warn({ err: error }, 'could not re-read the ended sessions'));
  }, 5000);
  standbyRefresh.unref();
  leadership = new Leadership(
    rawStore,
    { leaseTtlMs: config.leadership.leaseTtlMs, renewIntervalMs: config.leadership.renewIntervalMs, address: advertisedGrpc, httpUrl: advertisedHttpUrl },
    logger.child({ component: 'leadership' }),
  );
  await leadership.start({
    // the same recovery as a restarted master, then the leader's timers
    elected: async () => {
      clearInterval(standbyRefresh);
      // what changed while this master was a standby: ended sessions, revoked certificates, queues
      await auth.load();
      await identity.load();
      await queueCatalog.load(store, Date.now());
      await registry.load();
      await tasks.recover();
      await dags.recover();
      await gangs.recover();
      const unfinished = await store.listUnfinishedTasks();
      telemetry.seed(unfinished);
      metrics.seed(unfinished);
      // housekeeping: the audit trail's age bound and ended sessions whose tokens have all expired
      housekeeping();
      housekeepingTimer = setInterval(housekeeping, 3600_000);
      housekeepingTimer.unref();
      livenessTimer = setInterval(
        () => {
          registry.checkLiveness().catch((error: unknown) => logger.error({ err: error }, 'liveness check failed'));
        },
        Math.max(100, Math.min(1000, Math.floor(config.heartbeatTtlMs / 5))),
      );
      // retention (gc/garbage-collector.ts): the periodic run is the leader's (its deletes are leader writes)
      if (config.gcIntervalMs !== undefined) {
        gc.start(config.gcIntervalMs, (report) =>
          audit.record({ address: 'master', action: 'gc.run', object: `gc:tasks=${report.removed.tasks},dagRuns=${report.removed.dagRuns},bytesFreed=${report.bytesFreed}`, outcome: 'ok', status: 0 }),
        );
      }
      tasks.scheduleSoon();
    },
    // no longer the leader: nothing more is placed, timed or accepted; workers go to the new leader
    steppedDown: (reason) => {
      clearInterval(livenessTimer);
      clearInterval(housekeepingTimer);
      tasks.stop();
      dags.stop();
      gangs.stop();
      gc.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the garbage collector failed'));
      registry.closeAll();
      for (const listener of steppedDownListeners) listener(reason);
    },
  });

  const displayHost = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
  logger.info({ httpPort, grpcPort, dataDir: config.dataDir, caHash: pki.caHash }, 'master started');
  const oneLineUnavailable = await joinKit.unavailableReason();
  if (oneLineUnavailable) logger.warn({ dir: joinKit.dir }, `the one-line join is unavailable: ${oneLineUnavailable}`);
  const oneLineToken = secrets.generated.includes('join-token') ? joinToken : '<join token>';

  let stopped = false;
  return {
    httpPort,
    grpcPort,
    httpUrl: `${listener.scheme}://${displayHost}:${httpPort}`,
    httpApp: app,
    grpcAddress,
    joinToken,
    joinTokenFile,
    caHash: pki.caHash,
    caCertificatePem: pki.servingCaPem,
    joinCommand: joinCommand(),
    oneLineJoinCommand: oneLineUnavailable ? undefined : oneLineJoinCommand({ url: oneLine.url(), pin: httpsKeyPin, token: oneLineToken, caHash: pki.caHash }),
    oneLineJoinWarning: oneLineUnavailable ?? oneLine.warning,
    httpsKeyPin,
    async oneLineJoinFor(token: string) {
      if (await joinKit.unavailableReason()) return undefined;
      return oneLineJoinCommand({ url: oneLine.url(), pin: httpsKeyPin, token, caHash: pki.caHash });
    },
    admin: { email: config.admin.email, password: secrets.adminPassword },
    generatedSecrets: secrets.generated,
    store,
    tasks,
    registry,
    auth,
    joinTokens,
    identity,
    queues,
    logs,
    files,
    logger,
    telemetry,
    metrics,
    dags,
    gangs,
    artifacts,
    users,
    audit,
    gc,
    usage,
    registration,
    leadership,
    onSteppedDown(listener) {
      steppedDownListeners.push(listener);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(standbyRefresh);
      clearInterval(livenessTimer);
      clearInterval(housekeepingTimer);
      await gc.stop();
      tasks.stop();
      dags.stop();
      gangs.stop();
      registry.closeAll();
      await live.close();
      telemetry.close();
      await listener.close();
      await gateway.close();
      await tasks.idle();
      await dags.idle();
      await gangs.idle();
      // after the last commit: a standby takes over at once instead of after the TTL
      await leadership?.stop();
      await audit.flush();
      logs.close();
      await store.close();
      metrics.close();
      logger.info('master stopped');
    },
  };
}

function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** A host as it goes before `:port` in a URL or address: IPv6 in brackets. */
function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** The host of `host:port` (or `[v6]:port`). */
function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colon = address.lastIndexOf(':');
  return colon > 0 ? address.slice(0, colon) : address;
}
