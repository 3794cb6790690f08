// Fencing across a real network partition (issue 12, point 4). Worker A runs as a real process
// in a network namespace of its own, joined to the host by a veth pair; the master listens on
// the host end; worker B runs on the host. A runs a Docker task; the link is cut for 60 s
// (`ip link set <host end> down`). A must stop its container within --stop-after + grace of the
// cut, the master must re-queue only after that bound, B runs the task, and when the link is
// back A delivers its `stopped` result, which the master acknowledges without effect: one
// recorded outcome, and never two containers at once.
//
// Needs root and `ip netns` (iproute2); without them it prints why and skips. Everything it
// creates has a unique name and is removed in afterAll (and leftovers of a crashed run at the
// start).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerHandle } from '../worker/src/main.js';
import { ApiClient, type TaskBody } from './support/api-client.js';
import { REPO_ROOT, removeTempDirs, startTestMaster, startTestWorker, tempDir, TEST_IMAGE, TEST_TASK_NETWORK, waitFor } from './support/cluster.js';
import { freeSubnet, ip, netnsUnavailable, removeNetnsLeftovers } from './support/netns.js';

const docker = new Dockerode();
const PREFIX = 'wharf-fence-';
const STOP_AFTER_MS = 3000; // the master's heartbeat TTL: the workers' default --stop-after
const GRACE_S = 2;
const HEARTBEAT_MS = 1000;
const CUT_MS = 60_000;

const reason = netnsUnavailable();
if (reason) console.warn(`skipping test/partition-netns.test.ts: ${reason}`);

