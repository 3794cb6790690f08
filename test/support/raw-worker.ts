// A worker written by hand against wharf.proto: real gRPC over TLS to a real master, doing only
// what a test tells it — for tests that must send what the real worker never would (an attacker
// joins with a token, replays a worker id, presents another worker's certificate; a forged
// digest, a cap split across streams, a log gap). It trusts the master the way a worker does (by
// the CA hash of the join line), joins the way a worker does (a join token and a CSR; the
// master's certificate is its identity on every later call) and declares a fencing bound at
// every Register, which the master requires.
//
// Two levels: `open` gives a bare client (Register, join, Connect and the streaming calls as the
// test builds them); `enrol` gives a joined worker with its Connect stream open, heartbeating,
// accepting every assignment and recording result acks.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  CHANNEL_OPTIONS,
  loadWharfProto,
  type AttemptResult,
  type CancelAttempt__Output,
  type FileChunk,
  type LogAck__Output,
  type LogChunk,
  type MasterMessage__Output,
  type RegisterRequest,
  type RegisterResponse__Output,
  type TaskSpec__Output,
  type UploadAck__Output,
  type WorkerGatewayClient,
  type WorkerMessage,
} from '@wharf/proto';
import { discoverPinnedCa } from '../../worker/src/identity/ca-discovery.js';
import { newKeyAndCsr } from '../../worker/src/identity/worker-credentials.js';
import { waitFor, type JoinLine } from './cluster.js';

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

export interface Identity {
  keyPem: string;
  certPem: string;
}

/** A gRPC call error as the client sees it (with the trailers, e.g. `wharf-expected-seq`). */
export interface CallError {
  code: grpc.status;
  details: string;
  metadata?: grpc.Metadata | undefined;
}

/** The bound a raw worker declares: stop-after 0 = the master's heartbeat TTL. */
export const RAW_FENCING = { stopAfterMs: 0, stopGraceMs: 0 };

/** An open Connect stream that accepts assignments and heartbeats (see `enrol`). */
interface Session {
  stream: grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output>;
  heartbeat: NodeJS.Timeout;
}

function callErrorOf(error: grpc.ServiceError | null | undefined): CallError {
  if (!error) return { code: grpc.status.UNKNOWN, details: 'no answer', metadata: new grpc.Metadata() };
  return { code: error.code, details: error.details, metadata: error.metadata };
}

export class RawWorker {
  readonly client: WorkerGatewayClient;
  /** `enrol`: the id the master gave this worker */
  workerId = '';
  /** `enrol`: every assignment that came down (each is accepted at once) */
  readonly assignments: TaskSpec__Output[] = [];
  /** `enrol`: attempts whose result the master acknowledged */
  readonly acks = new Set<string>();
  /** `enrol`: every cancel that came down (the raw worker never stops anything) */
  readonly cancels: CancelAttempt__Output[] = [];
  private session: Session | undefined;

  private constructor(
    readonly master: JoinLine,
    readonly caPem: string,
    readonly identity: Identity | undefined,
  ) {
    const proto = loadWharfProto();
    const credentials = grpc.credentials.createSsl(
      Buffer.from(caPem),
      identity ? Buffer.from(identity.keyPem) : null,
      identity ? Buffer.from(identity.certPem) : null,
    );
    this.client = new proto.wharf.v1.WorkerGateway(master.grpcAddress, credentials, {
      ...CHANNEL_OPTIONS,
      'grpc.ssl_target_name_override': 'localhost',
      'grpc.use_local_subchannel_pool': 1,
    });
  }

  /** A client without a certificate (it can only join), or with `identity`. */
  static async open(master: JoinLine, identity?: Identity): Promise<RawWorker> {
    return new RawWorker(master, await discoverPinnedCa(master.grpcAddress, master.caHash), identity);
  }

