// Who a worker is. A worker's identity is its certificate, not an id it claims:
//
// - enrolment (a Register without a client certificate): a join token admits a NEW worker; the
//   master chooses its id and signs its key (CSR) with the cluster CA. A certificate-less
//   Register naming an existing worker is the impersonation attack and is refused, whatever
//   token it carries;
// - every other call presents the certificate (mTLS, verified against the cluster CA by the
//   TLS layer); the worker id is its subject CN, and the certificate must be the one the
//   worker record holds (or its not-yet-used renewal) and must not be revoked;
// - removing a worker revokes its certificates (the revocation list is checked on every call)
//   and forgets the worker.
// Every refusal is logged at warn with the peer address and what was claimed, and counted.
import { randomUUID } from 'node:crypto';
import { notFound, WharfError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { IssuedWorkerCertificate } from '../pki/cluster-pki.js';
import type { RevokedCertificate } from '../records/credentials.js';
import type { WorkerCertificateRef, WorkerRecord } from '../records/worker.js';
import type { Store } from '../store/store.js';
import { JoinTokenRefused, type JoinTokens } from './join-tokens.js';
import type { WorkerRegistry } from './worker-registry.js';

const WORKER_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Why a worker's call or registration was refused (the label of the failures counter). */
export const IDENTITY_REFUSALS = [
  'no_certificate',
  'impersonation',
  'unknown_worker',
  'revoked_certificate',
  'superseded_certificate',
  'invalid_request',
  'invalid_token',
  'expired_token',
  'revoked_token',
  'used_up_token',
  'rate_limited',
] as const;
export type IdentityRefusal = (typeof IDENTITY_REFUSALS)[number];

/** A refusal with its reason, mapped to UNAUTHENTICATED / PERMISSION_DENIED / … at the edge. */
export class IdentityRefused extends WharfError {
  constructor(
    readonly reason: IdentityRefusal,
    code: 'unauthenticated' | 'forbidden' | 'validation_failed' | 'rate_limited',
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details ? { details } : undefined);
  }
}

/** The verified client certificate of a call, as the TLS layer gives it. */
export interface PeerCertificate {
  commonName: string;
  fingerprint256: string;
  serial: string;
}

export interface CallContext {
  /** the RPC, for logs */
  rpc: string;
  /** ip:port of the caller */
  peer: string;
}

export interface CertificateSigner {
  signWorker(csrPem: string, workerId: string): Promise<IssuedWorkerCertificate>;
  /** checks a CSR without signing it (before a join token's use is counted) */
  checkCsr(csrPem: string): Promise<void>;
}

export interface WorkerIdentityOptions {
  registry: WorkerRegistry;
  store: Store;
  joinTokens: JoinTokens;
  signer: CertificateSigner;
  logger: Logger;
  /** counts refusals (wharf_worker_register_failures_total and friends) */
  onRefused?: ((reason: IdentityRefusal, rpc: string) => void) | undefined;
  now?: () => number;
}

export function certificateRef(issued: IssuedWorkerCertificate): WorkerCertificateRef {
  return { fingerprint256: issued.fingerprint256, serial: issued.serial, notAfter: issued.notAfter };
}

export class WorkerIdentity {
  /** fingerprint -> entry, for the check on every call */
  private readonly revoked = new Map<string, RevokedCertificate>();
  /** workers removed by an admin: a certificate-less Register naming one is an attack too */
  private readonly removedWorkers = new Set<string>();
  private readonly removalListeners = new Set<(workerId: string) => void>();
  private readonly logger: Logger;

