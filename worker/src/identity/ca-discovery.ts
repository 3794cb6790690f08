// First contact with a master, without copying files (kubeadm's discovery by CA hash): open a
// TLS connection without verifying it, take the certificate chain the master presents, find the
// certificate whose public-key hash equals the pinned `sha256:…`, and check that it signed the
// chain down to the server certificate. That certificate becomes the CA the worker verifies the
// master with from then on (normal TLS, host name checked). A master whose chain holds no
// certificate with the pinned hash is refused: the message shows both hashes.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { caCertificateHash } from '@wharf/proto';

/** The master presented no certificate with the pinned hash (not worth retrying). */
export class CaPinMismatch extends Error {
  override name = 'CaPinMismatch';
}

export function splitHostPort(address: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** The chain the server presented, leaf first (each certificate once). */
function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (current && current.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

/** Opens TLS without verification and answers the chain the master presents. */
export function fetchPresentedChain(address: string, options: { serverName?: string | undefined; timeoutMs?: number } = {}): Promise<X509Certificate[]> {
  const { host, port } = splitHostPort(address);
  const serverName = options.serverName ?? (isIP(host) ? undefined : host);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], ...(serverName ? { servername: serverName } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS answer from ${address} within ${options.timeoutMs ?? 10_000}ms`));
    }, options.timeoutMs ?? 10_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain = presentedChain(socket);
      socket.end();
      resolve(chain);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * The CA (PEM) of the master at `address` whose public-key hash is `pin`. Throws CaPinMismatch
 * when the presented chain has no such certificate or it did not sign the server certificate;
 * other errors (the master is not reachable) are worth retrying.
 */
export async function discoverPinnedCa(address: string, pin: string, options: { serverName?: string | undefined; timeoutMs?: number } = {}): Promise<string> {
  const chain = await fetchPresentedChain(address, options);
  const hashes = chain.map((cert) => caCertificateHash(cert));
  const index = hashes.indexOf(pin);
  const presented = hashes[hashes.length - 1] ?? '(no certificate)';
  if (index < 0) {
    throw new CaPinMismatch(
      `the master at ${address} is not the one pinned: --ca-hash expects ${pin}, but the master's CA is ${presented}` +
        (hashes.length > 1 ? ` (its chain: ${hashes.join(', ')})` : '') +
        '; check the join line the master printed (a wrong pin can also mean someone else answers at that address)',
    );
  }
  // each certificate from the server's down must be signed by the next, up to the pinned one
  for (let i = 0; i < index; i += 1) {
    if (!chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw new CaPinMismatch(`the master at ${address} presented a chain that the pinned CA ${pin} did not sign; refusing it`);
    }
  }
  const ca = chain[index]!;
  if (!ca.ca) throw new CaPinMismatch(`the certificate with hash ${pin} at ${address} is not a CA certificate`);
  return ca.toString();
}
