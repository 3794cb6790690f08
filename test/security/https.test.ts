// HTTPS for the REST API and the dashboard: with --tls on (or auto off loopback) the master
// serves its generated certificate (or the operator's), WebSockets follow (wss), the CA is
// public at /api/cluster/ca.crt, and a plain-HTTP request to the HTTPS port gets a 400 saying
// to use https:// instead of a TLS error it cannot show.
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caCertificateHash } from '@wharf/proto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCertificateAuthority, importSigningKey, issueServerCertificate } from '../../master/src/pki/certificates.js';
import { removeTempDirs, startTestMaster, startTestWorker, tempDir, waitFor } from '../support/cluster.js';
import type { WorkerHandle } from '../../worker/src/main.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
const masters: Master[] = [];
const workers: WorkerHandle[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(masters.splice(0).map((m) => m.stop()));
});
afterAll(async () => {
  await removeTempDirs();
});

interface Reply {
  status: number;
  text: string;
  peerCertificate: X509Certificate | undefined;
}

/** What curl --cacert does: an HTTPS request that trusts only `ca` (or nothing with `insecure`). */
function request(url: string, options: { ca?: string; insecure?: boolean; method?: string; token?: string; body?: unknown } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ...(options.ca ? { ca: options.ca } : {}),
        rejectUnauthorized: !options.insecure,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate?.();
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, peerCertificate: peer }));
      },
    );
    req.on('error', reject);
    if (options.body) req.write(JSON.stringify(options.body));
    req.end();
  });
}

describe('HTTPS for the API and the dashboard', () => {
  it('serves the API, the dashboard and wss with the generated certificate, and tells a plain-HTTP client to use https://', async () => {
    const m = await startTestMaster({ WHARF_TLS: 'on' });
    masters.push(m);
    expect(m.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // curl -k, then check what we got against the join line's hash: the CA is public
    const caReply = await request(`${m.httpUrl}/api/cluster/ca.crt`, { insecure: true });
    expect(caCertificateHash(caReply.text)).toBe(m.caHash);
    const ca = caReply.text;

    const health = await request(`${m.httpUrl}/health`, { ca });
    expect(health.status).toBe(200);
    expect(health.peerCertificate?.subjectAltName).toContain('IP Address:127.0.0.1');
    const login = await request(`${m.httpUrl}/api/auth/login`, { ca, method: 'POST', body: { email: 'admin@wharf.local', password: 'admin-password' } });
    expect(login.status).toBe(200);
    const token = (JSON.parse(login.text) as { token: string }).token;
    expect((await request(`${m.httpUrl}/`, { ca })).text).toContain('<div id="root">');
    // a client that does not trust the CA is refused by TLS itself
    await expect(request(`${m.httpUrl}/health`)).rejects.toThrow(/self[- ]signed|unable to verify/);

    // plain HTTP to the HTTPS port: a 400 that says what to do
    const plain = await fetch(`${m.httpUrl.replace('https:', 'http:')}/health`);
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { error: { message: string } }).error.message).toContain(`this server speaks HTTPS: use https://127.0.0.1:${m.httpPort}/`);

    // WebSockets follow: wss with the same certificate
    const worker = await startTestWorker(m, { name: 'https-worker', runtimes: ['exec'] });
    workers.push(worker);
    const socket = new WebSocket(`${m.httpUrl.replace('https:', 'wss:')}/ws/telemetry?token=${encodeURIComponent(token)}`, { ca });
    const first = await new Promise<string>((resolve, reject) => {
      socket.once('message', (data: Buffer) => resolve(data.toString()));
      socket.once('error', reject);
    });
    socket.close();
    expect(first).toContain(worker.workerId);
  });

  it('serves the operator\'s HTTPS certificate when one is given (plain HTTP stays the default only on loopback without one)', async () => {
    const files = tempDir('https-files');
    const ca = await createCertificateAuthority({ commonName: 'operator-web-ca', validityMs: 3600_000 });
    const web = await issueServerCertificate({ issuerCertPem: ca.certPem, issuerKey: await importSigningKey(ca.keyPem), subjectCommonName: 'web', altNames: ['127.0.0.1'], validityMs: 3600_000 });
    writeFileSync(join(files, 'web.crt'), web.certPem);
    writeFileSync(join(files, 'web.key'), web.keyPem);
    const plain = await startTestMaster({});
    masters.push(plain);
    expect(plain.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
    // WHARF_TLS auto (the default) with a certificate of its own: HTTPS, even on loopback
    const m2 = await startTestMaster({ WHARF_HTTP_TLS_CERT: join(files, 'web.crt'), WHARF_HTTP_TLS_KEY: join(files, 'web.key') });
    masters.push(m2);
    expect(m2.httpUrl).toMatch(/^https:\/\//);
    const reply = await request(`${m2.httpUrl}/health`, { ca: ca.certPem });
    expect(reply.status).toBe(200);
    expect(reply.peerCertificate?.subject).toBe('CN=web');
    // the workers' port keeps the cluster's certificate: a worker pinning the cluster CA joins
    const worker = await startTestWorker(m2, { name: 'w', runtimes: ['exec'] });
    workers.push(worker);
    await waitFor('the worker connected', () => m2.registry.get(worker.workerId)?.channel !== undefined);
  });
});
