// Results the master verifies, not believes (issue 12 point 5): a real master over loopback
// gRPC, and a worker that lies (test/support/raw-worker.ts, a raw client of the protocol) or a
// real worker on a real Docker engine.
import { execFileSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, waitFor } from './support/cluster.js';
import { fileChunks, RawWorker, sha256Hex } from './support/raw-worker.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
const MiB = 1024 * 1024;

afterAll(() => removeTempDirs());

async function submit(client: ApiClient, body: Record<string, unknown>): Promise<TaskBody> {
  const response = await client.request<{ task: TaskBody }>('POST', '/api/tasks', { image: TEST_IMAGE, command: 'true', ...body });
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function finished(client: ApiClient, id: string, timeoutMs = 30_000): Promise<TaskBody> {
  return waitFor(`task ${id} to end`, async () => {
    const response = await client.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`);
    return ['succeeded', 'failed', 'cancelled'].includes(response.body.task.status) ? response.body.task : undefined;
  }, timeoutMs);
}

async function listing(client: ApiClient, taskId: string): Promise<{ path: string; size: number; sha256: string }[]> {
  const response = await client.request<{ files: { path: string; size: number; sha256: string }[] }>('GET', `/api/files/${taskId}`);
  expect(response.status, response.text).toBe(200);
  return response.body.files;
}

describe('a worker that lies about its outputs (raw client)', () => {
  let master: Master;
  let raw: RawWorker;
  let user: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster({ WHARF_MAX_OUTPUT_BYTES: '8Mi' });
    raw = await RawWorker.enrol(master);
    user = await ApiClient.registered(master.httpUrl, `liar-${Date.now()}@example.com`);
  });
  afterAll(async () => {
    raw?.close();
    await master?.stop();
  });

  it('shows the digest the master computed, and fails a result that claims another', async () => {
    const task = await submit(user, { name: 'forged-digest' });
    const spec = await raw.assignmentOf(task.id);
    raw.started(spec);
    const real = Buffer.from('the bytes that were really written\n');
    const forged = sha256Hex('the bytes the worker claims');
    const upload = await raw.upload(fileChunks(spec.attemptId, 'report.txt', real));
    expect(upload).toMatchObject({ ack: { files: [{ path: 'report.txt', size: real.length, sha256: sha256Hex(real) }] } });
    await raw.result(spec, { files: [{ path: 'report.txt', size: real.length, sha256: forged }] });

    const done = await finished(user, task.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toContain(`file report.txt: the result claims ${real.length} bytes with sha256 ${forged}`);
    expect(done.reason).toContain(`the master received ${real.length} bytes with sha256 ${sha256Hex(real)}`);
    expect(done.attempts[0]).toMatchObject({ status: 'failed', error: done.reason });
    // the listing, the download header and the task view carry what the master received, never the claim
    expect(await listing(user, task.id)).toMatchObject([{ path: 'report.txt', size: real.length, sha256: sha256Hex(real) }]);
    expect(JSON.stringify(await user.request('GET', `/api/tasks/${task.id}`))).not.toContain(`"sha256":"${forged}"`);
    const download = await user.bytes(`/api/files/${task.id}/download/report.txt`);
    expect(download.data).toEqual(real);
    expect(download.headers.get('x-wharf-sha256')).toBe(sha256Hex(real));
  });

  it('fails a result that lists a file that never arrived (once per retry, then for good)', async () => {
    const task = await submit(user, { name: 'ghost-file', maxRetries: 1 });
    for (const number of [1, 2]) {
      const spec = await raw.assignmentOf(task.id, number);
      raw.started(spec);
      await raw.result(spec, { files: [{ path: 'ghost.txt', size: 5, sha256: sha256Hex('ghost') }] });
    }
    const done = await finished(user, task.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/file ghost.txt is listed in the result \(5 bytes, sha256 [0-9a-f]{64}\) but never arrived/);
    expect(done.attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(await listing(user, task.id)).toEqual([]);
  });

  it('counts three upload streams of one attempt against one cap: 3 × 6 MiB is refused at 8 MiB', async () => {
    const task = await submit(user, { name: 'split-cap' });
    const spec = await raw.assignmentOf(task.id);
    raw.started(spec);
    const parts = [1, 2, 3].map((n) => ({ path: `part-${n}.bin`, data: Buffer.alloc(6 * MiB, n) }));
    const answers = [];
    for (const part of parts) answers.push(await raw.upload(fileChunks(spec.attemptId, part.path, part.data)));
    expect(answers[0]).toHaveProperty('ack');
    for (const answer of answers.slice(1)) {
      expect(answer).toHaveProperty('error');
      const error = (answer as { error: { code: number; details: string } }).error;
      expect(error.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(error.details).toBe(`outputs of attempt ${spec.attemptId} exceed the cap of ${8 * MiB} bytes (8Mi, WHARF_MAX_OUTPUT_BYTES)`);
    }
    // the worker claims all three anyway
    await raw.result(spec, { files: parts.map((p) => ({ path: p.path, size: p.data.length, sha256: sha256Hex(p.data) })) });
    const done = await finished(user, task.id);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe(`outputs of attempt ${spec.attemptId} exceed the cap of ${8 * MiB} bytes (8Mi, WHARF_MAX_OUTPUT_BYTES)`);
    // what arrived under the cap stays visible with the master's digest, as for any failed attempt
    expect(await listing(user, task.id)).toMatchObject([{ path: 'part-1.bin', size: 6 * MiB, sha256: sha256Hex(parts[0]!.data) }]);
  });
});

describe('log chunks the master counts (raw client)', () => {
  let master: Master;
  let raw: RawWorker;
  let user: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster();
    raw = await RawWorker.enrol(master);
    user = await ApiClient.registered(master.httpUrl, `logs-${Date.now()}@example.com`);
  });
  afterAll(async () => {
    raw?.close();
    await master?.stop();
  });

  const line = (attemptId: string, seq: number) => ({ attemptId, seq, stream: 'STDOUT' as const, data: Buffer.from(`line ${seq}\n`), atMs: Date.now() });

  it('refuses a chunk that skips a seq with the seq to resend from, and stores all four in order after the resend', async () => {
    const task = await submit(user, { name: 'log-gap' });
    const spec = await raw.assignmentOf(task.id);
    raw.started(spec);
    const first = await raw.streamLogs([1, 2, 4, 3].map((seq) => line(spec.attemptId, seq)));
    expect(first).toHaveProperty('error');
    const error = (first as { error: { code: number; details: string; metadata: grpc.Metadata } }).error;
    expect(error.code).toBe(grpc.status.OUT_OF_RANGE);
    expect(error.details).toContain('expected seq 3');
    expect(error.metadata.get('wharf-expected-seq')).toEqual(['3']);
    // resend from the seq the master named, as the worker's log shipper does
    const resent = await raw.streamLogs([3, 4].map((seq) => line(spec.attemptId, seq)));
    expect(resent).toEqual({ ack: { lastSeq: 4, attemptId: spec.attemptId } });
    await raw.result(spec, { logChunks: 4 });
    const done = await finished(user, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts[0]!.logChunksMissing).toBe(0);
    const log = await user.request('GET', `/api/tasks/${task.id}/logs`);
    expect(log.text).toBe('line 1\nline 2\nline 3\nline 4\n');
  });

  it('takes one attempt per log stream and names it in the ack', async () => {
    const a = await submit(user, { name: 'log-one-a' });
    const b = await submit(user, { name: 'log-one-b' });
    const specA = await raw.assignmentOf(a.id);
    const specB = await raw.assignmentOf(b.id);
    const mixed = await raw.streamLogs([line(specA.attemptId, 1), line(specB.attemptId, 1)]);
    expect(mixed).toMatchObject({ error: { code: grpc.status.INVALID_ARGUMENT, details: expect.stringContaining('one log stream carries one attempt') } });
    expect(await raw.streamLogs([line(specB.attemptId, 1)])).toEqual({ ack: { lastSeq: 1, attemptId: specB.attemptId } });
    for (const spec of [specA, specB]) await raw.result(spec, { logChunks: 1 });
  });

  it('says in the log and on the attempt when fewer chunks arrived than the worker sent, without failing the task', async () => {
    const task = await submit(user, { name: 'log-short' });
    const spec = await raw.assignmentOf(task.id);
    raw.started(spec);
    expect(await raw.streamLogs([1, 2, 3].map((seq) => line(spec.attemptId, seq)))).toMatchObject({ ack: { lastSeq: 3 } });
    await raw.result(spec, { logChunks: 5 });
    const done = await finished(user, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts[0]!.logChunksMissing).toBe(2);
    const log = await user.request('GET', `/api/tasks/${task.id}/logs`);
    expect(log.text).toBe('line 1\nline 2\nline 3\nwharf: the worker sent 5 log chunks, the master received 3\n');
  });
});

describe('a real worker on Docker', () => {
  let master: Master;
  let worker: WorkerHandle;
  let user: ApiClient;

  beforeAll(async () => {
    master = await startTestMaster();
    worker = await startTestWorker(master, { name: 'verify-docker' });
    user = await ApiClient.registered(master.httpUrl, `docker-${Date.now()}@example.com`);
  });
  afterAll(async () => {
    await worker?.stop();
    try {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${worker.workerId}`]).toString().split(/\s+/).filter(Boolean);
      if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    } catch {
      // the engine is gone already: nothing to clean
    }
    await master?.stop();
  });

  it('lists, for every file, the sha256 of the bytes a download returns', async () => {
    const task = await submit(user, { command: 'echo alpha > /output/a.txt; mkdir -p /output/d; head -c 300000 /dev/urandom > /output/d/b.bin' });
    const done = await finished(user, task.id, 60_000);
    expect(done.status, done.reason).toBe('succeeded');
    const files = await listing(user, task.id);
    expect(files.map((f) => f.path).sort()).toEqual(['a.txt', 'd/b.bin']);
    for (const file of files) {
      const download = await user.bytes(`/api/files/${task.id}/download/${file.path}`);
      expect(download.data.length).toBe(file.size);
      expect(sha256Hex(download.data)).toBe(file.sha256);
      expect(download.headers.get('x-wharf-sha256')).toBe(file.sha256);
    }
  });

  it("refuses outputs past the task's disk request: 20 MiB written with disk 10Mi fails the task naming the disk limit, then the cap", async () => {
    const task = await submit(user, { command: 'head -c 20971520 /dev/zero > /output/big.bin', resources: { disk: '10Mi' } });
    const done = await finished(user, task.id, 60_000);
    expect(done.status).toBe('failed');
    const attempt = done.attempts[0]!;
    // the worker's disk watcher stops the task past its limit (or finds it past at exit, whatever
    // the exit code); the master's cap on the attempt's outputs (the disk request) refuses the file too
    const cap = `outputs of attempt ${attempt.id} exceed the cap of ${10 * MiB} bytes (10Mi, the task's disk request)`;
    expect(done.reason).toMatch(/^disk limit 10Mi exceeded \(wrote [\d.]+Mi\); output upload refused: /);
    expect(done.reason!.endsWith(cap)).toBe(true);
    expect(done.reason!.split(cap)).toHaveLength(2);
    expect(attempt.status).toBe('failed');
    // refused once, not retried five times by the worker
    const log = await user.request('GET', `/api/tasks/${task.id}/logs`);
    expect(log.text.match(/output upload refused/g) ?? []).toHaveLength(1);
  });
});
