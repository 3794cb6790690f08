// X.509 for the cluster's own CA: ECDSA P-256 keys through node:crypto's webcrypto,
// certificates and certificate signing requests through @peculiar/x509. Pure functions over
// PEM strings; where they are kept and when they are made is cluster-pki.ts's business.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { WharfError } from '../errors.js';

x509.cryptoProvider.set(webcrypto);

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Certificates start a little in the past, so a peer whose clock runs behind accepts them. */
const BACKDATE_MS = 5 * 60_000;

/** A private key ready to sign, with the algorithm its signatures use. */
export interface SigningKey {
  key: webcrypto.CryptoKey;
  algorithm: webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

/** A certificate and the key it certifies, both PEM. */
export interface KeyAndCertificate {
  certPem: string;
  keyPem: string;
}

export async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

export function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Imports a PEM private key (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY") for
 * signing: ECDSA P-256/P-384 or RSA, as an operator's own CA may have either.
 */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (error: unknown) {
    throw new WharfError('validation_failed', `not a PEM private key (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (!named) throw new WharfError('validation_failed', `EC key on curve ${curve ?? '?'}: only P-256 and P-384 are supported`);
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: named }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash: named === 'P-256' ? 'SHA-256' : 'SHA-384' } };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new WharfError('validation_failed', `a ${keyObject.asymmetricKeyType ?? 'unknown'} key: only EC (P-256, P-384) and RSA keys are supported`);
}

/** PEM text ending in a newline, so certificates can be concatenated into a chain. */
function pem(cert: x509.X509Certificate): string {
  const text = cert.toString('pem');
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A random positive serial number, 16 bytes, as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive and without a leading zero byte
  return bytes.toString('hex');
}

/** A new self-signed certificate authority (for signing worker and server certificates). */
export async function createCertificateAuthority(options: { commonName: string; validityMs: number; now?: number }): Promise<KeyAndCertificate> {
  const now = options.now ?? Date.now();
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [options.commonName] }, { O: ['Wharf'] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + options.validityMs),
    signingAlgorithm: ECDSA_SHA256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pem(cert), keyPem: privateKeyPem(keys.privateKey) };
}

interface IssueOptions {
  issuerCertPem: string;
  issuerKey: SigningKey;
  subjectCommonName: string;
  publicKey: x509.PublicKeyType;
  usage: 'server' | 'client';
  /** server certificates: DNS names and IP addresses */
  altNames?: readonly string[];
  validityMs: number;
  /** notBefore this far before now, for peers whose clock runs behind (default 5 min) */
  backdateMs?: number;
  now?: number;
}

/** Signs a leaf certificate with the CA: serverAuth (with SANs) or clientAuth only. */
export async function issueCertificate(options: IssueOptions): Promise<string> {
  const now = options.now ?? Date.now();
  const issuer = new x509.X509Certificate(options.issuerCertPem);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth], false),
    await x509.AuthorityKeyIdentifierExtension.create(issuer, false),
  ];
  if (options.altNames && options.altNames.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        options.altNames.map((name) => ({ type: isIP(name) ? ('ip' as const) : ('dns' as const), value: name })),
        false,
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [options.subjectCommonName] }],
    issuer: issuer.subjectName,
    notBefore: new Date(now - (options.backdateMs ?? BACKDATE_MS)),
    notAfter: new Date(now + options.validityMs),
    signingAlgorithm: options.issuerKey.algorithm,
    publicKey: options.publicKey,
    signingKey: options.issuerKey.key,
    extensions,
  });
  return pem(cert);
}

/**
 * A server certificate signed by the CA, for `keyPem` when given (a key kept across restarts:
 * clients that pin it keep working), else for a new key.
 */
export async function issueServerCertificate(options: Omit<IssueOptions, 'publicKey' | 'usage'> & { keyPem?: string }): Promise<KeyAndCertificate> {
  if (options.keyPem !== undefined) {
    const spki = createPublicKey(options.keyPem).export({ type: 'spki', format: 'der' });
    const certPem = await issueCertificate({ ...options, publicKey: new Uint8Array(spki), usage: 'server' });
    return { certPem, keyPem: options.keyPem };
  }
  const keys = await generateKeyPair();
  const certPem = await issueCertificate({ ...options, publicKey: keys.publicKey, usage: 'server' });
  return { certPem, keyPem: privateKeyPem(keys.privateKey) };
}

/** A new ECDSA P-256 private key, PEM (PKCS#8). */
export async function newPrivateKeyPem(): Promise<string> {
  return privateKeyPem((await generateKeyPair()).privateKey);
}

/**
 * Checks a worker's PEM PKCS#10 request (parses, its self-signature verifies, an EC P-256 key)
 * and answers its public key. The request's subject and extensions are ignored: the master
 * decides the subject (the worker id) and the usage (clientAuth).
 */
export async function publicKeyOfCsr(csrPem: string): Promise<x509.PublicKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error: unknown) {
    throw new WharfError('validation_failed', 'csr: not a PEM certificate signing request (PKCS#10)', { cause: error });
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch (error: unknown) {
    throw new WharfError('validation_failed', 'csr: its signature cannot be checked', { cause: error });
  }
  if (!valid) throw new WharfError('validation_failed', 'csr: its signature does not match its public key');
  const algorithm = csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') {
    throw new WharfError('validation_failed', 'csr: the key must be ECDSA P-256');
  }
  return csr.publicKey;
}

/** The certificates of a PEM bundle, in order. */
export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((block) => `${block}\n`) ?? [];
}

/** Facts about a certificate the master keeps or checks. */
export interface CertificateFacts {
  commonName: string | undefined;
  /** serial number, upper-case hex as Node prints it */
  serial: string;
  /** SHA-256 of the DER, upper-case hex with colons as Node prints it */
  fingerprint256: string;
  notBefore: number;
  notAfter: number;
}

export function certificateFacts(certificate: string | Buffer | X509Certificate): CertificateFacts {
  const cert = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return {
    commonName: cn,
    serial: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
  };
}
