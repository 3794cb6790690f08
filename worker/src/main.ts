// The worker's composition root: builds every part from the config and wires them together.
// Nothing is global, so one process can run several workers (the tests run a master and two
// workers side by side).
//
// Order matters: the worker trusts the master (its CA: saved, --ca-file, or discovered by
// --ca-hash, from the first of several masters that answers: they share one cluster CA) and joins it (a certificate; identity/) before the runtimes start, because the
// runtimes label containers and pods with the worker id, which is the certificate's.
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { RuntimeName, WorkerConfig } from './config/worker-config.js';
import { caCertificateHash } from '@wharf/proto';
import { CertificateRenewal } from './identity/certificate-renewal.js';
import { CaPinMismatch, discoverPinnedCa, fetchPresentedChain } from './identity/ca-discovery.js';
import { enrol } from './identity/enrolment.js';
import { loadStoredTrust, saveCa, saveCredentials, tlsDirOf, type WorkerCredentials } from './identity/worker-credentials.js';
import { Backoff, sleep, type BackoffOptions } from './retry/backoff.js';
import { createWorkerLogger } from './logger.js';
import { ArtifactCache } from './cache/artifact-cache.js';
import { ResultOutbox } from './outbox/result-outbox.js';
import { OutputUploader } from './outputs/output-uploader.js';
import { DockerRuntime } from './runtime/docker-runtime.js';
import { ExecRuntime } from './runtime/exec-runtime.js';
import { createKubernetesSetup } from './runtime/kubernetes-setup.js';
import { errorMessage } from './runtime/runtime-error.js';
import type { TaskRuntime } from './runtime/task-runtime.js';
import { GatewayConnection } from './session/gateway-connection.js';
import { masterEntries } from './session/master-candidates.js';
import { declaredFencing, MasterSession } from './session/master-session.js';
import { detectCapacity } from './telemetry/capacity.js';
import { UsageSampler } from './telemetry/usage-sampler.js';

export interface WorkerHandle {
  /** the worker id, from its certificate (the master chose it when the worker joined) */
  readonly workerId: string;
  /** Resolves once the first registration with the master succeeded. */
  readonly registered: Promise<void>;
  /** Stops the session. By default also stops running attempts; with {leaveRunning:true} containers keep running (used to test recover()). */
  stop(options?: { leaveRunning?: boolean }): Promise<void>;
}

/**
 * Starts a worker. A worker that has not joined yet joins first (this waits, retrying, until
 * the master answers and takes the join token); `signal` gives up on that wait.
 */
