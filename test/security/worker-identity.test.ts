// Attacks on worker identity, as the issue tried them, against a real master and real workers
// over loopback gRPC with TLS. Before certificates, anyone holding the join token could register
// with the id of a connected worker (ids are public: GET /api/workers, /metrics): the master
// marked the real worker's attempts lost, closed its stream, sent the impersonator the next
// assignments (secrets in their environment) and recorded its forged result, log and file.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, loadWharfProto } from '@wharf/proto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../../worker/src/main.js';
import { ApiClient, type TaskBody } from '../support/api-client.js';
import { capturingLogger, removeTempDirs, spawnWorkerProcess, startTestMaster, startTestWorker, tempDir, waitFor } from '../support/cluster.js';
import { callError, fileChunks, logChunk, RawWorker } from '../support/raw-worker.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

const masters: Master[] = [];
const workers: WorkerHandle[] = [];
const raws: RawWorker[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close();
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(masters.splice(0).map((m) => m.stop()));
});
afterAll(async () => {
  await removeTempDirs();
});

async function master(env: Record<string, string> = {}, logger?: ReturnType<typeof capturingLogger>): Promise<Master> {
  const started = await startTestMaster(env, undefined, logger ? { logger: logger.logger } : {});
  masters.push(started);
  return started;
}

async function worker(m: Master, name: string, dataDir?: string): Promise<WorkerHandle> {
  const started = await startTestWorker(m, { name, runtimes: ['exec'], ...(dataDir ? { dataDir } : {}) });
  workers.push(started);
  return started;
}

async function raw(m: Master): Promise<RawWorker> {
  const client = await RawWorker.open(m);
  raws.push(client);
  return client;
}

