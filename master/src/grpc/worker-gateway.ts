// The gRPC side of the master: workers dial in here, over TLS (tls-port.ts). Transport only:
// each handler takes the caller's identity from its verified client certificate
// (cluster/worker-identity.ts decides), translates protobuf into domain calls on the registry
// and the task service, and maps errors back. The master never dials a worker.
import type { EventEmitter } from 'node:events';
import type { PeerCertificate as TlsPeerCertificate } from 'node:tls';
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
import type { TokenBucketLimiter } from '../auth/rate-limiter.js';
import type { HeartbeatStats } from '../cluster/heartbeat-stats.js';
import { certificateRef, type PeerCertificate, type WorkerIdentity } from '../cluster/worker-identity.js';
import type { WorkerChannel, WorkerRegistry } from '../cluster/worker-registry.js';
import { isStorageFull, WharfError } from '../errors.js';
import type { FileStore, UploadSession } from '../files/file-store.js';
import type { Logger } from '../logger.js';
import type { LogStore, LogStreamName } from '../logs/log-store.js';
import type { MasterMetrics } from '../metrics/master-metrics.js';
import { REPORTED_OUTCOMES, type AttemptReport, type EffectiveSettings } from '../records/attempt.js';
import { RUNTIMES, type Runtime } from '../records/resources.js';
import type { StorageAlarm } from '../store/storage-alarm.js';
import type { TaskService } from '../tasks/task-service.js';
import { STORAGE_RETRY_AFTER_MS, toGrpcError } from './grpc-errors.js';
import { toMasterMessage } from './master-messages.js';
import { ClusterServerCredentials, GrpcTlsPort, type ServerTlsMaterial } from './tls-port.js';

const KNOWN_RUNTIMES: readonly Runtime[] = RUNTIMES;
/** Every id the master issues — worker ids at enrolment, task and attempt ids in assignments: 1-128 of [A-Za-z0-9_-]. */
const ISSUED_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A worker names an id the master issued; another syntax is refused (INVALID_ARGUMENT), never looked up. */
function checkIssuedId(field: string, value: string): void {
  if (!ISSUED_ID.test(value)) {
    throw new WharfError('validation_failed', `${field}: ${JSON.stringify(value.slice(0, 64))} is not an id this master issues (1-128 of [A-Za-z0-9_-])`);
  }
}
const OUTCOMES: ReadonlySet<string> = new Set(REPORTED_OUTCOMES);
const LOG_STREAMS: Record<string, LogStreamName> = { STDOUT: 'stdout', STDERR: 'stderr', SYSTEM: 'system' };


/** A GPU device id as nvidia-container-toolkit takes it: an index ("0") or a UUID ("GPU-8f3c…"). */
const GPU_ID = /^[A-Za-z0-9][A-Za-z0-9:.-]{0,63}$/;
/** A host name, an IPv4 or an IPv6 address, without a port (RegisterRequest.advertise_address). */
const ADVERTISE_ADDRESS = /^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|[0-9A-Fa-f:.]{2,45})$/;
export interface WorkerGatewayDeps {
  registry: WorkerRegistry;
  tasks: TaskService;
  /** enrolment, certificate checks, renewal (cluster/worker-identity.ts) */
  identity: WorkerIdentity;
  /** the server certificate and the CA client certificates must chain to */
  tls: ServerTlsMaterial & { servingCaPem: string };
  /** what a cleartext client is told (names the CA hash and the join line) */
  cleartextRefusal: () => string;
  /** Register calls without a client certificate, per source address; absent = unlimited */
  enrolmentLimiter?: TokenBucketLimiter | undefined;
  logs: LogStore;
  files: FileStore;
  /** says a full disk once per episode (store/storage-alarm.ts); absent = each refusal is logged */
  storageAlarm?: StorageAlarm | undefined;
  logger: Logger;
  heartbeatIntervalMs: number;
  /** told to workers at Register: their default stop-after (fencing) */
  heartbeatTtlMs: number;
  /** heartbeat handling times, for GET /api/cluster/stats */
  heartbeatStats?: HeartbeatStats | undefined;
  /** counts log and upload bytes for GET /metrics; absent = not counted */
  metrics?: Pick<MasterMetrics, 'countLogBytes' | 'countUploadBytes'> | undefined;
  /** DAG artifacts, served to workers by FetchArtifact; absent = FetchArtifact answers UNAVAILABLE */
  artifacts?: ArtifactBackend | undefined;
  /**
   * Several masters (leadership/): the refusal of a master that does not lead (WharfError
   * `not_leader` with details.leader = the leader's gRPC address or ''), or undefined when it
   * leads. Every RPC of a standby is refused with it (docs/API.md, protocol rule 14).
   */
  notLeader?: (() => WharfError | undefined) | undefined;
}