export async function startWorker(config: WorkerConfig, options: { logger?: Logger; signal?: AbortSignal } = {}): Promise<WorkerHandle> {
  const rootLogger = options.logger ?? createWorkerLogger({ level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const backoff = { baseMs: config.reconnectBaseMs, maxMs: config.reconnectMaxMs };
  const stored = await loadStoredTrust(config.dataDir);
  const caPem = await trustedCa(config, stored.caPem, backoff, rootLogger, options.signal);
  // a kubernetes worker advertises what the cluster offers it (flags or namespace quota), not this machine
  const kubernetes = config.runtimes.includes('kubernetes') ? await createKubernetesSetup(config, rootLogger) : undefined;
  // GPU ids: a Kubernetes worker offers a count (the device plugin picks the cards)
  const detected = kubernetes ? { capacity: kubernetes.capacity, gpuIds: [] } : await detectCapacity(config.dataDir, config.capacityCaps, config.gpuIds);
  const { capacity, gpuIds } = detected;
  const version = await readVersion();
  let credentials: WorkerCredentials | undefined = stored.credentials;
  if (!credentials) {
    if (!config.joinToken) {
      throw new Error(
        `this worker has not joined a master yet (no certificate in ${tlsDirOf(config.dataDir)}): give the join token with --token-file FILE or WHARF_JOIN_TOKEN (the master prints its join line at start)`,
      );
    }
    const joined = await enrol({
      masterAddress: config.masterAddress,
      caPem,
      serverName: config.tlsServerName,
      joinToken: config.joinToken,
      fields: { name: config.name, hostname: os.hostname(), capacity, gpuIds, advertiseAddress: config.advertiseAddress ?? '', runtimes: config.runtimes, labels: config.labels, version, fencing: declaredFencing(config) },
      backoff,
      logger: rootLogger,
      signal: options.signal,
    });
    credentials = await saveCredentials(config.dataDir, joined.keyPem, joined.certPem);
    if (joined.caPem !== caPem) await saveCa(config.dataDir, joined.caPem);
  }
  const workerId = credentials.workerId;
  const logger = rootLogger.child({ workerId });

  const outbox = await ResultOutbox.open(path.join(config.dataDir, 'outbox'), logger.child({ component: 'outbox' }));
  const attemptsDir = path.join(config.dataDir, 'attempts');
  await mkdir(attemptsDir, { recursive: true, mode: 0o755 });
  // DAG inputs by sha256 in <dataDir>/cache, LRU-bounded (--cache-max-bytes, default 10 GiB)
  const cache = await ArtifactCache.open({ dataDir: config.dataDir, maxBytes: config.cacheMaxBytes, logger: logger.child({ component: 'cache' }) });

  const runtimes = new Map<RuntimeName, TaskRuntime>();
  for (const name of config.runtimes) {
    if (name === 'kubernetes' && kubernetes) runtimes.set(name, kubernetes.createRuntime(workerId));
    else if (name === 'docker') runtimes.set(name, await createDockerRuntime(config, workerId, logger));
    else runtimes.set(name, new ExecRuntime({ stateDir: path.join(config.dataDir, 'exec-groups'), logger: logger.child({ component: 'exec' }) }));
  }

  const sampler = new UsageSampler({
    dataDir: config.dataDir,
    intervalMs: config.heartbeatIntervalMs,
    hasGpu: capacity.gpu > 0,
    logger: logger.child({ component: 'telemetry' }),
  });
  const gateway = new GatewayConnection(config.masterAddress, backoff, {
    caPem,
    keyPem: credentials.keyPem,
    certPem: credentials.certPem,
    serverName: config.tlsServerName,
  });
  const uploader = new OutputUploader({ gateway, backoff, logger: logger.child({ component: 'outputs' }) });
  const session = new MasterSession({
    config,
    workerId,
    certificate: new CertificateRenewal(config.dataDir, credentials, gateway, logger.child({ component: 'certificate' })),
    hostname: os.hostname(),
    version,
    capacity,
    gpuIds,
    gateway,
    outbox,
    sampler,
    runtimes,
    uploader,
    attemptsDir,
    logger,
    cache,
    contactFile: path.join(config.dataDir, 'last-contact.json'),
  });

  try {
    await session.recover();
  } catch (error: unknown) {
    gateway.close();
    throw error;
  }
  sampler.start();
  session.start();
  logger.info({ master: config.masterAddress, runtimes: config.runtimes, capacity, gpuIds }, 'worker started');

  let stopping: Promise<void> | undefined;
  return {
    workerId,
    registered: session.registered,
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        try {
          await session.stop(stopOptions);
        } finally {
          sampler.stop();
          await cache.close().catch((error: unknown) => logger.warn({ err: error }, 'could not write the artifact cache index'));
          gateway.close();
          logger.info({ leaveRunning: stopOptions.leaveRunning ?? false }, 'worker stopped');
        }
      })();
      return stopping;
    },
  };
}

/**
 * The CA the master is verified with: the one saved when the worker first met the master, else
 * --ca-file, else the one the master presents whose hash --ca-hash pins (retrying while the
 * master cannot be reached), else — only with --insecure-skip-ca-verification — whatever it
 * presents. A saved CA that --ca-hash does not pin means another master: refused.
 */