describe.skipIf(reason !== undefined)('a worker cut off by a real network partition', () => {
  const suffix = `${process.pid}-${Math.random().toString(16).slice(2, 6)}`;
  const netns = `${PREFIX}${suffix}`;
  const hostIf = `wfh${Math.random().toString(16).slice(2, 8)}`;
  const nsIf = `wfn${hostIf.slice(3)}`;
  const subnet = freeSubnet();
  let workerA: ChildProcess | undefined;
  let workerAOutput = '';
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(() => {
    removeNetnsLeftovers(PREFIX);
    ip('netns', 'add', netns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', netns);
    ip('addr', 'add', `${subnet.host}/30`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', netns, 'ip', 'addr', 'add', `${subnet.ns}/30`, 'dev', nsIf);
    ip('netns', 'exec', netns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up');
  });

  afterAll(async () => {
    if (workerA && workerA.exitCode === null && workerA.signalCode === null) workerA.kill('SIGKILL');
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning
      }
    }
    try {
      ip('netns', 'delete', netns);
    } catch {
      // gone
    }
    try {
      ip('link', 'delete', hostIf);
    } catch {
      // went with the namespace
    }
    await removeTempDirs();
  });

  async function containerOf(attemptId: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
    const [found] = await docker.listContainers({ all: true, filters: { label: [`wharf.attempt=${attemptId}`] } });
    return found ? docker.getContainer(found.Id).inspect() : undefined;
  }

  async function removeContainersOf(workerId: string): Promise<void> {
    const containers = await docker.listContainers({ all: true, filters: { label: [`wharf.worker=${workerId}`] } });
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }

  it('stops the stranded container within the bound, runs the task once more elsewhere, and records exactly one result', async () => {
    const master = await startTestMaster({
      WHARF_GRPC_HOST: subnet.host,
      WHARF_HEARTBEAT_INTERVAL: `${HEARTBEAT_MS}ms`,
      WHARF_HEARTBEAT_TTL: `${STOP_AFTER_MS}ms`,
    });
    cleanups.push(() => master.stop());
    const admin = await ApiClient.admin(master.httpUrl);

    // worker A: a real process inside the namespace, Docker runtime (the engine's socket is a file)
    const dataDirA = tempDir('partition-a');
    workerA = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, join(REPO_ROOT, 'worker/dist/cli.js'),
        // the master started after the veth pair exists and listens on its host end, so its
        // server certificate names that address, which A dials and checks
        '--master', `${subnet.host}:${master.grpcPort}`, '--ca-hash', master.caHash, '--name', 'part-a',
        // the file's own tasks network (removed by removeTempDirs), not the machine-wide wharf-tasks
        '--runtimes', 'docker', '--task-network', TEST_TASK_NETWORK,
        '--cancel-grace-seconds', String(GRACE_S), '--reconnect-max-ms', '2000', '--log-level', 'debug'],
      { env: { ...process.env, WHARF_DATA_DIR: dataDirA, WHARF_JOIN_TOKEN: master.joinToken }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    workerA.stdout?.on('data', (d: Buffer) => (workerAOutput += d.toString()));
    workerA.stderr?.on('data', (d: Buffer) => (workerAOutput += d.toString()));
    const idA = await waitFor('worker A to register from inside the namespace', async () => {
      const workers = await admin.request<{ workers: { id: string; name: string; connected: boolean }[] }>('GET', '/api/workers');
      return workers.body.workers.find((w) => w.name === 'part-a' && w.connected)?.id;
    }, 60_000);
    cleanups.push(() => removeContainersOf(idA));

    const submitted = await admin.request<{ task: TaskBody }>('POST', '/api/tasks', {
      name: 'stranded',
      image: TEST_IMAGE,
      command: 'i=0; while [ $i -lt 20 ]; do echo tick $i; i=$((i+1)); sleep 1; done',
      resources: { cpu: '100m', memory: '32Mi' },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.task.id;
    const task = async (): Promise<TaskBody> => (await admin.request<{ task: TaskBody }>('GET', `/api/tasks/${id}`)).body.task;
    const first = await waitFor('the task running on A', async () => {
      const t = await task();
      return t.status === 'running' && t.workerId === idA ? t.attempts[0] : undefined;
    }, 60_000);
    await waitFor('A\'s container', async () => (await containerOf(first.id))?.State.Running || undefined, 30_000);

    // worker B on the host, started only now so the task could only land on A
    const workerB: WorkerHandle = await startTestWorker(master, { name: 'part-b' });
    cleanups.push(async () => {
      await workerB.stop();
      await removeContainersOf(workerB.workerId);
    });

    ip('link', 'set', hostIf, 'down');
    const cutAt = Date.now();
    try {
      // A, cut off, stops its container on its own within stop-after + grace (+ slack)
      const stoppedA = await waitFor('A to stop its container', async () => {
        const info = await containerOf(first.id);
        return info && !info.State.Running ? info : undefined;
      }, STOP_AFTER_MS + GRACE_S * 1000 + 15_000, 100);
      const finishedA = Date.parse(stoppedA.State.FinishedAt);
      expect(finishedA - cutAt).toBeLessThanOrEqual(STOP_AFTER_MS + GRACE_S * 1000 + 3000);

      // the master re-queues only once A must have stopped, and B runs the task
      const rerun = await waitFor('the task re-queued and running on B', async () => {
        const t = await task();
        return t.attempts.length === 2 && t.attempts[1]!.workerId === workerB.workerId ? t : undefined;
      }, 30_000);
      const lostAt = Date.parse(rerun.events.find((e) => e.kind === 'lost')?.at ?? '');
      expect(lostAt).toBeGreaterThanOrEqual(finishedA);
      // A's last heartbeat was at most one interval before the cut
      expect(lostAt - cutAt).toBeGreaterThanOrEqual(STOP_AFTER_MS + GRACE_S * 1000 - HEARTBEAT_MS);
      const startedB = await waitFor('B\'s container', async () => {
        const info = await containerOf(rerun.attempts[1]!.id);
        return info && info.State.StartedAt && !info.State.StartedAt.startsWith('0001') ? Date.parse(info.State.StartedAt) : undefined;
      }, 30_000);
      // never both at once
      expect(startedB).toBeGreaterThan(finishedA);

      const done = await waitFor('the task to finish on B', async () => {
        const t = await task();
        return t.status === 'succeeded' || t.status === 'failed' ? t : undefined;
      }, 60_000);
      expect(done.status).toBe('succeeded');

      // keep the link down for the whole 60 s
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + CUT_MS - Date.now())));
    } finally {
      ip('link', 'set', hostIf, 'up');
    }

    // A comes back: it delivers the stopped attempt's logs and result, acknowledged without effect
    const outboxA = join(dataDirA, 'outbox');
    await waitFor('A\'s stopped result to be delivered and acknowledged', async () => {
      const pending = existsSync(outboxA) ? readdirSync(outboxA).filter((f) => f.endsWith('.json')) : [];
      return (pending.length === 0 && !existsSync(join(dataDirA, 'attempts', first.id))) || undefined;
    }, 60_000, 200);
    expect(workerAOutput).toMatch(/"outcome":"stopped"[^\n]*"attempt finished"/);
    expect(workerAOutput).toContain('result acknowledged');
    const logs = await admin.request('GET', `/api/tasks/${id}/logs`);
    expect(logs.text).toMatch(/\[wharf\] stopped: no contact with the master for [\d.]+s \(--stop-after 3s, the master's heartbeat TTL\); stopping the task/);

    const final = await task();
    expect(final.status).toBe('succeeded');
    expect(final.attempts.map((a) => [a.status, a.workerId])).toEqual([
      ['lost', idA],
      ['succeeded', workerB.workerId],
    ]);
    expect(final.attempts[0]!.error).toBe(`worker ${idA} was lost`);
    expect(final.events.filter((e) => ['succeeded', 'failed', 'cancelled'].includes(e.kind))).toHaveLength(1);
  });
});