/** HTTP/2 receive window for worker streams (logs, uploads): 64 KiB would cap an upload at one window per round trip. */
const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * grpc-js takes a flow-control window for its channels ('grpc-node.flow_control_window') but not
 * for its Server, which keeps HTTP/2's 64 KiB
 * stream and connection windows: measured, that held a 256 MiB upload at ~55 MB/s on loopback
 * while both processes sat idle waiting for WINDOW_UPDATEs. This widens them through two
 * internals of grpc-js 1.14 (the options handed to http2.createServer, and the http2 server of
 * the connection injector tls-port.ts uses, whose sessions get a larger connection window).
 * When a later grpc-js lacks them, nothing breaks: the defaults stay and the master says so once.
 */
interface GrpcServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
}

/** Before the port opens: the per-stream window, through the options grpc-js hands to http2.createServer. */
function widenStreamWindow(server: grpc.Server, logger: Logger): void {
  const internals = server as unknown as GrpcServerInternals;
  if (!internals.commonServerOptions) {
    logger.warn('grpc-js internals changed: cannot widen the HTTP/2 stream window; uploads will be slower');
    return;
  }
  internals.commonServerOptions.settings = { ...internals.commonServerOptions.settings, initialWindowSize: RECEIVE_WINDOW_BYTES };
}

/** The connection window of every new session of one of grpc-js's http2 servers. */
function widenConnectionWindow(http2Server: EventEmitter, logger: Logger): void {
  http2Server.on('session', (session: { setLocalWindowSize?: (size: number) => void }) => {
    try {
      session.setLocalWindowSize?.(RECEIVE_WINDOW_BYTES);
    } catch (error: unknown) {
      logger.debug({ err: error }, 'could not widen a session window');
    }
  });
}

/** Any server call: what the gateway needs to know who is calling. */
interface IncomingCall {
  getAuthContext(): { sslPeerCertificate?: TlsPeerCertificate | undefined };
  getPeer(): string;
}

/** The verified client certificate of a call (grpc-js sets it only when it chains to the CA). */
function peerCertificateOf(call: IncomingCall): PeerCertificate | undefined {
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (!certificate) return undefined;
  const cn: unknown = certificate.subject?.CN;
  const commonName = Array.isArray(cn) ? String(cn[0] ?? '') : typeof cn === 'string' ? cn : '';
  return { commonName, fingerprint256: certificate.fingerprint256, serial: certificate.serialNumber };
}

/** The caller's address without its port ("10.0.0.5", "::1"), for the per-address rate limit. */
export function peerAddressOf(peer: string): string {
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1]!;
  const colon = peer.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(peer.slice(colon + 1)) ? peer.slice(0, colon) : peer;
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

export class WorkerGateway {
  private readonly server = new grpc.Server(CHANNEL_OPTIONS);
  private port: GrpcTlsPort | undefined;
  /** every open stream of each worker, ended when the worker is removed */
  private readonly openCalls = new Map<string, Set<() => void>>();
  /** attempts whose task was told that its upload is refused for room (said once per attempt) */
  private readonly uploadRefusalsTold = new Set<string>();

  constructor(private readonly deps: WorkerGatewayDeps) {
    const proto = loadWharfProto();
    this.server.addService(proto.wharf.v1.WorkerGateway.service, this.handlers());
  }

