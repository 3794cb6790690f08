// Several masters on one store (issue 16), in one process: two masters on one data dir (one
// SQLite file, one cluster CA): one leads, the other is a standby that refuses workers naming
// the leader, forwards people's writes and live reads to it and serves stored reads itself; an
// orderly stop hands the lease over at once and the standby recovers the queue; a leader whose
// lease is taken loses its next commit to the fence and steps down. The process-level failover
// (kill -9, SIGSTOP) is test/ha-failover.test.ts.
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../master/src/store/sqlite-store.js';
import { parseTaskInput } from '../master/src/tasks/task-input.js';
import { ApiClient } from './support/api-client.js';
import { removeTempDirs, startTestMaster, tempDir, waitFor } from './support/cluster.js';
import { callError, RawWorker, RAW_FENCING } from './support/raw-worker.js';
import { openSocket } from './support/ws-client.js';
import { hostname } from 'node:os';
import { join } from 'node:path';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
const masters: Master[] = [];
afterAll(async () => {
  for (const master of masters) await master.stop().catch(() => undefined);
  await removeTempDirs();
});

const HA_ENV = { WHARF_LEASE_TTL: '1s', WHARF_LEASE_RENEW: '200ms' };

interface Health {
  role: string;
  epoch: number | null;
  leader: string | null;
  leaderUrl: string | null;
}
async function health(master: Master): Promise<Health> {
  return (await new ApiClient(master.httpUrl).request<Health>('GET', '/health')).body;
}

describe('two masters on one SQLite file', () => {
  it('one leads, the standby refuses workers naming it, forwards writes and takes over with the queue when the leader stops', async () => {
    const dataDir = tempDir('ha');
    const a = await startTestMaster(HA_ENV, dataDir);
    masters.push(a);
    const b = await startTestMaster(HA_ENV, dataDir);
    masters.push(b);
    expect(await health(a)).toMatchObject({ role: 'leader', epoch: 1, leader: a.grpcAddress, leaderUrl: a.httpUrl });
    expect(await health(b)).toMatchObject({ role: 'standby', epoch: 1, leader: a.grpcAddress, leaderUrl: a.httpUrl });
    expect(a.caHash).toBe(b.caHash);

    // workers: the standby refuses Register (a join) and names the leader in the message and the trailer
    const refused = await callError(
      (await RawWorker.open({ ...b, grpcAddress: b.grpcAddress })).register({ joinToken: b.joinToken, csr: 'x', fencing: RAW_FENCING }),
    );
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused.details).toBe(`not the leader; the leader is ${a.grpcAddress}`);
    expect(refused.metadata?.get('wharf-leader')).toEqual([a.grpcAddress]);

    // people: a login and a submission sent to the standby are forwarded; a stored read is served by it
    const viaB = await ApiClient.admin(b.httpUrl);
    // a WebSocket opened on the standby is relayed to the leader: it sees the leader's events
    const events = await openSocket(`${b.httpUrl.replace(/^http/, 'ws')}/ws/events`, { token: viaB.token! });
    const posted = await viaB.request<{ task: { id: string; status: string } }>('POST', '/api/tasks', { image: 'wharf/busybox:latest', command: ['true'] });
    expect(posted.status).toBe(201);
    const submitted = { body: posted.body.task };
    expect(submitted.body.status).toBe('queued');
    expect((await viaB.request<{ task: { id: string } }>('GET', `/api/tasks/${submitted.body.id}`)).body.task.id).toBe(submitted.body.id);
    expect(a.tasks.counts().queued).toBe(1);
    await events.next('the queued task event, through the standby', (m) => m.type === 'task' && (m.task as { id: string }).id === submitted.body.id);
    events.close();
    expect(b.tasks.counts().queued).toBe(0); // the standby's systems hold nothing
    // a live read (the worker registry) is the leader's answer too
    expect((await viaB.request('GET', '/api/workers')).status).toBe(200);
    const metricsB = (await new ApiClient(b.httpUrl).request('GET', '/metrics')).text;
    expect(metricsB).toMatch(/^wharf_leader 0$/m);
    expect(metricsB).toMatch(/^wharf_lease_epoch 1$/m);

    // the leader stops in order: it releases the lease, the standby takes over at once and recovers the queue
    await a.stop();
    await waitFor('the standby to lead', async () => (await health(b)).role === 'leader', 10_000);
    expect(await health(b)).toMatchObject({ role: 'leader', epoch: 2, leader: b.grpcAddress });
    expect(b.tasks.counts().queued).toBe(1);
    const metricsAfter = (await new ApiClient(b.httpUrl).request('GET', '/metrics')).text;
    expect(metricsAfter).toMatch(/^wharf_leader 1$/m);
    expect(metricsAfter).toMatch(/^wharf_leadership_changes_total 1$/m);
    // a worker joins the new leader and gets the task submitted through the old one
    const worker = await RawWorker.enrol(b);
    await waitFor('the queued task to be assigned by the new leader', () => worker.assignments.some((spec) => spec.taskId === submitted.body.id), 10_000);
    worker.close();
  });

  it('a leader whose lease was taken has its next commit refused by the fence and steps down', async () => {
    const dataDir = tempDir('ha-fence');
    // SQLite: the test takes the lease through a second connection to the same file
    const a = await startTestMaster(HA_ENV, dataDir, { store: 'sqlite' });
    masters.push(a);
    const steppedDown: string[] = [];
    a.onSteppedDown((reason) => steppedDown.push(reason));
    const admin = await ApiClient.admin(a.httpUrl);
    const me = (await admin.request<{ user: { id: string } }>('GET', '/api/auth/me')).body.user;
    // another master takes the lease (as a master restarted on A's address would: at once, next epoch)
    const other = new SqliteStore(join(dataDir, 'wharf.db'));
    const taken = await other.acquireLease({ name: 'master', holder: 'intruder', address: a.grpcAddress, hostname: hostname(), httpUrl: 'http://127.0.0.1:1', now: Date.now(), ttlMs: 60_000 });
    expect(taken).toMatchObject({ acquired: true, lease: { epoch: 2 } });
    // before its next renewal notices, A's commit carries epoch 1: refused, nothing stored
    const user = (await a.store.getUser(me.id))!;
    const error = await a.tasks.submit(user, parseTaskInput({ image: 'wharf/busybox:latest', command: ['true'] })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not_leader' });
    expect((await other.listUnfinishedTasks()).length).toBe(0);
    await waitFor('A to step down', () => steppedDown.length > 0, 5000);
    expect((await health(a)).role).toBe('standby');
    await other.close();
  });
});