async function trustedCa(config: WorkerConfig, saved: string | undefined, backoff: BackoffOptions, logger: Logger, signal?: AbortSignal): Promise<string> {
  const tlsDir = tlsDirOf(config.dataDir);
  if (saved !== undefined) {
    const savedHash = caCertificateHash(saved);
    if (config.caHash !== undefined && config.caHash !== savedHash) {
      throw new Error(
        `this worker trusts another master's CA (${tlsDir}/ca.crt is ${savedHash}, --ca-hash pins ${config.caHash}): to join the pinned master, remove ${tlsDir} and start again with its join token`,
      );
    }
    return saved;
  }
  let caPem: string;
  if (config.caFile !== undefined) {
    caPem = await readFile(config.caFile, 'utf8');
    caCertificateHash(caPem); // throws on a file that is no certificate
  } else if (config.caHash !== undefined) {
    caPem = await retryUntilReached('fetch the master\'s CA', () => firstAnswering(config.masterAddress, (address) => discoverPinnedCa(address, config.caHash!, { serverName: config.tlsServerName })), backoff, logger, signal);
    logger.info({ master: config.masterAddress, caHash: config.caHash }, 'the master presented the pinned CA; trusting it from now on');
  } else if (config.insecureSkipCaVerification) {
    const chain = await retryUntilReached('fetch the master\'s CA', () => firstAnswering(config.masterAddress, (address) => fetchPresentedChain(address, { serverName: config.tlsServerName })), backoff, logger, signal);
    const root = chain[chain.length - 1];
    if (!root) throw new Error(`the master at ${config.masterAddress} presented no certificate`);
    caPem = root.toString();
    logger.warn(
      { master: config.masterAddress, caHash: caCertificateHash(root) },
      'INSECURE: --insecure-skip-ca-verification trusts whatever answers at the master address; anyone on the path could have answered. Use --ca-hash outside throwaway labs',
    );
  } else {
    throw new Error(
      `this worker does not know how to trust the master yet: pass --ca-hash sha256:… (WHARF_CA_HASH) from the join line the master prints, or --ca-file with the master's CA (GET /api/cluster/ca.crt)`,
    );
  }
  await saveCa(config.dataDir, caPem);
  return caPem;
}

/**
 * Asks the masters of --master in turn (standbys present the same cluster CA as the leader);
 * answers the first answer. A CA pin mismatch is not passed over: it stops at once.
 */
async function firstAnswering<T>(masterAddress: string, ask: (address: string) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const address of masterEntries(masterAddress)) {
    try {
      return await ask(address);
    } catch (error: unknown) {
      if (error instanceof CaPinMismatch) throw error;
      last = error;
    }
  }
  throw last;
}

/** Retries `attempt` with backoff while it fails for a reason other than a CA pin mismatch. */
async function retryUntilReached<T>(what: string, attempt: () => Promise<T>, options: BackoffOptions, logger: Logger, signal?: AbortSignal): Promise<T> {
  const backoff = new Backoff(options);
  for (;;) {
    try {
      return await attempt();
    } catch (error: unknown) {
      if (error instanceof CaPinMismatch || signal?.aborted) throw error;
      logger.warn({ reason: errorMessage(error) }, `cannot ${what} yet (retrying)`);
    }
    await sleep(backoff.nextDelayMs(), signal);
    if (signal?.aborted) throw new Error('stopped before the worker reached the master');
  }
}

async function createDockerRuntime(config: WorkerConfig, workerId: string, logger: Logger): Promise<DockerRuntime> {
  const docker = new Dockerode(config.dockerSocketPath ? { socketPath: config.dockerSocketPath } : undefined);
  try {
    await docker.ping();
  } catch (error: unknown) {
    const where = config.dockerSocketPath ?? process.env['DOCKER_HOST'] ?? '/var/run/docker.sock';
    throw new Error(
      `the Docker engine at ${where} does not answer (${errorMessage(error)}): start Docker, set DOCKER_HOST, or run with --runtimes exec`,
      { cause: error },
    );
  }
  const runtime = new DockerRuntime({
    docker,
    workerId,
    pidsLimit: config.pidsLimit,
    logger: logger.child({ component: 'docker' }),
    taskNetwork: config.taskNetwork,
    defaultUser: config.defaultUser,
  });
  // the tasks network (a bridge without traffic between tasks): made now, or the worker says why not
  await runtime.prepare();
  return runtime;
}

/** Set only inside the one-file bundle (worker/scripts/bundle.mjs): worker/package.json's version. */
declare const __WHARF_BUNDLED_VERSION__: string | undefined;

/** The worker package's version (worker/package.json, one level above src/ and dist/; the bundle's own). */
async function readVersion(): Promise<string> {
  if (typeof __WHARF_BUNDLED_VERSION__ === 'string') return __WHARF_BUNDLED_VERSION__;
  try {
    const pkg: unknown = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // fall through
  }
  return '0.0.0';
}
