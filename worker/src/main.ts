// The worker's composition root: builds every part from the config and wires them together.
// Nothing is global, so one process can run several workers (the tests run a master and two
// workers side by side).
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { Logger } from 'pino';
import type { RuntimeName, WorkerConfig } from './config/worker-config.js';
import { loadOrCreateWorkerId } from './identity/worker-identity.js';
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
import { MasterSession } from './session/master-session.js';
import { detectCapacity } from './telemetry/capacity.js';
import { UsageSampler } from './telemetry/usage-sampler.js';

export interface WorkerHandle {
  readonly workerId: string;
  /** Resolves once the first registration with the master succeeded. */
  readonly registered: Promise<void>;
  /** Stops the session. By default also stops running attempts; with {leaveRunning:true} containers keep running (used to test recover()). */
  stop(options?: { leaveRunning?: boolean }): Promise<void>;
}

export async function startWorker(config: WorkerConfig, options: { logger?: Logger } = {}): Promise<WorkerHandle> {
  const rootLogger = options.logger ?? createWorkerLogger({ level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const workerId = await loadOrCreateWorkerId(config.dataDir);
  const logger = rootLogger.child({ workerId });

  const outbox = await ResultOutbox.open(path.join(config.dataDir, 'outbox'), logger.child({ component: 'outbox' }));
  const attemptsDir = path.join(config.dataDir, 'attempts');
  await mkdir(attemptsDir, { recursive: true, mode: 0o755 });
  // DAG inputs by sha256 in <dataDir>/cache, LRU-bounded (--cache-max-bytes, default 10 GiB)
  const cache = await ArtifactCache.open({ dataDir: config.dataDir, maxBytes: config.cacheMaxBytes, logger: logger.child({ component: 'cache' }) });

  const runtimes = new Map<RuntimeName, TaskRuntime>();
  // a kubernetes worker advertises what the cluster offers it (flags or namespace quota), not this machine
  const kubernetes = config.runtimes.includes('kubernetes') ? await createKubernetesSetup(config, workerId, logger) : undefined;
  for (const name of config.runtimes) {
    if (name === 'kubernetes' && kubernetes) runtimes.set(name, kubernetes.runtime);
    else runtimes.set(name, name === 'docker' ? await createDockerRuntime(config, workerId, logger) : new ExecRuntime());
  }

  const capacity = kubernetes?.capacity ?? (await detectCapacity(config.dataDir, config.capacityCaps));
  const sampler = new UsageSampler({
    dataDir: config.dataDir,
    intervalMs: config.heartbeatIntervalMs,
    hasGpu: capacity.gpu > 0,
    logger: logger.child({ component: 'telemetry' }),
  });
  const backoff = { baseMs: config.reconnectBaseMs, maxMs: config.reconnectMaxMs };
  const gateway = new GatewayConnection(config.masterAddress, backoff);
  const uploader = new OutputUploader({ gateway, backoff, logger: logger.child({ component: 'outputs' }) });
  const session = new MasterSession({
    config,
    workerId,
    hostname: os.hostname(),
    version: await readVersion(),
    capacity,
    gateway,
    outbox,
    sampler,
    runtimes,
    uploader,
    attemptsDir,
    logger,
    cache,
  });

  try {
    await session.recover();
  } catch (error: unknown) {
    gateway.close();
    throw error;
  }
  sampler.start();
  session.start();
  logger.info({ master: config.masterAddress, runtimes: config.runtimes, capacity }, 'worker started');

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

/** The worker package's version (worker/package.json, one level above src/ and dist/). */
async function readVersion(): Promise<string> {
  try {
    const pkg: unknown = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // fall through
  }
  return '0.0.0';
}
