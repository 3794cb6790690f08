// Probe suite (issue 14, points 1-4): what one user's task can do to another's. Each attack the
// issue lists is tried the way a hostile but ordinary user would, against a real master and real
// workers over loopback gRPC on the real Docker engine, and shown refused or contained with the
// reason the user sees. Machine-global things (the tasks network, a network namespace, images
// pulled from the stand-in registry) have unique names and are removed in afterAll.
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../master/src/logger.js';
import { createWorkerLogger } from '../../worker/src/logger.js';
import type { WorkerHandle } from '../../worker/src/main.js';
import { ApiClient, type TaskBody } from '../support/api-client.js';
import { removeTempDirs, startTestMaster, startTestWorker, TEST_IMAGE, TEST_TASK_NETWORK, waitFor } from '../support/cluster.js';
import { netnsUnavailable, startOutsideServer, type OutsideServer } from '../support/netns.js';
import { startRegistryStandIn, type RegistryStandIn } from '../support/registry-standin.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;
type Effective = { cpu: number; memory: number; disk: number; user: string; readOnlyRootFilesystem: boolean; noNewPrivileges: boolean; capabilities: string[]; network: string; pullPolicy: string };
type Task = TaskBody & { reason?: string; attempts: (TaskBody['attempts'][number] & { effective: Effective | null })[] };

const Mi = 1024 * 1024;
/** every line the master and the workers logged, at trace level, through their real loggers */
const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let master: Master;
const workers: WorkerHandle[] = [];
let mainWorkerId: string;
let ada: ApiClient;
let bob: ApiClient;
let admin: ApiClient;
let outside: OutsideServer | undefined;
const outsideMissing = netnsUnavailable();
let registry: RegistryStandIn | undefined;

beforeAll(async () => {
  master = await startTestMaster({}, undefined, { logger: createLogger({ level: 'trace', pretty: false, destination: capture }) });
  const workerLogger = createWorkerLogger({ level: 'trace', pretty: false, destination: capture });
  // the main worker: 2 cores; a second one runs tasks as nobody unless they say otherwise
  const main = await startTestWorker(master, { name: 'main', capacityCaps: { cpu: 2, memory: 4 * 1024 * Mi }, labels: { pool: 'main' } }, { logger: workerLogger });
  const nonroot = await startTestWorker(master, { name: 'nonroot', labels: { pool: 'nonroot' }, defaultUser: '65534:65534' }, { logger: workerLogger });
  workers.push(main, nonroot);
  mainWorkerId = main.workerId;
  const suffix = Math.random().toString(36).slice(2);
  ada = await ApiClient.registered(master.httpUrl, `ada-${suffix}@example.com`);
  bob = await ApiClient.registered(master.httpUrl, `bob-${suffix}@example.com`);
  admin = await ApiClient.admin(master.httpUrl);
  if (!outsideMissing) outside = await startOutsideServer('hello-from-outside');
});

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  for (const worker of workers) removeContainersOf(worker.workerId);
  await master?.stop();
  await outside?.close();
  if (registry) {
    try {
      execFileSync('docker', ['image', 'rm', '-f', registry.image], { stdio: 'ignore' });
    } catch {
      // not pulled
    }
    await registry.close();
  }
  await removeTempDirs();
});

