// A worker written by hand against wharf.proto: a raw gRPC client for tests that must send what
// the real worker never would (a forged digest, a cap split across streams, a log gap). It
// enrols the way test/support/cluster.ts workers do; how a worker joins (join token, session
// token metadata) lives in `enrol` and `metadata` only, so a change to enrolment (TLS, worker
// certificates) is adapted here in one place.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  CHANNEL_OPTIONS,
  SESSION_METADATA_KEY,
  loadWharfProto,
  type AttemptResult,
  type FileChunk,
  type LogAck__Output,
  type LogChunk,
  type MasterMessage__Output,
  type TaskSpec__Output,
  type UploadAck__Output,
  type WorkerGatewayClient,
  type WorkerMessage,
} from '@wharf/proto';
import { waitFor } from './cluster.js';

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A gRPC call error as the client sees it. */
export interface CallError {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

export class RawWorker {
  readonly assignments: TaskSpec__Output[] = [];
  readonly acks = new Set<string>();
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    readonly workerId: string,
    private readonly client: WorkerGatewayClient,
    private readonly sessionToken: string,
    private readonly connection: grpc.ClientDuplexStream<WorkerMessage, MasterMessage__Output>,
  ) {}

  /** Registers with the master's join token, opens the Connect stream and heartbeats on it. */
  static async enrol(master: { grpcAddress: string; joinToken: string }, options: { runtimes?: string[] } = {}): Promise<RawWorker> {
    const proto = loadWharfProto();
    const client = new proto.wharf.v1.WorkerGateway(master.grpcAddress, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const workerId = `raw-${Math.random().toString(36).slice(2, 10)}`;
    const registered = await new Promise<{ sessionToken: string; heartbeatIntervalMs: number }>((resolve, reject) => {
      client.Register(
        {
          joinToken: master.joinToken,
          workerId,
          name: workerId,
          hostname: 'raw-test-client',
          capacity: { cpu: 4, memory: 8 * 1024 ** 3, gpu: 0, disk: 100 * 1024 ** 3 },
          runtimes: options.runtimes ?? ['docker'],
          labels: {},
          running: [],
          version: 'raw-test-client',
          // the master admits only workers that declare a fencing bound; the default one (the TTL)
          fencing: { stopAfterMs: 0, stopGraceMs: 0 },
        },
        (error, response) => (error || !response ? reject(error ?? new Error('no Register answer')) : resolve(response)),
      );
    });
    const metadata = new grpc.Metadata();
    metadata.set(SESSION_METADATA_KEY, `Bearer ${registered.sessionToken}`);
    const connection = client.Connect(metadata);
    const worker = new RawWorker(workerId, client, registered.sessionToken, connection);
    connection.on('data', (message: MasterMessage__Output) => {
      if (message.assign) {
        worker.assignments.push(message.assign);
        connection.write({ accepted: { attemptId: message.assign.attemptId } });
      }
      if (message.resultAck) worker.acks.add(message.resultAck.attemptId);
    });
    connection.on('error', () => undefined);
    const beat = (): void => {
      connection.write({ heartbeat: { runningAttempts: [], sentAtMs: Date.now(), cachedArtifacts: [] } });
    };
    beat();
    worker.heartbeat = setInterval(beat, Math.max(50, registered.heartbeatIntervalMs));
    return worker;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(SESSION_METADATA_KEY, `Bearer ${this.sessionToken}`);
    return metadata;
  }

  /** The assignment of this task's attempt `attemptNumber` (the raw worker never runs anything itself). */
  async assignmentOf(taskId: string, attemptNumber = 1): Promise<TaskSpec__Output> {
    return waitFor(`attempt ${attemptNumber} of task ${taskId}`, () =>
      this.assignments.find((a) => a.taskId === taskId && a.attemptNumber === attemptNumber),
    );
  }

  started(spec: TaskSpec__Output): void {
    this.connection.write({ event: { attemptId: spec.attemptId, kind: 'started', message: 'raw', atMs: Date.now() } });
  }

  /** Sends a result and waits for the master's ack. */
  async result(spec: TaskSpec__Output, result: Partial<AttemptResult>): Promise<void> {
    const now = Date.now();
    this.connection.write({
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
      const call = this.client.UploadTaskFiles(this.metadata(), (error, ack) => {
        if (error || !ack) resolve({ error: (error ?? { code: grpc.status.UNKNOWN, details: 'no ack', metadata: new grpc.Metadata() }) as CallError });
        else resolve({ ack });
      });
      call.on('error', () => undefined);
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  /** One StreamTaskLogs stream with these chunks as given; answers the ack or the call's error. */
  streamLogs(chunks: LogChunk[]): Promise<{ ack: LogAck__Output } | { error: CallError }> {
    return new Promise((resolve) => {
      const call = this.client.StreamTaskLogs(this.metadata(), (error, ack) => {
        if (error || !ack) resolve({ error: (error ?? { code: grpc.status.UNKNOWN, details: 'no ack', metadata: new grpc.Metadata() }) as CallError });
        else resolve({ ack });
      });
      call.on('error', () => undefined);
      for (const chunk of chunks) call.write(chunk);
      call.end();
    });
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.connection.end();
    this.connection.cancel();
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
