// The protocol documents suffice (issue 12, point 7): a worker written only from
// proto/wharf.proto and docs/API.md (test/support/minimal-worker.ts, which imports nothing of
// worker/ or @wharf/proto) joins a real master over TLS with a join token and a CSR, runs an
// assignment the documented way (accept, started, logs, one upload, result) and the master treats
// it like any worker: the task succeeds and its log and file are served over REST. Each refusal
// the documents promise is met as documented (status code, and the trailer where one is named).
import * as grpc from '@grpc/grpc-js';
import { randomUUID, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, waitFor } from './support/cluster.js';
import { discoverCa, MinimalWorker, newKeyAndCsr, sha256Hex, Wire, type EffectiveSettings, type FileChunk, type LogChunk, type RegisterRequest } from './support/minimal-worker.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

/** The fields every Register carries (docs/API.md, Register; proto rule 6). */
const FIELDS: RegisterRequest = {
  name: 'minimal',
  hostname: 'minimal.local',
  capacity: { cpu: 2, memory: 2 * 1024 ** 3, gpu: 0, disk: 10 * 1024 ** 3 },
  runtimes: ['docker'],
  labels: { impl: 'minimal' },
  version: 'minimal-0',
  fencing: { stop_after_ms: 0, stop_grace_ms: 1000 },
};
/** Ids the master issues: 1-128 of [A-Za-z0-9_-]. */
const ID = /^[A-Za-z0-9_-]{1,128}$/;

let master: Master;
let admin: ApiClient;
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  master = await startTestMaster();
  cleanups.push(() => master.stop());
  admin = await ApiClient.admin(master.httpUrl);
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await removeTempDirs();
});

const taskOf = async (id: string) => (await admin.request<{ task: TaskBody & { attempts: { logChunksMissing?: number | null; effective?: Record<string, unknown> | null }[] } }>('GET', `/api/tasks/${id}`)).body.task;