  /** Listens over TLS and answers the port actually bound (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    widenStreamWindow(this.server, this.deps.logger);
    const credentials = new ClusterServerCredentials(this.deps.tls);
    this.port = new GrpcTlsPort(this.server, credentials, {
      refusal: this.deps.cleartextRefusal,
      logger: this.deps.logger,
      onHttp2Server: (http2Server) => widenConnectionWindow(http2Server, this.deps.logger),
    });
    return this.port.listen(host, port);
  }

  async close(): Promise<void> {
    await this.port?.close(2000);
    this.server.forceShutdown();
  }

  forceClose(): void {
    this.port?.forceClose();
    this.server.forceShutdown();
  }

  /** Ends every open call of a worker (it was removed: its certificate no longer counts). */
  disconnectWorker(workerId: string): void {
    const calls = this.openCalls.get(workerId);
    this.openCalls.delete(workerId);
    for (const end of calls ?? []) end();
  }

  /** Keeps an open call's ender until the call is over. */
  private track(workerId: string, end: () => void): () => void {
    let calls = this.openCalls.get(workerId);
    if (!calls) {
      calls = new Set();
      this.openCalls.set(workerId, calls);
    }
    calls.add(end);
    return () => {
      const current = this.openCalls.get(workerId);
      current?.delete(end);
      if (current?.size === 0) this.openCalls.delete(workerId);
    };
  }

  /**
   * The gRPC error for a failed log or upload stream; a full disk (files, logs, the store) is
   * RESOURCE_EXHAUSTED with `wharf-retry-after-ms` (the worker sends it again later) and is said
   * once per episode by the storage alarm.
   */
  private refusal(error: unknown, rpc: string): Partial<grpc.StatusObject> {
    this.deps.storageAlarm?.failed(error, { rpc });
    return toGrpcError(error);
  }

  private workerIdOf(call: IncomingCall, rpc: string): string {
    return this.deps.identity.authenticate(peerCertificateOf(call), { rpc, peer: call.getPeer() });
  }

  private handlers(): WorkerGatewayHandlers {
    const handlers = this.leaderHandlers();
    const refusal = () => this.deps.notLeader?.();
    // a standby refuses every call with UNAVAILABLE naming the leader (`wharf-leader` trailer)
    return {
      Register: (call, callback) => {
        const refused = refusal();
        if (refused) callback(toGrpcError(refused));
        else handlers.Register(call, callback);
      },
      Connect: (call) => {
        const refused = refusal();
        if (refused) call.emit('error', toGrpcError(refused));
        else handlers.Connect(call);
      },
      StreamTaskLogs: (call, callback) => {
        const refused = refusal();
        if (refused) callback(toGrpcError(refused));
        else handlers.StreamTaskLogs(call, callback);
      },
      UploadTaskFiles: (call, callback) => {
        const refused = refusal();
        if (refused) callback(toGrpcError(refused));
        else handlers.UploadTaskFiles(call, callback);
      },
      FetchArtifact: (call) => {
        const refused = refusal();
        if (refused) call.emit('error', toGrpcError(refused));
        else handlers.FetchArtifact(call);
      },
      PrepareArtifactUploads: (call, callback) => {
        const refused = refusal();
        if (refused) callback(toGrpcError(refused));
        else handlers.PrepareArtifactUploads(call, callback);
      },
    };
  }

