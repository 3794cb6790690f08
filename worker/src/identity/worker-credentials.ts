// The worker's credentials in <dataDir>/tls (folder 0700, files 0600):
//   worker.key  its private key (ECDSA P-256, made here, never sent anywhere)
//   worker.crt  its certificate, signed by the cluster CA; subject CN = the worker id
//   ca.crt      the CA it verifies the master with (pinned by hash on first contact)
// The worker id is the certificate's; there is no other id file. A renewal writes the new key
// and certificate as worker.key.new / worker.crt.new first and then renames them into place, so
// a crash in between is finished at the next start instead of leaving a key that does not
// match its certificate.
import 'reflect-metadata';
import { createPrivateKey, KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeFileAtomic } from '@wharf/proto';

x509.cryptoProvider.set(webcrypto);

export const TLS_DIR = 'tls';

/** A joined worker's identity. */
export interface WorkerCredentials {
  workerId: string;
  keyPem: string;
  certPem: string;
  notBefore: number;
  notAfter: number;
}

export interface StoredTrust {
  /** the CA the master is verified with */
  caPem?: string | undefined;
  /** absent until the worker has joined */
  credentials?: WorkerCredentials | undefined;
}

/** Credentials on disk are broken (the message says what to do). */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

export function tlsDirOf(dataDir: string): string {
  return path.join(dataDir, TLS_DIR);
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Reads what the data dir holds, finishing a renewal a crash interrupted. */
export async function loadStoredTrust(dataDir: string): Promise<StoredTrust> {
  const dir = tlsDirOf(dataDir);
  const keyFile = path.join(dir, 'worker.key');
  const certFile = path.join(dir, 'worker.crt');
  // a renewal writes both .new files before renaming the key, then the certificate
  if (await exists(`${certFile}.new`)) {
    if (await exists(`${keyFile}.new`)) await rename(`${keyFile}.new`, keyFile);
    await rename(`${certFile}.new`, certFile);
  }
  const caPem = await readIfPresent(path.join(dir, 'ca.crt'));
  const keyPem = await readIfPresent(keyFile);
  const certPem = await readIfPresent(certFile);
  if (keyPem === undefined && certPem === undefined) return { caPem };
  if (keyPem === undefined || certPem === undefined) {
    throw new CredentialsError(`${dir} holds only one of worker.key and worker.crt: remove ${dir} and join again with a join token`);
  }
  return { caPem, credentials: credentialsOf(keyPem, certPem, dir) };
}

function credentialsOf(keyPem: string, certPem: string, where: string): WorkerCredentials {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch (error: unknown) {
    throw new CredentialsError(`cannot read the worker's key or certificate in ${where} (${error instanceof Error ? error.message : String(error)}): remove ${where} and join again with a join token`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new CredentialsError(`worker.key does not match worker.crt in ${where}: remove ${where} and join again with a join token`);
  }
  const workerId = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (!workerId || !/^[A-Za-z0-9_-]{1,128}$/.test(workerId)) {
    throw new CredentialsError(`the certificate in ${where} names no valid worker id (subject ${cert.subject}): remove ${where} and join again`);
  }
  return { workerId, keyPem, certPem, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

async function ensureTlsDir(dataDir: string): Promise<string> {
  const dir = tlsDirOf(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/** Keeps the CA the master is verified with. */
export async function saveCa(dataDir: string, caPem: string): Promise<void> {
  const dir = await ensureTlsDir(dataDir);
  await writeFileAtomic(path.join(dir, 'ca.crt'), caPem, 0o600);
}

/** Keeps a new key and certificate (joining or renewing) and answers them as credentials. */
export async function saveCredentials(dataDir: string, keyPem: string, certPem: string): Promise<WorkerCredentials> {
  const dir = await ensureTlsDir(dataDir);
  const credentials = credentialsOf(keyPem, certPem, dir);
  const keyFile = path.join(dir, 'worker.key');
  const certFile = path.join(dir, 'worker.crt');
  await writeFileAtomic(`${keyFile}.new`, keyPem, 0o600);
  await writeFileAtomic(`${certFile}.new`, certPem, 0o600);
  await rename(`${keyFile}.new`, keyFile);
  await rename(`${certFile}.new`, certFile);
  return credentials;
}

/** A new key pair and a certificate signing request for it (the master sets the subject). */
export async function newKeyAndCsr(): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=wharf-worker',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keyPem, csrPem: csr.toString('pem') };
}

/** A certificate with less than a third of its life left is renewed. */
export function renewalDueAt(credentials: Pick<WorkerCredentials, 'notBefore' | 'notAfter'>): number {
  return credentials.notAfter - (credentials.notAfter - credentials.notBefore) / 3;
}

export function needsRenewal(credentials: Pick<WorkerCredentials, 'notBefore' | 'notAfter'>, now = Date.now()): boolean {
  return now >= renewalDueAt(credentials);
}
