// The pin a worker uses to trust a master on first contact, in kubeadm's
// `--discovery-token-ca-cert-hash` format: `sha256:` and the hex SHA-256 of the CA
// certificate's SubjectPublicKeyInfo (DER). The master prints it in its join line; the worker
// accepts a master only when the chain it presents contains a certificate with that hash.
import { createHash, X509Certificate } from 'node:crypto';

export const CA_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<hex>` of a PEM or DER certificate's public key (SubjectPublicKeyInfo). */
export function caCertificateHash(certificate: string | Buffer | X509Certificate): string {
  const cert = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