  constructor(private readonly options: WorkerIdentityOptions) {
    this.logger = options.logger;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async load(): Promise<void> {
    for (const entry of await this.options.store.listRevokedCertificates()) {
      this.revoked.set(entry.fingerprint256, entry);
      this.removedWorkers.add(entry.workerId);
    }
  }

  /** The worker a call comes from, from its verified client certificate; throws IdentityRefused. */
  authenticate(certificate: PeerCertificate | undefined, context: CallContext): string {
    if (!certificate) {
      throw this.refuse('no_certificate', 'unauthenticated', context, {}, 'this call needs the worker\'s client certificate (mTLS): join with a join token first (Register with a csr); a certificate that expired or that this cluster\'s CA did not sign does not count');
    }
    const workerId = certificate.commonName;
    const claimed = { workerId, serial: certificate.serial };
    if (this.revoked.has(certificate.fingerprint256)) {
      throw this.refuse('revoked_certificate', 'forbidden', context, claimed, `the certificate of worker ${workerId} was revoked (the worker was removed); join again with a join token`);
    }
    const worker = this.options.registry.get(workerId);
    if (!worker) {
      throw this.refuse('unknown_worker', 'forbidden', context, claimed, `worker ${workerId} is not known to this master (removed?); join again with a join token`);
    }
    const record = worker.record;
    if (record.certificate?.fingerprint256 === certificate.fingerprint256) return workerId;
    if (record.pendingCertificate?.fingerprint256 === certificate.fingerprint256) {
      // the worker uses its renewed certificate: the old one is refused from now on
      this.options.registry.promotePendingCertificate(workerId).catch((error: unknown) => {
        this.logger.error({ err: error, workerId }, 'could not store the switch to a renewed certificate');
      });
      return workerId;
    }
    throw this.refuse('superseded_certificate', 'forbidden', context, claimed, `this is not the current certificate of worker ${workerId} (it was replaced)`);
  }

  /**
   * Refuses a certificate-less Register that names a worker id: an existing (or removed) worker
   * is the impersonation attack; any other id is a request the master does not take (it
   * assigns ids).
   */
  checkEnrolmentClaim(claimedWorkerId: string, context: CallContext): void {
    if (claimedWorkerId === '') return;
    if (this.options.registry.get(claimedWorkerId) || this.removedWorkers.has(claimedWorkerId)) {
      throw this.refuse(
        'impersonation',
        'forbidden',
        context,
        { workerId: claimedWorkerId },
        `worker ${claimedWorkerId} authenticates with its certificate; a Register without it cannot act for that worker`,
      );
    }
    throw this.refuse('invalid_request', 'validation_failed', context, { workerId: claimedWorkerId }, 'workerId: must be empty when joining; the master assigns worker ids');
  }

  /**
   * Enrolment: checks the CSR, counts one use of the join token, chooses an id and signs. The
   * caller registers the worker with the answered certificate.
   */
  async enrol(joinToken: string, csrPem: string, context: CallContext): Promise<{ workerId: string; issued: IssuedWorkerCertificate }> {
    if (csrPem === '') {
      throw this.refuse('invalid_request', 'validation_failed', context, {}, 'csr: a certificate signing request is required to join');
    }
    try {
      await this.options.signer.checkCsr(csrPem);
    } catch (error: unknown) {
      const message = error instanceof WharfError ? error.message : 'csr: not a valid certificate signing request';
      throw this.refuse('invalid_request', 'validation_failed', context, {}, message);
    }
    let tokenId: string;
    try {
      tokenId = (await this.options.joinTokens.consume(joinToken)).id;
    } catch (error: unknown) {
      if (error instanceof JoinTokenRefused) {
        throw this.refuse(error.reason, 'unauthenticated', context, { tokenId: joinToken.split('.')[0]?.slice(0, 40) }, error.message);
      }
      throw error;
    }
    const workerId = randomUUID();
    if (!WORKER_ID.test(workerId)) throw new WharfError('internal', 'generated an invalid worker id');
    const issued = await this.options.signer.signWorker(csrPem, workerId);
    this.logger.info({ workerId, tokenId, peer: context.peer, serial: issued.serial }, 'worker joined: certificate issued');
    return { workerId, issued };
  }

  /** Renewal: a new certificate for an authenticated worker, accepted beside the old one until used. */
  async renew(workerId: string, csrPem: string, context: CallContext): Promise<IssuedWorkerCertificate> {
    try {
      await this.options.signer.checkCsr(csrPem);
    } catch (error: unknown) {
      const message = error instanceof WharfError ? error.message : 'csr: not a valid certificate signing request';
      throw this.refuse('invalid_request', 'validation_failed', context, { workerId }, message);
    }
    const issued = await this.options.signer.signWorker(csrPem, workerId);
    await this.options.registry.setPendingCertificate(workerId, certificateRef(issued));
    this.logger.info({ workerId, serial: issued.serial, notAfter: new Date(issued.notAfter).toISOString() }, 'worker certificate renewed');
    return issued;
  }

  /** Told when a worker is removed (the gRPC gateway ends its open calls). */
  onRemoved(listener: (workerId: string) => void): void {
    this.removalListeners.add(listener);
  }

  /**
   * Removes a worker (an admin's decision): its certificates are revoked (refused on every call
   * from now on, also after a restart), its open calls end, and the registry forgets it, which
   * sends its attempts down the lost-worker path. It can only come back by joining again, as a
   * new worker with a new id.
   */
  async remove(workerId: string, by: string): Promise<WorkerRecord> {
    const worker = this.options.registry.get(workerId);
    if (!worker) throw notFound(`worker ${workerId}`);
    const now = this.now();
    for (const certificate of [worker.record.certificate, worker.record.pendingCertificate]) {
      if (!certificate) continue;
      const entry: RevokedCertificate = {
        fingerprint256: certificate.fingerprint256,
        serial: certificate.serial,
        workerId,
        revokedAt: now,
        notAfter: certificate.notAfter,
        reason: `worker removed by ${by}`,
      };
      await this.options.store.revokeCertificate(entry);
      this.revoked.set(entry.fingerprint256, entry);
    }
    this.removedWorkers.add(workerId);
    for (const listener of this.removalListeners) {
      try {
        listener(workerId);
      } catch (error: unknown) {
        this.logger.error({ err: error, workerId }, 'a removal listener failed');
      }
    }
    const record = (await this.options.registry.remove(workerId)) ?? worker.record;
    this.logger.info({ workerId, name: record.name, by }, 'worker removed: its certificate is revoked');
    return record;
  }

  /** The revocation list, newest last (for operators). */
  revokedCertificates(): RevokedCertificate[] {
    return [...this.revoked.values()];
  }

  /** Counts and logs a refusal that happened outside (rate limit) and answers the error to throw. */
  refuse(
    reason: IdentityRefusal,
    code: 'unauthenticated' | 'forbidden' | 'validation_failed' | 'rate_limited',
    context: CallContext,
    claimed: Record<string, unknown>,
    message: string,
    details?: Record<string, unknown>,
  ): IdentityRefused {
    this.logger.warn({ rpc: context.rpc, peer: context.peer, reason, ...claimed }, `refused a worker call: ${message}`);
    this.options.onRefused?.(reason, context.rpc);
    return new IdentityRefused(reason, code, message, details);
  }
}