  /**
   * A worker that joined with the master's join token: its Connect stream is open, it
   * heartbeats (so the master keeps it), accepts every assignment and records result acks.
   */
  static async enrol(master: JoinLine, options: { runtimes?: string[] } = {}): Promise<RawWorker> {
    const anonymous = await RawWorker.open(master);
    let joined: { workerId: string; identity: Identity; response: RegisterResponse__Output };
    try {
      joined = await anonymous.join(master.joinToken, {
        name: 'raw-test-client',
        capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 100 * 1024 ** 3 },
        runtimes: options.runtimes ?? ['docker'],
      });
    } finally {
      anonymous.close();
    }
    const worker = anonymous.as(joined.identity);
    worker.workerId = joined.workerId;
    worker.startSession(joined.response.heartbeatIntervalMs);
    return worker;
  }

  /** The same master, presenting `identity`. */
  as(identity: Identity): RawWorker {
    return new RawWorker(this.master, this.caPem, identity);
  }

  /** One Register with these fields over the defaults (no token, no id, a fencing bound). */
  register(fields: Partial<RegisterRequest>): Promise<RegisterResponse__Output> {
    const request: RegisterRequest = {
      joinToken: '',
      workerId: '',
      name: 'raw',
      hostname: 'raw-host',
      capacity: { cpu: 1, memory: 1024 ** 3, gpu: 0, disk: 0 },
      runtimes: ['exec'],
      labels: {},
      running: [],
      version: 'raw',
      csr: '',
      fencing: RAW_FENCING,
      ...fields,
    };
    return new Promise((resolve, reject) => {
      this.client.Register(request, { deadline: Date.now() + 10_000 }, (error, response) => (error || !response ? reject(error) : resolve(response)));
    });
  }

  /** Joins with a token like a worker: a new key, a CSR; answers the worker id and its identity. */
  async join(joinToken: string, fields: Partial<RegisterRequest> = {}): Promise<{ workerId: string; identity: Identity; response: RegisterResponse__Output }> {
    const { keyPem, csrPem } = await newKeyAndCsr();
    const response = await this.register({ joinToken, csr: csrPem, ...fields });
    return { workerId: response.workerId, identity: { keyPem, certPem: response.certificate }, response };
  }

  /** Opens Connect and records what comes down until the test ends it. */
  connect(): { messages: MasterMessage__Output[]; stream: grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output>; ended: Promise<CallError | undefined> } {
    const stream = this.client.Connect();
    const messages: MasterMessage__Output[] = [];
    stream.on('data', (message: MasterMessage__Output) => messages.push(message));
    const ended = new Promise<CallError | undefined>((resolve) => {
      stream.on('error', (error: grpc.ServiceError) => resolve(callErrorOf(error)));
      stream.on('end', () => resolve(undefined));
    });
    return { messages, stream, ended };
  }

  private startSession(heartbeatIntervalMs: number): void {
    const stream = this.client.Connect();
    stream.on('data', (message: MasterMessage__Output) => {
      if (message.assign) {
        this.assignments.push(message.assign);
        stream.write({ accepted: { attemptId: message.assign.attemptId } });
      }
      if (message.resultAck) this.acks.add(message.resultAck.attemptId);
      if (message.cancel) this.cancels.push(message.cancel);
    });
    stream.on('error', () => undefined);
    const beat = (): void => {
      stream.write({ heartbeat: { runningAttempts: [], sentAtMs: Date.now(), cachedArtifacts: [] } });
    };
    beat();
    this.session = { stream, heartbeat: setInterval(beat, Math.max(50, heartbeatIntervalMs)) };
  }

  private sessionStream(): grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output> {
    if (!this.session) throw new Error('this raw worker has no session: make it with RawWorker.enrol');
    return this.session.stream;
  }

  /** The assignment of this task's attempt `attemptNumber` (the raw worker never runs anything itself). */
  async assignmentOf(taskId: string, attemptNumber = 1): Promise<TaskSpec__Output> {
    return waitFor(`attempt ${attemptNumber} of task ${taskId}`, () =>
      this.assignments.find((a) => a.taskId === taskId && a.attemptNumber === attemptNumber),
    );
  }

  started(spec: TaskSpec__Output): void {
    this.sessionStream().write({ event: { attemptId: spec.attemptId, kind: 'started', message: 'raw', atMs: Date.now() } });
  }

  /** Sends a result and waits for the master's ack. */
  async result(spec: TaskSpec__Output, result: Partial<AttemptResult>): Promise<void> {
    const now = Date.now();
    this.sessionStream().write({
      result: {
        attemptId: spec.attemptId,
        taskId: spec.taskId,
        outcome: 'succeeded',
        exitCode: 0,
        hasExitCode: true,
        startedAtMs: now,
        finishedAtMs: now,
        error: '',
        files: [],
        logChunks: 0,
        ...result,
      },
    });
    await waitFor(`the ack of attempt ${spec.attemptId}`, () => this.acks.has(spec.attemptId));
  }

  /** One UploadTaskFiles stream with these chunks as given; answers the ack or the call's error. */
  upload(chunks: FileChunk[]): Promise<{ ack: UploadAck__Output } | { error: CallError }> {
    return new Promise((resolve) => {
      const call = this.client.UploadTaskFiles((error, ack) => resolve(error || !ack ? { error: callErrorOf(error) } : { ack }));
      call.on('error', () => undefined);
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  /** One StreamTaskLogs stream with these chunks as given; answers the ack or the call's error. */
  streamLogs(chunks: LogChunk[]): Promise<{ ack: LogAck__Output } | { error: CallError }> {
    return new Promise((resolve) => {
      const call = this.client.StreamTaskLogs((error, ack) => resolve(error || !ack ? { error: callErrorOf(error) } : { ack }));
      call.on('error', () => undefined);
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  close(): void {
    if (this.session) {
      clearInterval(this.session.heartbeat);
      this.session.stream.end();
      this.session.stream.cancel();
      this.session = undefined;
    }
    this.client.close();
  }
}

/** The chunks of one whole file, as a worker sends them: at most 1 MiB each, then the eof chunk with size and sha256. */
export function fileChunks(attemptId: string, path: string, data: Buffer, claim: { size?: number; sha256?: string } = {}): FileChunk[] {
  const chunks: FileChunk[] = [];
  for (let offset = 0; offset < data.length; offset += 1024 * 1024) {
    chunks.push({ attemptId, path, offset, data: data.subarray(offset, Math.min(offset + 1024 * 1024, data.length)) });
  }
  chunks.push({ attemptId, path, offset: data.length, data: Buffer.alloc(0), eof: true, size: claim.size ?? data.length, sha256: claim.sha256 ?? sha256Hex(data) });
  return chunks;
}

/** One log chunk of an attempt, as a worker sends it. */
export function logChunk(attemptId: string, seq: number, text: string, stream: LogChunk['stream'] = 'STDOUT'): LogChunk {
  return { attemptId, seq, stream, data: Buffer.from(text), atMs: Date.now() };
}

/** The error of a promise that must fail. */
export async function callError(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (error: unknown) {
    const e = error as grpc.ServiceError;
    return { code: e.code, details: e.details, metadata: e.metadata };
  }
  throw new Error('the call succeeded but was expected to fail');
}
