// FakeMaster: a test double of the master's WorkerGateway on real gRPC over loopback, over TLS
// the way the master serves it (the master's own pki and TLS port code): a worker joins with the
// join token and a CSR, and every other call must present the certificate it got. It records
// what a worker sends and lets a test assign, cancel, break streams and restart.
import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import {
  caCertificateHash,
  loadWharfProto,
  type AttemptEvent__Output,
  type AttemptResult__Output,
  type Heartbeat__Output,
  type MasterMessage,
  type OutputFile__Output,
  type RegisterRequest__Output,
  type TaskSpec,
  type WorkerGatewayHandlers,
  type WorkerMessage__Output,
} from '@wharf/proto';
import { ClusterServerCredentials, GrpcTlsPort } from '../../master/src/grpc/tls-port.js';
import {
  createCertificateAuthority,
  importSigningKey,
  issueCertificate,
  issueServerCertificate,
  publicKeyOfCsr,
  type KeyAndCertificate,
} from '../../master/src/pki/certificates.js';

export interface ReceivedLogChunk {
  seq: number;
  stream: string;
  data: Buffer;
}

export interface FakeMasterOptions {
  joinToken?: string;
  heartbeatIntervalMs?: number;
  /** Acknowledge every result as it arrives (default true). */
  autoAckResults?: boolean;
  /** Answer each heartbeat with a HeartbeatAck, as the real master does (default true). */
  ackHeartbeats?: boolean;
  /** RegisterResponse.heartbeat_ttl_ms: a worker's default --stop-after (default 10 s, so restart tests ride through) */
  heartbeatTtlMs?: number;
  port?: number;
  /** Another fake of the same cluster (started first): this one uses its CA, as several masters share one cluster CA. */
  clusterOf?: FakeMaster;
  /** The name this fake's server certificate carries (default localhost and 127.0.0.1). */
  serverNames?: string[];
}

export class FakeMaster {
  joinToken: string;
  autoAckResults: boolean;
  /** false: heartbeats are received but not acknowledged (the worker sees no contact) */
  ackHeartbeats: boolean;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  /** Attempt ids the next Register answer asks the worker to stop. */
  stopAttemptsOnRegister: string[] = [];
  /** Fails the next UploadTaskFiles calls with these codes, one per call. */
  uploadFailures: grpc.status[] = [];
  /** Breaks a log stream after this many chunks, once. */
  breakLogStreamAfter: number | undefined;
  /**
   * Pretends the chunk with this seq never arrived, once: the next chunk then skips a seq and
   * the stream ends with OUT_OF_RANGE and `wharf-expected-seq`, as the real master answers a gap.
   */
  missLogChunkOnce: number | undefined;
  /** The next LogAck names this attempt instead of the stream's, once (an ambiguous ack). */
  wrongLogAckAttemptOnce: string | undefined;
  /** The first seq of every log stream, in order (where each resend started). */
  readonly logStreamFirstSeqs: number[] = [];
  /**
   * Refuses the next N reports of a kind ("result", or an event kind such as "started") with a
   * ReportNack, as the real master answers what it cannot store (its disk is full); a refused
   * report is not recorded.
   */
  readonly nackReports = new Map<string, number>();
  /** the ReportNacks sent, in order */
  readonly nacked: { attemptId: string; kind: string }[] = [];
  /** The next N upload calls (log streams) fail as the real master's do when its disk is full: RESOURCE_EXHAUSTED with `wharf-retry-after-ms`. */
  uploadStorageFull = 0;
  logStorageFull = 0;
  /** Connect streams opened (a worker that retries on its live stream opens no new one) */
  connects = 0;

  /**
   * Set: this fake plays a standby, refusing Register and Connect as the real one does
   * (UNAVAILABLE, `wharf-leader: <leader>`; '' while it knows no leader).
   */
  standbyOf: string | undefined;
  readonly registrations: RegisterRequest__Output[] = [];
  /** Register calls refused as a standby */
  standbyRefusals = 0;
  readonly heartbeats: Heartbeat__Output[] = [];
  readonly accepted: string[] = [];
  readonly events: AttemptEvent__Output[] = [];
  readonly results: AttemptResult__Output[] = [];
  readonly logs = new Map<string, Map<number, ReceivedLogChunk>>();
  readonly files = new Map<string, Map<string, Buffer>>();
  logCalls = 0;
  uploadCalls = 0;