async function metric(m: Master, pattern: RegExp): Promise<number> {
  const text = await fetch(`${m.httpUrl}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => pattern.test(l));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a worker is its certificate, not a claimed id', () => {
  it('refuses an attacker with the join token who claims a connected worker\'s id, with no certificate or another worker\'s; the real worker keeps its task', async () => {
    const logs = capturingLogger('warn');
    const m = await master({}, logs);
    const real = await worker(m, 'real');
    const admin = await ApiClient.admin(m.httpUrl);
    const submitted = await admin.request<{ task: { id: string } }>('POST', '/api/tasks', {
      runtime: 'exec',
      command: ['sh', '-c', 'echo "real line"; sleep 3; echo real > "$WHARF_OUTPUT_DIR/out.txt"'],
      env: { SECRET: 'hunter2' },
    });
    expect(submitted.status).toBe(201);
    const taskId = submitted.body.task.id;
    const running = await waitFor('the task running on the real worker', async () => {
      const task = (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task;
      return task.status === 'running' ? task : undefined;
    });
    const attemptId = running.attempts[0]!.id;
    expect(running.attempts[0]!.workerId).toBe(real.workerId);

    // 1. no certificate, the cluster's join token, the real worker's id (public in GET /api/workers)
    const anonymous = await raw(m);
    const noCert = await callError(anonymous.register({ joinToken: m.joinToken, workerId: real.workerId }));
    expect(noCert.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(noCert.details).toContain(`worker ${real.workerId} authenticates with its certificate`);
    // ... and with a CSR too: no certificate is issued for an existing id
    const { csrPem } = await import('../../worker/src/identity/worker-credentials.js').then((c) => c.newKeyAndCsr());
    expect((await callError(anonymous.register({ joinToken: m.joinToken, workerId: real.workerId, csr: csrPem }))).code).toBe(grpc.status.PERMISSION_DENIED);
    // every other call without a certificate is refused outright
    const connect = anonymous.connect();
    expect(await connect.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(await anonymous.streamLogs([logChunk(attemptId, 1, 'forged line\n')])).toMatchObject({ error: { code: grpc.status.UNAUTHENTICATED } });

    // 2. the attacker joins as a worker of its own, then uses that certificate to claim the real one
    const joined = await anonymous.join(m.joinToken, { name: 'attacker' });
    expect(joined.workerId).not.toBe(real.workerId);
    const attacker = anonymous.as(joined.identity);
    raws.push(attacker);
    const otherCert = await callError(attacker.register({ workerId: real.workerId }));
    expect(otherCert.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(otherCert.details).toContain(`this certificate is worker ${joined.workerId}'s; it cannot register as worker ${real.workerId}`);
    // its own stream carries nothing of the real worker's: no assignment, no secret
    const stream = attacker.connect();
    // it forges the real worker's result, log line and output file
    stream.stream.write({
      result: { attemptId, taskId, outcome: 'succeeded', exitCode: 0, hasExitCode: true, startedAtMs: Date.now(), finishedAtMs: Date.now(), error: '', files: [], logChunks: 1 },
    });
    expect(await attacker.streamLogs([logChunk(attemptId, 1, 'forged line\n')])).toMatchObject({ error: { code: grpc.status.FAILED_PRECONDITION } });
    expect(await attacker.upload(fileChunks(attemptId, 'out.txt', Buffer.from('forged\n')))).toMatchObject({ error: { code: grpc.status.FAILED_PRECONDITION } });

    // the real worker keeps its stream and its task; the result, log and file are its own
    const done = await waitFor('the task to finish', async () => {
      const task = (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task;
      return task.status === 'succeeded' || task.status === 'failed' ? task : undefined;
    }, 30_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]!.workerId).toBe(real.workerId);
    expect((await admin.request('GET', `/api/tasks/${taskId}/logs`)).text).toBe('real line\n');
    const file = await admin.bytes(`/api/files/${taskId}/download/out.txt`);
    expect(file.data.toString()).toBe('real\n');
    const workersView = (await admin.request<{ workers: { id: string; connected: boolean }[] }>('GET', '/api/workers')).body.workers;
    expect(workersView.find((w) => w.id === real.workerId)?.connected).toBe(true);
    expect(JSON.stringify(stream.messages)).not.toContain('hunter2');
    expect(stream.messages.filter((message) => message.assign)).toEqual([]);

    // refused and logged with the peer address and what was claimed; counted in /metrics
    const refusals = logs.lines().filter((line) => String(line.msg).startsWith('refused a worker call'));
    expect(refusals.filter((line) => line.reason === 'impersonation' && line.workerId === real.workerId && String(line.peer).startsWith('127.0.0.1:'))).toHaveLength(2);
    expect(refusals.some((line) => line.reason === 'impersonation' && line.claimedWorkerId === real.workerId && line.workerId === joined.workerId)).toBe(true);
    expect(await metric(m, /^wharf_worker_register_failures_total\{reason="impersonation"\}/)).toBe(3);
    expect(await metric(m, /^wharf_worker_call_refusals_total\{rpc="Connect",reason="no_certificate"\}/)).toBe(1);
  });

  it('refuses a cleartext gRPC client with a message that says how to join', async () => {
    const m = await master();
    const proto = loadWharfProto();
    const client = new proto.wharf.v1.WorkerGateway(m.grpcAddress, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const error = await callError(
      new Promise((resolve, reject) =>
        client.Register({ joinToken: m.joinToken }, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))),
      ),
    );
    client.close();
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toBe(
      `this master serves gRPC over TLS; join with --ca-hash ${m.caHash} (see the join line the master prints: ./runWorker.sh --master ${m.grpcAddress} --token-file <file> --ca-hash ${m.caHash})`,
    );
    // and a plain HTTP/1 request to the gRPC port gets a 400 saying the same
    const http = await fetch(`http://${m.grpcAddress}/`);
    expect(http.status).toBe(400);
    expect(((await http.json()) as { error: { message: string } }).error.message).toContain('serves gRPC over TLS');
  });

  it('keeps the worker key and certificate in files only its user can read', async () => {
    const m = await master();
    const spawned = spawnWorkerProcess(m, ['--runtimes', 'exec']);
    try {
      await waitFor('the worker to join and connect', () => m.registry.list().some((w) => w.channel !== undefined), 30_000);
      for (const file of ['worker.key', 'worker.crt', 'ca.crt']) {
        expect((statSync(join(spawned.dataDir, 'tls', file)).mode & 0o777).toString(8)).toBe('600');
      }
      expect((statSync(join(spawned.dataDir, 'tls')).mode & 0o777).toString(8)).toBe('700');
      const cert = new X509Certificate(readFileSync(join(spawned.dataDir, 'tls', 'worker.crt')));
      const [record] = await m.store.listWorkers();
      expect(cert.subject).toBe(`CN=${record!.id}`);
      expect(cert.fingerprint256).toBe(record!.certificate?.fingerprint256);
      expect(cert.checkIssued(new X509Certificate(m.caCertificatePem))).toBe(true);
      expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    } finally {
      spawned.child.kill('SIGTERM');
    }
  });

  it('a worker pinning the wrong CA hash refuses the master, shows both hashes and exits non-zero', async () => {
    const m = await master();
    const wrong = `sha256:${'0'.repeat(64)}`;
    const spawned = spawnWorkerProcess({ ...m, caHash: wrong }, ['--runtimes', 'exec']);
    const code = await new Promise<number | null>((resolve) => spawned.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(spawned.output()).toContain(`--ca-hash expects ${wrong}, but the master's CA is ${m.caHash}`);
    expect(await m.store.listWorkers()).toEqual([]);
  });

  it('renews a certificate that has less than a third of its life left, and refuses the old one once the new one is used', async () => {
    const m = await master({ WHARF_WORKER_CERT_TTL: '6s' });
    const spawned = spawnWorkerProcess(m, ['--runtimes', 'exec']);
    try {
      const certFile = join(spawned.dataDir, 'tls', 'worker.crt');
      const keyFile = join(spawned.dataDir, 'tls', 'worker.key');
      await waitFor('the worker to join and connect', () => m.registry.list().some((w) => w.channel !== undefined), 30_000);
      const first = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
      const firstCert = new X509Certificate(first.certPem);
      const workerId = (await m.store.listWorkers())[0]!.id;
      // renewed in the Register after 2/3 of the life; then the worker uses the new certificate
      const renewed = await waitFor(
        'a renewed certificate in the data dir and in use',
        async () => {
          const pem = readFileSync(certFile, 'utf8');
          const cert = new X509Certificate(pem);
          const record = await m.store.getWorker(workerId);
          return cert.serialNumber !== firstCert.serialNumber && record?.certificate?.fingerprint256 === cert.fingerprint256 ? cert : undefined;
        },
        20_000,
        100,
      );
      expect(renewed.subject).toBe(`CN=${workerId}`);
      expect(Date.parse(renewed.validTo)).toBeGreaterThan(Date.parse(firstCert.validTo));
      expect(spawned.output()).toContain('certificate renewed');
      // the superseded certificate no longer opens a stream
      const old = (await raw(m)).as(first);
      raws.push(old);
      const refused = await old.connect().ended;
      expect(refused).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      expect(refused?.details).toMatch(/not the current certificate of worker|revoked|expired/);
      // and the worker carries on
      const admin = await ApiClient.admin(m.httpUrl);
      const task = await admin.request<{ task: { id: string } }>('POST', '/api/tasks', { runtime: 'exec', command: ['sh', '-c', 'echo still here'] });
      await waitFor('the task after renewal', async () => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${task.body.task.id}`)).body.task.status === 'succeeded', 30_000);
    } finally {
      spawned.child.kill('SIGTERM');
    }
  });

  it('refuses a removed worker on its next call, also after a master restart, and runs its task elsewhere', async () => {
    const m = await master();
    const dataDir = tempDir('removed-worker');
    const doomed = await worker(m, 'doomed', dataDir);
    const admin = await ApiClient.admin(m.httpUrl);
    const submitted = await admin.request<{ task: { id: string } }>('POST', '/api/tasks', {
      runtime: 'exec',
      command: ['sh', '-c', 'sleep 2; echo done'],
    });
    const taskId = submitted.body.task.id;
    await waitFor('the task running on the doomed worker', async () => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task.status === 'running');

    const user = await ApiClient.registered(m.httpUrl, 'not-admin@example.com');
    expect((await user.request('DELETE', `/api/workers/${doomed.workerId}`)).status).toBe(403);
    const removed = await admin.request<{ worker: { id: string; removed: boolean } }>('DELETE', `/api/workers/${doomed.workerId}`);
    expect(removed.status).toBe(200);
    expect(removed.body.worker).toMatchObject({ id: doomed.workerId, removed: true });
    expect((await admin.request('DELETE', `/api/workers/${doomed.workerId}`)).status).toBe(404);
    expect((await admin.request<{ workers: { id: string }[] }>('GET', '/api/workers')).body.workers.map((w) => w.id)).not.toContain(doomed.workerId);
    // the worker may still run the task until its own fence stops it (no heartbeat of it is
    // acknowledged any more): the task waits for that bound before it runs anywhere else
    const heldReason = new RegExp(`^worker ${doomed.workerId} removed; re-queued at (\\S+) once it must have stopped$`);
    const held = await waitFor('the task held for the removed worker\'s bound', async () => {
      const task = (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task;
      return heldReason.test(task.reason ?? '') ? task : undefined;
    }, 10_000);
    expect(held.status).toBe('running');
    const requeueAt = heldReason.exec(held.reason!)![1]!;

    // the worker process keeps trying: its certificate is refused on every call
    await waitFor('the removed worker to be refused', async () => (await metric(m, /^wharf_worker_register_failures_total\{reason="revoked_certificate"\}/)) >= 1, 15_000);
    const identity = {
      keyPem: readFileSync(join(dataDir, 'tls', 'worker.key'), 'utf8'),
      certPem: readFileSync(join(dataDir, 'tls', 'worker.crt'), 'utf8'),
    };
    const replay = (await raw(m)).as(identity);
    raws.push(replay);
    expect(await replay.connect().ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect((await callError(replay.register({}))).details).toContain(`the certificate of worker ${doomed.workerId} was revoked`);

    // its attempt went down the lost-worker path once the bound passed: another worker runs the task
    const other = await worker(m, 'other');
    const done = await waitFor('the task to finish on the other worker', async () => {
      const task = (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${taskId}`)).body.task;
      return task.status === 'succeeded' ? task : undefined;
    }, 30_000);
    expect(done.attempts.map((a) => [a.workerId, a.status, a.error])).toEqual([
      [doomed.workerId, 'lost', `worker ${doomed.workerId} was removed`],
      [other.workerId, 'succeeded', null],
    ]);
    // given away only once the bound the reason named had passed
    const lostAt = done.events.find((e) => e.kind === 'lost')?.at;
    expect(Date.parse(lostAt ?? '')).toBeGreaterThanOrEqual(Date.parse(requeueAt));

    // the revocation is kept: a restarted master refuses the certificate too
    await m.stop();
    masters.splice(masters.indexOf(m), 1);
    const restarted = await startTestMaster({}, m.dataDir);
    masters.push(restarted);
    const again = (await RawWorker.open(restarted)).as(identity);
    raws.push(again);
    expect((await callError(again.register({}))).code).toBe(grpc.status.PERMISSION_DENIED);
  });
});