describe('a worker written from wharf.proto and docs/API.md alone', () => {
  it('joins, runs an assignment the documented way, and the master treats it like any worker', async () => {
    const worker = await MinimalWorker.join(master, FIELDS);
    cleanups.push(() => worker.close());
    expect(worker.workerId).toMatch(ID);
    expect(worker.enrolment.heartbeat_interval_ms).toBeGreaterThan(0);
    // the certificate names the id the master chose
    expect(new X509Certificate(worker.certPem).subject).toContain(`CN=${worker.workerId}`);
    // every heartbeat is acknowledged with its sent_at_ms
    const ack = await worker.next('heartbeat ack', (m) => m.heartbeat_ack);
    expect(ack.sent_at_ms).toBeGreaterThan(0);
    await waitFor('the worker ready over REST', async () => {
      const { body } = await admin.request<{ worker: { status: string; runtimes: string[] } }>('GET', `/api/workers/${worker.workerId}`);
      return body.worker?.status === 'ready' && body.worker.runtimes.includes('docker');
    });

    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
      name: 'conformance',
      image: 'wharf/busybox',
      command: ['sh', '-c', 'echo hi'],
      network: 'none',
      readOnlyRootFilesystem: true,
      pullPolicy: 'Never',
    });
    expect(submitted.status).toBe(201);
    const taskId = submitted.body.task.id;
    const spec = await worker.next('assignment', (m) => (m.assign?.task_id === taskId ? m.assign : undefined));
    expect(spec).toMatchObject({ task_id: taskId, attempt_number: 1, runtime: 'docker', image: 'wharf/busybox', command: ['sh', '-c', 'echo hi'] });
    // the container fields (20-26) as documented: set ones as sent, the others empty, no credentials stored
    expect(spec).toMatchObject({ network: 'none', network_group: '', user: '', read_only_root_filesystem: true, cap_add: [], pull_policy: 'Never', registry_auth: null });
    expect(spec.attempt_id).toMatch(ID);
    const attemptId = spec.attempt_id;
    worker.running.add(attemptId);
    const startedAt = Date.now();
    // `started` with what the runtime applied (AttemptEvent.effective), shown as the attempt's `effective`
    const effective: EffectiveSettings = {
      cpu: 0.5,
      memory: 64 * 1024 * 1024,
      disk: 0,
      pids_limit: 256,
      user: '',
      read_only_root_filesystem: true,
      no_new_privileges: true,
      capabilities: ['CHOWN', 'KILL'],
      network: 'none',
      pull_policy: 'Never',
    };
    worker.send({ event: { attempt_id: attemptId, kind: 'started', message: 'started by the minimal worker', at_ms: startedAt, effective } });
    await waitFor('task running', async () => (await taskOf(taskId)).status === 'running');
    expect((await taskOf(taskId)).attempts[0]?.effective).toMatchObject({ cpu: 0.5, pidsLimit: 256, readOnlyRootFilesystem: true, noNewPrivileges: true, capabilities: ['CHOWN', 'KILL'], network: 'none', pullPolicy: 'Never' });

    // logs: one attempt per stream, seqs from 1 without gaps
    const line = (seq: number, text: string, stream: LogChunk['stream'] = 'STDOUT'): LogChunk => ({ attempt_id: attemptId, seq, stream, data: Buffer.from(text), at_ms: Date.now() });
    const gap = await worker.wire.sendLogs([line(1, 'hello from a minimal worker\n'), line(3, 'after a gap\n')]);
    expect(gap).toMatchObject({ ok: false, code: grpc.status.OUT_OF_RANGE });
    expect(!gap.ok && gap.trailers.get('wharf-expected-seq')).toEqual(['2']);
    // a second attempt on the stream (seq 1 again is skipped: already applied)
    const twoAttempts = await worker.wire.sendLogs([line(1, 'hello from a minimal worker\n'), { ...line(2, 'not mine\n'), attempt_id: randomUUID() }]);
    expect(twoAttempts).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    // an attempt id of another syntax than the master's
    const badId = await worker.wire.sendLogs([{ ...line(2, 'x\n'), attempt_id: '../etc/passwd' }]);
    expect(badId).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect(!badId.ok && badId.details).toMatch(/attemptId/);
    // resend from the expected seq on a new stream
    const logs = await worker.wire.sendLogs([line(2, 'a warning\n', 'STDERR')]);
    expect(logs).toEqual({ ok: true, value: { last_seq: 2, attempt_id: attemptId } });

    // the stream breaks: Register again listing the attempt it still runs, then Connect
    const again = await worker.reconnect([{ attempt_id: attemptId, task_id: taskId }]);
    expect(again).toMatchObject({ worker_id: worker.workerId, stop_attempts: [] });
    await worker.next('heartbeat ack on the new stream', (m) => m.heartbeat_ack);
    // rule 7: on a new stream, started again for what still runs (the master takes it once)
    worker.send({ event: { attempt_id: attemptId, kind: 'started', message: '', at_ms: startedAt } });

    // one upload: one file at a time, contiguous offsets from 0, the last chunk with size and sha256
    const content = Buffer.from('the answer is 42\n'.repeat(1000));
    const path = 'results/answer.txt';
    const chunk = (offset: number, end: number, last: boolean): FileChunk => ({
      attempt_id: attemptId,
      path,
      offset,
      data: content.subarray(offset, end),
      eof: last,
      size: last ? content.length : 0,
      sha256: last ? sha256Hex(content) : '',
    });
    const hole = await worker.wire.upload([chunk(0, 100, false), chunk(200, content.length, true)]);
    expect(hole).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    const badUploadId = await worker.wire.upload([{ ...chunk(0, content.length, true), attempt_id: 'no such id!' }]);
    expect(badUploadId).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    const upload = await worker.wire.upload([chunk(0, 8192, false), chunk(8192, content.length, true)]);
    expect(upload).toEqual({ ok: true, value: { files: [{ path, size: content.length, sha256: sha256Hex(content) }] } });
    if (!upload.ok) throw new Error('unreachable');

    // the result: the files as the UploadAck answered them, the count of log chunks sent
    worker.send({
      result: {
        attempt_id: attemptId,
        task_id: taskId,
        outcome: 'succeeded',
        exit_code: 0,
        has_exit_code: true,
        started_at_ms: startedAt,
        finished_at_ms: Date.now(),
        error: '',
        files: upload.value.files,
        log_chunks: 2,
      },
    });
    await worker.next('result ack', (m) => (m.result_ack?.attempt_id === attemptId ? m.result_ack : undefined));
    worker.running.delete(attemptId);

    const task = await waitFor('task succeeded', async () => {
      const t = await taskOf(taskId);
      return t.status === 'succeeded' ? t : undefined;
    });
    expect(task).toMatchObject({ exitCode: 0, workerId: worker.workerId, files: [{ path, size: content.length, sha256: sha256Hex(content) }] });
    expect(task.attempts).toHaveLength(1);
    expect(task.attempts[0]).toMatchObject({ id: attemptId, status: 'succeeded' });
    expect(task.attempts[0]!.logChunksMissing ?? 0).toBe(0);
    const log = await admin.request('GET', `/api/tasks/${taskId}/logs`);
    expect(log.text).toContain('hello from a minimal worker\n');
    expect(log.text).toContain('a warning\n');
    expect(log.text).not.toContain('after a gap');
    expect(log.text).not.toContain('not mine');
    const file = await admin.bytes(`/api/files/${taskId}/download/${path}`);
    expect(file.status).toBe(200);
    expect(file.data.equals(content)).toBe(true);
    expect(file.headers.get('x-wharf-sha256')).toBe(sha256Hex(content));

    // a duplicate result is acknowledged without effect
    const from = worker.received.length;
    worker.send({ result: { attempt_id: attemptId, task_id: taskId, outcome: 'failed', exit_code: 1, has_exit_code: true, started_at_ms: startedAt, finished_at_ms: Date.now(), error: '', files: [], log_chunks: 2 } });
    await worker.next('ack of the duplicate', (m) => (m.result_ack?.attempt_id === attemptId ? m.result_ack : undefined), 15_000, from);
    expect((await taskOf(taskId)).status).toBe('succeeded');
  });

  it('meets every documented Register refusal as documented', async () => {
    const caPem = await discoverCa(master.grpcAddress, master.caHash);
    const anonymous = new Wire(master.grpcAddress, caPem);
    cleanups.push(() => anonymous.close());
    const enrol = async (fields: RegisterRequest) => anonymous.register({ ...FIELDS, join_token: master.joinToken, worker_id: '', csr: (await newKeyAndCsr()).csrPem, ...fields });

    // an unknown runtime is refused, not dropped
    const podman = await enrol({ runtimes: ['docker', 'podman'] });
    expect(podman).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect(!podman.ok && podman.details).toMatch(/runtimes: "podman" not known/);
    const none = await enrol({ runtimes: [] });
    expect(none).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    // the fencing bound is required
    const { fencing: _fencing, ...withoutFencing } = FIELDS;
    const unfenced = await anonymous.register({ ...withoutFencing, join_token: master.joinToken, worker_id: '', csr: (await newKeyAndCsr()).csrPem });
    expect(unfenced).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect(!unfenced.ok && unfenced.details).toMatch(/fencing/);
    // the master assigns ids: a made-up one is refused, of any syntax
    const badSyntax = await enrol({ worker_id: 'worker 1; drop' });
    expect(badSyntax).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect(!badSyntax.ok && badSyntax.details).toMatch(/workerId/);
    const madeUp = await enrol({ worker_id: 'my-own-id' });
    expect(madeUp).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    // a wrong join token
    const wrongToken = await enrol({ join_token: 'abcdef.0123456789abcdef' });
    expect(wrongToken).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED });
    // no client certificate on any call but Register
    const noCertificate = await anonymous.sendLogs([{ attempt_id: randomUUID(), seq: 1, stream: 'STDOUT', data: Buffer.from('x'), at_ms: 0 }]);
    expect(noCertificate).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED });
    // none of it made a worker
    const { body } = await admin.request<{ workers: { labels: Record<string, string> }[] }>('GET', '/api/workers');
    expect(body.workers.filter((w) => w.labels.impl === 'minimal')).toHaveLength(1);
  });
});
