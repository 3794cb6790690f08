// Several masters (issue: several masters, point 3): the whole worker (startWorker) against
// FakeMasters of one cluster on real gRPC and real TLS over loopback. A fake playing a standby
// refuses Register and Connect the way the real master does (UNAVAILABLE, `wharf-leader`); the
// worker goes to the leader it names, tries the next master of --master when one is down or
// knows no leader, and delivers each result in its outbox to whichever master leads until one
// acknowledges it.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskSpec } from '@wharf/proto';
import type { WorkerConfig } from '../src/config/worker-config.js';
import { startWorker, type WorkerHandle } from '../src/main.js';
import { FakeMaster } from './fake-master.js';

const logger = pino({ level: process.env['WHARF_TEST_LOG'] ?? 'silent' });
const masters: FakeMaster[] = [];
const workers: WorkerHandle[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await Promise.all(masters.splice(0).map((m) => m.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function newMaster(options: ConstructorParameters<typeof FakeMaster>[0] = {}): Promise<FakeMaster> {
  const master = new FakeMaster(options);
  await master.start();
  masters.push(master);
  return master;
}

async function newWorker(masterAddress: string, caHash: string): Promise<{ worker: WorkerHandle; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-worker-ha-'));
  dirs.push(dataDir);
  const config: WorkerConfig = {
    masterAddress,
    joinToken: 'join-secret',
    caHash,
    name: 'ha-worker',
    dataDir,
    runtimes: ['exec'],
    capacityCaps: { cpu: 1 },
    labels: {},
    heartbeatIntervalMs: 200,
    cancelGraceSeconds: 1,
    logBatchMs: 20,
    logBatchBytes: 65536,
    reconnectBaseMs: 50,
    reconnectMaxMs: 400,
    pidsLimit: 256,
    logLevel: 'silent',
  };
  const worker = await startWorker(config, { logger });
  workers.push(worker);
  return { worker, dataDir };
}

function spec(command: string[]): TaskSpec & { attemptId: string } {
  return {
    taskId: `task-${randomUUID()}`,
    attemptId: `att-${randomUUID()}`,
    attemptNumber: 1,
    name: 'ha',
    image: '',
    command,
    env: {},
    runtime: 'exec',
    resources: { cpu: 0, memory: 0, gpu: 0, disk: 0 },
    timeoutSeconds: 0,
    userId: 'u1',
  };
}

describe('a worker with several masters', () => {
  it('joins and registers through the leader a standby names, though only the standby is on --master', async () => {
    const leader = await newMaster();
    const standby = await newMaster({ clusterOf: leader });
    standby.standbyOf = leader.address;
    const { worker } = await newWorker(standby.address, standby.caHash);
    await worker.registered;
    // the join (no certificate) and the Register (with it) both went to the leader
    expect(leader.registrations.length).toBeGreaterThanOrEqual(2);
    expect(leader.registrations[0]?.joinToken).toBe('join-secret');
    expect(standby.standbyRefusals).toBeGreaterThanOrEqual(2);
    expect(standby.registrations).toEqual([]);
    await expect.poll(() => leader.connected).toBe(true);
  });

  it('tries the next master when one is down or knows no leader yet', async () => {
    const down = await newMaster();
    const downAddress = down.address;
    await down.stop();
    const electing = await newMaster({ clusterOf: down });
    electing.standbyOf = ''; // no leader known: no name to follow
    const leader = await newMaster({ clusterOf: down });
    const { worker } = await newWorker(`${downAddress},${electing.address},${leader.address}`, leader.caHash);
    await worker.registered;
    await expect.poll(() => leader.connected).toBe(true);
    expect(electing.standbyRefusals).toBeGreaterThanOrEqual(1);
  });

  it('follows the leader when it moves and delivers the result waiting in its outbox to the new leader, once', async () => {
    const first = await newMaster({ autoAckResults: false });
    const second = await newMaster({ clusterOf: first });
    second.standbyOf = first.address;
    const { worker, dataDir } = await newWorker(`${first.address},${second.address}`, first.caHash);
    await worker.registered;
    await expect.poll(() => first.connected).toBe(true);

    const task = spec(['sh', '-c', 'echo done']);
    first.assign(task);
    // the first leader gets the result but never acknowledges it (it loses its lease first)
    await expect.poll(() => first.resultOf(task.attemptId), { timeout: 10_000 }).toBeDefined();
    expect((await readdir(path.join(dataDir, 'outbox'))).length).toBe(1);

    second.standbyOf = undefined;
    first.stepDown(second.address);
    // the worker goes to the new leader, says the attempt's result is still to come, and sends it
    await expect.poll(() => second.resultOf(task.attemptId), { timeout: 10_000 }).toBeDefined();
    expect(second.registrations.at(-1)?.running).toEqual([{ attemptId: task.attemptId, taskId: task.taskId }]);
    expect(second.resultOf(task.attemptId)?.outcome).toBe('succeeded');
    await expect.poll(async () => readdir(path.join(dataDir, 'outbox'))).toEqual([]);

    // acknowledged: a new stream to the leader (it restarts) does not bring it again
    const registrations = second.registrations.length;
    await second.restart();
    await expect.poll(() => second.registrations.length, { timeout: 10_000 }).toBeGreaterThan(registrations);
    await expect.poll(() => second.connected).toBe(true);
    expect(second.registrations.at(-1)?.running).toEqual([]);
    expect(second.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);
    expect(first.results.filter((r) => r.attemptId === task.attemptId)).toHaveLength(1);
  });

  it('does not register with a leader a standby names when its certificate is not of the pinned cluster', async () => {
    const leader = await newMaster();
    const impostor = await newMaster(); // its own CA
    const standby = await newMaster({ clusterOf: leader });
    standby.standbyOf = impostor.address;
    // it joins first: startWorker returns once it has
    const starting = newWorker(standby.address, standby.caHash);
    // the worker went to the impostor, failed TLS, came back to the list: more than one pass
    await expect.poll(() => standby.standbyRefusals, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(impostor.registrations).toEqual([]);
    expect(impostor.connected).toBe(false);
    // once the standby names the real leader, the worker joins there
    standby.standbyOf = leader.address;
    const { worker } = await starting;
    await worker.registered;
    expect(leader.registrations.length).toBeGreaterThanOrEqual(2);
  });

  it('checks each master\'s certificate against the address it dials', async () => {
    const leader = await newMaster({ serverNames: ['127.0.0.1'] });
    // the standby names the leader by a name its certificate does not carry
    const standby = await newMaster({ clusterOf: leader });
    standby.standbyOf = `localhost:${leader.port}`;
    // it joins first: startWorker returns once it has
    const starting = newWorker(standby.address, standby.caHash);
    await expect.poll(() => standby.standbyRefusals, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(leader.registrations).toEqual([]);
    standby.standbyOf = leader.address; // 127.0.0.1:port: the name it carries
    const { worker } = await starting;
    await worker.registered;
    expect(leader.registrations.length).toBeGreaterThanOrEqual(2);
  });
});
