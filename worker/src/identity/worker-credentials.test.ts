import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, importSigningKey, issueCertificate, publicKeyOfCsr } from '../../../master/src/pki/certificates.js';
import { splitHostPort } from './ca-discovery.js';
import { CredentialsError, loadStoredTrust, needsRenewal, newKeyAndCsr, saveCredentials } from './worker-credentials.js';

async function signed(csrPem: string, workerId: string, validityMs = 3600_000): Promise<string> {
  const ca = await createCertificateAuthority({ commonName: 'test-ca', validityMs: 3600_000 });
  return issueCertificate({
    issuerCertPem: ca.certPem,
    issuerKey: await importSigningKey(ca.keyPem),
    subjectCommonName: workerId,
    publicKey: await publicKeyOfCsr(csrPem),
    usage: 'client',
    validityMs,
    backdateMs: 0,
  });
}

describe('worker credentials', () => {
  it('keeps key and certificate 0600 in a 0700 folder and reads the worker id from the certificate', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-creds-'));
    expect(await loadStoredTrust(dir)).toEqual({ caPem: undefined });
    const { keyPem, csrPem } = await newKeyAndCsr();
    const certPem = await signed(csrPem, 'worker-7');
    const saved = await saveCredentials(dir, keyPem, certPem);
    expect(saved.workerId).toBe('worker-7');
    expect((await stat(path.join(dir, 'tls', 'worker.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'tls', 'worker.crt'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'tls'))).mode & 0o777).toBe(0o700);
    expect((await loadStoredTrust(dir)).credentials?.workerId).toBe('worker-7');
    // a key that is not the certificate's is refused with what to do
    const other = await newKeyAndCsr();
    await writeFile(path.join(dir, 'tls', 'worker.key'), other.keyPem);
    await expect(loadStoredTrust(dir)).rejects.toBeInstanceOf(CredentialsError);
    await expect(loadStoredTrust(dir)).rejects.toThrow(/remove .*tls and join again/);
  });

  it('finishes a renewal a crash interrupted between writing and renaming', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-creds-'));
    const first = await newKeyAndCsr();
    await saveCredentials(dir, first.keyPem, await signed(first.csrPem, 'w'));
    const second = await newKeyAndCsr();
    const renewed = await signed(second.csrPem, 'w');
    // the crash came after both .new files were written, before the certificate's rename
    await writeFile(path.join(dir, 'tls', 'worker.key'), second.keyPem, { mode: 0o600 });
    await writeFile(path.join(dir, 'tls', 'worker.crt.new'), renewed, { mode: 0o600 });
    const loaded = await loadStoredTrust(dir);
    expect(new X509Certificate(loaded.credentials!.certPem).serialNumber).toBe(new X509Certificate(renewed).serialNumber);
    expect(await readFile(path.join(dir, 'tls', 'worker.crt'), 'utf8')).toBe(renewed);
  });

  it('is due for renewal with less than a third of its life left', () => {
    const notBefore = 0;
    const notAfter = 3000;
    expect(needsRenewal({ notBefore, notAfter }, 1999)).toBe(false);
    expect(needsRenewal({ notBefore, notAfter }, 2000)).toBe(true);
  });

  it('splits master addresses, IPv6 included', () => {
    expect(splitHostPort('m.example:50051')).toEqual({ host: 'm.example', port: 50051 });
    expect(splitHostPort('10.0.0.5:7070')).toEqual({ host: '10.0.0.5', port: 7070 });
    expect(splitHostPort('[::1]:50051')).toEqual({ host: '::1', port: 50051 });
  });
});
