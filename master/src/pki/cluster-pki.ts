// The master's certificates, made or loaded at start:
//
// - the cluster CA signs every worker's certificate (at enrolment and renewal) and is the only
//   issuer the master accepts client certificates from. Generated once into <dataDir>/tls/
//   (ca.crt, ca.key 0600; 10 years), or the operator's (WHARF_TLS_CA_CERT + WHARF_TLS_CA_KEY);
// - the server certificate that gRPC (and HTTPS by default) presents: issued by the cluster CA
//   at every start (1 year, serverAuth) for this machine's names and addresses, always for the
//   same key (<dataDir>/tls/server.key, 0600, made on the first start), so the pin in the
//   one-line join (curl --pinnedpubkey) survives restarts; or the operator's (WHARF_TLS_CERT +
//   WHARF_TLS_KEY, the file holding the chain up to its root);
// - the serving CA: the root of the server certificate's chain. Workers pin its hash
//   (`--ca-hash sha256:…`) and verify the master with it; GET /api/cluster/ca.crt serves it.
import 'reflect-metadata';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { caCertificateHash, writeFileAtomic } from '@wharf/proto';
import type { Logger } from '../logger.js';
import {
  certificateFacts,
  createCertificateAuthority,
  importSigningKey,
  issueCertificate,
  issueServerCertificate,
  newPrivateKeyPem,
  publicKeyOfCsr,
  splitPemCertificates,
  type SigningKey,
} from './certificates.js';

const YEAR_MS = 365 * 24 * 3600_000;
export const CA_VALIDITY_MS = 10 * YEAR_MS;
export const SERVER_CERT_VALIDITY_MS = YEAR_MS;
export const DEFAULT_WORKER_CERT_VALIDITY_MS = YEAR_MS;

export interface PkiConfig {
  dataDir: string;
  /** the operator's CA for worker certificates (both or neither) */
  caCertFile?: string | undefined;
  caKeyFile?: string | undefined;
  /** the operator's server certificate chain and key (both or neither) */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** extra names and addresses for the generated server certificate (WHARF_TLS_SAN) */
  extraNames: readonly string[];
  /** listen hosts and the advertised gRPC address: their names go into the server certificate */
  hosts: readonly string[];
  workerCertValidityMs: number;
}

/** A certificate problem at start: the message names the setting or the file to fix. */
export class PkiError extends Error {
  override name = 'PkiError';
}

export interface IssuedWorkerCertificate {
  certPem: string;
  fingerprint256: string;
  serial: string;
  notAfter: number;
}

export class ClusterPki {
  private constructor(
    /** signs worker certificates; client certificates must chain to it */
    readonly clientCaPem: string,
    private readonly clientCaKey: SigningKey,
    /** the root workers pin and verify the master with */
    readonly servingCaPem: string,
    /** server certificate followed by its chain up to and including the serving CA */
    readonly serverCertChainPem: string,
    readonly serverKeyPem: string,
    /** the names and addresses in the server certificate (generated ones) */
    readonly serverNames: readonly string[],
    readonly workerCertValidityMs: number,
    /** `created-ca` when the cluster CA was made on this start */
    readonly generated: readonly string[],
  ) {}

  /** `sha256:<hex>` of the serving CA's public key: what `--ca-hash` pins. */
  get caHash(): string {
    return caCertificateHash(this.servingCaPem);
  }