  private leaderHandlers(): WorkerGatewayHandlers {
    return {
      Register: (call, callback) => {
        this.register(call.request, call).then(
          (response) => callback(null, response),
          (error: unknown) => callback(toGrpcError(error)),
        );
      },
      Connect: (call) => this.connect(call),
      StreamTaskLogs: (call, callback) => {
        this.receiveLogs(call).then(
          (ack) => callback(null, ack),
          (error: unknown) => callback(this.refusal(error, 'StreamTaskLogs')),
        );
      },
      UploadTaskFiles: (call, callback) => {
        this.receiveFiles(call).then(
          (ack) => callback(null, ack),
          (error: unknown) => callback(this.refusal(error, 'UploadTaskFiles')),
        );
      },
      // a DAG input for an attempt this worker holds (dags/dag-service.ts resolves inputs)
      FetchArtifact: (call) => {
        Promise.resolve()
          .then(() => {
            const workerId = this.workerIdOf(call, 'FetchArtifact');
            const { attemptId, sha256 } = call.request;
            checkIssuedId('attemptId', attemptId);
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
            const workerId = this.workerIdOf(call, 'PrepareArtifactUploads');
            checkIssuedId('attemptId', call.request.attemptId);
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

  /**
   * Without a client certificate: enrolment (a join token, no worker id, a CSR), rate-limited per
   * address. With one: the worker it names re-registers (and renews when it sends a CSR).
   */
  private async register(request: RegisterRequest__Output, call: IncomingCall): Promise<RegisterResponse> {
    const context = { rpc: 'Register', peer: call.getPeer() };
    const certificate = peerCertificateOf(call);
    const identity = this.deps.identity;
    if (request.workerId !== '') checkIssuedId('workerId', request.workerId);
    let workerId: string;
    if (!certificate) {
      const wait = this.deps.enrolmentLimiter?.take(peerAddressOf(context.peer)) ?? 0;
      if (wait > 0) {
        throw identity.refuse('rate_limited', 'rate_limited', context, {}, `too many join attempts from this address; try again in ${wait}s`, {
          retryAfterSeconds: wait,
        });
      }
      identity.checkEnrolmentClaim(request.workerId, context);
      workerId = '';
    } else {
      workerId = identity.authenticate(certificate, context);
      if (request.workerId !== '' && request.workerId !== workerId) {
        throw identity.refuse(
          'impersonation',
          'forbidden',
          context,
          { workerId, claimedWorkerId: request.workerId },
          `this certificate is worker ${workerId}'s; it cannot register as worker ${request.workerId}`,
        );
      }
    }
    const capacity = request.capacity;
    if (!capacity || capacity.cpu < 0 || capacity.memory < 0 || capacity.gpu < 0 || capacity.disk < 0) {
      throw new WharfError('validation_failed', 'capacity: must be given and not negative');
    }
    // every runtime named must be one the master can place tasks on: an unknown one is refused,
    // never dropped (a worker must not believe it offers what no task will ever ask of it)
    const unknown = request.runtimes.filter((r) => !(KNOWN_RUNTIMES as readonly string[]).includes(r));
    if (unknown.length > 0) {
      throw new WharfError('validation_failed', `runtimes: ${unknown.map((r) => JSON.stringify(r)).join(', ')} not known to this master (it knows ${KNOWN_RUNTIMES.join(', ')})`);
    }
    const runtimes = [...new Set(request.runtimes as Runtime[])];
    if (runtimes.length === 0) throw new WharfError('validation_failed', `runtimes: must name at least one (${KNOWN_RUNTIMES.join(', ')})`);
    const gpuIds = [...new Set(request.gpuIds)];
    if (gpuIds.length !== request.gpuIds.length || gpuIds.some((id) => !GPU_ID.test(id))) {
      throw new WharfError('validation_failed', `gpu_ids: each a distinct device index or UUID (letters, digits, "-", ":", "."; at most 64) (got ${JSON.stringify(request.gpuIds).slice(0, 200)})`);
    }
    if (gpuIds.length > 0 && capacity.gpu > gpuIds.length) {
      throw new WharfError('validation_failed', `capacity.gpu: ${capacity.gpu} is more than the ${gpuIds.length} gpu_ids given`);
    }
    if (request.advertiseAddress !== '' && !ADVERTISE_ADDRESS.test(request.advertiseAddress)) {
      throw new WharfError('validation_failed', `advertise_address: a host name, an IPv4 or an IPv6 address without a port (got ${JSON.stringify(request.advertiseAddress).slice(0, 100)})`);
    }
    // none given: the address the call came from (an IPv4 client of a dual-stack listener shows
    // as ::ffff:a.b.c.d); a peer that is no IP address (a unix socket) gives none
    const seen = peerAddressOf(context.peer).replace(/^::ffff:(?=\d+\.)/, '');
    const address = request.advertiseAddress !== '' ? request.advertiseAddress : ADVERTISE_ADDRESS.test(seen) ? seen : undefined;
    const fencing = request.fencing ? { stopAfterMs: request.fencing.stopAfterMs, stopGraceMs: request.fencing.stopGraceMs } : undefined;
    this.deps.registry.checkFencing(fencing);
    // the fields are checked before a join token's use is counted or a certificate signed
    let issued;
    if (!certificate) {
      const enrolled = await identity.enrol(request.joinToken, request.csr, context);
      workerId = enrolled.workerId;
      issued = enrolled.issued;
    } else if (request.csr !== '') {
      issued = await identity.renew(workerId, request.csr, context);
    }
    const live = await this.deps.registry.register({
      workerId,
      name: request.name || request.hostname || workerId,
      hostname: request.hostname,
      capacity: { cpu: capacity.cpu, memory: capacity.memory, gpu: capacity.gpu, disk: capacity.disk },
      runtimes,
      labels: request.labels,
      gpuIds,
      address,
      version: request.version,
      fencing,
      // enrolment: the new worker's certificate (a renewal is pending until used)
      certificate: !certificate && issued ? certificateRef(issued) : undefined,
    });
    const stopAttempts = await this.deps.tasks.workerRegistered(
      workerId,
      request.running.map((r) => r.attemptId),
    );
    return {
      workerId,
      heartbeatIntervalMs: this.deps.heartbeatIntervalMs,
      heartbeatTtlMs: this.deps.heartbeatTtlMs,
      stopAttempts,
      draining: live.record.status === 'draining',
      certificate: issued?.certPem ?? '',
      caCertificate: issued ? this.deps.tls.servingCaPem : '',
    };
  }

  private connect(call: grpc.ServerDuplexStream<WorkerMessage__Output, MasterMessage>): void {
    let workerId: string;
    try {
      workerId = this.workerIdOf(call, 'Connect');
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
    const untrack = this.track(workerId, () => channel.close());
    this.deps.tasks.workerConnected(workerId);
    call.on('data', (message: WorkerMessage__Output) => {
      this.onWorkerMessage(workerId, message, channel).catch((error: unknown) => this.refuseReport(message, error, channel, logger));
    });
    const closed = () => {
      if (open) {
        open = false;
        call.end();
      }
      untrack();
      this.deps.registry.detach(workerId, channel);
      logger.debug('worker stream closed');
    };
    call.on('end', closed);
    call.on('error', closed);
    call.on('cancelled', closed);
  }

  /**
   * A report the master could not store: answered with a ReportNack on the same stream, so the
   * worker sends it again (after retry_after_ms, backing off) without reconnecting. A full disk
   * is logged once per episode (the storage alarm); anything else each time.
   */
  private refuseReport(message: WorkerMessage__Output, error: unknown, channel: WorkerChannel, logger: Logger): void {
    const report =
      message.payload === 'result' && message.result
        ? { attemptId: message.result.attemptId, kind: 'result' }
        : message.payload === 'event' && message.event
          ? { attemptId: message.event.attemptId, kind: message.event.kind }
          : undefined;
    const storageFull = this.deps.storageAlarm?.failed(error, report ?? {}) ?? false;
    if (!storageFull) logger.error({ err: error, payload: message.payload, ...report }, 'a worker report could not be applied');
    if (!report) return;
    const reason = WharfError.from(error).message;
    channel.send({ kind: 'reportNack', attemptId: report.attemptId, report: report.kind, reason, retryAfterMs: STORAGE_RETRY_AFTER_MS });
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
        // the ack is the worker's proof of contact (fencing): only for a heartbeat that counted
        if (alive) channel.send({ kind: 'heartbeatAck', sentAtMs: heartbeat.sentAtMs });
        else channel.close();
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
        const outcome = OUTCOMES.has(result.outcome) ? (result.outcome as AttemptReport['outcome']) : 'error';
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
          logChunks: result.logChunks,
        });
        channel.send({ kind: 'resultAck', attemptId: result.attemptId });
        return;
      }
      default:
        return;
    }
  }

  /**
   * One attempt's log chunks, in seq order (see LogStore.append): a chunk that skips a seq ends
   * the stream with OUT_OF_RANGE and `wharf-expected-seq`; the ack names the attempt.
   */
  private async receiveLogs(call: grpc.ServerReadableStream<LogChunk__Output, LogAck>): Promise<LogAck> {
    const workerId = this.workerIdOf(call, 'StreamTaskLogs');
    const untrack = this.track(workerId, () => call.destroy(new WharfError('forbidden', 'this worker was removed')));
    try {
      return await this.receiveLogChunks(workerId, call);
    } finally {
      untrack();
    }
  }

  private async receiveLogChunks(workerId: string, call: grpc.ServerReadableStream<LogChunk__Output, LogAck>): Promise<LogAck> {
    let attempt: { attemptId: string; taskId: string } | undefined;
    let lastSeq = 0;
    for await (const raw of call) {
      const chunk = raw as LogChunk__Output;
      if (!attempt) {
        checkIssuedId('attemptId', chunk.attemptId);
        const found = await this.deps.tasks.taskOfAttempt(workerId, chunk.attemptId);
        if (!found) throw new WharfError('conflict', `attempt ${chunk.attemptId} does not belong to this worker`);
        attempt = { attemptId: chunk.attemptId, taskId: found.taskId };
      } else if (chunk.attemptId !== attempt.attemptId) {
        throw new WharfError('validation_failed', `attemptId: one log stream carries one attempt (${attempt.attemptId}), got ${chunk.attemptId}`);
      }
      const stream = LOG_STREAMS[chunk.stream] ?? 'system';
      lastSeq = this.deps.logs.append(attempt.taskId, attempt.attemptId, chunk.seq, stream, chunk.data, chunk.atMs);
      this.deps.metrics?.countLogBytes(stream, chunk.data.length);
    }
    return { lastSeq, attemptId: attempt?.attemptId ?? '' };
  }

  private async receiveFiles(call: grpc.ServerReadableStream<FileChunk__Output, UploadAck>): Promise<UploadAck> {
    const workerId = this.workerIdOf(call, 'UploadTaskFiles');
    const untrack = this.track(workerId, () => call.destroy(new WharfError('forbidden', 'this worker was removed')));
    try {
      return await this.receiveFileChunks(workerId, call);
    } finally {
      untrack();
    }
  }

  private async receiveFileChunks(workerId: string, call: grpc.ServerReadableStream<FileChunk__Output, UploadAck>): Promise<UploadAck> {
    let session: UploadSession | undefined;
    let attemptId: string | undefined;
    try {
      for await (const raw of call) {
        const chunk = raw as FileChunk__Output;
        if (!session) {
          checkIssuedId('attemptId', chunk.attemptId);
          attemptId = chunk.attemptId;
          const found = this.deps.tasks.attemptOf(workerId, chunk.attemptId);
          if (!found) throw new WharfError('conflict', `attempt ${chunk.attemptId} is no longer this worker's`);
          // every stream of the attempt counts against one cap, the task's disk request when smaller
          try {
            session = await this.deps.files.beginUpload(chunk.attemptId, { diskBytes: found.task.resources.disk });
            this.uploadRefusalsTold.delete(chunk.attemptId);
          } catch (error: unknown) {
            // refused for room (the free-space floor): the worker retries later; the task says why, once
            if (isStorageFull(error) && !this.uploadRefusalsTold.has(chunk.attemptId)) {
              this.uploadRefusalsTold.add(chunk.attemptId);
              const message = `output upload refused, retried by the worker until there is room: ${WharfError.from(error).message}`;
              await this.deps.tasks.uploadRefused(workerId, chunk.attemptId, message, Date.now()).catch(() => undefined);
            }
            throw error;
          }
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