  /** join tokens refused (Register without a certificate and a wrong token) */
  refusedJoins = 0;
  /** how long the certificates this fake signs last */
  workerCertValidityMs = 3600_000;

  private server: grpc.Server | undefined;
  private tlsPort: GrpcTlsPort | undefined;
  private streams = new Set<grpc.ServerDuplexStream<WorkerMessage__Output, MasterMessage>>();
  private ca: KeyAndCertificate | undefined;
  private serverCert: KeyAndCertificate | undefined;
  port = 0;

  constructor(options: FakeMasterOptions = {}) {
    this.joinToken = options.joinToken ?? 'join-secret';
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 200;
    this.autoAckResults = options.autoAckResults ?? true;
    this.ackHeartbeats = options.ackHeartbeats ?? true;
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 10_000;
    this.port = options.port ?? 0;
    this.clusterOf = options.clusterOf;
    this.serverNames = options.serverNames ?? ['localhost', '127.0.0.1'];
  }

  private readonly clusterOf: FakeMaster | undefined;
  private readonly serverNames: string[];

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The fake's CA (PEM), for a worker's --ca-file. */
  get caPem(): string {
    if (!this.ca) throw new Error('start the fake master first');
    return this.ca.certPem;
  }

  /** `sha256:…` of the fake's CA, for the worker's --ca-hash. */
  get caHash(): string {
    if (!this.ca) throw new Error('start the fake master first');
    return caCertificateHash(this.ca.certPem);
  }

  async start(): Promise<void> {
    // one CA and server certificate per fake, kept across restarts (like a master's data dir)
    this.ca ??= this.clusterOf?.ca ?? (await createCertificateAuthority({ commonName: 'fake-master-ca', validityMs: 3600_000 }));
    this.serverCert ??= await issueServerCertificate({
      issuerCertPem: this.ca.certPem,
      issuerKey: await importSigningKey(this.ca.keyPem),
      subjectCommonName: 'fake-master',
      altNames: this.serverNames,
      validityMs: 3600_000,
    });
    const proto = loadWharfProto();
    const server = new grpc.Server();
    server.addService(proto.wharf.v1.WorkerGateway.service, this.handlers());
    const credentials = new ClusterServerCredentials({
      clientCaPem: this.ca.certPem,
      certChainPem: this.serverCert.certPem + this.ca.certPem,
      keyPem: this.serverCert.keyPem,
    });
    const tlsPort = new GrpcTlsPort(server, credentials, { refusal: () => 'fake master: TLS only', logger: pino({ level: 'silent' }) });
    this.port = await tlsPort.listen('127.0.0.1', this.port);
    this.server = server;
    this.tlsPort = tlsPort;
  }

  /** Stops at once, breaking every stream (a master crash). */
  async stop(): Promise<void> {
    this.tlsPort?.forceClose();
    this.server?.forceShutdown();
    this.tlsPort = undefined;
    this.server = undefined;
    this.streams.clear();
  }

  /** Crash and come back on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  get connected(): boolean {
    return this.streams.size > 0;
  }

  /** The real master's refusal while it is a standby. */
  private standbyRefusal(leader: string): Partial<grpc.StatusObject> {
    const metadata = new grpc.Metadata();
    metadata.set('wharf-leader', leader);
    return { code: grpc.status.UNAVAILABLE, details: `not the leader; the leader is ${leader || 'unknown'}`, metadata };
  }

  /** Loses the lease: ends every worker stream with the standby refusal naming `leader`, and refuses from now on. */
  stepDown(leader: string): void {
    this.standbyOf = leader;
    for (const stream of this.streams) stream.emit('error', this.standbyRefusal(leader));
    this.streams.clear();
  }

  send(message: MasterMessage): void {
    for (const stream of this.streams) stream.write(message);
  }

  assign(spec: TaskSpec): void {
    this.send({ assign: spec });
  }

  cancel(attemptId: string, graceSeconds = 1, reason = 'test'): void {
    this.send({ cancel: { attemptId, graceSeconds, reason } });
  }

  ackResult(attemptId: string): void {
    this.send({ resultAck: { attemptId } });
  }

  resultOf(attemptId: string): AttemptResult__Output | undefined {
    return this.results.find((r) => r.attemptId === attemptId);
  }

