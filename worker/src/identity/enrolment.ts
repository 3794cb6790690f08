// Joining a master: before anything else runs (the runtimes label containers with the worker
// id, which only the master's answer gives), a worker without a certificate generates a key,
// sends a certificate signing request with the join token in a Register without a client
// certificate, and keeps the key and the certificate the master signs. A master that cannot be
// reached, or that refuses the token (an admin may create it in a moment), is retried with
// backoff; a request the master calls invalid is not.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RegisterRequest, RegisterResponse__Output } from '@wharf/proto';
import { Backoff, sleep, type BackoffOptions } from '../retry/backoff.js';
import { describeGrpcError, GatewayConnection, grpcStatusOf } from '../session/gateway-connection.js';
import { leaderNamedBy } from '../session/master-candidates.js';
import { newKeyAndCsr } from './worker-credentials.js';

const REGISTER_DEADLINE_MS = 10_000;

/** What the joining Register says about the worker, its fencing bound included (the master refuses a Register without one). */
export type EnrolmentFields = Pick<RegisterRequest, 'name' | 'hostname' | 'capacity' | 'gpuIds' | 'advertiseAddress' | 'runtimes' | 'labels' | 'version' | 'fencing'>;

export interface EnrolmentOptions {
  /** --master: one HOST:PORT or a comma list (the join goes to the leader) */
  masterAddress: string;
  caPem: string;
  serverName?: string | undefined;
  joinToken: string;
  fields: EnrolmentFields;
  backoff: BackoffOptions;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

export interface Enrolled {
  workerId: string;
  keyPem: string;
  certPem: string;
  /** the serving CA the master sent (PEM); the pinned one when absent */
  caPem: string;
}

/** The master refused the request itself (not worth retrying). */
export class EnrolmentRefused extends Error {
  override name = 'EnrolmentRefused';
}

export async function enrol(options: EnrolmentOptions): Promise<Enrolled> {
  const { keyPem, csrPem } = await newKeyAndCsr();
  const gateway = new GatewayConnection(options.masterAddress, options.backoff, { caPem: options.caPem, serverName: options.serverName });
  const backoff = new Backoff(options.backoff);
  try {
    await gateway.resolveMasters();
    for (;;) {
      if (options.signal?.aborted) throw new Error('stopped before the worker joined the master');
      try {
        const response = await register(gateway, { ...options.fields, joinToken: options.joinToken, workerId: '', csr: csrPem, running: [] });
        if (!response.certificate || !response.workerId) {
          throw new EnrolmentRefused('the master answered the join without a certificate: is it an older Wharf master? (it must sign the worker\'s CSR)');
        }
        options.logger.info({ workerId: response.workerId, master: gateway.address }, 'joined the master: certificate received');
        return { workerId: response.workerId, keyPem, certPem: response.certificate, caPem: response.caCertificate || options.caPem };
      } catch (error: unknown) {
        if (error instanceof EnrolmentRefused) throw error;
        const code = grpcStatusOf(error);
        if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.PERMISSION_DENIED || code === grpc.status.FAILED_PRECONDITION) {
          throw new EnrolmentRefused(`the master refused to let this worker join: ${describeGrpcError(error)}`);
        }
        if (code === grpc.status.UNAUTHENTICATED) {
          options.logger.error(
            { master: gateway.address, reason: describeGrpcError(error) },
            'the master refused the join token; check --token-file / WHARF_JOIN_TOKEN (an admin can create one: POST /api/join-tokens) (retrying)',
          );
        } else if (leaderNamedBy(error) !== undefined) {
          options.logger.info({ master: gateway.address, leader: leaderNamedBy(error) || '(none yet)' }, 'this master is a standby: joining through the leader');
        } else {
          options.logger.warn({ master: gateway.address, reason: describeGrpcError(error), hint: tlsHint(error) }, 'cannot join the master yet (retrying)');
        }
        // several masters: the leader a standby named, else the next one; wait only after all failed
        const next = await gateway.failedWith(error);
        if (!next.waitFirst) continue;
        if (next.soon) {
          // a standby answered: a leader is due within the lease TTL
          await sleep(options.backoff.baseMs, options.signal);
          continue;
        }
      }
      await sleep(backoff.nextDelayMs(), options.signal);
    }
  } finally {
    gateway.close();
  }
}

function register(gateway: GatewayConnection, request: RegisterRequest): Promise<RegisterResponse__Output> {
  return new Promise((resolve, reject) => {
    gateway.client.Register(request, { deadline: Date.now() + REGISTER_DEADLINE_MS }, (error, response) => {
      if (error || !response) reject(error ?? new Error('empty Register response'));
      else resolve(response);
    });
  });
}

/** What to do about a TLS failure, when the error is one (undefined otherwise). */
export function tlsHint(error: unknown): string | undefined {
  const text = describeGrpcError(error);
  if (/altnames|does not match certificate/i.test(text)) {
    return 'the master\'s certificate does not name the address this worker dials: pass --tls-server-name with a name it carries, or add the address to the master\'s WHARF_TLS_SAN';
  }
  if (/self[- ]signed|unable to verify|unable to get|certificate signature failure|unknown ca|bad certificate/i.test(text)) {
    return 'the master\'s certificate does not chain to the CA this worker trusts: if the master was set up anew, remove <data-dir>/tls on this worker and join again with a join token and the new --ca-hash';
  }
  return undefined;
}