function removeContainersOf(workerId: string): void {
  try {
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=wharf.worker=${workerId}`]).toString().split(/\s+/).filter(Boolean);
    if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine is gone already
  }
}

async function submit(client: ApiClient, body: Record<string, unknown>): Promise<Task> {
  const response = await client.request<{ task: Task }>('POST', '/api/tasks', { image: TEST_IMAGE, labels: { pool: 'main' }, ...body });
  expect(response.status, response.text).toBe(201);
  return response.body.task;
}

async function task(client: ApiClient, id: string): Promise<Task> {
  const response = await client.request<{ task: Task }>('GET', `/api/tasks/${id}`);
  expect(response.status, response.text).toBe(200);
  return response.body.task;
}

function finished(client: ApiClient, id: string, timeoutMs = 60_000): Promise<Task> {
  return waitFor(`task ${id} to end`, async () => {
    const current = await task(client, id);
    return ['succeeded', 'failed', 'cancelled'].includes(current.status) ? current : undefined;
  }, timeoutMs);
}

function running(client: ApiClient, id: string): Promise<Task> {
  return waitFor(`task ${id} to run`, async () => {
    const current = await task(client, id);
    if (['succeeded', 'failed', 'cancelled'].includes(current.status)) throw new Error(`task ${id} ended: ${current.reason}`);
    return current.status === 'running' ? current : undefined;
  });
}

async function logsOf(client: ApiClient, id: string): Promise<string> {
  return (await client.request('GET', `/api/tasks/${id}/logs`)).text;
}

function containerOf(taskId: string): string {
  const [id] = execFileSync('docker', ['ps', '-q', '--filter', `label=wharf.task=${taskId}`]).toString().split(/\s+/).filter(Boolean);
  if (!id) throw new Error(`no running container of task ${taskId}`);
  return id;
}

function inspect(container: string): { HostConfig: Record<string, unknown>; Config: { User: string; Env: string[] }; NetworkSettings: { Networks: Record<string, { IPAddress: string }> } } {
  return JSON.parse(execFileSync('docker', ['inspect', container]).toString())[0];
}

describe('limits that always hold', () => {
  it('refuses cpu 0 and memory 0 from a user, naming the field and the minimum', async () => {
    const response = await ada.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, resources: { cpu: 0, memory: 0 } });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 'validation_failed',
      message: 'resources.cpu: must be at least 0.01 cores, the minimum for a task (got 0 cores) (0 means no CPU quota, which only admins may ask for)',
    });
    const memory = await ada.request<{ error: { message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, resources: { memory: 0 } });
    expect(memory.status).toBe(400);
    expect(memory.body.error.message).toMatch(/^resources\.memory: must be at least 6Mi, the minimum for a task/);
  });

  it('runs a user task with a CPU quota, a memory limit without extra swap and a bounded engine log, and shows them on the attempt', async () => {
    const sleeper = await submit(ada, { command: 'sleep 30' });
    const live = await running(ada, sleeper.id);
    const info = inspect(containerOf(sleeper.id));
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 256 * Mi,
      MemorySwap: 256 * Mi,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '256m', 'max-file': '2' } },
    });
    expect(live.attempts[0]?.effective).toMatchObject({ cpu: 0.5, memory: 256 * Mi, noNewPrivileges: true, network: TEST_TASK_NETWORK });
    expect((await ada.request('DELETE', `/api/tasks/${sleeper.id}`)).status).toBe(202);
  });

  it('runs no more tasks at once on a 2-core worker than its cores allow (the 20 zero-resource tasks)', async () => {
    const tasks = await Promise.all(Array.from({ length: 8 }, () => submit(bob, { command: 'sleep 2' })));
    let most = 0;
    const watch = setInterval(() => {
      void bob.request<{ worker: { reserved: { cpu: number }; runningTasks: number } }>('GET', `/api/workers/${mainWorkerId}`).then((r) => {
        if (r.status === 200) {
          most = Math.max(most, r.body.worker.runningTasks);
          expect(r.body.worker.reserved.cpu).toBeLessThanOrEqual(2);
        }
      });
    }, 100);
    try {
      for (const t of tasks) expect((await finished(bob, t.id)).status).toBe('succeeded');
    } finally {
      clearInterval(watch);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(4); // 2 cores / 0.5 each
  });

  it('says "out of memory (limit 32Mi)" when the kernel killed the task inside its limit', async () => {
    const hog = await submit(ada, { command: 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}', resources: { memory: '32Mi' } });
    const ended = await finished(ada, hog.id);
    expect(ended.status).toBe('failed');
    expect(ended.reason).toBe('out of memory (limit 32Mi); exit code 137');
    expect(ended.attempts[0]?.error).toBe('out of memory (limit 32Mi)');
  });

  it('says so when the container was killed from outside Wharf, not "exit code 137" alone', async () => {
    const victim = await submit(ada, { command: 'sleep 60' });
    await running(ada, victim.id);
    execFileSync('docker', ['kill', '--signal', 'KILL', containerOf(victim.id)]);
    const ended = await finished(ada, victim.id);
    expect(ended.status).toBe('failed');
    expect(ended.reason).toMatch(/^killed by SIGKILL, not by Wharf and not for lack of memory .*; exit code 137$/);
  });

  it('stops a task that writes past its disk request, naming the limit', async () => {
    // 200 MiB beyond a 10 MiB request, then it would sleep: it is killed before it can
    const writer = await submit(ada, { command: 'dd if=/dev/zero of=/tmp/fill bs=1M count=200; sleep 30; echo never', resources: { disk: '10Mi' } });
    const ended = await finished(ada, writer.id);
    expect(ended.status).toBe('failed');
    expect(ended.reason).toMatch(/^disk limit 10Mi exceeded \(wrote [\d.]+(Mi|Gi)\); exit code 137$/);
    expect(await logsOf(ada, writer.id)).not.toContain('never');
    // and in /output too (a bind mount, outside the container's own layer)
    const outputWriter = await submit(ada, { command: 'dd if=/dev/zero of=/output/fill bs=1M count=200; sleep 30', resources: { disk: '10Mi' } });
    expect((await finished(ada, outputWriter.id)).reason).toMatch(/^disk limit 10Mi exceeded/);
  });

  it('keeps an output file with a 250-character name, and fails a too-long path with a clear reason', async () => {
    const name = 'n'.repeat(250);
    const kept = await submit(ada, { command: `echo kept > /output/${name}` });
    const done = await finished(ada, kept.id);
    expect(done.status, done.reason).toBe('succeeded');
    expect(done.files.map((f) => f.path)).toEqual([name]);
    const download = await ada.bytes(`/api/files/${kept.id}/download/${name}`);
    expect(download.status).toBe(200);
    expect(download.data.toString()).toBe('kept\n');

    // 17 folders of 250 bytes, made one `cd` at a time: a path of 4,267 bytes below /output
    const segment = 'd'.repeat(250);
    const deep = await submit(ada, { command: `cd /output && for i in $(seq 1 17); do mkdir ${segment} && cd -P ${segment}; done && echo x > f` });
    const refused = await finished(ada, deep.id);
    expect(refused.status).toBe('failed');
    expect(refused.reason).toMatch(/^output "d{120}…" cannot be kept: /);
    expect(refused.reason).toMatch(/4096 bytes|Linux's limit of 4095 bytes/);
  });
});

describe('task networks', () => {
  it("keeps one user's task from reaching another user's task, while both reach a server outside", async () => {
    if (!outside) {
      console.warn(`task-isolation: the outside server part of this test is skipped: ${outsideMissing}`);
    }
    const server = await submit(ada, { command: 'while true; do echo secret-of-ada | nc -l -p 8080; done' });
    await running(ada, server.id);
    const info = inspect(containerOf(server.id));
    const adaAddress = info.NetworkSettings.Networks[TEST_TASK_NETWORK]?.IPAddress;
    expect(adaAddress, JSON.stringify(info.NetworkSettings.Networks)).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // bob knows ada's address: the strongest form of the attack
    const outsideProbe = outside ? `; echo outside:; nc -w 5 ${outside.host} ${outside.port} </dev/null` : '';
    const probe = await submit(bob, { command: `echo ada:; nc -w 3 ${adaAddress} 8080 </dev/null; echo rc=$?${outsideProbe}` });
    await finished(bob, probe.id);
    const seen = await logsOf(bob, probe.id);
    expect(seen).not.toContain('secret-of-ada');
    expect(seen).toMatch(/rc=1/);
    if (outside) expect(seen).toContain('hello-from-outside');
    await ada.request('DELETE', `/api/tasks/${server.id}`);
  });

  it('gives a task with network none no way out, and keeps network host for admins', async () => {
    const target = outside ? `${outside.host} ${outside.port}` : '1.1.1.1 53';
    const isolated = await submit(ada, { network: 'none', command: `nc -w 3 ${target} </dev/null; echo rc=$?` });
    await finished(ada, isolated.id);
    const seen = await logsOf(ada, isolated.id);
    expect(seen).not.toContain('hello-from-outside');
    expect(seen).toMatch(/rc=1/);
    expect((await task(ada, isolated.id)).attempts[0]?.effective?.network).toBe('none');

    const host = await ada.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, network: 'host' });
    expect(host.status).toBe(403);
    expect(host.body.error.message).toMatch(/^network: host /);
  });

  it('lets tasks of one DAG run that ask for it share a network of their own, finding each other by name', async () => {
    const dag = {
      name: 'talking',
      tasks: [
        { name: 'server', image: TEST_IMAGE, network: 'run', labels: { pool: 'main' }, command: 'echo run-secret | nc -l -p 9000' },
        { name: 'client', image: TEST_IMAGE, network: 'run', labels: { pool: 'main' }, command: 'for i in $(seq 1 40); do nc -w 2 server 9000 </dev/null && exit 0; sleep 0.25; done; exit 1' },
      ],
    };
    const submitted = await ada.request<{ dag: { id: string; tasks: { name: string; taskId: string }[] } }>('POST', '/api/dags', dag);
    expect(submitted.status, submitted.text).toBe(201);
    const clientId = submitted.body.dag.tasks.find((t) => t.name === 'client')!.taskId;
    const client = await finished(ada, clientId);
    expect(client.status, client.reason).toBe('succeeded');
    expect(await logsOf(ada, clientId)).toContain('run-secret');
    expect(client.attempts[0]?.effective?.network).toMatch(/^wharf-run-/);
    // the run's network goes with its last task
    const network = client.attempts[0]!.effective!.network;
    await waitFor(`network ${network} to be removed`, () => !execFileSync('docker', ['network', 'ls', '--format', '{{.Name}}']).toString().split('\n').includes(network));
  });
});

describe('hardened containers', () => {
  it('drops NET_RAW and the other risky capabilities (ping fails), and lets only admins add one', async () => {
    const ping = await submit(ada, { command: 'ping -c 1 -W 1 127.0.0.1' });
    const ended = await finished(ada, ping.id);
    expect(ended.status).toBe('failed');
    expect(await logsOf(ada, ping.id)).toMatch(/permission denied/i);
    const effective = ended.attempts[0]?.effective;
    for (const dropped of ['NET_RAW', 'MKNOD', 'SYS_CHROOT', 'SETFCAP', 'AUDIT_WRITE']) expect(effective?.capabilities).not.toContain(dropped);

    const refused = await ada.request<{ error: { code: string; message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, capAdd: ['NET_RAW'] });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({ code: 'forbidden', message: 'capAdd: adding capabilities (NET_RAW) is for admins only' });
    const allowed = await submit(admin, { command: 'ping -c 1 -W 1 127.0.0.1', capAdd: ['NET_RAW'] });
    expect((await finished(admin, allowed.id)).status).toBe('succeeded');
  });

  it('runs as the asked user with a read-only root filesystem, /tmp and /output still writable', async () => {
    const locked = await submit(ada, {
      user: '1000:1000',
      readOnlyRootFilesystem: true,
      command: 'id -u; touch /x 2>/dev/null || echo root-read-only; touch /tmp/t && echo tmp-ok; echo out > /output/o && echo output-ok',
    });
    const ended = await finished(ada, locked.id);
    expect(ended.status, ended.reason).toBe('succeeded');
    const seen = await logsOf(ada, locked.id);
    for (const line of ['1000', 'root-read-only', 'tmp-ok', 'output-ok']) expect(seen).toContain(line);
    expect(ended.attempts[0]?.effective).toMatchObject({ user: '1000:1000', readOnlyRootFilesystem: true, noNewPrivileges: true });
    expect(ended.files.map((f) => f.path)).toEqual(['o']);

    const root = await ada.request<{ error: { message: string } }>('POST', '/api/tasks', { image: TEST_IMAGE, user: '0' });
    expect(root.status).toBe(403);
    expect(root.body.error.message).toMatch(/^user: "0": give a numeric uid other than 0/);
  });

  it("runs a task as the worker's --default-user when it names none", async () => {
    const who = await submit(ada, { labels: { pool: 'nonroot' }, command: 'id -u' });
    const ended = await finished(ada, who.id);
    expect(ended.status, ended.reason).toBe('succeeded');
    expect(await logsOf(ada, who.id)).toContain('65534');
    expect(ended.attempts[0]?.effective?.user).toBe('65534:65534');
  });
});

describe('images', () => {
  it('fails a task whose image the worker lacks under pullPolicy Never, saying so', async () => {
    const never = await submit(ada, { image: 'wharf-test/not-here:1', pullPolicy: 'Never' });
    const ended = await finished(ada, never.id);
    expect(ended.status).toBe('failed');
    expect(ended.reason).toBe('image "wharf-test/not-here:1" is not on this worker and the task\'s pullPolicy is Never');
  });

  it("pulls a private image with its owner's stored credentials only, refreshes it with Always, and never shows or logs the password", async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    registry = await startRegistryStandIn({ username: 'ada', password });
    const stored = await ada.request<{ credential: Record<string, unknown> }>('POST', '/api/registry-credentials', { registry: registry.address, username: 'ada', password });
    expect(stored.status, stored.text).toBe(201);
    expect(stored.text).not.toContain(password);
    expect(stored.body.credential).toMatchObject({ registry: registry.address, username: 'ada' });
    expect((await ada.request('GET', '/api/registry-credentials')).text).not.toContain(password);

    // bob has no credentials for that registry: his pull is refused by the registry
    const bobs = await submit(bob, { image: registry.image, command: ['/bin/busybox', 'echo', 'bob-ran'] });
    const bobEnded = await finished(bob, bobs.id);
    expect(bobEnded.status).toBe('failed');
    expect(bobEnded.reason).toMatch(new RegExp(`^image "${registry.image.replace(/[.]/g, '\\.')}" not found locally and pull failed: .*(unauthorized|authentication required|no basic auth)`, 'i'));

    const adas = await submit(ada, { image: registry.image, command: ['/bin/busybox', 'echo', 'ada-ran'] });
    const adaEnded = await finished(ada, adas.id);
    expect(adaEnded.status, adaEnded.reason).toBe('succeeded');
    expect(await logsOf(ada, adas.id)).toContain('ada-ran');

    // present now: IfNotPresent does not ask the registry again, Always does
    const before = registry.authorizations.length;
    const again = await submit(ada, { image: registry.image, command: ['/bin/busybox', 'true'] });
    expect((await finished(ada, again.id)).status).toBe('succeeded');
    expect(registry.authorizations.length).toBe(before);
    const always = await submit(ada, { image: registry.image, pullPolicy: 'Always', command: ['/bin/busybox', 'sleep', '5'] });
    await running(ada, always.id);
    expect(registry.authorizations.length).toBeGreaterThan(before);
    const events = (await task(ada, always.id)).events.map((e) => e.kind);
    expect(events).toContain('pulling');
    // the container does not carry the credentials
    const container = execFileSync('docker', ['inspect', containerOf(always.id)]).toString();
    expect(container).not.toContain(password);
    expect((await finished(ada, always.id)).status).toBe('succeeded');

    // nothing the master or the workers logged, at trace level, holds the password
    expect(logLines.length).toBeGreaterThan(100);
    expect(logLines.join('')).not.toContain(password);
  });
});
