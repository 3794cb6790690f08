// The gRPC side of the master: workers dial in here. Transport only: each handler checks the
// caller, translates protobuf into domain calls on the registry and the task service, and
// maps errors back. The master never dials a worker.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import {
  CHANNEL_OPTIONS,
  loadWharfProto,
  type EffectiveSettings__Output,
  type FileChunk__Output,
  type LogAck,
  type LogChunk__Output,
  type MasterMessage,
  type RegisterRequest__Output,
  type RegisterResponse,
  type UploadAck,
  type WorkerGatewayHandlers,
  type WorkerMessage__Output,
} from '@wharf/proto';
import type { ArtifactBackend } from '../artifacts/artifact-backend.js';
import { sendArtifact } from '../artifacts/artifact-sender.js';
import { prepareArtifactUploads } from '../artifacts/artifact-upload-targets.js';
import type { AuthService } from '../auth/auth-service.js';
import type { HeartbeatStats } from '../cluster/heartbeat-stats.js';
import type { WorkerChannel, WorkerRegistry } from '../cluster/worker-registry.js';
import { WharfError } from '../errors.js';
import type { FileStore, UploadSession } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { LogStore, LogStreamName } from '../logs/log-store.js';
import type { MasterMetrics } from '../metrics/master-metrics.js';
import type { AttemptReport, EffectiveSettings } from '../records/attempt.js';
import { RUNTIMES, type Runtime } from '../records/resources.js';
import type { TaskService } from '../tasks/task-service.js';
import { toGrpcError } from './grpc-errors.js';
import { toMasterMessage } from './master-messages.js';

const KNOWN_RUNTIMES: readonly Runtime[] = RUNTIMES;
const ID = /^[A-Za-z0-9_-]{1,128}$/;
const OUTCOMES = new Set<AttemptReport['outcome']>(['succeeded', 'failed', 'timed_out', 'cancelled', 'error']);
const LOG_STREAMS: Record<string, LogStreamName> = { STDOUT: 'stdout', STDERR: 'stderr', SYSTEM: 'system' };

export interface WorkerGatewayDeps {
  registry: WorkerRegistry;
  tasks: TaskService;
  auth: AuthService;
  logs: LogStore;
  files: FileStore;
  logger: Logger;
  joinToken: string;
  heartbeatIntervalMs: number;
  /** heartbeat handling times, for GET /api/cluster/stats */
  heartbeatStats?: HeartbeatStats | undefined;
  /** counts log and upload bytes for GET /metrics; absent = not counted */
  metrics?: Pick<MasterMetrics, 'countLogBytes' | 'countUploadBytes'> | undefined;
  /** DAG artifacts, served to workers by FetchArtifact; absent = FetchArtifact answers UNAVAILABLE */
  artifacts?: ArtifactBackend | undefined;
}

/** HTTP/2 receive window for worker streams (logs, uploads): 64 KiB would cap an upload at one window per round trip. */
const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * grpc-js takes a flow-control window for its channels ('grpc-node.flow_control_window') but not
 * for its Server, which keeps HTTP/2's 64 KiB
 * stream and connection windows: measured, that held a 256 MiB upload at ~55 MB/s on loopback
 * while both processes sat idle waiting for WINDOW_UPDATEs. This widens them through two
 * internals of grpc-js 1.14 (the options handed to http2.createServer, and its http2 servers,
 * whose sessions get a larger connection window). When a later grpc-js lacks them, nothing
 * breaks: the defaults stay and the master says so once.
 */
interface GrpcServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<EventEmitter, unknown>;
}

/** Before bind: the per-stream window, through the options grpc-js hands to http2.createServer. */
function widenStreamWindow(server: grpc.Server, logger: Logger): void {
  const internals = server as unknown as GrpcServerInternals;
  if (!internals.commonServerOptions) {
    logger.warn('grpc-js internals changed: cannot widen the HTTP/2 stream window; uploads will be slower');
    return;
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: RECEIVE_WINDOW_BYTES };
}

