// A minimal Wharf worker written only from proto/wharf.proto and docs/API.md ("gRPC"), to prove
// those documents suffice (issue 12, point 7). It imports nothing of worker/ or @wharf/proto: it
// loads the .proto file itself with @grpc/proto-loader (keeping the proto's snake_case field
// names, unlike the project's own code), finds the master's CA by the pinned hash with node:tls,
// makes its key and CSR with @peculiar/x509, and talks to the master with @grpc/grpc-js.
// It runs nothing: a test tells it what to report (it is a protocol client, not a runtime).
import 'reflect-metadata';
import { createHash, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const PROTO_FILE = resolve(import.meta.dirname, '../../proto/wharf.proto');
const SERVICE = 'wharf.v1.WorkerGateway';

// ---- the messages this worker uses, as the proto names them (snake_case, keepCase) ----------

export interface RegisterRequest {
  join_token?: string;
  worker_id?: string;
  name?: string;
  hostname?: string;
  capacity?: { cpu: number; memory: number; gpu: number; disk: number };
  runtimes?: string[];
  labels?: Record<string, string>;
  running?: { attempt_id: string; task_id: string }[];
  version?: string;
  csr?: string;
  fencing?: { stop_after_ms: number; stop_grace_ms: number };
}
export interface RegisterResponse {
  worker_id: string;
  heartbeat_interval_ms: number;
  heartbeat_ttl_ms: number;
  stop_attempts: string[];
  draining: boolean;
  certificate: string;
  ca_certificate: string;
}
export interface TaskSpec {
  task_id: string;
  attempt_id: string;
  attempt_number: number;
  name: string;
  image: string;
  command: string[];
  env: Record<string, string>;
  runtime: string;
  timeout_seconds: number;
  // how the container is isolated (fields 20-26); empty / false / [] = the default
  network: string;
  network_group: string;
  user: string;
  read_only_root_filesystem: boolean;
  cap_add: string[];
  pull_policy: string;
  registry_auth: { server_address: string; username: string; password: string } | null;
}
/** What a runtime applied to a container, sent with the `started` event (AttemptEvent.effective). */
export interface EffectiveSettings {
  cpu: number;
  memory: number;
  disk: number;
  pids_limit: number;
  user: string;
  read_only_root_filesystem: boolean;
  no_new_privileges: boolean;
  capabilities: string[];
  network: string;
  pull_policy: string;
}
export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}
export interface AttemptResult {
  attempt_id: string;
  task_id: string;
  outcome: string;
  exit_code: number;
  has_exit_code: boolean;
  started_at_ms: number;
  finished_at_ms: number;
  error: string;
  files: OutputFile[];
  log_chunks: number;
}
/** A MasterMessage as proto-loader decodes it with `oneofs: true`: `payload` names the field set. */
export interface MasterMessage {
  payload: 'assign' | 'cancel' | 'result_ack' | 'drain' | 'heartbeat_ack' | 'report_nack';
  assign?: TaskSpec;
  cancel?: { attempt_id: string; reason: string; grace_seconds: number };
  result_ack?: { attempt_id: string };
  drain?: { draining: boolean };
  heartbeat_ack?: { sent_at_ms: number };
  report_nack?: { attempt_id: string; kind: string; reason: string; retry_after_ms: number };
}
type WorkerMessage =
  | { heartbeat: { sent_at_ms: number; running_attempts: string[] } }
  | { accepted: { attempt_id: string } }
  | { event: { attempt_id: string; kind: string; message: string; at_ms: number; effective?: EffectiveSettings } }
  | { result: AttemptResult };
export interface LogChunk {
  attempt_id: string;
  seq: number;
  stream: 'STDOUT' | 'STDERR' | 'SYSTEM';
  data: Buffer;
  at_ms: number;
}
export interface FileChunk {
  attempt_id: string;
  path: string;
  offset: number;
  data: Buffer;
  eof: boolean;
  size: number;
  sha256: string;
}

/** How a call ended: its answer, or the gRPC status with the details and trailers. */
export type CallOutcome<T> = { ok: true; value: T } | { ok: false; code: grpc.status; details: string; trailers: grpc.Metadata };

