// The worker's one gRPC channel to the master and the session token every call after
// Register carries. The session loop sets the token after each successful Register; log and
// upload streams wait for a token and always use the newest one.
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, SESSION_METADATA_KEY, loadWharfProto, type WorkerGatewayClient } from '@wharf/proto';

export class GatewayConnection {
  readonly client: WorkerGatewayClient;
  private sessionToken: string | undefined;
  private waiters: (() => void)[] = [];

  constructor(masterAddress: string, reconnect: { baseMs: number; maxMs: number }) {
    const proto = loadWharfProto();
    // The channel's own reconnect backoff follows ours: grpc-js would otherwise wait up to
    // two minutes before it dials a master that came back.
    const options: grpc.ChannelOptions = {
      ...CHANNEL_OPTIONS,
      'grpc.initial_reconnect_backoff_ms': reconnect.baseMs,
      'grpc.max_reconnect_backoff_ms': reconnect.maxMs,
    };
    this.client = new proto.wharf.v1.WorkerGateway(masterAddress, grpc.credentials.createInsecure(), options);
  }

  setSessionToken(token: string): void {
    this.sessionToken = token;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Call metadata with the current session token; waits for the first Register. Undefined when aborted. */
  async sessionMetadata(signal?: AbortSignal): Promise<grpc.Metadata | undefined> {
    while (this.sessionToken === undefined) {
      if (signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (signal?.aborted) return undefined;
    const metadata = new grpc.Metadata();
    metadata.set(SESSION_METADATA_KEY, `Bearer ${this.sessionToken}`);
    return metadata;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Writes one message to a client stream, waiting for the stream to drain when its buffer is
 * full; also returns when the call ends or fails (the caller then sees the call's error).
 */
export async function writeMessage<T>(stream: grpc.ClientWritableStream<T>, message: T): Promise<void> {
  if (stream.write(message)) return;
  await new Promise<void>((resolve) => {
    const events = ['drain', 'status', 'error', 'close'] as const;
    const done = (): void => {
      for (const event of events) stream.off(event, done);
      resolve();
    };
    for (const event of events) stream.once(event, done);
  });
}

/** The gRPC status code of an error from a call, if it has one. */
export function grpcStatusOf(error: unknown): grpc.status | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    return error.code;
  }
  return undefined;
}

/** A value the master put in a failed call's trailing metadata (`wharf-expected-seq`, ...). */
export function grpcTrailerOf(error: unknown, key: string): string | undefined {
  if (typeof error !== 'object' || error === null || !('metadata' in error) || !(error.metadata instanceof grpc.Metadata)) return undefined;
  const value = error.metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** A short description of a call error for logs and results. */
export function describeGrpcError(error: unknown): string {
  const code = grpcStatusOf(error);
  const details =
    typeof error === 'object' && error !== null && 'details' in error && typeof error.details === 'string'
      ? error.details
      : error instanceof Error
        ? error.message
        : String(error);
  return code === undefined ? details : `${grpc.status[code] ?? code}: ${details}`;
}
