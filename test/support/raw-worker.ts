// A hand-driven worker client for attack tests: real gRPC over TLS to a real master, doing only
// what a test tells it (an attacker joins with a token, replays a worker id, presents another
// worker's certificate, forges a result). It trusts the master the way a worker does: by the CA
// hash of the join line.
import * as grpc from '@grpc/grpc-js';
import {
  CHANNEL_OPTIONS,
  loadWharfProto,
  type MasterMessage__Output,
  type RegisterRequest,
  type RegisterResponse__Output,
  type WorkerGatewayClient,
  type WorkerMessage,
} from '@wharf/proto';
import { discoverPinnedCa } from '../../worker/src/identity/ca-discovery.js';
import { newKeyAndCsr } from '../../worker/src/identity/worker-credentials.js';
import type { JoinLine } from './cluster.js';

export interface Identity {
  keyPem: string;
  certPem: string;
}

/** A gRPC error as grpc-js reports it. */
export interface CallError {
  code: grpc.status;
  details: string;
}

export class RawWorker {
  readonly client: WorkerGatewayClient;

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

  /** The same master, presenting `identity`. */
  as(identity: Identity): RawWorker {
    return new RawWorker(this.master, this.caPem, identity);
  }

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
      ...fields,
    };
    return new Promise((resolve, reject) => {
      this.client.Register(request, { deadline: Date.now() + 10_000 }, (error, response) => (error || !response ? reject(error) : resolve(response)));
    });
  }

  /** Joins with a token like a worker: a new key, a CSR; answers the worker id and its identity. */
  async join(joinToken: string, fields: Partial<RegisterRequest> = {}): Promise<{ workerId: string; identity: Identity }> {
    const { keyPem, csrPem } = await newKeyAndCsr();
    const response = await this.register({ joinToken, csr: csrPem, ...fields });
    return { workerId: response.workerId, identity: { keyPem, certPem: response.certificate } };
  }

  /** Opens Connect and records what comes down until the test ends it. */
  connect(): { messages: MasterMessage__Output[]; stream: grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output>; ended: Promise<CallError | undefined> } {
    const stream = this.client.Connect();
    const messages: MasterMessage__Output[] = [];
    stream.on('data', (message: MasterMessage__Output) => messages.push(message));
    const ended = new Promise<CallError | undefined>((resolve) => {
      stream.on('error', (error: grpc.ServiceError) => resolve({ code: error.code, details: error.details }));
      stream.on('end', () => resolve(undefined));
    });
    return { messages, stream, ended };
  }

  /** A client-streaming call (logs or files) with these messages; answers the error or the answer. */
  async streamLogs(chunks: { attemptId: string; seq: number; data: Buffer }[]): Promise<CallError | { lastSeq: number }> {
    return new Promise((resolve) => {
      const call = this.client.StreamTaskLogs((error, response) =>
        resolve(error ? { code: error.code, details: error.details } : { lastSeq: response?.lastSeq ?? 0 }),
      );
      for (const chunk of chunks) call.write({ ...chunk, stream: 'STDOUT', atMs: Date.now() });
      call.end();
    });
  }

  async uploadFile(attemptId: string, path: string, data: Buffer, sha256: string): Promise<CallError | { files: number }> {
    return new Promise((resolve) => {
      const call = this.client.UploadTaskFiles((error, response) =>
        resolve(error ? { code: error.code, details: error.details } : { files: response?.files.length ?? 0 }),
      );
      call.write({ attemptId, path, offset: 0, data, eof: true, size: data.length, sha256 });
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

/** The error of a promise that must fail. */
export async function callError(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (error: unknown) {
    const e = error as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('the call succeeded but was expected to fail');
}