/** After bind: the connection window of every new session of grpc-js's http2 servers. */
function widenConnectionWindow(server: grpc.Server, logger: Logger): void {
  const internals = server as unknown as GrpcServerInternals;
  if (!(internals.http2Servers instanceof Map)) {
    logger.warn('grpc-js internals changed: cannot widen the HTTP/2 connection window; uploads will be slower');
    return;
  }
  for (const http2Server of internals.http2Servers.keys()) {
    http2Server.on('session', (session: { setLocalWindowSize?: (size: number) => void }) => {
      try {
        session.setLocalWindowSize?.(RECEIVE_WINDOW_BYTES);
      } catch (error: unknown) {
        logger.debug({ err: error }, 'could not widen a session window');
      }
    });
  }
}

/** The settings a worker says it applied, as the attempt keeps them; bounded, whatever the worker sends. */
function effectiveOf(wire: EffectiveSettings__Output | null | undefined): EffectiveSettings | undefined {
  if (!wire) return undefined;
  const text = (value: string) => value.slice(0, 200);
  return {
    cpu: wire.cpu,
    memory: wire.memory,
    disk: wire.disk,
    pidsLimit: wire.pidsLimit,
    user: text(wire.user),
    readOnlyRootFilesystem: wire.readOnlyRootFilesystem,
    noNewPrivileges: wire.noNewPrivileges,
    capabilities: wire.capabilities.slice(0, 64).map(text),
    network: text(wire.network),
    pullPolicy: text(wire.pullPolicy),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export class WorkerGateway {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  private readonly joinTokenDigest: Buffer;

  constructor(private readonly deps: WorkerGatewayDeps) {
    this.joinTokenDigest = digest(deps.joinToken);
    const proto = loadWharfProto();
    this.server.addService(proto.wharf.v1.WorkerGateway.service, this.handlers());
  }

  /** Binds and answers the port actually bound (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    widenStreamWindow(this.server, this.deps.logger);
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (error) return reject(error);
        widenConnectionWindow(this.server, this.deps.logger);
        resolve(bound);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  forceClose(): void {
    this.server.forceShutdown();
  }

  private workerIdOf(metadata: grpc.Metadata): string {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) throw new WharfError('unauthenticated', 'missing session token; call Register first');
    return this.deps.auth.verifyWorkerToken(token);
  }

  private handlers(): WorkerGatewayHandlers {
    return {
      Register: (call, callback) => {
        this.register(call.request).then(
          (response) => callback(null, response),
          (error: unknown) => callback(toGrpcError(error)),
        );
      },
      Connect: (call) => this.connect(call),
      StreamTaskLogs: (call, callback) => {
        this.receiveLogs(call).then(
          (ack) => callback(null, ack),
          (error: unknown) => callback(toGrpcError(error)),
        );
      },
      UploadTaskFiles: (call, callback) => {
        this.receiveFiles(call).then(
          (ack) => callback(null, ack),
          (error: unknown) => callback(toGrpcError(error)),
        );
      },
      // a DAG input for an attempt this worker holds (dags/dag-service.ts resolves inputs)
      FetchArtifact: (call) => {
        Promise.resolve()
          .then(() => {
            const workerId = this.workerIdOf(call.metadata);
            const { attemptId, sha256 } = call.request;
            if (!this.deps.tasks.attemptNeedsArtifact(workerId, attemptId, sha256)) {
              throw new WharfError('forbidden', `attempt ${attemptId} of this worker does not take artifact ${sha256} as an input`);
            }
            if (!this.deps.artifacts) throw new WharfError('unavailable', 'this master keeps no artifacts');
            return sendArtifact(this.deps.artifacts, sha256, attemptId, call);
          })
          .catch((error: unknown) => {
            if (!call.destroyed) call.emit('error', toGrpcError(error));
          });
      },
      // S3: presigned PUT URLs for the declared outputs of an attempt this worker holds
      PrepareArtifactUploads: (call, callback) => {
        Promise.resolve()
          .then(() => {
            const workerId = this.workerIdOf(call.metadata);
            const found = this.deps.tasks.attemptOf(workerId, call.request.attemptId);
            if (!found) throw new WharfError('conflict', `attempt ${call.request.attemptId} is no longer this worker's`);
            if (!this.deps.artifacts) throw new WharfError('unavailable', 'this master keeps no artifacts');
            const requested = call.request.artifacts.map((a) => ({ name: a.name, sha256: a.sha256, size: a.size }));
            return prepareArtifactUploads(this.deps.artifacts, found.task.outputs ?? [], requested);
          })
          .then(
            (targets) => callback(null, { targets }),
            (error: unknown) => callback(toGrpcError(error)),
          );
      },
    };
  }

  private async register(request: RegisterRequest__Output): Promise<RegisterResponse> {
    const given = digest(request.joinToken);
    if (!timingSafeEqual(given, this.joinTokenDigest)) throw new WharfError('unauthenticated', 'wrong join token');
    if (!ID.test(request.workerId)) throw new WharfError('validation_failed', 'workerId: must be 1-128 letters, digits, "-" or "_"');
    const capacity = request.capacity;
    if (!capacity || capacity.cpu < 0 || capacity.memory < 0 || capacity.gpu < 0 || capacity.disk < 0) {
      throw new WharfError('validation_failed', 'capacity: must be given and not negative');
    }
    const runtimes = request.runtimes.filter((r): r is Runtime => (KNOWN_RUNTIMES as readonly string[]).includes(r));
    if (runtimes.length === 0) {
      throw new WharfError('validation_failed', `runtimes: none of ${JSON.stringify(request.runtimes)} is known (${KNOWN_RUNTIMES.join(', ')})`);
    }
    const live = await this.deps.registry.register({
      workerId: request.workerId,
      name: request.name || request.hostname || request.workerId,
      hostname: request.hostname,
      capacity: { cpu: capacity.cpu, memory: capacity.memory, gpu: capacity.gpu, disk: capacity.disk },
      runtimes,
      labels: request.labels,
      version: request.version,
    });
    const stopAttempts = await this.deps.tasks.workerRegistered(
      request.workerId,
      request.running.map((r) => r.attemptId),
    );
    return {
      workerId: request.workerId,
      sessionToken: this.deps.auth.issueWorkerToken(request.workerId),
      heartbeatIntervalMs: this.deps.heartbeatIntervalMs,
      stopAttempts,
      draining: live.record.status === 'draining',
    };
  }

  private connect(call: grpc.ServerDuplexStream<WorkerMessage__Output, MasterMessage>): void {
    let workerId: string;
    try {
      workerId = this.workerIdOf(call.metadata);
    } catch (error: unknown) {
      call.emit('error', toGrpcError(error));
      return;
    }
    const logger = this.deps.logger.child({ workerId });
    let open = true;
    const channel: WorkerChannel = {
      send: (message) => {
        if (open) call.write(toMasterMessage(message));
      },
      close: () => {
        if (!open) return;
        open = false;
        call.end();
      },
    };
    if (!this.deps.registry.attach(workerId, channel)) {
      call.emit('error', toGrpcError(new WharfError('conflict', 'this worker is not registered (or was lost); call Register again')));
      return;
    }
    logger.debug('worker stream open');
    this.deps.tasks.workerConnected(workerId);
    call.on('data', (message: WorkerMessage__Output) => {
      this.onWorkerMessage(workerId, message, channel).catch((error: unknown) => {
        logger.error({ err: error }, 'worker message failed');
      });
    });
    const closed = () => {
      if (open) {
        open = false;
        call.end();
      }
      this.deps.registry.detach(workerId, channel);
      logger.debug('worker stream closed');
    };
    call.on('end', closed);
    call.on('error', closed);
    call.on('cancelled', closed);
  }

  private async onWorkerMessage(workerId: string, message: WorkerMessage__Output, channel: WorkerChannel): Promise<void> {
    switch (message.payload) {
      case 'heartbeat': {
        const startedNs = process.hrtime.bigint();
        const heartbeat = message.heartbeat!;
        const usage = heartbeat.usage;
        // a heartbeat without usage (the worker has not sampled yet) keeps the last sample
        const alive = this.deps.registry.heartbeat(
          workerId,
          usage
            ? {
                cpuPercent: usage.cpuPercent,
                memoryPercent: usage.memoryPercent,
                diskPercent: usage.diskPercent,
                gpuPercent: usage.hasGpu ? usage.gpuPercent : undefined,
              }
            : undefined,
          heartbeat.runningAttempts,
          heartbeat.cachedArtifacts.slice(0, 1000),
        );
        if (!alive) channel.close();
        this.deps.heartbeatStats?.record(Number(process.hrtime.bigint() - startedNs));
        return;
      }
      case 'accepted':
        return;
      case 'event': {
        const event = message.event!;
        const at = event.atMs || Date.now();
        if (event.kind === 'started') await this.deps.tasks.attemptStarted(workerId, event.attemptId, at, effectiveOf(event.effective));
        else await this.deps.tasks.attemptProgress(workerId, event.attemptId, event.kind, event.message, at);
        return;
      }
      case 'result': {
        const result = message.result!;
        const outcome = OUTCOMES.has(result.outcome as AttemptReport['outcome'])
          ? (result.outcome as AttemptReport['outcome'])
          : 'error';
        await this.deps.tasks.attemptFinished(workerId, {
          attemptId: result.attemptId,
          outcome,
          exitCode: result.hasExitCode ? result.exitCode : undefined,
          startedAt: result.startedAtMs || undefined,
          finishedAt: result.finishedAtMs || undefined,
          error: outcome === result.outcome ? result.error || undefined : `unknown outcome "${result.outcome}": ${result.error}`,
          files: result.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
          inputs: result.inputs.map((i) => ({ name: i.name, sha256: i.sha256, cacheHit: i.cacheHit, bytes: i.bytes })),
          directUploads: result.directUploads?.artifacts.map((a) => ({ name: a.name, sha256: a.sha256, size: a.size })),
        });
        channel.send({ kind: 'resultAck', attemptId: result.attemptId });
        return;
      }
      default:
        return;
    }
  }

  private async receiveLogs(call: grpc.ServerReadableStream<LogChunk__Output, LogAck>): Promise<LogAck> {
    const workerId = this.workerIdOf(call.metadata);
    const known = new Map<string, string>();
    let lastSeq = 0;
    for await (const raw of call) {
      const chunk = raw as LogChunk__Output;
      let taskId = known.get(chunk.attemptId);
      if (!taskId) {
        const found = await this.deps.tasks.taskOfAttempt(workerId, chunk.attemptId);
        if (!found) throw new WharfError('conflict', `attempt ${chunk.attemptId} does not belong to this worker`);
        taskId = found.taskId;
        known.set(chunk.attemptId, taskId);
      }
      const stream = LOG_STREAMS[chunk.stream] ?? 'system';
      lastSeq = this.deps.logs.append(taskId, chunk.attemptId, chunk.seq, stream, chunk.data);
      this.deps.metrics?.countLogBytes(stream, chunk.data.length);
    }
    return { lastSeq };
  }

  private async receiveFiles(call: grpc.ServerReadableStream<FileChunk__Output, UploadAck>): Promise<UploadAck> {
    const workerId = this.workerIdOf(call.metadata);
    let session: UploadSession | undefined;
    let attemptId: string | undefined;
    try {
      for await (const raw of call) {
        const chunk = raw as FileChunk__Output;
        if (!session) {
          attemptId = chunk.attemptId;
          if (!this.deps.tasks.attemptOf(workerId, chunk.attemptId)) {
            throw new WharfError('conflict', `attempt ${chunk.attemptId} is no longer this worker's`);
          }
          session = this.deps.files.beginUpload(chunk.attemptId);
        } else if (chunk.attemptId !== attemptId) {
          throw new WharfError('validation_failed', 'attemptId: one upload stream carries one attempt');
        }
        await session.write({ path: chunk.path, offset: chunk.offset, data: chunk.data, eof: chunk.eof, size: chunk.size, sha256: chunk.sha256 });
        this.deps.metrics?.countUploadBytes(chunk.data.length);
      }
    } catch (error: unknown) {
      await session?.abort();
      throw error;
    }
    return { files: session?.files() ?? [] };
  }
}
