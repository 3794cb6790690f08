// Keeps the worker's certificate alive: when less than a third of its life is left, the next
// Register carries a fresh CSR (a new key), and the master's answer carries the renewed
// certificate. It is saved, and the gateway's channel switches to it; the master accepts the
// old certificate until the new one is first used, so a lost answer never locks the worker out.
import type { Logger } from 'pino';
import type { GatewayConnection } from '../session/gateway-connection.js';
import { needsRenewal, newKeyAndCsr, renewalDueAt, saveCa, saveCredentials, type WorkerCredentials } from './worker-credentials.js';

/** After a renewal the master did not answer with a certificate, the next try waits this long. */
const RETRY_AFTER_UNANSWERED_MS = 10 * 60_000;

export class CertificateRenewal {
  /** the key of the CSR in flight, until the master answers it */
  private pendingKeyPem: string | undefined;
  private notBefore = 0;

  constructor(
    private readonly dataDir: string,
    private credentials: WorkerCredentials,
    private readonly gateway: GatewayConnection,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get workerId(): string {
    return this.credentials.workerId;
  }

  /** When the next renewal is due (epoch ms). */
  get dueAt(): number {
    return Math.max(renewalDueAt(this.credentials), this.notBefore);
  }

  /** A CSR for the next Register when the certificate is due for renewal, else ''. */
  async csrIfDue(): Promise<string> {
    const now = this.now();
    if (!needsRenewal(this.credentials, now) || now < this.notBefore) return '';
    const { keyPem, csrPem } = await newKeyAndCsr();
    this.pendingKeyPem = keyPem;
    this.logger.info({ notAfter: new Date(this.credentials.notAfter).toISOString() }, 'asking the master to renew this worker\'s certificate');
    return csrPem;
  }

  /** The master's answer to a Register: keeps a renewed certificate when it carries one. */
  async accept(response: { certificate: string; caCertificate: string }): Promise<void> {
    const keyPem = this.pendingKeyPem;
    if (!response.certificate) {
      if (keyPem) {
        this.pendingKeyPem = undefined;
        this.notBefore = this.now() + RETRY_AFTER_UNANSWERED_MS;
        this.logger.warn('the master did not renew this worker\'s certificate; asking again in 10 minutes');
      }
      return;
    }
    if (!keyPem) {
      this.logger.warn('the master sent a certificate this worker did not ask for; ignoring it');
      return;
    }
    this.pendingKeyPem = undefined;
    const renewed = await saveCredentials(this.dataDir, keyPem, response.certificate);
    if (renewed.workerId !== this.credentials.workerId) {
      throw new Error(`the renewed certificate names worker ${renewed.workerId}, not ${this.credentials.workerId}`);
    }
    if (response.caCertificate) await saveCa(this.dataDir, response.caCertificate);
    this.credentials = renewed;
    this.gateway.useIdentity(renewed.keyPem, renewed.certPem);
    this.logger.info({ notAfter: new Date(renewed.notAfter).toISOString() }, 'certificate renewed');
  }
}
