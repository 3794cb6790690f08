// The worker's gRPC channel to the master: TLS, verified with the CA the worker trusts, and
// (once the worker has joined) presenting the worker's certificate on every call. The session
// loop marks the first successful Register; log and upload streams wait for it. A renewed
// certificate replaces the channel: new calls use the new one, calls in flight finish on the
// old one. With several masters (master-candidates.ts) the channel is replaced the same way
// when the worker moves to another master: a standby's refusal names the leader, any other
// failure moves to the next one.
import { isIP } from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, loadWharfProto, type WorkerGatewayClient } from '@wharf/proto';
import { MasterCandidates, masterEntries, type HostResolver } from './master-candidates.js';

export interface GatewayTls {
  /** the CA the master's certificate must chain to (PEM) */
  caPem: string;
  /** the worker's key and certificate (PEM); absent while joining */
  keyPem?: string | undefined;
  certPem?: string | undefined;
  /** the name every master's certificate must carry, when not the host dialled (--tls-server-name) */
  serverName?: string | undefined;
}

/** How long a replaced channel stays open for the calls still running on it. */
const RETIRED_CHANNEL_GRACE_MS = 10 * 60_000;
/**
 * SNI for a master dialled by IP address: Node warns (DEP0123) when a TLS server name is an
 * IP, so the handshake carries this name while the certificate is still checked against the
 * address the worker dialled (the master's certificate lists its addresses).
 */
const IP_SNI_NAME = 'wharf-master';

export class GatewayConnection {
  private current: WorkerGatewayClient;
  private readonly retired = new Set<WorkerGatewayClient>();
  private registered = false;
  private waiters: (() => void)[] = [];
  private readonly candidates: MasterCandidates;
  /** the master the current channel dials */
  private dialled: string;

  /** `masterAddress`: --master, one HOST:PORT or a comma list of them. */
  constructor(
    masterAddress: string,
    private readonly reconnect: { baseMs: number; maxMs: number },
    private tlsOptions: GatewayTls,
    resolver?: HostResolver,
  ) {
    this.candidates = new MasterCandidates(masterEntries(masterAddress), resolver);
    this.dialled = this.candidates.current.dial;
    this.current = this.makeClient();
  }

  get client(): WorkerGatewayClient {
    return this.current;
  }

  /** The master the worker dials now (HOST:PORT). */
  get address(): string {
    return this.dialled;
  }

  /** Resolves the DNS names of --master (a name with several addresses: each is a master). */
  async resolveMasters(): Promise<void> {
    await this.candidates.refresh();
    this.moveIfChanged();
  }

  /**
   * A Register or Connect failed: goes to the leader a standby named, else to the next master.
   * Answers whether to wait (backoff) before the next try: only after every master failed;
   * `soon`: a standby answered (an election is on), so wait only the base delay.
   */
  async failedWith(error: unknown): Promise<{ waitFirst: boolean; followed?: string; soon?: boolean }> {
    const next = await this.candidates.afterFailure(error);
    this.moveIfChanged();
    return next;
  }

  /** A master took the worker, or a stream it held ended: the next failure starts a new pass over the list. */
  reachedMaster(): void {
    this.candidates.reset();
  }

  private moveIfChanged(): void {
    if (this.candidates.current.dial === this.dialled) return;
    this.dialled = this.candidates.current.dial;
    this.replaceClient();
  }

  private replaceClient(): void {
    const old = this.current;
    this.current = this.makeClient();
    this.retired.add(old);
    setTimeout(() => {
      this.retired.delete(old);
      old.close();
    }, RETIRED_CHANNEL_GRACE_MS).unref();
  }

  private makeClient(): WorkerGatewayClient {
    const proto = loadWharfProto();
    const { caPem, keyPem, certPem, serverName } = this.tlsOptions;
    // each master's certificate must carry the name the worker dials it by (the host of its
    // --master entry, of the DNS name it was resolved from, or of the leader a standby named)
    const { dial, verifyName: host } = this.candidates.current;
    const expectedName = serverName ?? host;
    const credentials = grpc.credentials.createSsl(
      Buffer.from(caPem),
      keyPem ? Buffer.from(keyPem) : null,
      certPem ? Buffer.from(certPem) : null,
      { checkServerIdentity: (_name, cert) => tls.checkServerIdentity(expectedName, cert) },
    );
    // The channel's own reconnect backoff follows ours: grpc-js would otherwise wait up to
    // two minutes before it dials a master that came back.
    const options: grpc.ChannelOptions = {
      ...CHANNEL_OPTIONS,
      'grpc.initial_reconnect_backoff_ms': this.reconnect.baseMs,
      'grpc.max_reconnect_backoff_ms': this.reconnect.maxMs,
      'grpc.ssl_target_name_override': serverName ?? (isIP(host) ? IP_SNI_NAME : host),
    };
    return new proto.wharf.v1.WorkerGateway(dial, credentials, options);
  }

  /** A renewed key and certificate: new calls present them; calls in flight finish on the old channel. */
  useIdentity(keyPem: string, certPem: string): void {
    this.tlsOptions = { ...this.tlsOptions, keyPem, certPem };
    this.replaceClient();
  }

  /** The session registered: streams waiting in callMetadata may go. */
  markRegistered(): void {
    this.registered = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Metadata for a call, once the worker has registered with the master (the master knows what
   * it runs then); undefined when aborted first. Identity travels in the TLS handshake, not here.
   */
  async callMetadata(signal?: AbortSignal): Promise<grpc.Metadata | undefined> {
    while (!this.registered) {
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
    return new grpc.Metadata();
  }

  close(): void {
    this.current.close();
    for (const client of this.retired) client.close();
    this.retired.clear();
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

/**
 * How long the master asks the worker to wait before it sends again what it refused for a
 * temporary reason (its storage is full: RESOURCE_EXHAUSTED with `wharf-retry-after-ms`), or
 * undefined when the refusal carries no such trailer (then it is final).
 */
export function retryAfterMsOf(error: unknown): number | undefined {
  const raw = grpcTrailerOf(error, 'wharf-retry-after-ms');
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
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