  static async load(config: PkiConfig, logger: Logger): Promise<ClusterPki> {
    const tlsDir = join(config.dataDir, 'tls');
    await mkdir(tlsDir, { recursive: true, mode: 0o700 });
    const generated: string[] = [];

    // the cluster CA: the operator's, or ours from the data dir (made on the first start)
    let caCertPem: string;
    let caKeyPem: string;
    if (config.caCertFile !== undefined && config.caKeyFile !== undefined) {
      caCertPem = readPem(config.caCertFile, 'WHARF_TLS_CA_CERT');
      caKeyPem = readPem(config.caKeyFile, 'WHARF_TLS_CA_KEY');
      const [first] = splitPemCertificates(caCertPem);
      if (!first) throw new PkiError(`WHARF_TLS_CA_CERT (${config.caCertFile}) holds no PEM certificate`);
      caCertPem = first;
      const ca = new X509Certificate(caCertPem);
      if (!ca.ca) throw new PkiError(`WHARF_TLS_CA_CERT (${config.caCertFile}) is not a CA certificate (basicConstraints CA:TRUE)`);
      if (!ca.checkPrivateKey(privateKeyOf(caKeyPem, 'WHARF_TLS_CA_KEY'))) {
        throw new PkiError(`WHARF_TLS_CA_KEY (${config.caKeyFile}) is not the key of WHARF_TLS_CA_CERT (${config.caCertFile})`);
      }
    } else {
      const certPath = join(tlsDir, 'ca.crt');
      const keyPath = join(tlsDir, 'ca.key');
      if (existsSync(certPath) && existsSync(keyPath)) {
        caCertPem = readPem(certPath, certPath);
        caKeyPem = readPem(keyPath, keyPath);
      } else if (existsSync(certPath) || existsSync(keyPath)) {
        throw new PkiError(
          `${tlsDir} holds only one of ca.crt and ca.key: restore the missing file, or remove both to create a new CA (every worker must then join again)`,
        );
      } else {
        const ca = await createCertificateAuthority({ commonName: `wharf-cluster-ca@${hostname()}`, validityMs: CA_VALIDITY_MS });
        await writeFileAtomic(keyPath, ca.keyPem, 0o600);
        await writeFileAtomic(certPath, ca.certPem, 0o644);
        caCertPem = ca.certPem;
        caKeyPem = ca.keyPem;
        generated.push('created-ca');
        logger.info({ dir: tlsDir }, 'created the cluster CA');
      }
    }
    let caKey: SigningKey;
    try {
      caKey = await importSigningKey(caKeyPem);
    } catch (error: unknown) {
      throw new PkiError(`the cluster CA key cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
    const caFacts = certificateFacts(caCertPem);
    if (caFacts.notAfter < Date.now()) throw new PkiError(`the cluster CA certificate expired on ${new Date(caFacts.notAfter).toISOString()}`);

    // the server certificate: the operator's chain, or one issued now by the cluster CA
    let chainPem: string;
    let serverKeyPem: string;
    let servingCaPem: string;
    let serverNames: string[] = [];
    if (config.certFile !== undefined && config.keyFile !== undefined) {
      chainPem = readPem(config.certFile, 'WHARF_TLS_CERT');
      serverKeyPem = readPem(config.keyFile, 'WHARF_TLS_KEY');
      servingCaPem = checkServerChain(chainPem, serverKeyPem, config.certFile, config.keyFile);
    } else {
      serverNames = serverCertificateNames(config.hosts, config.extraNames);
      const server = await issueServerCertificate({
        keyPem: await serverKey(join(tlsDir, 'server.key'), logger),
        issuerCertPem: caCertPem,
        issuerKey: caKey,
        subjectCommonName: 'wharf-master',
        altNames: serverNames,
        validityMs: Math.min(SERVER_CERT_VALIDITY_MS, caFacts.notAfter - Date.now()),
      });
      chainPem = server.certPem + caCertPem;
      serverKeyPem = server.keyPem;
      servingCaPem = caCertPem;
    }
    return new ClusterPki(caCertPem, caKey, servingCaPem, chainPem, serverKeyPem, serverNames, config.workerCertValidityMs, generated);
  }

  /** Checks a worker's certificate request without signing it. */
  async checkCsr(csrPem: string): Promise<void> {
    await publicKeyOfCsr(csrPem);
  }

  /**
   * Signs a worker's certificate request: subject CN = the worker id the master chose,
   * clientAuth only. Throws `validation_failed` for a request that does not verify.
   */
  async signWorker(csrPem: string, workerId: string): Promise<IssuedWorkerCertificate> {
    const publicKey = await publicKeyOfCsr(csrPem);
    const certPem = await issueCertificate({
      issuerCertPem: this.clientCaPem,
      issuerKey: this.clientCaKey,
      subjectCommonName: workerId,
      publicKey,
      usage: 'client',
      validityMs: this.workerCertValidityMs,
      // a short test validity must not be swallowed by the clock-skew allowance
      backdateMs: Math.min(60_000, Math.floor(this.workerCertValidityMs / 20)),
    });
    const facts = certificateFacts(certPem);
    return { certPem, fingerprint256: facts.fingerprint256, serial: facts.serial, notAfter: facts.notAfter };
  }
}

/**
 * The generated server certificate's key: the one kept in the data dir, or a new one saved
 * there (0600). A file that holds no usable key stops the start rather than being replaced,
 * since replacing it would break every one-line join line printed so far.
 */
async function serverKey(path: string, logger: Logger): Promise<string> {
  if (existsSync(path)) {
    const pem = readPem(path, path);
    const key = privateKeyOf(pem, path);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new PkiError(`${path} is not an ECDSA P-256 key: remove it to make a new one (the pin in the one-line join line changes with it)`);
    }
    return pem;
  }
  const pem = await newPrivateKeyPem();
  await writeFileAtomic(path, pem, 0o600);
  logger.info({ path }, 'created the server key (kept across restarts)');
  return pem;
}

/** The operator's HTTPS certificate (WHARF_HTTP_TLS_CERT/KEY): readable, and the key fits. */
export function loadHttpsCertificate(certFile: string, keyFile: string): { certPem: string; keyPem: string } {
  const certPem = readPem(certFile, 'WHARF_HTTP_TLS_CERT');
  const keyPem = readPem(keyFile, 'WHARF_HTTP_TLS_KEY');
  const [leaf] = splitPemCertificates(certPem);
  if (!leaf) throw new PkiError(`WHARF_HTTP_TLS_CERT (${certFile}) holds no PEM certificate`);
  if (!new X509Certificate(leaf).checkPrivateKey(privateKeyOf(keyPem, 'WHARF_HTTP_TLS_KEY'))) {
    throw new PkiError(`WHARF_HTTP_TLS_KEY (${keyFile}) is not the key of the first certificate in WHARF_HTTP_TLS_CERT (${certFile})`);
  }
  return { certPem, keyPem };
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error: unknown) {
    throw new PkiError(`${setting}: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`);
  }
}

function privateKeyOf(pem: string, setting: string) {
  try {
    return createPrivateKey(pem);
  } catch (error: unknown) {
    throw new PkiError(`${setting}: not a PEM private key (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * An operator's server chain: the leaf (matching the key, serverAuth usable), each certificate
 * signed by the next, the last a self-signed root. Answers the root (what workers pin).
 */
function checkServerChain(chainPem: string, keyPem: string, certFile: string, keyFile: string): string {
  const pems = splitPemCertificates(chainPem);
  const certs = pems.map((pem) => new X509Certificate(pem));
  const leaf = certs[0];
  if (!leaf) throw new PkiError(`WHARF_TLS_CERT (${certFile}) holds no PEM certificate`);
  if (!leaf.checkPrivateKey(privateKeyOf(keyPem, 'WHARF_TLS_KEY'))) {
    throw new PkiError(`WHARF_TLS_KEY (${keyFile}) is not the key of the first certificate in WHARF_TLS_CERT (${certFile})`);
  }
  for (let i = 0; i + 1 < certs.length; i += 1) {
    if (!certs[i]!.verify(certs[i + 1]!.publicKey)) {
      throw new PkiError(`WHARF_TLS_CERT (${certFile}): certificate ${i + 1} is not signed by certificate ${i + 2}; list the chain leaf first, root last`);
    }
  }
  const root = certs[certs.length - 1]!;
  if (certs.length < 2 || !root.verify(root.publicKey)) {
    throw new PkiError(
      `WHARF_TLS_CERT (${certFile}) must hold the server certificate followed by its chain up to and including the self-signed root CA: workers pin that root by hash (--ca-hash)`,
    );
  }
  return pems[pems.length - 1]!;
}

/** localhost, loopback, this host's name, its non-internal addresses, the listen hosts and WHARF_TLS_SAN. */
export function serverCertificateNames(hosts: readonly string[], extra: readonly string[]): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', hostname()]);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal) names.add(address.address.replace(/%.*$/, ''));
    }
  }
  for (const host of [...hosts, ...extra]) {
    const name = host.trim().replace(/^\[(.*)\]$/, '$1');
    if (name === '' || name === '0.0.0.0' || name === '::') continue;
    names.add(isIP(name) ? name : name.toLowerCase());
  }
  return [...names];
}
