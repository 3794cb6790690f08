import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { caCertificateHash } from '@wharf/proto';
import { describe, expect, it } from 'vitest';
import { newKeyAndCsr } from '../../../worker/src/identity/worker-credentials.js';
import { createCertificateAuthority, importSigningKey, issueServerCertificate, publicKeyOfCsr } from './certificates.js';
import { ClusterPki, PkiError } from './cluster-pki.js';

const logger = pino({ level: 'silent' });
const dir = () => mkdtempSync(join(tmpdir(), 'wharf-pki-'));
const base = (dataDir: string) => ({ dataDir, extraNames: ['wharf.example.com', '10.9.8.7'], hosts: ['127.0.0.1'], workerCertValidityMs: 3600_000 });

describe('cluster PKI', () => {
  it('creates the CA once (key 0600) and issues a server certificate for this host at every start', async () => {
    const dataDir = dir();
    const first = await ClusterPki.load(base(dataDir), logger);
    expect(first.generated).toEqual(['created-ca']);
    expect(statSync(join(dataDir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'tls')).mode & 0o777).toBe(0o700);
    const second = await ClusterPki.load(base(dataDir), logger);
    expect(second.generated).toEqual([]);
    expect(second.caHash).toBe(first.caHash);
    expect(second.caHash).toBe(caCertificateHash(readFileSync(join(dataDir, 'tls', 'ca.crt'))));
    const server = new X509Certificate(second.serverCertChainPem);
    expect(server.subjectAltName).toContain('DNS:wharf.example.com');
    expect(server.subjectAltName).toContain('IP Address:10.9.8.7');
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(server.checkIssued(new X509Certificate(second.servingCaPem))).toBe(true);
    expect(server.serialNumber).not.toBe(new X509Certificate(first.serverCertChainPem).serialNumber);
  });

  it('keeps the server key across restarts (0600), so a pin on it holds, and refuses a damaged key file', async () => {
    const dataDir = dir();
    const first = await ClusterPki.load(base(dataDir), logger);
    const keyFile = join(dataDir, 'tls', 'server.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toBe(first.serverKeyPem);
    const second = await ClusterPki.load(base(dataDir), logger);
    const spki = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    // a new certificate at every start, for the same key
    expect(new X509Certificate(second.serverCertChainPem).serialNumber).not.toBe(new X509Certificate(first.serverCertChainPem).serialNumber);
    expect(spki(second.serverCertChainPem)).toBe(spki(first.serverCertChainPem));
    expect(second.serverKeyPem).toBe(first.serverKeyPem);
    expect(new X509Certificate(second.serverCertChainPem).checkPrivateKey(createPrivateKey(second.serverKeyPem))).toBe(true);
    // another data dir: another key
    const other = await ClusterPki.load(base(dir()), logger);
    expect(spki(other.serverCertChainPem)).not.toBe(spki(first.serverCertChainPem));

    writeFileSync(keyFile, 'not a key\n');
    await expect(ClusterPki.load(base(dataDir), logger)).rejects.toThrow(/server\.key: not a PEM private key/);
  });

  it('signs a worker CSR for the id it chooses, clientAuth only, and refuses a forged or odd one', async () => {
    const pki = await ClusterPki.load(base(dir()), logger);
    const { csrPem } = await newKeyAndCsr();
    const issued = await pki.signWorker(csrPem, 'worker-42');
    const cert = new X509Certificate(issued.certPem);
    expect(cert.subject).toBe('CN=worker-42');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(pki.clientCaPem))).toBe(true);
    expect(issued.fingerprint256).toBe(cert.fingerprint256);
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(3500_000);
    // a CSR whose signature does not match its key (bytes changed)
    const body = csrPem.split('\n').slice(1, -2).join('');
    const der = Buffer.from(body, 'base64');
    der.writeUInt8(der.readUInt8(der.length - 5) ^ 0xff, der.length - 5);
    const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(publicKeyOfCsr(forged)).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(pki.checkCsr('not a csr')).rejects.toThrow(/not a PEM certificate signing request/);
  });

  it('uses the operator\'s CA and server chain, checks they fit, and pins the chain\'s root', async () => {
    const files = dir();
    const ca = await createCertificateAuthority({ commonName: 'operator-ca', validityMs: 3600_000 });
    writeFileSync(join(files, 'ca.crt'), ca.certPem);
    writeFileSync(join(files, 'ca.key'), ca.keyPem);
    const server = await issueServerCertificate({ issuerCertPem: ca.certPem, issuerKey: await importSigningKey(ca.keyPem), subjectCommonName: 'm', altNames: ['m.example'], validityMs: 3600_000 });
    writeFileSync(join(files, 'server.crt'), server.certPem + ca.certPem);
    writeFileSync(join(files, 'leaf-only.crt'), server.certPem);
    writeFileSync(join(files, 'server.key'), server.keyPem);
    const other = await createCertificateAuthority({ commonName: 'other', validityMs: 3600_000 });
    writeFileSync(join(files, 'other.key'), other.keyPem);

    const pki = await ClusterPki.load(
      { ...base(dir()), caCertFile: join(files, 'ca.crt'), caKeyFile: join(files, 'ca.key'), certFile: join(files, 'server.crt'), keyFile: join(files, 'server.key') },
      logger,
    );
    expect(pki.caHash).toBe(caCertificateHash(ca.certPem));
    expect(pki.generated).toEqual([]);
    const { csrPem } = await newKeyAndCsr();
    expect(new X509Certificate((await pki.signWorker(csrPem, 'w')).certPem).checkIssued(new X509Certificate(ca.certPem))).toBe(true);

    await expect(ClusterPki.load({ ...base(dir()), caCertFile: join(files, 'ca.crt'), caKeyFile: join(files, 'other.key') }, logger)).rejects.toThrow(
      /WHARF_TLS_CA_KEY .* is not the key of WHARF_TLS_CA_CERT/,
    );
    await expect(ClusterPki.load({ ...base(dir()), certFile: join(files, 'leaf-only.crt'), keyFile: join(files, 'server.key') }, logger)).rejects.toThrow(
      /must hold the server certificate followed by its chain up to and including the self-signed root/,
    );
    await expect(ClusterPki.load({ ...base(dir()), certFile: join(files, 'server.crt'), keyFile: join(files, 'other.key') }, logger)).rejects.toBeInstanceOf(PkiError);
    await expect(ClusterPki.load({ ...base(dir()), caCertFile: join(files, 'missing.crt'), caKeyFile: join(files, 'ca.key') }, logger)).rejects.toThrow(
      /WHARF_TLS_CA_CERT: cannot read/,
    );
  });
});