function outcomeOf<T>(error: grpc.ServiceError | null, value: T | undefined): CallOutcome<T> {
  if (error) return { ok: false, code: error.code, details: error.details, trailers: error.metadata };
  return { ok: true, value: value as T };
}

// ---- rule 2: trusting the master by the CA hash of the join line ----------------------------

const spkiHash = (cert: X509Certificate): string =>
  `sha256:${createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

/** Opens TLS without verification, finds the pinned CA in the presented chain, checks it signed the chain; answers its PEM. */
export async function discoverCa(address: string, pin: string): Promise<string> {
  const colon = address.lastIndexOf(':');
  const chain = await new Promise<X509Certificate[]>((resolveChain, reject) => {
    const socket = tls.connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)), rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    socket.once('secureConnect', () => {
      const found: X509Certificate[] = [];
      const seen = new Set<string>();
      let current: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (current?.raw && !seen.has(current.fingerprint256)) {
        seen.add(current.fingerprint256);
        found.push(new X509Certificate(current.raw));
        current = current.issuerCertificate;
      }
      socket.end();
      resolveChain(found);
    });
    socket.once('error', reject);
  });
  const index = chain.findIndex((cert) => spkiHash(cert) === pin);
  if (index < 0) throw new Error(`no certificate with ${pin} in the chain the master presented`);
  for (let i = 0; i < index; i += 1) {
    if (!chain[i]!.verify(chain[i + 1]!.publicKey)) throw new Error('the pinned CA did not sign the server certificate');
  }
  return chain[index]!.toString();
}

/** Rule 4: an ECDSA P-256 key the worker keeps and a PKCS#10 request for it (the subject is ignored). */
export async function newKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=minimal-worker', keys, signingAlgorithm: algorithm });
  return { keyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(), csrPem: csr.toString('pem') };
}

// ---- the wire: one grpc.Client per identity, methods by their full path ---------------------

const definition = protoLoader.loadSync(PROTO_FILE, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
const service = definition[SERVICE] as protoLoader.ServiceDefinition;
const method = (name: string): protoLoader.MethodDefinition<object, object> => {
  const found = service[name];
  if (!found) throw new Error(`${SERVICE} has no method ${name}`);
  return found;
};
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 8 * 1024 * 1024,
  'grpc.max_send_message_length': 8 * 1024 * 1024,
};

export class Wire {
  private readonly client: grpc.Client;

  /** `identity`: the worker's key and certificate (mTLS); without it, only enrolment works. */
  constructor(address: string, caPem: string, identity?: { keyPem: string; certPem: string }) {
    const credentials = identity
      ? grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem))
      : grpc.credentials.createSsl(Buffer.from(caPem));
    this.client = new grpc.Client(address, credentials, CHANNEL_OPTIONS);
  }

  register(request: RegisterRequest): Promise<CallOutcome<RegisterResponse>> {
    const m = method('Register');
    return new Promise((done) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, (error, value) =>
        done(outcomeOf(error, value as RegisterResponse | undefined)),
      );
    });
  }

  connect(): grpc.ClientDuplexStream<WorkerMessage, MasterMessage> {
    const m = method('Connect');
    return this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize) as grpc.ClientDuplexStream<WorkerMessage, MasterMessage>;
  }

  /** One StreamTaskLogs call: sends the chunks (stopping at the first the master refused) and answers its LogAck or status. */
  sendLogs(chunks: LogChunk[]): Promise<CallOutcome<{ last_seq: number; attempt_id: string }>> {
    return this.clientStream('StreamTaskLogs', chunks);
  }

  /** One UploadTaskFiles call: sends the chunks and answers its UploadAck or status. */
  upload(chunks: FileChunk[]): Promise<CallOutcome<{ files: OutputFile[] }>> {
    return this.clientStream('UploadTaskFiles', chunks);
  }

  close(): void {
    this.client.close();
  }

  private clientStream<T>(name: string, messages: object[]): Promise<CallOutcome<T>> {
    const m = method(name);
    return new Promise((done) => {
      const call = this.client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, (error, value) =>
        done(outcomeOf(error, value as T | undefined)),
      );
      call.on('error', () => undefined); // the callback has it
      for (const message of messages) call.write(message);
      call.end();
    });
  }
}

// ---- a joined worker with its Connect stream (rules 4-9) -----------------------------------

export interface MasterAddress {
  grpcAddress: string;
  joinToken: string;
  caHash: string;
}

export class MinimalWorker {
  /** every message the master sent on the current Connect stream, in order */
  readonly received: MasterMessage[] = [];
  workerId = '';
  /** the attempts it runs, listed in every heartbeat */
  readonly running = new Set<string>();
  private stream: grpc.ClientDuplexStream<WorkerMessage, MasterMessage> | undefined;
  private heartbeats: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly master: MasterAddress,
    readonly caPem: string,
    readonly keyPem: string,
    readonly certPem: string,
    readonly wire: Wire,
    readonly registerFields: RegisterRequest,
    readonly enrolment: RegisterResponse,
  ) {
    this.workerId = enrolment.worker_id;
  }

  /** Rule 4: a Register without a client certificate, with the join token and a CSR; then rule 7, Connect. */
  static async join(master: MasterAddress, fields: RegisterRequest): Promise<MinimalWorker> {
    const caPem = await discoverCa(master.grpcAddress, master.caHash);
    const { keyPem, csrPem } = await newKeyAndCsr();
    const anonymous = new Wire(master.grpcAddress, caPem);
    const enrolled = await anonymous.register({ ...fields, join_token: master.joinToken, worker_id: '', csr: csrPem });
    anonymous.close();
    if (!enrolled.ok) throw new Error(`enrolment refused: ${grpc.status[enrolled.code]} ${enrolled.details}`);
    // from now on the serving CA the master answered, and the certificate as the client's identity
    const wire = new Wire(master.grpcAddress, enrolled.value.ca_certificate, { keyPem, certPem: enrolled.value.certificate });
    const worker = new MinimalWorker(master, enrolled.value.ca_certificate, keyPem, enrolled.value.certificate, wire, fields, enrolled.value);
    worker.openStream(enrolled.value.heartbeat_interval_ms);
    return worker;
  }

  /** Rule 6/7: the stream ended; Register again (with the certificate), listing what it still holds, then Connect. */
  async reconnect(running: { attempt_id: string; task_id: string }[]): Promise<RegisterResponse> {
    this.closeStream();
    const answer = await this.wire.register({ ...this.registerFields, running });
    if (!answer.ok) throw new Error(`Register refused: ${grpc.status[answer.code]} ${answer.details}`);
    this.openStream(answer.value.heartbeat_interval_ms);
    return answer.value;
  }

  send(message: WorkerMessage): void {
    this.stream?.write(message);
  }

  /** The first message (from `from` on) the predicate takes, waiting up to `timeoutMs`. */
  async next<T>(what: string, pick: (message: MasterMessage) => T | undefined, timeoutMs = 15_000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const message of this.received.slice(from)) {
        const picked = pick(message);
        if (picked !== undefined) return picked;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the master sent no ${what} within ${timeoutMs}ms`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.waiters.add(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  close(): void {
    this.closeStream();
    this.wire.close();
  }

  private openStream(intervalMs: number): void {
    this.received.length = 0;
    const stream = this.wire.connect();
    stream.on('data', (message: MasterMessage) => {
      this.received.push(message);
      // rule 9: every assignment is accepted at once
      if (message.payload === 'assign' && message.assign) this.send({ accepted: { attempt_id: message.assign.attempt_id } });
      for (const wake of [...this.waiters]) wake();
      this.waiters.clear();
    });
    stream.on('error', () => undefined); // a test that cares reconnects
    this.stream = stream;
    const beat = () => {
      // sent_at_ms increasing, so an ack names exactly one heartbeat
      this.lastSentAt = Math.max(Date.now(), this.lastSentAt + 1);
      this.send({ heartbeat: { sent_at_ms: this.lastSentAt, running_attempts: [...this.running] } });
    };
    beat();
    this.heartbeats = setInterval(beat, intervalMs);
  }

  private closeStream(): void {
    clearInterval(this.heartbeats);
    this.stream?.end();
    this.stream?.cancel();
    this.stream = undefined;
  }
}

export const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