  logTextOf(attemptId: string, streams: string[] = ['STDOUT', 'STDERR']): string {
    const chunks = [...(this.logs.get(attemptId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    return chunks
      .filter((c) => streams.includes(c.stream))
      .map((c) => c.data.toString('utf8'))
      .join('');
  }

  /** The worker id of a call's verified client certificate, if it has one. */
  private workerOf(call: { getAuthContext(): { sslPeerCertificate?: { subject?: { CN?: string | string[] } } } }): string | undefined {
    const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
    return Array.isArray(cn) ? cn[0] : cn;
  }

  private authorised(call: Parameters<FakeMaster['workerOf']>[0]): boolean {
    return this.workerOf(call) !== undefined;
  }

  /** Signs a worker's CSR for `workerId` with the fake's CA. */
  private async sign(csrPem: string, workerId: string): Promise<string> {
    return issueCertificate({
      issuerCertPem: this.ca!.certPem,
      issuerKey: await importSigningKey(this.ca!.keyPem),
      subjectCommonName: workerId,
      publicKey: await publicKeyOfCsr(csrPem),
      usage: 'client',
      validityMs: this.workerCertValidityMs,
      backdateMs: Math.min(60_000, Math.floor(this.workerCertValidityMs / 20)),
    });
  }

  private handlers(): WorkerGatewayHandlers {
    return {
      Register: (call, callback) => {
        if (this.standbyOf !== undefined) {
          this.standbyRefusals += 1;
          callback(this.standbyRefusal(this.standbyOf));
          return;
        }
        const known = this.workerOf(call);
        if (!known && call.request.joinToken !== this.joinToken) {
          this.refusedJoins += 1;
          callback({ code: grpc.status.UNAUTHENTICATED, details: 'invalid join token' });
          return;
        }
        this.registrations.push(call.request);
        if (!call.request.fencing) {
          // as the master: every Register, joining included, declares the worker's fencing bound
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'fencing: this master only admits workers that stop their tasks when they lose it' });
          return;
        }
        const workerId = known ?? `fake-${randomUUID()}`;
        const stopAttempts = this.stopAttemptsOnRegister;
        this.stopAttemptsOnRegister = [];
        const certificate = call.request.csr ? this.sign(call.request.csr, workerId) : Promise.resolve('');
        certificate.then(
          (certPem) =>
            callback(null, {
              workerId,
              heartbeatIntervalMs: this.heartbeatIntervalMs,
              heartbeatTtlMs: this.heartbeatTtlMs,
              stopAttempts,
              draining: false,
              certificate: certPem,
              caCertificate: certPem ? this.ca!.certPem : '',
            }),
          (error: unknown) => callback({ code: grpc.status.INVALID_ARGUMENT, details: `csr: ${String(error)}` }),
        );
      },
      Connect: (call) => {
        if (this.standbyOf !== undefined) {
          call.emit('error', this.standbyRefusal(this.standbyOf));
          return;
        }
        if (!this.authorised(call)) {
          call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'no client certificate' });
          return;
        }
        this.streams.add(call);
        this.connects += 1;
        const refuse = (attemptId: string, kind: string): boolean => {
          const left = this.nackReports.get(kind) ?? 0;
          if (left <= 0) return false;
          this.nackReports.set(kind, left - 1);
          this.nacked.push({ attemptId, kind });
          call.write({ reportNack: { attemptId, kind, reason: 'master storage full: the database cannot grow (SQLITE_FULL) (fake)', retryAfterMs: 100 } });
          return true;
        };
        call.on('data', (message: WorkerMessage__Output) => {
          if (message.heartbeat) {
            this.heartbeats.push(message.heartbeat);
            if (this.ackHeartbeats) call.write({ heartbeatAck: { sentAtMs: message.heartbeat.sentAtMs } });
          }
          if (message.accepted) this.accepted.push(message.accepted.attemptId);
          if (message.event && !refuse(message.event.attemptId, message.event.kind)) this.events.push(message.event);
          if (message.result && !refuse(message.result.attemptId, 'result')) {
            this.results.push(message.result);
            if (this.autoAckResults) call.write({ resultAck: { attemptId: message.result.attemptId } });
          }
        });
        call.on('end', () => {
          this.streams.delete(call);
          call.end();
        });
        call.on('error', () => this.streams.delete(call));
        call.on('cancelled', () => this.streams.delete(call));
      },
      StreamTaskLogs: (call, callback) => {
        if (!this.authorised(call)) {
          callback({ code: grpc.status.UNAUTHENTICATED, details: 'no client certificate' });
          return;
        }
        this.logCalls += 1;
        if (this.logStorageFull > 0) {
          this.logStorageFull -= 1;
          call.on('data', () => undefined);
          call.on('end', () => callback(storageFullError()));
          return;
        }
        let lastSeq = 0;
        let attemptId = '';
        let inThisCall = 0;
        let done = false;
        call.on('data', (chunk: { attemptId: string; seq: number; stream: string; data: Buffer }) => {
          if (done) return;
          inThisCall += 1;
          if (inThisCall === 1) this.logStreamFirstSeqs.push(chunk.seq);
          if (this.breakLogStreamAfter !== undefined && inThisCall > this.breakLogStreamAfter) {
            this.breakLogStreamAfter = undefined;
            done = true;
            callback({ code: grpc.status.UNAVAILABLE, details: 'log stream broken by the test' });
            return;
          }
          if (this.missLogChunkOnce === chunk.seq) {
            this.missLogChunkOnce = undefined;
            return;
          }
          attemptId = chunk.attemptId;
          let chunks = this.logs.get(chunk.attemptId);
          if (!chunks) {
            chunks = new Map();
            this.logs.set(chunk.attemptId, chunks);
          }
          // like the master: seqs applied in order without gaps, so the map holds 1..size
          if (chunk.seq > chunks.size + 1) {
            done = true;
            const metadata = new grpc.Metadata();
            metadata.set('wharf-expected-seq', String(chunks.size + 1));
            callback({ code: grpc.status.OUT_OF_RANGE, details: `log chunk ${chunk.seq} arrived before ${chunks.size + 1}; expected seq ${chunks.size + 1}`, metadata });
            return;
          }
          if (!chunks.has(chunk.seq)) chunks.set(chunk.seq, { seq: chunk.seq, stream: chunk.stream, data: chunk.data });
          lastSeq = chunks.size;
        });
        call.on('end', () => {
          if (done) return;
          const named = this.wrongLogAckAttemptOnce ?? attemptId;
          this.wrongLogAckAttemptOnce = undefined;
          callback(null, { lastSeq, attemptId: named });
        });
      },
      UploadTaskFiles: (call, callback) => {
        if (!this.authorised(call)) {
          callback({ code: grpc.status.UNAUTHENTICATED, details: 'no client certificate' });
          return;
        }
        this.uploadCalls += 1;
        if (this.uploadStorageFull > 0) {
          this.uploadStorageFull -= 1;
          call.on('data', () => undefined);
          call.on('end', () => callback(storageFullError()));
          return;
        }
        const failure = this.uploadFailures.shift();
        const parts = new Map<string, Buffer[]>();
        const stored: OutputFile__Output[] = [];
        let attemptId = '';
        let error: string | undefined;
        call.on('data', (chunk: { attemptId: string; path: string; offset: number; data: Buffer; eof: boolean; size: number; sha256: string }) => {
          attemptId = chunk.attemptId;
          const list = parts.get(chunk.path) ?? [];
          const have = list.reduce((n, b) => n + b.length, 0);
          if (chunk.offset !== have) error = `bad offset for ${chunk.path}`;
          list.push(chunk.data);
          parts.set(chunk.path, list);
          if (chunk.eof) {
            const data = Buffer.concat(list);
            const sha = createHash('sha256').update(data).digest('hex');
            if (sha !== chunk.sha256 || data.length !== chunk.size) error = `checksum mismatch for ${chunk.path}`;
            let files = this.files.get(attemptId);
            if (!files) {
              files = new Map();
              this.files.set(attemptId, files);
            }
            files.set(chunk.path, data);
            stored.push({ path: chunk.path, size: data.length, sha256: sha });
          }
        });
        call.on('end', () => {
          if (failure !== undefined) callback({ code: failure, details: `upload failed by the test (${grpc.status[failure]})` });
          else if (error) callback({ code: grpc.status.DATA_LOSS, details: error });
          else callback(null, { files: stored });
        });
      },
      // DAG artifacts are not part of this fake (worker/test/s3-worker-transfer.test.ts and the
      // master's own suites cover them)
      FetchArtifact: (call) => {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the fake master keeps no artifacts' });
      },
      PrepareArtifactUploads: (_call, callback) => {
        callback({ code: grpc.status.UNIMPLEMENTED, details: 'the fake master keeps no artifacts' });
      },
    };
  }
}

/** What the real master answers an upload or a log stream when its disk is full. */
function storageFullError(): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('wharf-retry-after-ms', '100');
  return { code: grpc.status.RESOURCE_EXHAUSTED, details: "master storage full: a file write failed (ENOSPC); free space in the master's data dir (fake)", metadata };
}
